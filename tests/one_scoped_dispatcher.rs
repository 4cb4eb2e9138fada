//! Found by the span-program property test: with a single registered dispatcher, tracing-core
//! rebuilds callsite interest against the *calling thread's default* dispatcher, not the
//! registered one. `start_profiling` and `stop_profiling` called outside the scope of the
//! (only) subscriber then rebuilt every callsite against the no-op dispatcher: ticks whose
//! callsites were already registered were never created again (a run of 0 ticks), and another
//! layer of the same subscriber lost its events too.
//!
//! Its own test binary, with one test: it needs to be the only dispatcher in the process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tickprof::{MetricsCollector, Sampling};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Counts the events it sees.
struct Events(Arc<AtomicU64>);

impl<S: Subscriber> Layer<S> for Events {
    fn on_event(&self, _event: &Event<'_>, _ctx: Context<'_, S>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn ticks(n: u64) {
    for _ in 0..n {
        let _tick = tracing::info_span!("tick").entered();
        let _parse = tracing::info_span!("parse").entered();
        tracing::info!("inside");
    }
}

#[test]
fn runs_started_outside_the_only_subscribers_scope_see_its_ticks() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let events = Arc::new(AtomicU64::new(0));
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(Events(Arc::clone(&events)))
            .with(collector.layer()),
    );
    // The callsites register while idle.
    tracing::dispatcher::with_default(&dispatch, || ticks(2));
    assert_eq!(events.load(Ordering::Relaxed), 2);
    for run in 0..3 {
        // Started and stopped from outside the subscriber's scope (another thread's view).
        collector.start_profiling("outside").unwrap();
        tracing::dispatcher::with_default(&dispatch, || ticks(5));
        let report = collector.stop_profiling().unwrap();
        assert_eq!(report.ticks.count, 5, "run {run}: ticks");
        assert_eq!(report.components["parse"].count, 5, "run {run}: components");
        tracing::dispatcher::with_default(&dispatch, || ticks(1));
        assert_eq!(
            events.load(Ordering::Relaxed),
            2 + 6 * (run + 1),
            "run {run}: another layer's events"
        );
    }
}
