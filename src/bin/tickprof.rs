//! `tickprof`: the CI gate over saved reports. Summaries, threshold checks, baseline
//! comparisons and exact merges.
//!
//! Exit codes: 0 when everything passed, 1 when a check failed (or, with `compare
//! --fail-on-slower`, a metric got worse beyond noise), 2 on usage, I/O or parse errors. This file
//! is the only place that reads files, prints or decides exit codes; the decisions themselves are
//! the library's pure functions (`tickprof::thresholds`, `tickprof::compare`, merging).

#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tickprof::compare::{CompareOptions, Comparison, Row, compare};
use tickprof::metric::{Bound, Unit};
use tickprof::thresholds::{Check, CheckKind, Thresholds, Verdict};
use tickprof::{Report, Shards, merge_reports, thousands};

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
    /// Check reports against thresholds: exit 0 if every check passes, 1 if any fails.
    Check {
        /// Reports to check (each against every threshold).
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// The thresholds TOML file (see reports/thresholds.toml).
        #[arg(long, value_name = "FILE.toml")]
        thresholds: PathBuf,
        /// A baseline report for the `[baseline]` limits.
        #[arg(long, value_name = "BASE.json")]
        baseline: Option<PathBuf>,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also write the results as JUnit XML to this file.
        #[arg(long, value_name = "FILE.xml")]
        junit: Option<PathBuf>,
    },
    /// Compare two reports metric by metric: faster, slower or within noise.
    Compare {
        /// The reference report.
        base: PathBuf,
        /// The report to judge.
        new: PathBuf,
        /// Changes smaller than this (%) are within noise.
        #[arg(long, default_value_t = 5.0, value_parser = parse_pct)]
        noise_pct: f64,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 1 if any metric is worse beyond noise.
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
    /// Percentiles of a window of an interval log (`.hlog`, see `MetricsCollectorBuilder::
    /// interval_log`): every interval that lies within --from .. --to, merged exactly, per tag.
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
            format,
            junit,
        } => check(
            &reports,
            &thresholds,
            baseline.as_deref(),
            format,
            junit.as_deref(),
        ),
        Command::Compare {
            base,
            new,
            noise_pct,
            format,
            fail_on_slower,
        } => {
            let (b, n) = (load_report(&base)?, load_report(&new)?);
            let options = CompareOptions::default().noise_pct(noise_pct);
            let comparison = compare(&b, &n, &options)?;
            let header = format!(
                "base: {} ({}), new: {} ({}); {noise_pct}% noise floor, 95% intervals",
                base.display(),
                b.name,
                new.display(),
                n.name
            );
            emit(&match format {
                Format::Text => compare_text(&header, &comparison, noise_pct),
                Format::Markdown => compare_markdown(&header, &comparison, noise_pct),
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
    // The library's errors already name the file (and line and column for bad JSON); a JSON
    // file without a schema_version is most likely another file in the same directory (the
    // driver's scalability_summary.json), so say so.
    Report::load(path).map_err(|e| match e {
        tickprof::Error::Parse { ref message, .. }
            if message.starts_with("missing field `schema_version`") =>
        {
            anyhow::Error::new(e).context(format!(
                "{} is not a tickprof report (no schema_version)",
                path.display()
            ))
        }
        e => e.into(),
    })
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

fn check(
    reports: &[PathBuf],
    thresholds_path: &Path,
    baseline_path: Option<&Path>,
    format: Format,
    junit: Option<&Path>,
) -> Result<Outcome> {
    let thresholds = load_thresholds(thresholds_path)?;
    let baseline = match baseline_path {
        Some(path) if !thresholds.has_baseline_limits() => bail!(
            "--baseline {} given but {} sets no [baseline] limits",
            path.display(),
            thresholds_path.display()
        ),
        Some(path) => Some(load_report(path)?),
        None => None,
    };
    let loaded = reports
        .iter()
        .map(|p| load_report(p).map(|r| (p.display().to_string(), r)))
        .collect::<Result<Vec<_>>>()?;
    if baseline.is_none() && thresholds.has_baseline_limits() {
        let _ = writeln!(
            std::io::stderr(),
            "tickprof: note: [baseline] limits of {} skipped: no --baseline given",
            thresholds_path.display()
        );
    }
    let verdicts: Vec<(String, String, Verdict)> = loaded
        .into_iter()
        .map(|(label, report)| {
            let verdict = thresholds.evaluate(&report, baseline.as_ref());
            (label, report.name, verdict)
        })
        .collect();
    let out = match format {
        Format::Text => check_text(&verdicts),
        Format::Markdown => check_markdown(&verdicts),
    };
    if let Some(path) = junit {
        tickprof::atomic_file::write(path, junit_xml(&verdicts).as_bytes())?;
    }
    emit(&out)?;
    Ok(if verdicts.iter().all(|(_, _, v)| v.passed()) {
        Outcome::Passed
    } else {
        Outcome::Failed
    })
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

// ---------------------------------------------------------------------------------------------
// Formatting. Deterministic: no timings, no absolute paths beyond what the user passed.

fn value(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    match unit {
        Unit::TicksPerSec => format!("{} {unit}", thousands(v.round().max(0.0) as u64)),
        Unit::Micros | Unit::CpuMicros => format!("{v:.3} {unit}"),
        Unit::Megabytes => format!("{v:.1} {unit}"),
        Unit::Percent => format!("{v:.1}{unit}"),
        // Counts, and any unit added later: a whole number, without a symbol.
        _ => thousands(v.round().max(0.0) as u64),
    }
}

fn signed(v: f64, unit: Unit) -> String {
    let magnitude = value(v.abs(), unit);
    if v < 0.0 {
        format!("-{magnitude}")
    } else {
        format!("+{magnitude}")
    }
}

fn mark(check: &Check) -> &'static str {
    if check.passed { "✅" } else { "❌" }
}

fn check_value(check: &Check) -> String {
    match (check.value, &check.note) {
        (Some(v), _) => value(v, check.unit),
        (None, Some(why)) => format!("missing ({why})"),
        (None, None) => "missing".to_owned(),
    }
}

/// A resolution floor, held in µs like the latencies, printed in ns: it is tens of ns.
fn nanos(us: f64) -> String {
    let ns = us * 1_000.0;
    if (ns - ns.round()).abs() < 0.05 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    }
}

/// The limit and where it comes from. A baseline limit set by the resolution floor shows the
/// rule (`≤ 0.096 µs = max(+10%, 40 ns resolution floor) over baseline 0.056 µs`): the
/// percentage alone would promise a limit the gate does not apply.
fn check_limit(check: &Check) -> String {
    let limit = format!(
        "{} {}",
        check.bound.symbol(),
        value(check.limit, check.unit)
    );
    match check.kind {
        CheckKind::Absolute => limit,
        CheckKind::Baseline {
            baseline,
            max_regression_pct,
            resolution_floor,
        } => {
            let sign = match check.bound {
                Bound::AtMost => '+',
                Bound::AtLeast => '-',
            };
            let baseline = value(baseline, check.unit);
            match resolution_floor {
                Some(floor) => format!(
                    "{limit} = max({sign}{max_regression_pct}%, {} resolution floor) over \
                     baseline {baseline}",
                    nanos(floor)
                ),
                None => format!("{limit} (baseline {baseline} {sign}{max_regression_pct}%)"),
            }
        }
    }
}

fn failed_count(verdict: &Verdict) -> usize {
    verdict.violations().count()
}

fn check_text(verdicts: &[(String, String, Verdict)]) -> String {
    let mut out = String::new();
    let (mut total, mut failed) = (0, 0);
    for (label, name, verdict) in verdicts {
        let _ = writeln!(out, "{label} ({name})");
        let rows: Vec<[String; 3]> = verdict
            .checks
            .iter()
            .map(|c| [c.name(), check_value(c), check_limit(c)])
            .collect();
        let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
        // A missing value's reason is a sentence: aligning every figure to it would push the
        // whole table right, so only figures set the column's width.
        let w1 = rows
            .iter()
            .zip(&verdict.checks)
            .filter(|(_, c)| c.value.is_some())
            .map(|(r, _)| r[1].chars().count())
            .max()
            .unwrap_or(0);
        let w0 = width(0);
        for (check, [metric, value, limit]) in verdict.checks.iter().zip(&rows) {
            let _ = writeln!(
                out,
                "  {} {metric:<w0$}  {value:>w1$}  limit {limit}",
                mark(check)
            );
        }
        let f = failed_count(verdict);
        let _ = writeln!(out, "  {f} of {} checks failed", verdict.checks.len());
        total += verdict.checks.len();
        failed += f;
    }
    let _ = writeln!(
        out,
        "{}: {failed} of {total} checks failed in {}",
        if failed == 0 { "PASSED" } else { "FAILED" },
        reports(verdicts.len())
    );
    out
}

fn reports(n: usize) -> String {
    if n == 1 {
        "1 report".to_owned()
    } else {
        format!("{n} reports")
    }
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn check_markdown(verdicts: &[(String, String, Verdict)]) -> String {
    let mut out = String::from("## tickprof check\n");
    let (mut total, mut failed) = (0, 0);
    for (label, name, verdict) in verdicts {
        let f = failed_count(verdict);
        let status = if f == 0 { "✅" } else { "❌" };
        let _ = writeln!(
            out,
            "\n### {status} `{}` ({}): {f} of {} checks failed\n",
            md_cell(label),
            md_cell(name),
            verdict.checks.len()
        );
        let _ = writeln!(out, "| | metric | value | limit |\n|:-:|---|--:|--:|");
        for c in &verdict.checks {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                mark(c),
                md_cell(&c.name()),
                md_cell(&check_value(c)),
                md_cell(&check_limit(c))
            );
        }
        total += verdict.checks.len();
        failed += f;
    }
    let _ = writeln!(
        out,
        "\n**{}**: {failed} of {total} checks failed in {}",
        if failed == 0 { "passed" } else { "failed" },
        reports(verdicts.len())
    );
    out
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test suite per report, one test case per check. No timestamps or durations, so
/// the file is reproducible.
fn junit_xml(verdicts: &[(String, String, Verdict)]) -> String {
    let total: usize = verdicts.iter().map(|(_, _, v)| v.checks.len()).sum();
    let failed: usize = verdicts.iter().map(|(_, _, v)| failed_count(v)).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tickprof check\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">"
    );
    for (label, name, verdict) in verdicts {
        let label = xml_escape(label);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{label}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            verdict.checks.len(),
            failed_count(verdict)
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"report.name\" value=\"{}\"/></properties>",
            xml_escape(name)
        );
        for c in &verdict.checks {
            let case = format!(
                "    <testcase name=\"{}\" classname=\"{label}\"",
                xml_escape(&c.name())
            );
            let detail = xml_escape(&format!("{}, limit {}", check_value(c), check_limit(c)));
            if c.passed {
                let _ = writeln!(
                    out,
                    "{case}>\n      <system-out>{detail}</system-out>\n    </testcase>"
                );
            } else {
                let _ = writeln!(
                    out,
                    "{case}>\n      <failure type=\"threshold\" message=\"{detail}\"/>\n    </testcase>"
                );
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    let _ = writeln!(out, "</testsuites>");
    out
}

fn compare_cells(row: &Row) -> [String; 6] {
    let v = |x: Option<f64>| x.map_or_else(|| "—".to_owned(), |x| value(x, row.unit));
    let diff = row
        .diff()
        .map_or_else(|| "—".to_owned(), |d| signed(d, row.unit));
    let pct = row
        .diff_pct()
        .map_or_else(|| "—".to_owned(), |p| format!("{p:+.1}%"));
    let interval = row.interval.map_or_else(
        || "—".to_owned(),
        |(lo, hi)| format!("[{}, {}]", signed(lo, row.unit), signed(hi, row.unit)),
    );
    [
        row.metric.clone(),
        v(row.base),
        v(row.new),
        diff,
        pct,
        interval,
    ]
}

/// The call, and the noise floor it was judged with when the resolution floor and not
/// `--noise-pct` set it (`within noise (floor ±71.4% = max(5%, 40 ns resolution floor))`):
/// otherwise "+50.0% within noise" under a 5% floor reads as a mistake.
fn call_cell(row: &Row, noise_pct: f64) -> String {
    match (row.resolution_floor, row.resolution_floor_pct()) {
        (Some(floor), Some(pct)) => format!(
            "{} (floor ±{pct:.1}% = max({noise_pct}%, {} resolution floor))",
            row.call_word(),
            nanos(floor)
        ),
        _ => row.call_word().to_owned(),
    }
}

const COMPARE_HEADER: [&str; 7] = ["metric", "base", "new", "diff", "%", "95% interval", "call"];

fn compare_text(header: &str, comparison: &Comparison, noise_pct: f64) -> String {
    let mut rows: Vec<[String; 7]> = vec![COMPARE_HEADER.map(str::to_owned)];
    for row in &comparison.rows {
        let [a, b, c, d, e, f] = compare_cells(row);
        rows.push([a, b, c, d, e, f, call_cell(row, noise_pct)]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("{header}\n");
    for r in &rows {
        let mut line = format!("{:<w$}", r[0], w = widths[0]);
        for i in 1..6 {
            let _ = write!(line, "  {:>w$}", r[i], w = widths[i]);
        }
        let _ = write!(line, "  {}", r[6]);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

fn compare_markdown(header: &str, comparison: &Comparison, noise_pct: f64) -> String {
    let mut out = format!("## tickprof compare\n\n{}\n\n", md_cell(header));
    let _ = writeln!(out, "| {} |", COMPARE_HEADER.join(" | "));
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|---|");
    for row in &comparison.rows {
        let cells = compare_cells(row);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            md_cell(&cells[0]),
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            call_cell(row, noise_pct)
        );
    }
    out
}
