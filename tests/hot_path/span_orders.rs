//! Span orders the hot path must get right (found by review and by random span programs):
//! a span entered on two threads at once, a future polled on another thread and back, child
//! spans fanned out to workers with an explicit parent, exits out of order, and a span created
//! while a tick is re-entered above a root span. Each case checks what the registry says.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use tickprof::{MetricsCollector, Report, Sampling};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

fn setup() -> (MetricsCollector, Dispatch) {
    let c = MetricsCollector::builder()
        .warmup_ticks(0) // every tick in the latency histograms
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    (c, d)
}

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn run(c: &MetricsCollector, d: &Dispatch, f: impl FnOnce()) -> Report {
    c.start_profiling("orders").unwrap();
    tracing::dispatcher::with_default(d, f);
    c.stop_profiling().unwrap()
}

/// Issue 9 (a) / issue 10 item 8: a tick entered by a worker while the main thread is inside
/// it. Busy time is the sum of both threads' entered intervals, whichever thread closes it.
#[test]
fn a_tick_entered_on_two_threads_at_once_keeps_both_intervals() {
    for close_on_worker in [false, true] {
        let (c, d) = setup();
        let report = run(&c, &d, || {
            let tick = tracing::info_span!("tick");
            let both_inside = Arc::new(Barrier::new(2));
            let outer = tick.enter();
            let worker = {
                let (tick, d, both_inside) = (tick.clone(), d.clone(), Arc::clone(&both_inside));
                std::thread::spawn(move || {
                    tracing::dispatcher::with_default(&d, || {
                        {
                            let _inner = tick.enter();
                            both_inside.wait();
                            spin(Duration::from_millis(30));
                        }
                        // Keep the clone until the main thread has dropped its handle, so this
                        // thread closes the span.
                        if close_on_worker {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        drop(tick);
                    })
                })
            };
            both_inside.wait();
            spin(Duration::from_millis(20));
            drop(outer);
            drop(tick);
            worker.join().unwrap();
        });
        assert_eq!(report.ticks.count, 1);
        let raw = report.ticks.latency_raw.as_ref().unwrap();
        assert_eq!(raw.samples, 1, "one tick, recorded once");
        assert!(
            raw.min_ns >= 49_000_000,
            "busy {} ns must hold both intervals (20 + 30 ms), closed on worker: {close_on_worker}",
            raw.min_ns
        );
        assert_eq!(report.dropped.missing_span_data, 0);
    }
}

/// A future created on thread A, polled on B, then polled on A again: one record, the busy
/// time of both polls, nothing left parked for the next run.
#[test]
fn polled_on_another_thread_then_back_keeps_both_polls() {
    let (c, d) = setup();
    let report = run(&c, &d, || {
        let _tick = tracing::info_span!("tick").entered();
        let work = tracing::info_span!("work");
        std::thread::scope(|s| {
            let (d, work) = (d.clone(), &work);
            s.spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    let _poll = work.enter();
                    spin(Duration::from_millis(5));
                })
            });
        });
        {
            let _poll = work.enter();
            spin(Duration::from_millis(5));
        }
    });
    let work = &report.components["work"];
    assert_eq!(work.count, 1);
    assert!(work.latency.min_ns >= 9_900_000, "{}", work.latency.min_ns);
    assert!(work.wall.is_some(), "entered twice");
    // A second run sees none of the first one's state.
    let again = run(&c, &d, || {
        let _tick = tracing::info_span!("tick").entered();
    });
    assert_eq!(again.ticks.count, 1);
    assert!(again.components.is_empty());
}

/// Rayon-style fan-out: workers create children with the tick as explicit parent. Every child
/// is a component; their time is not on the tick's thread, so it is not subtracted from the
/// tick's (counted as uncredited).
#[test]
fn fan_out_with_explicit_parents_records_every_child() {
    let (c, d) = setup();
    let report = run(&c, &d, || {
        let tick = tracing::info_span!("tick");
        let _inside = tick.enter();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let (d, tick) = (d.clone(), &tick);
                s.spawn(move || {
                    tracing::dispatcher::with_default(&d, || {
                        let _child = tracing::info_span!(parent: tick, "worker").entered();
                        spin(Duration::from_millis(2));
                    })
                });
            }
        });
    });
    assert_eq!(report.components["worker"].count, 4);
    // At least its 2 ms of spinning, to the histogram's precision (3 significant figures) and
    // less the instrumentation subtracted from it.
    assert!(
        report.components["worker"].latency.min_ns >= 1_990_000,
        "{:?}",
        report.components["worker"]
    );
    assert_eq!(report.dropped.uncredited_children, 4);
}

