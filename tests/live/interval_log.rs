//! The HdrHistogram interval log: its intervals tile the run and merge back to the report's
//! histograms exactly, a window takes only the intervals inside it, and `tickprof hlog` prints
//! a window's percentiles or names the line that does not parse.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use tickprof::interval_log::{TICK_TAG, read_window};
use tickprof::{MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn tick(parse: Duration) {
    let _tick = tracing::info_span!("tick").entered();
    let _parse = tracing::info_span!("parse").entered();
    spin(parse);
}

fn logging_collector(path: &Path, every: Duration) -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .interval_log(path.to_str().unwrap(), every)
        .build()
        .unwrap()
}

/// Ticks of `parse_for` each during `phases`, in order, the last one for as long as `more`
/// says too (at most 30 s); returns the report and the offsets (seconds from the start) at
/// which each phase ended, with the user's own intervals.
fn run(
    collector: &MetricsCollector,
    phases: &[(Duration, Duration)],
    more: impl Fn() -> bool,
) -> (Report, Vec<f64>, Vec<Report>) {
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("logged").unwrap();
        let start = Instant::now();
        let mut ends = Vec::new();
        let mut user_intervals = Vec::new();
        for (k, &(length, parse)) in phases.iter().enumerate() {
            let phase_start = Instant::now();
            let last = k + 1 == phases.len();
            while phase_start.elapsed() < length
                || (last && more() && start.elapsed() < Duration::from_secs(30))
            {
                tick(parse);
            }
            ends.push(start.elapsed().as_secs_f64());
            user_intervals.push(collector.interval().unwrap());
        }
        (collector.stop_profiling().unwrap(), ends, user_intervals)
    })
}

#[test]
fn the_log_tiles_the_run_and_merges_back_to_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/{name}.hlog");
    let collector = logging_collector(&path, Duration::from_millis(20));
    let phase = (Duration::from_millis(300), Duration::from_micros(3));
    let log = dir.path().join("logs/logged.hlog");
    // ~600 ms at 20 ms, and until the log holds 4 intervals: a loaded machine runs the writer
    // late, and a debug build's writes take tens of ms.
    let written = || read_window(&log, None, None).map_or(0, |w| w.tags[TICK_TAG].intervals);
    let (report, _, user_intervals) = run(&collector, &[phase, phase], || written() < 4);
    let window = read_window(&log, None, None).unwrap();
    let ticks = &window.tags[TICK_TAG];
    assert_eq!(
        ticks.histogram.len(),
        report.ticks.count,
        "every tick in one interval"
    );
    assert_eq!(
        ticks.histogram,
        report.ticks.latency.decode_histogram("t").unwrap(),
        "the intervals merge to the report's histogram exactly"
    );
    assert_eq!(
        window.tags["parse"].histogram,
        report.components["parse"]
            .latency
            .decode_histogram("p")
            .unwrap()
    );
    let stats = report.interval_log.as_ref().unwrap();
    assert!(
        stats.final_written,
        "the last interval ends at the stop: {stats:?}"
    );
    assert_eq!(stats.failed, 0);
    // At least the 4 seen during the run, plus the last one: the log's own intervals, not the
    // user's two.
    assert!(ticks.intervals >= 5, "{} intervals", ticks.intervals);
    assert_eq!(ticks.intervals, stats.written);
    assert!(ticks.from_s < 0.05 && (ticks.to_s - report.total_time_s).abs() < 0.05);
    // The user's intervals are their own: they too add up to the run.
    let user_total: u64 = user_intervals.iter().map(|r| r.ticks.count).sum();
    assert_eq!(user_total, report.ticks.count);
}

#[test]
fn a_window_takes_only_the_intervals_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hlog");
    let collector = logging_collector(&path, Duration::from_millis(25));
    let slow = (Duration::from_millis(300), Duration::from_micros(60));
    let fast = (Duration::from_millis(300), Duration::from_micros(2));
    let (report, ends, _) = run(&collector, &[slow, fast], || false);
    let boundary = ends[0];
    let before = read_window(&path, None, Some(boundary)).unwrap();
    let after = read_window(&path, Some(boundary + 0.03), None).unwrap();
    let (before, after) = (&before.tags[TICK_TAG], &after.tags[TICK_TAG]);
    assert!(before.to_s <= boundary && after.from_s >= boundary + 0.03);
    assert!(
        before.histogram.min() >= 55_000,
        "the slow phase's ticks only: min {} ns",
        before.histogram.min()
    );
    assert!(
        after.histogram.value_at_quantile(0.5) < 30_000,
        "the fast phase's ticks only: p50 {} ns",
        after.histogram.value_at_quantile(0.5)
    );
    assert!(before.histogram.len() + after.histogram.len() < report.ticks.count);
}

#[cfg(feature = "cli")]
#[test]
fn tickprof_hlog_prints_a_window_and_names_a_bad_line() {
    use common::{stderr, stdout, tickprof};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cli.hlog");
    let collector = logging_collector(&path, Duration::from_millis(20));
    let phase = (Duration::from_millis(200), Duration::from_micros(3));
    let (report, _, _) = run(&collector, &[phase], || false);
    let out = tickprof(
        dir.path(),
        &["hlog", "cli.hlog", "--from", "0", "--to", "10m"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let tick_row = text
        .lines()
        .find(|l| l.trim_start().starts_with("tick "))
        .unwrap();
    let count = common::thousands(report.ticks.count);
    assert!(tick_row.contains(&count), "{count} in: {tick_row}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("parse ")),
        "{text}"
    );

    let out = tickprof(
        dir.path(),
        &["hlog", "cli.hlog", "--from", "2", "--to", "1"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--from 2 is after --to 1"),
        "{}",
        stderr(&out)
    );

    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("Tag=tick,0.1,0.02,not a histogram line\n");
    let lines = text.lines().count();
    std::fs::write(dir.path().join("bad.hlog"), text).unwrap();
    let out = tickprof(dir.path(), &["hlog", "bad.hlog"]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("bad.hlog") && message.contains(&format!("line {lines}")),
        "names the file and line {lines}: {message}"
    );
}
