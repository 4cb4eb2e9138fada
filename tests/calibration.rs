//! Calibration measures what a recorded span costs the loop on the dispatcher tickprof is
//! installed in (a global one here, as users run), and what an empty span reads.
//!
//! A test binary of its own: it installs the process's global default subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

#[test]
fn calibrates_on_the_installed_global_dispatcher() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .without_resource_sampling()
        .build()
        .unwrap();
    tracing_subscriber::registry()
        .with(collector.layer())
        .init();
    collector.start_profiling("calibration").unwrap();
    let report = collector.stop_profiling().unwrap();
    let o = &report.overhead;
    eprintln!("{o:#?}");
    assert_eq!(
        o.measured_on,
        Some(tickprof::CalibrationSite::InstalledDispatcher),
        "{o:?}"
    );
    assert!(
        o.empty_span_busy_ns > 0.0,
        "an empty span reads at least a clock step: {o:?}"
    );
    assert!(
        o.per_span_ns > o.empty_span_busy_ns,
        "a recorded span costs more than what it reads: {o:?}"
    );
    assert!(o.tick_check_ns.unwrap() > 0.0, "{o:?}");
    assert!(o.tick_check_ns.unwrap() < o.per_span_ns, "{o:?}");
    // Nothing of the calibration is in the run.
    assert_eq!(report.ticks.count, 0);
    assert!(report.components.is_empty());
}
