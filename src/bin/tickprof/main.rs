//! `tickprof`: the CI gate over saved reports. Summaries, threshold checks, baseline
//! comparisons and exact merges.
//!
//! Exit codes: 0 when nothing failed, 1 when a check failed (or, with `compare
//! --fail-on-slower`, a gated metric got worse beyond noise), 2 on usage, I/O or parse errors.
//! An inconclusive check (the runs cannot tell) is neither: it exits 0 and says what to run.
//! These files are the only place that reads files, prints or decides exit codes; the decisions
//! themselves are the library's pure functions (`tickprof::thresholds`, `tickprof::compare`,
//! merging).

#![forbid(unsafe_code)]

mod check_report;
mod compare_report;
mod format;
mod runs;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tickprof::compare::{CompareOptions, compare_runs};
use tickprof::thresholds::Thresholds;
use tickprof::{Report, Shards, merge_reports};

use crate::format::thousands;

use crate::check_report::Judged;
use crate::runs::{DEFAULT_BASELINE_DIR, Group};

/// Gate, compare and merge tickprof reports.
#[derive(Debug, Parser)]
#[command(name = "tickprof", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the summary block of a saved report.
    Summary {
        /// A report written by `Report::save_json`.
        report: PathBuf,
    },
    /// Check reports against thresholds: exit 0 if no check fails, 1 if any does.
    ///
    /// Reports with the same name are runs of one build and are judged together: several runs
    /// per side measure the run-to-run noise that one run cannot (see `tickprof::gate`).
    Check {
        /// Reports to check, or directories of them; runs of one name are pooled.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// The thresholds TOML file (see reports/thresholds.toml).
        #[arg(long, value_name = "FILE.toml")]
        thresholds: PathBuf,
        /// The baseline for the `[baseline]` limits: reports, directories of runs, or the name
        /// of a baseline saved with --save-baseline. Repeat it, or list several after it.
        #[arg(long, value_name = "BASE", num_args = 1..)]
        baseline: Vec<PathBuf>,
        /// Save the checked reports as the baseline NAME (replacing it) for later
        /// `--baseline NAME`.
        #[arg(long, value_name = "NAME")]
        save_baseline: Option<String>,
        /// Where saved baselines live.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_BASELINE_DIR)]
        baseline_dir: PathBuf,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also write the results as JUnit XML to this file (inconclusive checks are skipped).
        #[arg(long, value_name = "FILE.xml")]
        junit: Option<PathBuf>,
    },
    /// Compare two builds metric by metric: faster, slower, within noise or inconclusive.
    Compare {
        /// The reference: a report, a directory of runs, or a saved baseline's name.
        base: PathBuf,
        /// The build to judge: a report, a directory of runs, or a saved baseline's name.
        new: PathBuf,
        /// Changes within ±this (%) are no change.
        #[arg(long, default_value_t = 5.0, value_parser = parse_pct)]
        noise_pct: f64,
        /// The run-to-run noise (%) assumed with one run per side.
        #[arg(long, default_value_t = tickprof::gate::DEFAULT_RUN_NOISE_PCT, value_parser = parse_pct)]
        run_noise_pct: f64,
        /// The chance (%) that two identical builds fail --fail-on-slower.
        #[arg(long, default_value_t = tickprof::gate::DEFAULT_FALSE_ALARM_PCT, value_parser = parse_false_alarm_pct)]
        false_alarm_pct: f64,
        /// Where saved baselines live.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_BASELINE_DIR)]
        baseline_dir: PathBuf,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 1 if any gated metric is worse beyond noise.
        #[arg(long)]
        fail_on_slower: bool,
    },
    /// Merge reports exactly (histograms added, percentiles recomputed) into one.
    Merge {
        /// Reports to merge; for sequential shards, in the order they ran.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Where to write the merged report (atomically).
        #[arg(short, long, value_name = "OUT.json")]
        output: PathBuf,
        /// How the runs relate in time: decides total_time_s (sum or max) and so throughput.
        #[arg(long, value_enum)]
        shards: ShardsArg,
        /// Name of the merged report (default: the shared name, or the names joined with `+`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Write the slowest ticks of a report as a Chrome Trace Event file (open it in
    /// ui.perfetto.dev or chrome://tracing): one track per slow tick, its components nested.
    Trace {
        /// A report written by `Report::save_json`.
        report: PathBuf,
        /// Where to write the trace (atomically).
        #[arg(
            short,
            long,
            value_name = "OUT.json",
            default_value = "slow_ticks.json"
        )]
        output: PathBuf,
    },
    /// Percentiles of a window of an interval log (`.hlog`, see
    /// `MetricsCollectorBuilder::interval_log`): every interval that lies within --from .. --to,
    /// merged exactly, per tag.
    Hlog {
        /// An interval log written by tickprof (or any HdrHistogram interval log of ns values).
        file: PathBuf,
        /// Start of the window: seconds since the run's start (`90`, `90.5`) or a duration
        /// (`1m30s`); default: the log's start.
        #[arg(long, value_parser = parse_offset)]
        from: Option<f64>,
        /// End of the window, in the same units; default: the log's end.
        #[arg(long, value_parser = parse_offset)]
        to: Option<f64>,
    },
    /// Draw the graphs of the reports in a directory, with the same code as the scalability
    /// driver: latency_<N>.png, resources_<N>.png and slow_ticks_<N>.png per report (no
    /// slow_ticks_<N>.png for a report without slow ticks, saying so), and one scalability graph
    /// per sweep (reports named <stem>_<ticks>, at least 2 sizes; scalability_metrics.png for
    /// the driver's), saying which reports each was drawn from, or why a report has none.
    #[cfg(feature = "plot")]
    Plot {
        /// The directory holding the reports; the images are written beside them.
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned lines for a terminal or a log.
    Text,
    /// GitHub-flavoured Markdown, for a CI job summary.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ShardsArg {
    /// One after another: total_time_s is the sum, throughput that of one worker.
    Sequential,
    /// At the same time: total_time_s is the longest, throughput the job's aggregate.
    Parallel,
}

