//! `EnvFilter` on the whole subscriber (not on the fmt layer) refuses the user's `info` ticks
//! before tickprof sees them: a setup mistake the stop warns about. Under a global subscriber
//! (this test binary is its own process, as users run) no tick is counted, the summary says
//! why, and the calibration does not measure the subscriber's refusals as span costs: with
//! nothing recorded where the user's spans run, it measures on a private dispatcher.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tickprof::{CalibrationSite, MetricsCollector};
use tracing_subscriber::prelude::*;

#[test]
fn a_whole_subscriber_filter_counts_nothing_and_fakes_no_calibration() {
    let collector = MetricsCollector::builder()
        .without_resource_sampling()
        .build()
        .unwrap();
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("warn"))
        .with(collector.layer())
        .init();
    collector.start_profiling("whole_filter").unwrap();
    for i in 0..1_000_u64 {
        let _tick = tracing::info_span!("tick").entered();
        let _parse = tracing::info_span!("parse").entered();
        std::hint::black_box(i);
    }
    let report = collector.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 0, "the filter refused every tick");
    assert_eq!(
        report.overhead.measured_on,
        Some(CalibrationSite::PrivateDispatcher),
        "{:?}",
        report.overhead
    );
    // A recorded span costs at least its clock reads and a histogram record.
    assert!(report.overhead.per_span_ns > 10.0, "{:?}", report.overhead);
    let summary = report.summary();
    assert!(
        summary.contains("no tick counted: no tick span reached tickprof"),
        "{summary}"
    );
    assert!(!summary.contains("a run this short"), "{summary}");
}
