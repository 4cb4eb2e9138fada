//! Each thread's first ticks are warm-up: counted, measured every one, and reported apart from
//! the tick latency, so cold first ticks no longer pull the mean above the p99.

use std::time::{Duration, Instant};

use tickprof::{LatencyStats, MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

use crate::common;

/// Values of at least 250 µs: every cold tick (300 µs of spinning, less at most a few µs of
/// compensation), and any short tick a loaded machine preempted (the loop is all ticks, so
/// every preemption lands in one): a lower bound on the cold ticks in a histogram, never an
/// exact count.
fn at_least_250us(stats: &LatencyStats) -> u64 {
    let h = stats.decode_histogram("test").unwrap();
    h.count_between(250_000, u64::MAX)
}

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// One thread: the first `cold` ticks spin 300 µs, the others 2 µs, each inside `parse`.
fn run(builder: tickprof::MetricsCollectorBuilder, ticks: u64, cold: u64) -> Report {
    let collector = builder.without_resource_sampling().build().unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("warmup").unwrap();
        for i in 0..ticks {
            let _tick = tracing::info_span!("tick").entered();
            let _parse = tracing::info_span!("parse").entered();
            spin(Duration::from_micros(if i < cold { 300 } else { 2 }));
        }
        collector.stop_profiling().unwrap()
    })
}

#[test]
fn cold_first_ticks_are_reported_apart() {
    let report = run(
        MetricsCollector::builder().sampling(Sampling::full()),
        2_000,
        10,
    );
    assert_eq!(report.ticks.count, 2_000);
    let warmup = report.ticks.warmup.as_ref().unwrap();
    assert_eq!(warmup.ticks_per_thread, tickprof::DEFAULT_WARMUP_TICKS);
    assert_eq!(warmup.count, 100);
    assert_eq!(warmup.recorded, 100, "full sampling records every tick");
    let cold = warmup.latency.as_ref().unwrap();
    assert_eq!(cold.samples, 100);
    // The warm-up is the thread's first 100 ticks, so it holds the ten cold ones.
    assert!(at_least_250us(cold) >= 10, "the ten cold ticks are warm-up");
    // The rest: 1,900 ticks of ~2 µs.
    let t = &report.ticks.latency;
    assert_eq!(t.samples, 1_900);
    assert!(t.p50_ns < 50_000, "p50 {} ns", t.p50_ns);
    // Components of warm-up ticks stay in (full sampling: exact counts).
    assert_eq!(report.components["parse"].count, 2_000);
    let summary = report.to_string();
    assert!(
        summary.contains("Warm-up: each thread's first 100 ticks (100 here)"),
        "{summary}"
    );
    // Every tick after the warm-up was timed: exact, not "at random".
    assert!(
        summary.contains("every tick timed: min, max and percentiles are exact"),
        "{summary}"
    );
}

#[test]
fn without_warmup_the_cold_ticks_are_in_the_latency() {
    let report = run(
        MetricsCollector::builder()
            .sampling(Sampling::full())
            .warmup_ticks(0),
        2_000,
        10,
    );
    assert_eq!(report.ticks.warmup, None);
    let t = &report.ticks.latency;
    assert_eq!(t.samples, 2_000);
    assert!(at_least_250us(t) >= 10, "the ten cold ticks are in");
}

/// The summary says when a few ticks outweigh all the others, and flags far outliers with
/// the rule that found them.
#[test]
fn the_summary_says_when_the_mean_is_above_the_p99_and_flags_far_outliers() {
    // 1,990 ticks of 2 µs and 10 of 300 µs: the mean (~3.5 µs) is above the p99 (2 µs).
    let mut ticks = vec![2_000; 1_990];
    ticks.extend([300_000; 10]);
    let summary = common::report("shape", &ticks, &[]).to_string();
    assert!(
        summary.contains("note: the mean is above the p99: a few very slow ticks"),
        "{summary}"
    );
    assert!(
        !summary.contains("likely the thread was descheduled"),
        "{summary}"
    );
    // One tick of 4.1 ms among 5,000 of 2 µs: above 100 × p99.9.
    let mut ticks = vec![2_000; 5_000];
    ticks.push(4_100_000);
    let summary = common::report("outlier", &ticks, &[("parse", &[30; 5_001])]).to_string();
    assert!(
        summary.contains("1 value above 100 × p99.9 (2.00 µs), likely the thread was descheduled"),
        "{summary}"
    );
}

