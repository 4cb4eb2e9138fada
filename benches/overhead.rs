#![allow(missing_docs, clippy::panic)]
//! What TickProfiler adds per span, against the baselines, in one run.
//!
//! `cargo bench --bench overhead`
//!
//! One iteration = one tick of the shape the issue fixes: 1 `tick` span + 3 component spans,
//! each created, entered, exited and closed around a black-boxed add. Configurations:
//! - `no_subscriber`: tracing's disabled fast path;
//! - `registry_identity`: `registry()` + an empty layer — the baseline (`registry()` alone
//!   leaks closed spans, tokio-rs/tracing #900);
//! - `registry_tickprof`: `registry()` + TickProfiler during an active profiling run;
//! - `registry_tickprof_idle`: the same layer with no run active.
//!
//! Every configuration uses a scoped dispatcher (`with_default`), so they pay the same
//! dispatch cost and the differences are the layers'. After the timings it prints RSS after
//! 10K and after 1M profiled ticks, to show the profiler's footprint does not grow with ticks.

use std::hint::black_box;

use divan::Bencher;
use tickprof::MetricsCollector;
use tracing::Dispatch;
use tracing_subscriber::layer::{Identity, SubscriberExt};

fn main() {
    divan::main();
    rss_growth();
}

#[inline]
fn one_tick(i: u64) {
    let _tick = tracing::info_span!("tick").entered();
    {
        let _parse = tracing::info_span!("parse").entered();
        black_box(i.wrapping_add(1));
    }
    {
        let _strategy = tracing::info_span!("strategy").entered();
        black_box(i.wrapping_add(2));
    }
    {
        let _execution = tracing::info_span!("execution").entered();
        black_box(i.wrapping_add(3));
    }
}

fn run(bencher: Bencher, dispatch: &Dispatch) {
    tracing::dispatcher::with_default(dispatch, || {
        let mut i = 0u64;
        bencher.bench_local(|| {
            i = i.wrapping_add(1);
            one_tick(i);
        });
    });
}

fn collector() -> MetricsCollector {
    MetricsCollector::builder()
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap_or_else(|e| panic!("collector: {e}"))
}

#[divan::bench(sample_count = 200, sample_size = 2000)]
fn no_subscriber(bencher: Bencher) {
    run(bencher, &Dispatch::none());
}

#[divan::bench(sample_count = 200, sample_size = 2000)]
fn registry_identity(bencher: Bencher) {
    run(
        bencher,
        &Dispatch::new(tracing_subscriber::registry().with(Identity::new())),
    );
}

#[divan::bench(sample_count = 200, sample_size = 2000)]
fn registry_tickprof(bencher: Bencher) {
    let collector = collector();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector
        .start_profiling("bench")
        .unwrap_or_else(|e| panic!("start: {e}"));
    run(bencher, &dispatch);
    let report = collector
        .stop_profiling()
        .unwrap_or_else(|e| panic!("stop: {e}"));
    assert!(
        report.ticks.count > 0,
        "the profiled bench recorded no ticks"
    );
}

#[divan::bench(sample_count = 200, sample_size = 2000)]
fn registry_tickprof_idle(bencher: Bencher) {
    let collector = collector();
    run(
        bencher,
        &Dispatch::new(tracing_subscriber::registry().with(collector.layer())),
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// RSS after 10K and after 1M profiled ticks in one run.
fn rss_growth() {
    let collector = collector();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector
        .start_profiling("rss")
        .unwrap_or_else(|e| panic!("start: {e}"));
    let (after_10k, after_1m) = tracing::dispatcher::with_default(&dispatch, || {
        (0..10_000).for_each(one_tick);
        let after_10k = rss_kib();
        (10_000..1_000_000).for_each(one_tick);
        (after_10k, rss_kib())
    });
    let report = collector
        .stop_profiling()
        .unwrap_or_else(|e| panic!("stop: {e}"));
    println!(
        "RSS after 10K profiled ticks: {after_10k} KiB; after 1M: {after_1m} KiB; growth {} KiB ({} ticks recorded)",
        after_1m as i64 - after_10k as i64,
        report.ticks.count
    );
}
