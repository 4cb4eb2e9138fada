//! A run's CPU figures cover the run's own window: `cpu_percent.mean` is exactly
//! `cpu_time_s / total_time_s`, a run too short for a CPU figure says `null` rather than a
//! number, and a 3-tick run is not charged the sampler's start-up (it read 16× its wall time).

use std::time::{Duration, Instant};

use crate::sampler_support;
use tickprof::MetricsCollector;
use tracing_subscriber::prelude::*;

/// The report of `ticks` ticks spinning `tick_work` each, and the CPU time the ticking thread
/// used in them (its own clock).
fn profile(name: &str, ticks: u64, tick_work: Duration) -> (tickprof::Report, f64) {
    // CPU is process-wide: the tests take turns.
    let _turn = sampler_support::one_at_a_time();
    let collector = MetricsCollector::builder()
        .sample_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling(name).unwrap();
        let cpu = cpu_time::ThreadTime::now();
        for _ in 0..ticks {
            let _tick = tracing::info_span!("tick").entered();
            let start = Instant::now();
            while start.elapsed() < tick_work {
                std::hint::spin_loop();
            }
        }
        let ticking_cpu_s = cpu.elapsed().as_secs_f64();
        (collector.stop_profiling().unwrap(), ticking_cpu_s)
    })
}

#[test]
fn the_mean_is_cpu_time_over_the_run_s_wall_time() {
    let (report, ticking_cpu_s) = profile("cpu_window", 60, Duration::from_millis(2));
    let r = report.resources.as_ref().unwrap();
    let mean = r.cpu_percent.mean.expect("a 120 ms run has a CPU mean");
    let expected = r.cpu_time_s / report.total_time_s * 100.0;
    assert!(
        (mean - expected).abs() <= expected * 1e-9,
        "mean {mean} %, cpu_time_s / total_time_s = {expected} %"
    );
    // The loop spun on one thread for nearly all of the run: the run's CPU is at least what
    // that thread used (a shared machine may give it much less than a core: its own clock says
    // how much), and at most every core for the whole run.
    let cores = report.environment.logical_cores as f64;
    assert!(
        r.cpu_time_s >= ticking_cpu_s && r.cpu_time_s <= report.total_time_s * cores,
        "cpu_time_s {} over {} s, the ticking thread used {ticking_cpu_s} s",
        r.cpu_time_s,
        report.total_time_s
    );
    assert!(
        mean >= 100.0 * ticking_cpu_s / report.total_time_s,
        "mean {mean} %"
    );
    assert!((r.cpu_percent_of_machine.mean.unwrap() - mean / cores).abs() < 1e-9);
    // Several 20 ms samples: the busiest is one of them, not raised to the mean.
    let max = r.cpu_percent.max.expect("several samples");
    let busiest = r.samples.iter().map(|s| s.cpu_percent).fold(0.0, f64::max);
    assert_eq!(max, busiest);
}

#[test]
fn a_run_too_short_for_a_cpu_figure_says_so() {
    let (report, _) = profile("three_ticks", 3, Duration::ZERO);
    assert_eq!(report.ticks.count, 3);
    let r = report.resources.as_ref().unwrap();
    // Three empty ticks take well under 10 ms, unless a loaded machine stalls the test: the
    // rule, either way.
    let too_short = report.total_time_s < 0.010;
    assert_eq!(
        r.cpu_percent.mean.is_none(),
        too_short,
        "{} s",
        report.total_time_s
    );
    assert_eq!(r.cpu_percent_of_machine.mean.is_none(), too_short);
    // Not charged for the sampler's start and stop: at most every core for the whole run, and
    // half a millisecond for the sampler thread's first poll.
    let cores = report.environment.logical_cores as f64;
    assert!(
        r.cpu_time_s <= report.total_time_s * cores + 0.000_5,
        "cpu_time_s {} over a run of {} s",
        r.cpu_time_s,
        report.total_time_s
    );
    if !too_short {
        return;
    }
    // The summary prints "n/a", not a number.
    let summary = report.to_string();
    let cpu_line = summary.lines().find(|l| l.contains("CPU:")).unwrap();
    assert!(cpu_line.contains("n/a"), "{cpu_line}");
    // And a CPU limit cannot pass on it: the check fails as missing, saying why.
    let thresholds = tickprof::thresholds::Thresholds::from_toml_str(
        "[cpu]\nmax_percent_of_one_core = 1000\n",
        std::path::Path::new("thresholds.toml"),
    )
    .unwrap();
    let verdict = thresholds.evaluate(&report, None);
    assert!(!verdict.passed());
    let check = verdict.violations().next().unwrap();
    assert_eq!(check.value(), None);
    assert!(
        check.note().unwrap_or("").contains("too short"),
        "{check:?}"
    );
}
