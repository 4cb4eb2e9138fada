//! A collector on a mock clock (`MetricsCollectorBuilder::clock(quanta::Clock::mock())`): time
//! passes only where a test advances it and tickprof's own work takes none, so every figure is
//! exact. Shared by the modules that compute their expected figures by hand.

use std::time::Duration;

use quanta::Mock;
use tickprof::{MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

/// Full sampling, no warm-up, nothing calibrated or sampled beside the spans.
pub(crate) fn collector(clock: quanta::Clock) -> MetricsCollector {
    MetricsCollector::builder()
        .clock(clock)
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

/// Runs `body` with a fresh collector on a mock clock; its report.
pub(crate) fn run(name: &str, body: impl FnOnce(&Mock)) -> Report {
    let (clock, mock) = quanta::Clock::mock();
    let collector = collector(clock);
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling(name).unwrap();
        body(&mock);
        collector.stop_profiling().unwrap()
    })
}

/// Advances the mock clock by `ns`.
pub(crate) fn advance(mock: &Mock, ns: u64) {
    mock.increment(Duration::from_nanos(ns));
}

/// (seen, recorded) of the spans outside ticks named `name` (`(None, 0)` if not listed).
pub(crate) fn seen_and_recorded(report: &Report, name: &str) -> (Option<u64>, u64) {
    report
        .outside_ticks
        .get(name)
        .map_or((None, 0), |c| (c.seen, c.count))
}
