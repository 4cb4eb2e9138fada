//! Which reports a command judges: files, directories of runs and saved baselines, grouped into
//! the runs of each build.
//!
//! A *run* is one report, one process. Reports with the same `name` are runs of the same
//! program and configuration (the scalability driver names its runs `scalability_<ticks>`), so
//! `check` pools them into one verdict; several runs per side measure the run-to-run noise
//! that one run cannot. A *saved baseline* is a directory of runs under `--baseline-dir`,
//! written by `check --save-baseline NAME` and read back by `--baseline NAME`, as criterion
//! users expect.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tickprof::Report;

/// Where `--save-baseline` writes and `--baseline NAME` reads, unless `--baseline-dir` says
/// otherwise: under cargo's target directory, which CI caches already.
pub(crate) const DEFAULT_BASELINE_DIR: &str = "target/tickprof/baselines";

/// One loaded report and the path it was read from, as the user named it.
pub(crate) struct Loaded {
    pub(crate) label: String,
    pub(crate) report: Report,
}

/// The runs of one build: reports with one name, in the order given.
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) runs: Vec<Loaded>,
}

impl Group {
    /// `a.json`, or `a.json, b.json, c.json`, or `a.json, b.json, …, e.json` (outputs say
    /// how many runs there are).
    pub(crate) fn label(&self) -> String {
        let labels: Vec<&str> = self.runs.iter().map(|l| l.label.as_str()).collect();
        match labels.as_slice() {
            [] => "no runs".to_owned(),
            [first, second, .., last] if labels.len() > 3 => {
                format!("{first}, {second}, …, {last}")
            }
            all => all.join(", "),
        }
    }

    pub(crate) fn reports(&self) -> Vec<&Report> {
        self.runs.iter().map(|l| &l.report).collect()
    }
}

/// The reports an argument names: a report file; every `*.json` report in a directory (in
/// name order); or, when neither exists, the saved baseline `NAME` under `baseline_dir`.
pub(crate) fn resolve(arg: &Path, baseline_dir: Option<&Path>) -> Result<Vec<PathBuf>> {
    if arg.is_dir() {
        return json_files(arg);
    }
    if arg.exists() {
        return Ok(vec![arg.to_path_buf()]);
    }
    if let Some(dir) = baseline_dir.filter(|_| is_baseline_name(arg)) {
        let saved = dir.join(arg);
        if saved.is_dir() {
            return json_files(&saved);
        }
        bail!(
            "{}: no such report, directory or saved baseline (looked for {})",
            arg.display(),
            saved.display()
        );
    }
    // Not found: let the load name the missing file (exit 2, the path in the message).
    Ok(vec![arg.to_path_buf()])
}

/// A baseline name is one plain path component (`main`, `v1.2`), never a path.
fn is_baseline_name(arg: &Path) -> bool {
    let mut parts = arg.components();
    matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(_)), None)
    )
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no *.json reports in the directory", dir.display());
    }
    Ok(files)
}

/// Loads every report the arguments name (see [`resolve`]).
pub(crate) fn load_all(
    args: &[PathBuf],
    baseline_dir: Option<&Path>,
    load: impl Fn(&Path) -> Result<Report>,
) -> Result<Vec<Loaded>> {
    let mut loaded = Vec::new();
    for arg in args {
        for path in resolve(arg, baseline_dir)? {
            let report = load(&path)?;
            loaded.push(Loaded {
                label: path.display().to_string(),
                report,
            });
        }
    }
    Ok(loaded)
}

/// Groups runs by report name, groups in order of first appearance.
pub(crate) fn group(loaded: Vec<Loaded>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for l in loaded {
        match groups.iter_mut().find(|g| g.name == l.report.name) {
            Some(g) => g.runs.push(l),
            None => groups.push(Group {
                name: l.report.name.clone(),
                runs: vec![l],
            }),
        }
    }
    groups
}

/// The baseline runs for the build `name`: the baseline's runs of that name, or, when the
/// baseline holds a single name, its runs whatever their name (`--baseline base.json` for a
/// report named otherwise).
///
/// # Errors
/// When the baseline holds several names and none is `name`.
pub(crate) fn baseline_for<'a>(baseline: &'a [Group], name: &str) -> Result<&'a Group> {
    if let Some(g) = baseline.iter().find(|g| g.name == name) {
        return Ok(g);
    }
    match baseline {
        [only] => Ok(only),
        _ => {
            let names: Vec<String> = baseline.iter().map(|g| format!("`{}`", g.name)).collect();
            bail!(
                "the baseline has no runs named `{name}` (it has {}): which runs does `{name}` \
                 compare with?",
                names.join(", ")
            )
        }
    }
}

/// Saves `groups` as the baseline `name` under `dir`: `dir/name/<report name>-<i>.json`, each
/// written atomically, after removing the baseline's previous reports (a saved baseline is the
/// last runs saved under its name, as criterion's are).
pub(crate) fn save_baseline(dir: &Path, name: &str, groups: &[Group]) -> Result<PathBuf> {
    if !is_baseline_name(Path::new(name)) {
        bail!(
            "--save-baseline `{name}`: a baseline name is one plain word (`main`, `v1.2`), not a path"
        );
    }
    let target = dir.join(name);
    if target.is_dir() {
        for old in json_files(&target).unwrap_or_default() {
            std::fs::remove_file(&old).with_context(|| old.display().to_string())?;
        }
    }
    for g in groups {
        for (i, run) in g.runs.iter().enumerate() {
            let file = target.join(format!("{}-{}.json", file_stem(&g.name), i + 1));
            run.report.save_json(&file)?;
        }
    }
    Ok(target)
}

/// A report name as a file name: path separators and other awkward characters become `_`.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        format!("run{stem}")
    } else {
        stem
    }
}