/// What a successful command concluded.
enum Outcome {
    Passed,
    Failed,
}

fn main() -> ExitCode {
    // Usage errors exit 2 here (clap's convention); `--help` and `--version` exit 0.
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Passed) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            // Writing to stderr can only fail if stderr is gone; the exit code still says it.
            let _ = writeln!(std::io::stderr(), "tickprof: error: {}", chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each cause only if the message does not already include it (the
/// library's errors embed their source, anyhow's `{:#}` would repeat it).
fn chain(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    message
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Summary { report } => {
            let report = load_report(&report)?;
            emit(&format!("{}\n", report.summary()))?;
            Ok(Outcome::Passed)
        }
        Command::Check {
            reports,
            thresholds,
            baseline,
            save_baseline,
            baseline_dir,
            format,
            junit,
        } => check(&CheckArgs {
            reports: &reports,
            thresholds: &thresholds,
            baseline: &baseline,
            save_baseline: save_baseline.as_deref(),
            baseline_dir: &baseline_dir,
            format,
            junit: junit.as_deref(),
        }),
        Command::Compare {
            base,
            new,
            noise_pct,
            run_noise_pct,
            false_alarm_pct,
            baseline_dir,
            format,
            fail_on_slower,
        } => {
            let side = |arg: &Path| -> Result<(String, Vec<Report>)> {
                let loaded =
                    runs::load_all(&[arg.to_path_buf()], Some(&baseline_dir), load_report)?;
                warn_on_different_names(arg, &loaded);
                let names: BTreeSet<&str> = loaded.iter().map(|l| l.report.name.as_str()).collect();
                let names = names.into_iter().collect::<Vec<_>>().join(", ");
                let label = match loaded.as_slice() {
                    [one] => format!("{} ({names})", one.label),
                    many => format!("{} ({} runs of {names})", arg.display(), many.len()),
                };
                Ok((label, loaded.into_iter().map(|l| l.report).collect()))
            };
            let (base_label, b) = side(&base)?;
            let (new_label, n) = side(&new)?;
            let options = CompareOptions::default()
                .noise_pct(noise_pct)
                .run_noise_pct(run_noise_pct)
                .false_alarm_pct(false_alarm_pct);
            let comparison = compare_runs(
                &b.iter().collect::<Vec<_>>(),
                &n.iter().collect::<Vec<_>>(),
                &options,
            )?;
            let header = compare_report::header(&base_label, &new_label, &comparison, &options);
            emit(&match format {
                Format::Text => compare_report::text(&header, &comparison, &options),
                Format::Markdown => compare_report::markdown(&header, &comparison, &options),
            })?;
            Ok(if fail_on_slower && comparison.any_worse() {
                Outcome::Failed
            } else {
                Outcome::Passed
            })
        }
        Command::Merge {
            reports,
            output,
            shards,
            name,
        } => {
            let loaded = reports
                .iter()
                .map(|p| load_report(p).map(|r| (p.display().to_string(), r)))
                .collect::<Result<Vec<_>>>()?;
            warn_on_different_components(&loaded);
            let shards = match shards {
                ShardsArg::Sequential => Shards::Sequential,
                ShardsArg::Parallel => Shards::Parallel,
            };
            let mut merged = merge_reports(loaded.iter().map(|(p, r)| (p.as_str(), r)), shards)?;
            if let Some(name) = name {
                merged.name = name;
            }
            merged.save_json(&output)?;
            emit(&format!(
                "merged {} reports ({} ticks) into {}\n",
                loaded.len(),
                thousands(merged.ticks.count),
                output.display()
            ))?;
            Ok(Outcome::Passed)
        }
        Command::Trace { report, output } => {
            let report = load_report(&report)?;
            let Some(slow) = report
                .slowest_ticks
                .as_ref()
                .filter(|s| !s.ticks.is_empty())
            else {
                bail!(
                    "report `{}` has no slowest ticks (written before schema 4, or with \
                     slowest_ticks(0))",
                    report.name
                );
            };
            let timelines = slow.all().filter(|t| t.recorded).count();
            report.write_chrome_trace(&output)?;
            emit(&format!(
                "wrote {} ({} slow ticks, {timelines} with timelines)\n",
                output.display(),
                slow.all().count()
            ))?;
            Ok(Outcome::Passed)
        }
        Command::Hlog { file, from, to } => {
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                bail!("--from {from} is after --to {to}");
            }
            let window = tickprof::interval_log::read_window(&file, from, to)?;
            emit(&hlog_table(&file, &window, from, to))?;
            Ok(Outcome::Passed)
        }
        #[cfg(feature = "plot")]
        Command::Plot { dir } => {
            // Draws what can be drawn; each file that could not be is reported, then exit 2.
            let rendered = tickprof::graphs::render_dir(&dir)?;
            for written in &rendered.written {
                emit(&format!("wrote {}\n", written.display()))?;
            }
            // A report without slow ticks has no slow_ticks_<N>.png: not an error.
            for skipped in &rendered.not_drawn {
                emit(&format!("{skipped}\n"))?;
            }
            // Which reports each scalability graph was drawn from, or why a stem has none.
            for sweep in &rendered.sweeps {
                emit(&format!("{sweep}\n"))?;
            }
            for problem in &rendered.failed {
                let _ = writeln!(std::io::stderr(), "tickprof: error: {problem}");
            }
            match rendered.failed.len() {
                0 => Ok(Outcome::Passed),
                n => bail!(
                    "{n} file{} in {} could not be drawn; every other graph was",
                    if n == 1 { "" } else { "s" },
                    dir.display()
                ),
            }
        }
    }
}