#[test]
fn sampled_runs_measure_every_warmup_tick_and_then_sample() {
    let report = run(MetricsCollector::builder().warmup_ticks(50), 20_000, 5);
    let s = report.sampling.as_ref().unwrap();
    let warmup = report.ticks.warmup.as_ref().unwrap();
    assert_eq!(warmup.count, 50, "every warm-up tick is timed or recorded");
    assert!(at_least_250us(warmup.latency.as_ref().unwrap()) >= 5);
    // After the warm-up, ticks are sampled, not all timed.
    assert!(s.ticks_timed + s.ticks_recorded < 19_950 / 2, "{s:?}");
    assert_eq!(report.ticks.count, 20_000);
}

#[test]
fn a_run_shorter_than_its_warmup_keeps_its_components_and_says_so() {
    let report = run(MetricsCollector::builder(), 3, 0);
    assert_eq!(report.ticks.count, 3);
    let warmup = report.ticks.warmup.as_ref().unwrap();
    assert_eq!(warmup.count, 3);
    assert_eq!(report.ticks.latency.samples, 0);
    // The first tick opens a recording window: short runs still get their components.
    assert_eq!(report.components["parse"].count, warmup.recorded);
    assert!(warmup.recorded >= 1);
    let summary = report.to_string();
    assert!(
        summary.contains("Mean Time: n/a (no tick timed after the warm-up)"),
        "{summary}"
    );
    // A limit on the tick mean cannot pass on a mean that does not exist (it read 0.000 µs).
    let thresholds = tickprof::thresholds::Thresholds::from_toml_str(
        "[ticks]\nmax_mean_us = 10\n",
        std::path::Path::new("thresholds.toml"),
    )
    .unwrap();
    let verdict = thresholds.evaluate(&report, None);
    let check = verdict.violations().next().expect("the mean check fails");
    assert_eq!(check.value(), None);
    assert!(
        check
            .note()
            .unwrap()
            .contains("all 3 measured ticks were warm-up"),
        "{check:?}"
    );
}

/// A short run (its budget spent by the window its first tick opens, in a warm-up longer than
/// any window) still has recorded ticks after its warm-up: the first tick after it opens a
/// window, so the slowest ticks, which leave the warm-up out, have timelines to show.
#[test]
fn a_short_run_has_recorded_ticks_after_its_warmup() {
    const WARMUP: u64 = 1_100;
    let report = run(MetricsCollector::builder().warmup_ticks(WARMUP), 1_500, 0);
    let warmup = report.ticks.warmup.as_ref().unwrap();
    let recorded = report.ticks.recorded.as_ref().unwrap();
    assert!(
        recorded.samples > warmup.recorded,
        "recorded {} ticks in all, {} in the warm-up",
        recorded.samples,
        warmup.recorded
    );
    let slow = report.slowest_ticks.as_ref().unwrap();
    assert!(
        slow.ticks
            .iter()
            .chain(&slow.recorded)
            .any(|t| t.recorded && t.ordinal > WARMUP),
        "{slow:?}"
    );
}

#[test]
fn every_thread_has_its_own_warmup() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(30)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let dispatch = tracing::Dispatch::new(subscriber);
    collector.start_profiling("threads").unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for _ in 0..200 {
                        let _tick = tracing::info_span!("tick").entered();
                    }
                });
            });
        }
    });
    let report = collector.stop_profiling().unwrap();
    // A thread that starts after another ended takes over its shard: its warm-up is its own.
    assert_eq!(report.ticks.count, 800);
    let warmup = report.ticks.warmup.as_ref().unwrap();
    assert_eq!(warmup.count, 120);
    assert_eq!(report.ticks.latency.samples, 680);
}

#[test]
fn merged_reports_keep_their_warmups() {
    let a = run(
        MetricsCollector::builder().sampling(Sampling::full()),
        300,
        2,
    );
    let b = run(
        MetricsCollector::builder().sampling(Sampling::full()),
        400,
        2,
    );
    let m = Report::merge(&[a, b], tickprof::Shards::Sequential).unwrap();
    let w = m.ticks.warmup.as_ref().unwrap();
    assert_eq!(w.count, 200);
    assert_eq!(w.latency.as_ref().unwrap().samples, 200);
    assert_eq!(m.ticks.latency.samples, 500);
    // Both timed every tick after their warm-up: the merge is exact, each value weighs 1
    // (the warm-up left out of the weights made the 300-tick run's values count 1.5 times).
    let merged = m.ticks.latency.decode_histogram("merged").unwrap();
    assert_eq!(merged.len(), 500);
}
