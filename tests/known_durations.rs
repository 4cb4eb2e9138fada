//! Spans of known, busy-spun durations: the report's percentiles agree with percentiles
//! computed exactly from timings taken independently inside each span.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// Nearest-rank percentile of sorted values, HdrHistogram's definition.
fn exact_percentile(sorted: &[u64], quantile: f64) -> u64 {
    let rank = ((quantile * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[test]
fn percentiles_match_independent_timings() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let mut parse_ns = Vec::new();
    let mut strategy_ns = Vec::new();
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("known_durations").unwrap();
        for i in 0..600u64 {
            let _tick = tracing::info_span!("tick").entered();
            {
                let _span = tracing::info_span!("parse").entered();
                let start = Instant::now();
                spin(Duration::from_micros(5 + (i % 10) * 3));
                parse_ns.push(start.elapsed().as_nanos() as u64);
            }
            {
                let _span = tracing::info_span!("strategy").entered();
                let start = Instant::now();
                spin(Duration::from_micros(40 + (i % 7) * 20));
                strategy_ns.push(start.elapsed().as_nanos() as u64);
            }
        }
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 600);
    // Tolerance: HdrHistogram's 3 significant figures (0.1 % of the value, twice for bucket
    // edges), the profiler's own per-span cost and the empty-span floor as the report states
    // them, and 1 µs for the two clocks' reads and scheduling between them.
    let overhead = report.overhead.per_span_ns + report.overhead.empty_span_busy_ns;
    for (name, timings) in [("parse", &mut parse_ns), ("strategy", &mut strategy_ns)] {
        timings.sort_unstable();
        let latency = &report.components[name].latency;
        assert_eq!(report.components[name].count, 600, "{name} count");
        for (quantile, reported) in [(0.5, latency.p50_ns), (0.99, latency.p99_ns)] {
            let exact = exact_percentile(timings, quantile);
            let tolerance = exact as f64 * 0.002 + overhead + 1_000.0;
            let error = reported as f64 - exact as f64;
            assert!(
                error.abs() <= tolerance,
                "{name} p{}: reported {reported} ns, exact {exact} ns, error {error} ns > {tolerance} ns",
                quantile * 100.0
            );
        }
        // The net busy time includes the inner timing, less at most the floor subtracted
        // from it (minus bucket width).
        assert!(
            latency.min_ns as f64 >= timings[0] as f64 * 0.998 - report.overhead.empty_span_busy_ns,
            "{name} min"
        );
    }
    // The tick is the two components plus a little unattributed time (what is left after
    // subtracting the two children's calibrated cost, which a loaded machine can misjudge by
    // up to a span's cost each).
    let tick_p50 = report.ticks.latency.p50_ns;
    assert!(tick_p50 > report.components["strategy"].latency.p50_ns);
    let slack = 2.0 * report.overhead.per_span_ns;
    assert!(
        (report.unattributed.p50_ns as f64) < tick_p50 as f64 / 10.0 + slack,
        "unattributed p50 {} ns, tick p50 {tick_p50} ns",
        report.unattributed.p50_ns
    );
}