/// A window bound: seconds (`90`, `90.5`) or a duration (`1m30s`).
fn parse_offset(text: &str) -> std::result::Result<f64, String> {
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() && seconds >= 0.0 {
            Ok(seconds)
        } else {
            Err(format!("`{text}` is not a time of 0 s or more"))
        };
    }
    humantime::parse_duration(text)
        .map(|d| d.as_secs_f64())
        .map_err(|e| format!("`{text}` is neither seconds (90.5) nor a duration (1m30s): {e}"))
}

/// The percentiles of each tag of a window, in µs, and the tags left out.
fn hlog_table(
    file: &Path,
    window: &tickprof::interval_log::Window,
    from: Option<f64>,
    to: Option<f64>,
) -> String {
    let bound = |b: Option<f64>, open: &str| b.map_or(open.to_owned(), |s| format!("{s:.3} s"));
    let mut out = format!(
        "{}: window {} .. {}\n",
        file.display(),
        bound(from, "start"),
        bound(to, "end")
    );
    if window.tags.is_empty() && window.left_out.is_empty() {
        out.push_str("  no interval lies entirely within the window\n");
        return out;
    }
    let us = |ns: f64| ns / 1_000.0;
    let _ = writeln!(
        out,
        "  {:<20} {:>9} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  (µs; from the first \
         interval's start to the last one's end)",
        "tag", "intervals", "count", "mean", "p50", "p90", "p99", "p99.9", "max",
    );
    for (tag, w) in &window.tags {
        let h = &w.histogram;
        let q = |q: f64| us(h.value_at_quantile(q) as f64);
        let _ = writeln!(
            out,
            "  {:<20} {:>9} {:>12} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3}  ({:.3} s to {:.3} s)",
            if tag.is_empty() { "(untagged)" } else { tag },
            w.intervals,
            thousands(h.len()),
            us(h.mean()),
            q(0.5),
            q(0.9),
            q(0.99),
            q(0.999),
            us(h.max() as f64),
            w.from_s,
            w.to_s
        );
    }
    let left_out = &window.left_out;
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "  left out, to bound memory: {}{} tags ({} intervals) past the {} kept (at most {} \
             tags, one of them `tick`, and {} histogram counts): {}{}",
            if left_out.tags_exact { "" } else { "at least " },
            thousands(left_out.tags),
            thousands(left_out.intervals),
            thousands(window.tags.len() as u64),
            tickprof::interval_log::MAX_TAGS,
            thousands(tickprof::interval_log::MAX_COUNTS as u64),
            left_out.first.join(", "),
            if left_out.tags > left_out.first.len() as u64 {
                ", …"
            } else {
                ""
            }
        );
    }
    out
}

