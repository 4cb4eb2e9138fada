//! Spans handed between threads: created on one, entered on others, closed anywhere. Every
//! tick and component is recorded once, with the busy time of every thread that entered it.
//! (Both cases lost records before; found in review.)

use std::sync::mpsc;
use std::time::Duration;

use tickprof::{MetricsCollector, Sampling};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

fn collector() -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

#[test]
fn created_here_entered_elsewhere_closed_here_is_recorded() {
    let c = collector();
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    c.start_profiling("fan_out").unwrap();
    tracing::dispatcher::with_default(&d, || {
        let tick = tracing::info_span!("tick");
        let work = tracing::info_span!(parent: &tick, "work");
        std::thread::scope(|s| {
            let d = d.clone();
            let (tick, work) = (&tick, &work);
            s.spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    let _t = tick.enter();
                    let _w = work.enter();
                    std::thread::sleep(Duration::from_millis(2));
                })
            });
        });
        drop(work);
        drop(tick);
    });
    let r = c.stop_profiling().unwrap();
    assert_eq!(r.ticks.count, 1, "tick lost");
    assert_eq!(
        r.components.get("work").map(|w| w.count),
        Some(1),
        "work lost"
    );
    assert!(r.components["work"].latency.min_ns >= 2_000_000);
}

/// A persistent worker that enters each span it receives for `ms` and sends it back.
fn worker(
    d: Dispatch,
) -> (
    mpsc::Sender<(tracing::Span, u64)>,
    mpsc::Receiver<tracing::Span>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel::<(tracing::Span, u64)>();
    let (back_tx, back_rx) = mpsc::channel::<tracing::Span>();
    let handle = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&d, || {
            for (span, ms) in rx {
                {
                    let _e = span.enter();
                    std::thread::sleep(Duration::from_millis(ms));
                }
                back_tx.send(span).unwrap();
            }
        })
    });
    (tx, back_rx, handle)
}

#[test]
fn moved_twice_after_creation_keeps_its_busy_time() {
    let c = collector();
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    c.start_profiling("moved").unwrap();
    let (b_tx, b_rx, b) = worker(d.clone());
    let (c_tx, c_rx, cc) = worker(d.clone());
    tracing::dispatcher::with_default(&d, || {
        let _tick = tracing::info_span!("tick").entered();
        let work = tracing::info_span!("work");
        b_tx.send((work, 20)).unwrap();
        let work = b_rx.recv().unwrap();
        // More spans created here than the created-span ring holds.
        let others: Vec<_> = (0..6).map(|_| tracing::info_span!("other")).collect();
        c_tx.send((work, 1)).unwrap();
        let work = c_rx.recv().unwrap();
        drop(work);
        drop(others);
    });
    drop((b_tx, c_tx));
    b.join().unwrap();
    cc.join().unwrap();
    let r = c.stop_profiling().unwrap();
    let work = &r.components["work"];
    assert_eq!(work.count, 1);
    assert!(work.wall.is_some(), "entered twice: wall time expected");
    assert!(
        work.latency.max_ns >= 21_000_000,
        "busy must include both polls"
    );
    assert!(
        !r.components.contains_key("other"),
        "never entered: nothing to record"
    );
    assert_eq!(r.ticks.count, 1);
}

/// Four threads in a ring each create ticks and hand them on; the next enters and closes them:
/// every enter and close looks in another thread's home while the others do the same. A close
/// once held its own home's lock while it took the list of homes, and an enter took them in the
/// other order: two threads deadlocked (found by the start/stop races, 1 run in 2 alone).
#[test]
fn threads_handing_spans_round_never_deadlock() {
    const THREADS: usize = 4;
    const SPANS: usize = 30_000;
    let c = collector();
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    c.start_profiling("ring").unwrap();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..THREADS)
        .map(|_| mpsc::sync_channel::<tracing::Span>(64))
        .unzip();
    let done = crate::common::within(Duration::from_secs(120), "spans handed round", move || {
        let mut receivers: Vec<Option<mpsc::Receiver<tracing::Span>>> =
            receivers.into_iter().map(Some).collect();
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (d, out) = (d.clone(), senders[(i + 1) % THREADS].clone());
                let inbox = receivers[i].take().unwrap();
                std::thread::spawn(move || {
                    tracing::dispatcher::with_default(&d, || {
                        for _ in 0..SPANS {
                            if out.send(tracing::info_span!("tick")).is_err() {
                                return;
                            }
                            // Another thread's tick: its timing is in that thread's home.
                            if let Ok(theirs) = inbox.recv() {
                                theirs.in_scope(|| std::hint::black_box(1));
                                drop(theirs);
                            }
                        }
                    })
                })
            })
            .collect();
        drop(senders);
        handles.into_iter().all(|h| h.join().is_ok())
    });
    assert!(done, "a thread panicked");
    let r = c.stop_profiling().unwrap();
    let all = (THREADS * SPANS) as u64;
    assert_eq!(r.ticks.count, all);
    // Every tick closed with its time (each thread's first 100 in the warm-up figures).
    let timed = r.ticks.latency_raw.as_ref().unwrap().samples;
    let warmup = r
        .ticks
        .warmup
        .as_ref()
        .and_then(|w| w.latency.as_ref())
        .map_or(0, |l| l.samples);
    assert_eq!(timed + warmup, all);
}
