//! The layer in the subscriber setups users have: alone while idle, beside layers that create
//! spans before a run, behind a per-layer filter, and beside `EnvFilter` + `fmt`. No panic,
//! exact counts.

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;

fn collector() -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

fn ticks(n: u64) {
    for i in 0..n {
        let _tick = tracing::info_span!("tick").entered();
        {
            let _parse = tracing::info_span!("parse").entered();
            std::hint::black_box(i);
        }
        {
            let _noise = tracing::debug_span!("noise").entered();
            std::hint::black_box(i);
        }
    }
}

#[test]
fn spans_of_an_idle_layer_do_not_exist_and_do_not_disturb_a_run() {
    let collector = collector();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        // No run: tickprof wants nothing, and no other layer does, so these spans are never
        // created (they cost the macro's checks only).
        let early_tick = tracing::info_span!("tick");
        let early_component = early_tick.in_scope(|| tracing::info_span!("parse"));
        assert!(early_tick.is_disabled() && early_component.is_disabled());
        collector.start_profiling("after idle").unwrap();
        early_tick.in_scope(|| early_component.in_scope(|| std::hint::black_box(1)));
        drop(early_component);
        drop(early_tick);
        ticks(100);
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 100);
    assert_eq!(report.components["parse"].count, 100);
    assert_eq!(report.components["noise"].count, 100);
    assert_eq!(report.dropped.missing_span_data, 0);
}

#[test]
fn spans_created_for_another_layer_before_the_run_are_not_profiled() {
    let collector = collector();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        // fmt wants every span, so these exist; tickprof was idle when they were created.
        let early_tick = tracing::info_span!("tick");
        let early_component = early_tick.in_scope(|| tracing::info_span!("parse"));
        assert!(early_tick.id().is_some() && early_component.id().is_some());
        collector.start_profiling("late spans").unwrap();
        early_tick.in_scope(|| early_component.in_scope(|| std::hint::black_box(1)));
        drop(early_component);
        drop(early_tick);
        ticks(100);
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 100);
    assert_eq!(report.components["parse"].count, 100);
    assert_eq!(report.dropped.missing_span_data, 0);
}

#[test]
fn per_layer_filter_excludes_spans_without_breaking_counts() {
    let collector = collector();
    let subscriber = tracing_subscriber::registry().with(
        collector
            .layer()
            .with_filter(filter_fn(|metadata| metadata.name() != "noise")),
    );
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("filtered").unwrap();
        ticks(1_000);
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 1_000);
    assert_eq!(report.components["parse"].count, 1_000);
    assert!(!report.components.contains_key("noise"));
    assert_eq!(report.dropped.missing_span_data, 0);
}

#[test]
fn beside_env_filter_and_fmt() {
    let collector = collector();
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("env_filter").unwrap();
        ticks(1_000);
        tracing::info!("an event the fmt layer formats");
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 1_000);
    assert_eq!(report.components["parse"].count, 1_000);
    // `noise` is a debug span: the global EnvFilter disables it for every layer.
    assert!(!report.components.contains_key("noise"));
}

#[test]
fn spans_outside_ticks_are_not_components() {
    let collector = collector();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("outside").unwrap();
        let _setup = tracing::info_span!("setup").entered();
        ticks(10);
        let tick = tracing::info_span!("tick");
        // Explicit parent: a component even when created outside the tick's scope.
        let child = tracing::info_span!(parent: &tick, "explicit_child");
        child.in_scope(|| std::hint::black_box(1));
        tick.in_scope(|| std::hint::black_box(1));
        drop(child);
        drop(tick);
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 11);
    assert!(!report.components.contains_key("setup"));
    assert_eq!(report.components["explicit_child"].count, 1);
}