fn load_report(path: &Path) -> Result<Report> {
    // The library's errors name the file (and line and column for bad JSON); a JSON file
    // without a schema_version (the driver's scalability_summary.json) is `NotAReport`.
    Ok(Report::load(path)?)
}

/// Shards of one program have the same components (up to ones a short shard never reached);
/// a report missing some that others have may be a run of another program. Merging still
/// works (the union), so this is a warning on stderr, one line per such report.
fn warn_on_different_components(loaded: &[(String, Report)]) {
    let all: BTreeSet<&str> = loaded
        .iter()
        .flat_map(|(_, r)| r.components.keys().map(String::as_str))
        .collect();
    for (label, report) in loaded {
        let missing: Vec<String> = all
            .iter()
            .filter(|name| !report.components.contains_key(**name))
            .map(|name| format!("`{name}`"))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(
                std::io::stderr(),
                "tickprof: warning: {label} has no {} component{}, which other reports have: \
                 runs of different programs?",
                missing.join(", "),
                if missing.len() == 1 { "" } else { "s" }
            );
        }
    }
}

/// The largest thresholds file read: a hand-written TOML of a few KB. A larger file is an error
/// after this many bytes, not a read that fills memory (and what is not a regular file, such as
/// `/dev/zero` or a FIFO, is refused before any byte is read: `tickprof::input_file`).
const MAX_THRESHOLDS_BYTES: u64 = 1 << 20;

