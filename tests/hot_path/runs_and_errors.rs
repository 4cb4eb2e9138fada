//! start/stop repeat in one process under one subscriber, each run starting from empty;
//! misuse and bad configuration are errors, never panics.

use std::time::Duration;

use tickprof::{Error, MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

fn ticks(n: u64, component: &str) {
    for _ in 0..n {
        let _tick = tracing::info_span!("tick").entered();
        let _c = match component {
            "first" => tracing::info_span!("first").entered(),
            _ => tracing::info_span!("second").entered(),
        };
    }
}

#[test]
fn second_run_holds_only_its_own_records() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let handle = collector.clone();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("one").unwrap();
        ticks(300, "first");
        let first = handle.stop_profiling().unwrap();
        ticks(50, "first"); // between runs: not recorded
        collector.start_profiling("two").unwrap();
        ticks(200, "second");
        let second = collector.stop_profiling().unwrap();
        assert_eq!((first.name.as_str(), first.ticks.count), ("one", 300));
        assert_eq!(first.components["first"].count, 300);
        assert_eq!((second.name.as_str(), second.ticks.count), ("two", 200));
        assert!(!second.components.contains_key("first"));
        assert_eq!(second.components["second"].count, 200);
    });
}

#[test]
fn misuse_is_an_error() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    assert!(matches!(
        collector.stop_profiling(),
        Err(Error::NotProfiling)
    ));
    collector.start_profiling("a").unwrap();
    let twice = collector.start_profiling("b").unwrap_err();
    assert!(matches!(&twice, Error::AlreadyProfiling(name) if name == "a"));
    assert!(
        twice.to_string().contains("`a` is already active"),
        "{twice}"
    );
    assert!(collector.stop_profiling().is_ok());
    assert!(matches!(
        collector.stop_profiling(),
        Err(Error::NotProfiling)
    ));
}

#[test]
fn bad_configuration_is_an_error_naming_the_setting() {
    let message =
        |builder: tickprof::MetricsCollectorBuilder| builder.build().unwrap_err().to_string();
    assert!(message(MetricsCollector::builder().tick_span("")).contains("tick span name"));
    for figures in [0, 6] {
        let m = message(MetricsCollector::builder().significant_figures(figures));
        assert!(m.contains(&format!("got {figures}")), "{m}");
    }
    let m = message(
        MetricsCollector::builder().histogram_bounds(Duration::ZERO, Duration::from_secs(1)),
    );
    assert!(m.contains("at least 1 ns"), "{m}");
    let m = message(
        MetricsCollector::builder()
            .sampling(Sampling::full())
            .histogram_bounds(Duration::from_secs(1), Duration::from_secs(1)),
    );
    assert!(m.contains("histogram bounds"), "{m}");
    let m = message(MetricsCollector::builder().sample_interval(Duration::ZERO));
    assert!(m.contains("sample interval"), "{m}");
}

#[test]
fn values_above_the_bound_are_clamped_and_counted() {
    let collector = MetricsCollector::builder()
        .warmup_ticks(0) // every tick in the latency histograms
        .sampling(Sampling::full())
        .histogram_bounds(Duration::from_nanos(1), Duration::from_micros(100))
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("overflow").unwrap();
        for _ in 0..3 {
            let _tick = tracing::info_span!("tick").entered();
            std::thread::sleep(Duration::from_millis(1));
        }
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 3);
    // Each tick overflows four times: its net and raw latency, its latency as a recorded tick
    // (the basis of shares) and its unattributed time.
    assert_eq!(report.dropped.overflow, 12);
    let high = report
        .ticks
        .latency
        .decode_histogram("ticks")
        .unwrap()
        .high();
    assert!(report.ticks.latency.max_ns <= high + high / 500);
}
