//! Which reports make one scalability sweep, and what its graph is called.
//!
//! A directory of reports is not a sweep: a user's own `my_backtest.json` (3 ticks) beside the
//! driver's runs became a fourth "run" of the scalability graph (efficiency 7,000 %). A sweep
//! is the reports whose names share a stem once a trailing `_<digits>` is removed (the driver
//! names its runs `scalability_10000`, `scalability_100000`, …), with at least two runs and one
//! run per tick count. The report schema is unchanged: the grouping reads only `name` and
//! `ticks.count`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::report::thousands;

/// The sweep a report named `name` belongs to: `name` without a trailing `_<digits>` (`scalability_10000`
/// → `scalability`), or the whole name if it has none (`my_backtest`) or nothing would be left
/// (`_100`).
pub(crate) fn sweep_stem(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((stem, digits))
            if !stem.is_empty()
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            stem
        }
        _ => name,
    }
}

/// The file name of the scalability graph of the sweep `stem`: `scalability_metrics.png` for
/// the driver's `scalability` (the name the driver and CI expect), `<stem>_scalability.png`
/// otherwise, with characters other than ASCII letters, digits, `-`, `_` and `.` replaced by
/// `_` (a report's name is not a path).
pub(crate) fn scalability_file_name(stem: &str) -> String {
    if stem == "scalability" {
        return "scalability_metrics.png".to_owned();
    }
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}_scalability.png")
}

/// The reports of a directory whose names share a stem (`scalability_10000.json` →
/// `scalability`), and the scalability graph drawn from exactly them, or why none was.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sweep {
    /// The stem its reports' names share (`scalability`).
    pub stem: String,
    /// Its runs, by tick count.
    pub runs: Vec<SweepRun>,
    /// Its scalability graph.
    pub graph: SweepGraph,
}

/// One run of a [`Sweep`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepRun {
    /// The report file.
    pub file: PathBuf,
    /// Its tick count (`ticks.count`).
    pub ticks: u64,
}

/// What became of a [`Sweep`]'s scalability graph.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SweepGraph {
    /// Drawn from the sweep's runs, into this file.
    Drawn(PathBuf),
    /// Not drawn, and why (one run, two runs of one size): nothing was wrong with the reports.
    NotDrawn(String),
    /// Drawing into this file failed; the error is in
    /// [`RenderedDir::failed`](super::RenderedDir::failed).
    Failed(PathBuf),
}

impl fmt::Display for Sweep {
    /// One line for a person: `scalability_metrics.png: sweep `scalability`, 2 runs:
    /// scalability_1000.json (1,000 ticks), scalability_10000.json (10,000 ticks)`, or
    /// `no scalability graph for `my_backtest`: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |p: &PathBuf| {
            p.file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
        };
        let runs = self
            .runs
            .iter()
            .map(|r| format!("{} ({} ticks)", name(&r.file), thousands(r.ticks)))
            .collect::<Vec<_>>()
            .join(", ");
        match &self.graph {
            SweepGraph::Drawn(path) => write!(
                f,
                "{}: sweep `{}`, {} runs: {runs}",
                name(path),
                self.stem,
                self.runs.len()
            ),
            SweepGraph::NotDrawn(why) => {
                write!(f, "no scalability graph for `{}`: {why}", self.stem)
            }
            SweepGraph::Failed(path) => write!(
                f,
                "{}: not drawn (error above) from sweep `{}`: {runs}",
                name(path),
                self.stem
            ),
        }
    }
}

/// Indices of `names` grouped by [`sweep_stem`], stems in order.
pub(super) fn group_by_stem<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, Vec<usize>)> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, name) in names.into_iter().enumerate() {
        groups.entry(sweep_stem(name)).or_default().push(i);
    }
    groups
        .into_iter()
        .map(|(stem, members)| (stem.to_owned(), members))
        .collect()
}

/// Why runs `(label, tick count)` do not make a scalability graph, if they do not: fewer than
/// two, or two of one size (a sweep has one run per size; which one belongs is not ours to
/// guess).
pub(super) fn not_a_sweep(runs: &[(String, u64)]) -> Option<String> {
    match runs {
        [] => Some("no runs".to_owned()),
        [(label, ticks)] => Some(format!(
            "1 run ({label}, {} ticks); a scalability graph compares runs of at least 2 sizes",
            thousands(*ticks)
        )),
        _ => {
            let mut by_ticks: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
            for (label, ticks) in runs {
                by_ticks.entry(*ticks).or_default().push(label);
            }
            let (ticks, labels) = by_ticks.iter().find(|(_, labels)| labels.len() > 1)?;
            Some(format!(
                "{} runs of {} ticks ({}); a sweep has one run per size: move or rename the others",
                labels.len(),
                thousands(*ticks),
                labels.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_file_names() {
        assert_eq!(sweep_stem("scalability_10000"), "scalability");
        assert_eq!(sweep_stem("nightly_eurusd_500000"), "nightly_eurusd");
        assert_eq!(sweep_stem("my_backtest"), "my_backtest");
        assert_eq!(sweep_stem("run_v2"), "run_v2");
        assert_eq!(
            scalability_file_name("scalability"),
            "scalability_metrics.png"
        );
        assert_eq!(
            scalability_file_name("nightly eurusd"),
            "nightly_eurusd_scalability.png"
        );
        assert_eq!(scalability_file_name("../x"), ".._x_scalability.png");
    }

    #[test]
    fn stems() {
        assert_eq!(sweep_stem("scalability_1000000"), "scalability");
        assert_eq!(sweep_stem("a_b_1"), "a_b");
        assert_eq!(sweep_stem("_100"), "_100");
        assert_eq!(sweep_stem("100"), "100");
        assert_eq!(sweep_stem("x_"), "x_");
        assert_eq!(sweep_stem("x_1e6"), "x_1e6");
        assert_eq!(sweep_stem(""), "");
    }

    #[test]
    fn groups() {
        let names = [
            "scalability_10",
            "my_backtest",
            "scalability_1000",
            "other_5",
        ];
        assert_eq!(
            group_by_stem(names),
            [
                ("my_backtest".to_owned(), vec![1]),
                ("other".to_owned(), vec![3]),
                ("scalability".to_owned(), vec![0, 2]),
            ]
        );
    }

    #[test]
    fn sweeps_need_two_sizes_one_run_each() {
        let run = |l: &str, t: u64| (l.to_owned(), t);
        assert_eq!(not_a_sweep(&[run("a", 10), run("b", 100)]), None);
        assert_eq!(
            not_a_sweep(&[run("my_backtest.json", 3)]).unwrap(),
            "1 run (my_backtest.json, 3 ticks); a scalability graph compares runs of at least 2 sizes"
        );
        assert_eq!(
            not_a_sweep(&[run("a", 1_000), run("b", 10), run("c", 1_000)]).unwrap(),
            "2 runs of 1,000 ticks (a, c); a sweep has one run per size: move or rename the others"
        );
    }
}