fn load_thresholds(path: &Path) -> Result<Thresholds> {
    let text = tickprof::input_file::read_to_string(path, MAX_THRESHOLDS_BYTES, "thresholds file")?;
    let thresholds = Thresholds::from_toml_str(&text, path)?;
    if thresholds.is_empty() {
        bail!(
            "{}: no limits set; a gate that checks nothing would pass anything",
            path.display()
        );
    }
    Ok(thresholds)
}

/// `check`'s arguments.
struct CheckArgs<'a> {
    reports: &'a [PathBuf],
    thresholds: &'a Path,
    baseline: &'a [PathBuf],
    save_baseline: Option<&'a str>,
    baseline_dir: &'a Path,
    format: Format,
    junit: Option<&'a Path>,
}

fn check(args: &CheckArgs<'_>) -> Result<Outcome> {
    let thresholds = load_thresholds(args.thresholds)?;
    let baseline: Vec<Group> = match args.baseline {
        [] => Vec::new(),
        paths if !thresholds.has_baseline_limits() => bail!(
            "--baseline {} given but {} sets no [baseline] limits",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            args.thresholds.display()
        ),
        paths => runs::group(runs::load_all(paths, Some(args.baseline_dir), load_report)?),
    };
    let groups = runs::group(runs::load_all(args.reports, None, load_report)?);
    if baseline.is_empty() && thresholds.has_baseline_limits() {
        let _ = writeln!(
            std::io::stderr(),
            "tickprof: note: [baseline] limits of {} skipped: no --baseline given",
            args.thresholds.display()
        );
    }
    let mut judged = Vec::new();
    for g in &groups {
        let base = if baseline.is_empty() {
            None
        } else {
            Some(runs::baseline_for(&baseline, &g.name)?)
        };
        let verdict =
            thresholds.evaluate_runs(&g.reports(), &base.map(Group::reports).unwrap_or_default());
        judged.push(Judged {
            label: g.label(),
            name: g.name.clone(),
            baseline: base.map(Group::label),
            verdict,
        });
    }
    let run_noise_pct = thresholds.gate_options().run_noise_pct;
    let out = match args.format {
        Format::Text => check_report::text(&judged, run_noise_pct),
        Format::Markdown => check_report::markdown(&judged, run_noise_pct),
    };
    if let Some(path) = args.junit {
        tickprof::atomic_file::write(path, check_report::junit(&judged).as_bytes())?;
    }
    emit(&out)?;
    if let Some(name) = args.save_baseline {
        let dir = runs::save_baseline(args.baseline_dir, name, &groups)?;
        let saved: usize = groups.iter().map(|g| g.runs.len()).sum();
        let _ = writeln!(
            std::io::stderr(),
            "tickprof: saved {saved} report{} as baseline `{name}` in {}",
            if saved == 1 { "" } else { "s" },
            dir.display()
        );
    }
    Ok(if judged.iter().all(|j| j.verdict.passed()) {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
}

/// Runs on one side of a comparison are runs of one build; reports of several names there are
/// most likely a mix-up, so say so (the comparison still runs: names may differ on purpose).
fn warn_on_different_names(arg: &Path, loaded: &[runs::Loaded]) {
    let names: BTreeSet<&str> = loaded.iter().map(|l| l.report.name.as_str()).collect();
    if names.len() > 1 {
        let _ = writeln!(
            std::io::stderr(),
            "tickprof: warning: {} holds reports of {} names ({}): runs of different programs?",
            arg.display(),
            names.len(),
            names
                .into_iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth exit 2.
fn emit(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("stdout"),
        _ => Ok(()),
    }
}

fn parse_pct(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a percentage >= 0, got `{s}`")),
    }
}

fn parse_false_alarm_pct(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 50.0 => Ok(v),
        _ => Err(format!(
            "expected a percentage above 0 and at most 50, got `{s}`"
        )),
    }
}