/// Exits out of order: a child that outlives its parent's interval is credited to its parent
/// up to the parent's exit and to the tick after it, so nothing is counted twice and the tick's
/// self times add up to it.
#[test]
fn out_of_order_exits_credit_the_parent() {
    let (c, d) = setup();
    let report = run(&c, &d, || {
        let tick = tracing::info_span!("tick").entered();
        let a = tracing::info_span!("a").entered();
        let b = tracing::info_span!("b").entered(); // parent: a
        spin(Duration::from_millis(2));
        let a_span = a.exit(); // a exits before its child b
        spin(Duration::from_millis(2));
        drop(b);
        drop(a_span);
        drop(tick);
    });
    assert_eq!(report.components["a"].count, 1);
    assert_eq!(report.components["b"].count, 1);
    let (a, b) = (
        &report.components["a"].latency,
        &report.components["b"].latency,
    );
    let tick = report.ticks.latency.max_ns;
    // b (4 ms) outlived a's interval (2 ms): a's busy is its own interval, not b's; b's
    // holds a's remaining time and 2 ms more (however the thread was scheduled).
    assert!(
        a.min_ns >= 2_000_000 && b.min_ns >= 4_000_000,
        "a {a:?} b {b:?}"
    );
    assert!(a.max_ns + 1_500_000 < b.min_ns, "a {a:?} b {b:?}");
    // b ran for all of a's interval: a's own time is almost none. The tick's self times (a's,
    // b's, its own) add up to it, to the histograms' precision: b's second half is b's, not
    // the tick's and not counted twice.
    let own = |name: &str| report.components[name].self_time.as_ref().unwrap().max_ns;
    assert!(
        own("a") * 10 < a.min_ns,
        "a's own time {} of {a:?}",
        own("a")
    );
    let selves = own("a") + own("b") + report.unattributed.max_ns;
    assert!(
        selves.abs_diff(tick) <= tick / 200,
        "self times {selves} ns for a tick of {tick} ns"
    );
    assert_eq!(report.dropped.missing_span_data, 0);
}

/// Issue 10 item 7: tick entered, a root span (`parent: None`) entered, the tick re-entered,
/// then a contextual child. The registry's current span is the root (it skips the re-entry),
/// so the child is not a component.
#[test]
fn a_child_under_a_reentered_tick_takes_the_registrys_parent() {
    let (c, d) = setup();
    let report = run(&c, &d, || {
        let tick = tracing::info_span!("tick");
        let _t = tick.enter();
        let root = tracing::info_span!(parent: None, "root");
        let _r = root.enter();
        let _again = tick.enter();
        let child = tracing::info_span!("child");
        let current = tracing::Span::current();
        assert_eq!(current.metadata().map(|m| m.name()), Some("root"));
        let _c = child.enter();
    });
    assert!(
        !report.components.contains_key("child"),
        "child's parent is the root span: not a component ({:?})",
        report.components.keys().collect::<Vec<_>>()
    );
    assert!(!report.components.contains_key("root"));

    // Re-entered directly above a component: the child's parent is the component.
    let report = run(&c, &d, || {
        let tick = tracing::info_span!("tick");
        let _t = tick.enter();
        let _comp = tracing::info_span!("comp").entered();
        let _again = tick.enter();
        let _child = tracing::info_span!("child").entered();
    });
    assert_eq!(report.components["child"].count, 1);
}

