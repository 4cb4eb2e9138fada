//! Async components entered across `.await`s: busy time (entered intervals) is below wall time
//! (first enter to last exit), both are recorded, and spans that move between worker threads
//! keep their state.
//!
//! Each tick's fetch sleeps 3 × 5 ms between its polls, so its wall time is at least 15 ms on
//! any machine; its busy time is µs, unless the machine preempts a poll. So each tick is judged
//! against itself (its busy time within its wall time, from its timeline), and the busy time
//! of the typical tick (p50) must be far below the wall time: a preempted poll or two cannot
//! move a median of 50, and busy time measured as wall time moves all of them.

use std::time::Duration;

use tickprof::{MetricsCollector, Sampling};
use tracing::Instrument;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::prelude::*;

async fn tick(i: u64) {
    async {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            std::hint::black_box(i);
        }
    }
    .instrument(tracing::info_span!("fetch"))
    .await;
    async { std::hint::black_box(i) }
        .instrument(tracing::info_span!("decide"))
        .await;
}

#[test]
fn async_busy_below_wall_on_multi_thread_runtime() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        // Every tick in the latency histograms: 50 ticks would all be warm-up.
        .warmup_ticks(0)
        // Every tick listed, with its timeline.
        .slowest_ticks(50)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let dispatch = tracing::Dispatch::new(subscriber);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    collector.start_profiling("async").unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..50u64)
            .map(|i| {
                // Create the tick span under the collector's dispatcher; the task's polls
                // (on either worker thread) run under it too.
                let span =
                    tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("tick"));
                tokio::spawn(tick(i).instrument(span).with_subscriber(dispatch.clone()))
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let report = collector.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 50);
    let fetch = &report.components["fetch"];
    assert_eq!(fetch.count, 50);
    let wall = fetch
        .wall
        .as_ref()
        .expect("fetch was entered 4 times per tick");
    // Each fetch sleeps 3 × 5 ms: wall ≥ 15 ms, busy far below (µs).
    assert!(wall.min_ns >= 15_000_000, "wall min {} ns", wall.min_ns);
    assert!(
        fetch.latency.p50_ns < wall.min_ns,
        "busy p50 {} ns must be below wall min {} ns",
        fetch.latency.p50_ns,
        wall.min_ns
    );
    let wall_histogram = wall.decode_histogram("fetch.wall").unwrap();
    assert_eq!(wall_histogram.len(), 50);
    assert_eq!(report.components["decide"].count, 50);
    // The ticks are futures too: entered at every poll, so they get wall time like components.
    let tick_wall = report
        .ticks
        .wall
        .as_ref()
        .expect("ticks were polled more than once");
    assert_eq!(tick_wall.samples, 50);
    assert!(
        tick_wall.min_ns >= 15_000_000,
        "tick wall min {} ns",
        tick_wall.min_ns
    );
    assert!(report.ticks.latency.p50_ns < tick_wall.min_ns);
    // Tick by tick: busy within wall, for the tick and for its fetch.
    let listed = &report.slowest_ticks.as_ref().unwrap().ticks;
    assert_eq!(listed.len(), 50);
    for t in listed {
        assert!(t.recorded, "tick #{}", t.ordinal);
        assert!(
            t.wall_ns >= 15_000_000 && t.latency_ns <= t.wall_ns,
            "tick #{}: busy {} ns, wall {} ns",
            t.ordinal,
            t.latency_ns,
            t.wall_ns
        );
        let fetch = t.timeline.iter().find(|s| s.name == "fetch").unwrap();
        assert!(
            fetch.duration_ns >= 15_000_000 && fetch.busy_ns <= fetch.duration_ns,
            "tick #{}: fetch busy {} ns, wall {} ns",
            t.ordinal,
            fetch.busy_ns,
            fetch.duration_ns
        );
    }
    assert_eq!(report.dropped.missing_span_data, 0);
}
