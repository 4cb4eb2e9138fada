//! Spans of known, busy-spun durations: the report's percentiles agree with percentiles
//! computed exactly from timings taken independently inside each span.

use std::time::{Duration, Instant};

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// One component's spin durations, timed inside the span and around it.
#[derive(Default)]
struct Timings {
    inside: Vec<u64>,
    around: Vec<u64>,
}

impl Timings {
    fn time(&mut self, span: impl FnOnce() -> tracing::Span, spin_for: Duration) {
        let around = Instant::now();
        {
            let _span = span().entered();
            let inside = Instant::now();
            spin(spin_for);
            self.inside.push(inside.elapsed().as_nanos() as u64);
        }
        self.around.push(around.elapsed().as_nanos() as u64);
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
    // Each span is timed twice: inside (the spin alone) and around (creation to close). For
    // every span, inside ≤ its busy time ≤ around, so the same holds for every percentile,
    // whatever a loaded machine does to a single span (a preemption between the inner timing
    // and the span's close lands in both the report and `around`).
    let mut parse = Timings::default();
    let mut strategy = Timings::default();
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("known_durations").unwrap();
        // Seven durations each, so no percentile checked lies on a step between two of them
        // (where the nearest-rank definitions of the exact and the HDR percentile may pick
        // either side).
        for i in 0..600u64 {
            let _tick = tracing::info_span!("tick").entered();
            parse.time(
                || tracing::info_span!("parse"),
                Duration::from_micros(5 + (i % 7) * 3),
            );
            strategy.time(
                || tracing::info_span!("strategy"),
                Duration::from_micros(40 + ((i + 3) % 7) * 20),
            );
        }
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 600);
    // Tolerance: HdrHistogram's 3 significant figures (0.1 % of the value, twice for bucket
    // edges), and the empty-span floor the report subtracts from every span's busy time.
    let floor = report.overhead.empty_span_busy_ns;
    for (name, timings) in [("parse", &mut parse), ("strategy", &mut strategy)] {
        timings.inside.sort_unstable();
        timings.around.sort_unstable();
        let latency = &report.components[name].latency;
        assert_eq!(report.components[name].count, 600, "{name} count");
        for (quantile, reported) in [
            (0.0, latency.min_ns),
            (0.5, latency.p50_ns),
            (0.99, latency.p99_ns),
        ] {
            let inside = exact_percentile(&timings.inside, quantile) as f64;
            let around = exact_percentile(&timings.around, quantile) as f64;
            let reported = reported as f64;
            assert!(
                reported >= inside * 0.998 - floor && reported <= around * 1.002,
                "{name} p{}: reported {reported} ns, not within [{inside} ns (inside) - {floor} ns \
                 (floor), {around} ns (around)]",
                quantile * 100.0
            );
        }
        // The span's own cost is small beside the spin: the report is not just anything
        // below `around` (10 % or 1 µs: debug builds under a loaded test run).
        let p50_inside = exact_percentile(&timings.inside, 0.5) as f64;
        assert!(
            (latency.p50_ns as f64) < p50_inside + (p50_inside * 0.1).max(1_000.0),
            "{name} p50 {} ns, inside {p50_inside} ns",
            latency.p50_ns
        );
    }
    // The tick is the two components plus a little unattributed time (its own code and what
    // is left of the two children's instrumentation after the calibrated residue, which a
    // loaded machine can misjudge by up to a span's cost each).
    let tick_p50 = report.ticks.latency.p50_ns;
    assert!(tick_p50 > report.components["strategy"].latency.p50_ns);
    let slack = 2.0 * report.overhead.per_span_ns;
    assert!(
        (report.unattributed.p50_ns as f64) < tick_p50 as f64 / 10.0 + slack,
        "unattributed p50 {} ns, tick p50 {tick_p50} ns",
        report.unattributed.p50_ns
    );
}