/// Found by the span-program property test: a span whose last handle is dropped while it is
/// entered (raw `Dispatch::enter`, a forgotten guard) closes at once — the registry holds no
/// reference for entered spans — and a per-layer filtered layer never hears of its exit. It
/// was lost (its state stayed on the thread's stack, a closed tick kept every later span
/// alive, and the stale frame stayed the thread's "current span"). It is recorded up to its
/// close, and the registry's current span (none, while the closed span is on top of its stack)
/// is the parent of what is created next.
#[test]
fn a_span_closed_while_entered_is_recorded_up_to_its_close() {
    let (c, d) = setup();
    // Each span's time to its close, timed by hand around it: its busy time is at most that
    // (whatever the machine preempts), and at least 20 ms less than its time to its exit.
    let (mut tick_to_close, mut a_to_close) = (Duration::ZERO, Duration::ZERO);
    let report = run(&c, &d, || {
        let tick_opened = Instant::now();
        let tick = tracing::info_span!("tick");
        let tick_id = tick.id().unwrap();
        std::mem::forget(tick.enter());
        let a_opened = Instant::now();
        let a = tracing::info_span!("a");
        let a_id = a.id().unwrap();
        std::mem::forget(a.enter());
        spin(Duration::from_millis(2));
        drop(a); // closes while entered, on top of the registry's stack
        a_to_close = a_opened.elapsed();
        spin(Duration::from_millis(20)); // would be in a's time if it ran to the exit
        let orphan = tracing::info_span!("orphan");
        assert!(!orphan.is_disabled(), "the tick is alive: spans exist");
        orphan.in_scope(|| spin(Duration::from_micros(10)));
        drop(orphan);
        d.exit(&a_id); // the registry pops it; the layer never hears of it
        let child = tracing::info_span!("child");
        child.in_scope(|| spin(Duration::from_micros(10)));
        drop(child);
        drop(tick); // the tick closes while entered too
        tick_to_close = tick_opened.elapsed();
        spin(Duration::from_millis(20)); // would be in the tick's time if it ran to the exit
        assert!(
            !tracing::info_span!("after").is_disabled(),
            "full sampling records spans outside ticks"
        );
        d.exit(&tick_id);
    });
    // tickprof's clock and `Instant` convert the same counter with their own calibrations.
    let by_hand = |d: Duration| d.as_nanos() as u64 * 1_001 / 1_000 + 2_000;
    assert_eq!(report.ticks.count, 1);
    let raw = report.ticks.latency_raw.as_ref().unwrap();
    assert_eq!(raw.samples, 1, "the tick is recorded");
    assert!(
        (22_000_000..=by_hand(tick_to_close)).contains(&raw.min_ns),
        "the tick's busy time runs to its close: {} ns, {tick_to_close:?} to its close",
        raw.min_ns
    );
    let a = &report.components["a"];
    assert_eq!(a.count, 1);
    assert!(
        (2_000_000..=by_hand(a_to_close)).contains(&a.latency.min_ns),
        "a's busy time runs to its close: {} ns, {a_to_close:?} to its close",
        a.latency.min_ns
    );
    assert!(
        !report.components.contains_key("orphan") && !report.outside_ticks.contains_key("orphan"),
        "created while the closed span topped the registry's stack: a root inside the tick, not tracked"
    );
    assert_eq!(
        report.components["child"].count, 1,
        "the tick is current again"
    );
    assert_eq!(report.dropped.missing_span_data, 0);
}

/// A child exited, then its parent works on, then the child's last handle drops (`let child =
/// info_span!(…); child.in_scope(…); more_work(); }`: the handle goes at the end of the
/// scope). The parent's work between the child's exit and its close is the parent's own busy
/// time, not the child's instrumentation (found by a helper: the tick read ~45 µs net for 2 ms
/// of its own work when the exit's clock read was taken as the start of the close).
#[test]
fn work_between_a_childs_exit_and_its_close_is_the_parents() {
    let (c, d) = setup();
    let mut work = Duration::ZERO;
    let report = run(&c, &d, || {
        let _tick = tracing::info_span!("tick").entered();
        let child = tracing::info_span!("child");
        child.in_scope(|| spin(Duration::from_micros(10)));
        let started = Instant::now();
        spin(Duration::from_millis(2)); // the tick's own work, the child still alive
        work = started.elapsed();
        drop(child);
    });
    let tick = report.ticks.latency.min_ns;
    assert!(
        tick as u128 >= work.as_nanos() * 999 / 1_000,
        "the tick's net busy time {tick} ns is below its own work after the child, {work:?}"
    );
}

/// The same before a child is entered: a span made ahead of its work (`let child =
/// info_span!(…); more_work(); child.in_scope(…)`, or a future instrumented before it is
/// polled): the parent's work between the creation and the enter is the parent's.
#[test]
fn work_between_a_childs_creation_and_its_enter_is_the_parents() {
    let (c, d) = setup();
    let mut work = Duration::ZERO;
    let report = run(&c, &d, || {
        let _tick = tracing::info_span!("tick").entered();
        let child = tracing::info_span!("child");
        let started = Instant::now();
        spin(Duration::from_millis(2)); // the tick's own work, the child made but not entered
        work = started.elapsed();
        child.in_scope(|| spin(Duration::from_micros(10)));
    });
    let tick = report.ticks.latency.min_ns;
    assert!(
        tick as u128 >= work.as_nanos() * 999 / 1_000,
        "the tick's net busy time {tick} ns is below its own work before the child, {work:?}"
    );
}
