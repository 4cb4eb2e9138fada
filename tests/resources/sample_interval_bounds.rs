//! A sample interval the clock cannot add (`Duration::MAX`) is a configuration error at
//! `build()` and at `ResourceProfiler::start`, never a panic on the sampler thread that loses the
//! run's samples; the longest accepted interval runs and stops cleanly.

use crate::sampler_support;

use std::time::Duration;

use tickprof::{Error, MAX_SAMPLE_INTERVAL, MetricsCollector, ResourceProfiler};
use tracing_subscriber::prelude::*;

const TOO_LONG: [Duration; 3] = [
    Duration::MAX,
    Duration::from_secs(u64::MAX),
    Duration::from_secs(3_600)
        .checked_add(Duration::from_nanos(1))
        .unwrap(),
];

#[test]
fn build_rejects_an_interval_the_clock_cannot_add_naming_it() {
    let _turn = sampler_support::one_at_a_time();
    assert_eq!(MAX_SAMPLE_INTERVAL, Duration::from_secs(3_600));
    for interval in TOO_LONG {
        let err = MetricsCollector::builder()
            .sample_interval(interval)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("sample interval must be at most 1h")
                && message.contains(&format!("got {interval:?}")),
            "{message}"
        );
    }
}

#[test]
fn resource_profiler_rejects_it_too() {
    let _turn = sampler_support::one_at_a_time();
    for interval in TOO_LONG {
        let (_, counter) = sampler_support::counter();
        let error = ResourceProfiler::start(interval, counter).unwrap_err();
        assert!(
            matches!(&error, Error::Config(reason) if reason.contains(&format!("got {interval:?}"))),
            "{error}"
        );
    }
}

#[test]
fn the_longest_accepted_interval_runs_and_stops() {
    let _turn = sampler_support::one_at_a_time();
    let collector = MetricsCollector::builder()
        .measure_overhead(false)
        .sample_interval(MAX_SAMPLE_INTERVAL)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("hourly").unwrap();
        for _ in 0..10 {
            let _tick = tracing::info_span!("tick").entered();
        }
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 10);
    let resources = report.resources.expect("sampled");
    assert_eq!(resources.sample_interval_ms, 3_600_000);
    // No periodic sample fell due; the closing reading is the only one.
    assert_eq!(resources.samples_taken, 1);
    assert_eq!(resources.samples_failed, 0);
}
