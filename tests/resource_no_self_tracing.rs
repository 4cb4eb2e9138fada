//! The sampler never records into the profile: its thread runs with tracing switched off, even
//! when the process has a global subscriber and code it calls (here the TickCounter) makes spans.
//!
//! Installs a global default subscriber (a process has one), so it is a test binary of its own,
//! with one test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tickprof::{ResourceProfiler, TickCounter};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Counts spans created on the sampler thread and elsewhere.
struct SpanCounter {
    on_sampler: Arc<AtomicU64>,
    elsewhere: Arc<AtomicU64>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SpanCounter {
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: Context<'_, S>,
    ) {
        let on_sampler = std::thread::current().name() == Some("tickprof-sampler");
        let counter = if on_sampler {
            &self.on_sampler
        } else {
            &self.elsewhere
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn sampler_thread_records_nothing() {
    let on_sampler = Arc::new(AtomicU64::new(0));
    let elsewhere = Arc::new(AtomicU64::new(0));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(SpanCounter {
        on_sampler: on_sampler.clone(),
        elsewhere: elsewhere.clone(),
    }))
    .unwrap();

    // Called once by `start` on this thread, then once per sample on the sampler thread.
    let calls = Arc::new(AtomicU64::new(0));
    let counter: TickCounter = {
        let calls = calls.clone();
        Arc::new(move || {
            let _span = tracing::info_span!("inside_tick_counter").entered();
            calls.fetch_add(1, Ordering::Relaxed)
        })
    };
    let profiler = ResourceProfiler::start(Duration::from_millis(10), counter).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let resources = profiler.stop();

    assert!(resources.samples_taken >= 3);
    assert!(
        calls.load(Ordering::Relaxed) > 3,
        "the counter ran on the sampler thread"
    );
    // The subscriber works (the call from `start` on this thread was seen) ...
    assert_eq!(elsewhere.load(Ordering::Relaxed), 1);
    // ... but nothing from the sampler thread reached it.
    assert_eq!(on_sampler.load(Ordering::Relaxed), 0);
}
