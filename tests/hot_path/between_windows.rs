//! Spans outside every tick between recording windows: a callsite first seen where its thread
//! is certainly between ticks is known to run outside them; every later span of it is counted
//! (`seen`), and sampled on its own clock. A span that holds sampled ticks is counted, not
//! recorded (the untimed ticks would be in its own time).

use tickprof::{MetricsCollector, Report, Sampling};
use tracing::{Level, span};
use tracing_subscriber::prelude::*;

use super::mock_clock::{advance, run};

/// One tick in a billion timed: the sampler's first window (at the first tick) closes after its
/// burst and no other opens; a span outside ticks is recorded at most once per a billion
/// spans' cost, so only the first is.
fn rarely_sampled(name: &str, body: impl FnOnce()) -> Report {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(1_000_000_000))
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling(name).unwrap();
        body();
        collector.stop_profiling().unwrap()
    })
}

fn ticks(n: u64) {
    for _ in 0..n {
        span!(Level::INFO, "tick").in_scope(|| span!(Level::INFO, "work").in_scope(|| {}));
    }
}

#[test]
fn every_span_outside_ticks_is_counted_and_the_first_recorded() {
    let report = rarely_sampled("feed_between_windows", || {
        for _ in 0..11 {
            span!(Level::INFO, "feed").in_scope(|| {});
            ticks(1_000);
        }
    });
    let sampling = report.sampling.as_ref().unwrap();
    assert_eq!(sampling.windows, 1, "{sampling:?}");
    assert!(sampling.ticks_recorded < 1_000, "{sampling:?}");
    assert_eq!(report.ticks.count, 11_000);
    let feed = &report.outside_ticks["feed"];
    assert_eq!(feed.seen, Some(11), "every feed span is seen");
    assert_eq!(
        feed.count, 1,
        "the first recorded, the others inside the gap"
    );
    assert_eq!(feed.latency.samples, 1);
    assert!(
        !report.outside_ticks.contains_key("work"),
        "a component is not outside ticks"
    );
}

#[test]
fn a_callsite_first_seen_after_an_untimed_tick_is_not_taken_for_one_outside_ticks() {
    // After the window the ticks are untimed: a span made now may be inside one of them.
    let report = rarely_sampled("late_callsite", || {
        ticks(2_000);
        assert!(span!(Level::INFO, "late").is_disabled());
        ticks(1);
    });
    assert_eq!(report.ticks.count, 2_001);
    assert!(
        report.outside_ticks.is_empty(),
        "{:?}",
        report.outside_ticks
    );
}

#[test]
fn a_span_around_sampled_ticks_is_counted_not_recorded() {
    // `run` holds 1,000 ticks, most untimed: its own time would hold theirs.
    let report = rarely_sampled("loop_span", || {
        span!(Level::INFO, "run").in_scope(|| ticks(1_000));
    });
    assert_eq!(report.ticks.count, 1_000);
    let run = &report.outside_ticks["run"];
    assert_eq!((run.seen, run.count), (Some(1), 0));
    let summary = report.to_string();
    let line = summary
        .lines()
        .find(|line| line.trim_start().starts_with("run "))
        .expect("run listed");
    assert!(
        line.contains(" - "),
        "no figures for a span not recorded: {line}"
    );
}

#[test]
fn with_full_sampling_every_span_outside_ticks_is_recorded() {
    // feed { 5 } · tick { 2 } three times: feed (5, 5), seen 3, recorded 3.
    let report = run("full_feed", |mock| {
        for _ in 0..3 {
            span!(Level::INFO, "feed").in_scope(|| advance(mock, 5));
            span!(Level::INFO, "tick").in_scope(|| advance(mock, 2));
        }
    });
    let feed = &report.outside_ticks["feed"];
    assert_eq!((feed.seen, feed.count), (Some(3), 3));
    assert_eq!((feed.latency.min_ns, feed.latency.max_ns), (5, 5));
    assert_eq!(report.ticks.latency.max_ns, 2);
}

#[test]
fn a_span_around_ticks_with_full_sampling_is_recorded_net_of_them() {
    // run { 4 · tick { 2 } · tick { 2 } · 3 }: run's own time 7, its whole time 11.
    let report = run("full_loop_span", |mock| {
        span!(Level::INFO, "run").in_scope(|| {
            advance(mock, 4);
            for _ in 0..2 {
                span!(Level::INFO, "tick").in_scope(|| advance(mock, 2));
            }
            advance(mock, 3);
        });
    });
    let run = &report.outside_ticks["run"];
    assert_eq!((run.seen, run.count), (Some(1), 1));
    assert_eq!(run.latency.max_ns, 11);
    assert_eq!(run.self_time.as_ref().unwrap().max_ns, 7);
}
