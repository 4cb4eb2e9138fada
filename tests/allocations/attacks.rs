//! Attacks on the allocation figures (issue 24) and on the slow ticks' culprit path
//! (`Dominant::path`), each against a pattern whose right answer is known exactly.
//!
//! Allocation figures are counts on the calling thread, so every assertion here is exact: a
//! preemption or another test's thread moves no count. Tests marked `#[ignore = "known limit
//! …"]` reproduce a limit stated in docs/allocations.md (run them with `--ignored`); the
//! others are attacks the implementation withstands (several of them failed before it was
//! fixed: other layers' allocations, warm-up ticks closed on other threads, closed spans left
//! on the stack, hostile timelines).
//!
//! The culprit-path attacks that could loop forever run in a child process (this test binary,
//! re-executed on one test) under a memory limit and a deadline, so that a reproducer fails
//! instead of hanging or exhausting the machine.

use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::process::test_path;
use tickprof::{
    AllocationStats, Dominant, MetricsCollector, Report, Sampling, Shards, SlowTick, TimelineSpan,
    merge_reports,
};
use tracing::Instrument;
use tracing::Subscriber;
use tracing_subscriber::prelude::*;

/// Each thread's first ticks, left out of the allocation figures.
const WARMUP: u64 = 64;
/// Ticks of most runs here.
const TICKS: u64 = 300;
/// Bytes of one box the loops make.
const BOX_BYTES: u64 = 32;

fn collector(sampling: Sampling) -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(sampling)
        .warmup_ticks(WARMUP)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

/// `ticks` ticks of `body` under `subscriber` (scoped), profiled by `collector`.
fn run_in<S>(subscriber: S, collector: &MetricsCollector, ticks: u64, body: impl Fn(u64)) -> Report
where
    S: Subscriber + Send + Sync + 'static,
{
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("attacks").unwrap();
        for i in 0..ticks {
            let _tick = tracing::info_span!("tick").entered();
            body(i);
        }
        collector.stop_profiling().unwrap()
    })
}

/// `ticks` ticks of `body` with tickprof the only layer.
fn run(collector: &MetricsCollector, ticks: u64, body: impl Fn(u64)) -> Report {
    run_in(
        tracing_subscriber::registry().with(collector.layer()),
        collector,
        ticks,
        body,
    )
}

/// `loop_body` (which makes its own ticks) under a scoped dispatcher with tickprof alone.
fn run_raw(collector: &MetricsCollector, loop_body: impl FnOnce()) -> Report {
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("attacks").unwrap();
        loop_body();
        collector.stop_profiling().unwrap()
    })
}

/// `n` boxes of [`BOX_BYTES`], made and dropped.
fn boxes(n: u64, seed: u64) {
    for i in 0..n {
        black_box(Box::new([(seed + i) as u8; BOX_BYTES as usize]));
    }
}

/// Every span measured made exactly `allocations` allocations of `bytes` bytes in all.
#[track_caller]
fn assert_every_span(stats: Option<&AllocationStats>, allocations: u64, bytes: u64) {
    let s = stats.expect("allocation figures (a CountingAllocator is installed)");
    assert!(s.samples > 0, "{s:?}");
    assert_eq!(
        (s.p50, s.p99, s.max),
        (allocations, allocations, allocations),
        "{s:?}"
    );
    assert_eq!(s.mean, allocations as f64, "{s:?}");
    assert_eq!(
        (s.p50_bytes, s.p99_bytes, s.max_bytes),
        (bytes, bytes, bytes),
        "{s:?}"
    );
    assert_eq!(s.mean_bytes, bytes as f64, "{s:?}");
    let share = if allocations > 0 { 1.0 } else { 0.0 };
    assert_eq!(s.share_allocating, share, "{s:?}");
}

/// The allocation figures of `name`, which must exist.
#[track_caller]
fn component<'r>(report: &'r Report, name: &str) -> Option<&'r AllocationStats> {
    let c = report
        .components
        .get(name)
        .unwrap_or_else(|| panic!("no component {name}: {:?}", report.components.keys()));
    c.allocations.as_ref()
}

#[track_caller]
fn samples(stats: Option<&AllocationStats>) -> u64 {
    stats.expect("allocation figures").samples
}

// ---------------------------------------------------------------------------------------------
// Odd span orders
// ---------------------------------------------------------------------------------------------

/// Guards dropped out of order: the parent exits while its child is still entered. The parent
/// made 1 box, the child 2 while inside the parent and 4 after the parent exited. A component's
/// figure excludes its children's: parent 1, child 6, the tick all 7. (A known limit until
/// out-of-order exits split the intervals above them: the parent was charged the child's 2.)
#[test]
fn parent_exited_before_its_child_is_charged_only_its_own() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let parent = tracing::info_span!("parent").entered();
        boxes(1, i);
        let child = tracing::info_span!("child").entered();
        boxes(2, i);
        drop(parent);
        boxes(4, i);
        drop(child);
    });
    assert_every_span(report.ticks.allocations.as_ref(), 7, 7 * BOX_BYTES);
    assert_every_span(component(&report, "child"), 6, 6 * BOX_BYTES);
    assert_every_span(component(&report, "parent"), 1, BOX_BYTES);
}

/// A component that outlives its tick (the tick's guard dropped first): the component reads
/// everything it made (2 inside the tick, 4 after); the tick what was made while it was
/// entered (1 of its own, 2 of the component's).
#[test]
fn a_component_outliving_its_tick() {
    let report = run_raw(&collector(Sampling::full()), || {
        for i in 0..TICKS {
            let tick = tracing::info_span!("tick").entered();
            boxes(1, i);
            let late = tracing::info_span!("late").entered();
            boxes(2, i);
            drop(tick);
            boxes(4, i);
            drop(late);
        }
    });
    assert_eq!(report.ticks.count, TICKS);
    assert_eq!(samples(report.ticks.allocations.as_ref()), TICKS - WARMUP);
    assert_every_span(report.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
    assert_every_span(component(&report, "late"), 6, 6 * BOX_BYTES);
}

/// A tick span entered three times: its figure is what was made inside its intervals (1 + 2 +
/// 3), not what was made between them (5 each time).
#[test]
fn a_tick_entered_several_times_sums_its_intervals_only() {
    let report = run_raw(&collector(Sampling::full()), || {
        for i in 0..TICKS {
            let tick = tracing::info_span!("tick");
            for part in 1..=3 {
                {
                    let _in = tick.enter();
                    boxes(part, i);
                }
                boxes(5, i);
            }
        }
    });
    assert_every_span(report.ticks.allocations.as_ref(), 6, 6 * BOX_BYTES);
}

/// A component entered twice in its tick, the tick allocating between: the component reads
/// its two intervals (1 + 2), the tick everything (1 + 5 + 2).
#[test]
fn a_component_entered_twice_in_its_tick() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let c = tracing::info_span!("twice");
        c.in_scope(|| boxes(1, i));
        boxes(5, i);
        c.in_scope(|| boxes(2, i));
    });
    assert_every_span(component(&report, "twice"), 3, 3 * BOX_BYTES);
    assert_every_span(report.ticks.allocations.as_ref(), 8, 8 * BOX_BYTES);
}

/// A component entered again while entered (recursion): timed once, all 1 + 2 + 1 its own.
#[test]
fn a_component_entered_while_entered() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let c = tracing::info_span!("recursive");
        let _outer = c.enter();
        boxes(1, i);
        {
            let _inner = c.enter();
            boxes(2, i);
        }
        boxes(1, i);
    });
    assert_every_span(component(&report, "recursive"), 4, 4 * BOX_BYTES);
    assert_every_span(report.ticks.allocations.as_ref(), 4, 4 * BOX_BYTES);
}

/// `Span::none()` entered inside a component changes nothing: the component reads its 1 + 2.
#[test]
fn span_none_inside_a_component_changes_nothing() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let _c = tracing::info_span!("with_none").entered();
        boxes(1, i);
        let none = tracing::Span::none();
        let _n = none.enter();
        boxes(2, i);
    });
    assert_every_span(component(&report, "with_none"), 3, 3 * BOX_BYTES);
    assert_every_span(report.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
}

/// A span tickprof does not track (no parent: `parent: None`) entered inside a component: its
/// time is the component's, and so are the 2 boxes made inside it.
#[test]
fn an_untracked_span_inside_a_component_is_the_components() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let _c = tracing::info_span!("host").entered();
        boxes(1, i);
        let _u = tracing::info_span!(parent: None, "orphan").entered();
        boxes(2, i);
    });
    assert_every_span(component(&report, "host"), 3, 3 * BOX_BYTES);
    assert_every_span(report.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
}

/// A component created, entered and exited in its tick, then closed on another thread (its
/// last handle sent there and dropped; its tick, which it keeps open, closes there too). Its
/// figures are the 2 boxes it made; the components of the warm-up ticks are left out as the
/// ticks are, whichever thread closes them.
#[test]
fn a_component_closed_on_another_thread_follows_its_ticks_warmup() {
    let collector = collector(Sampling::full());
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (to_worker, worker_gets) = mpsc::sync_channel::<tracing::Span>(1);
    let (ack, acked) = mpsc::sync_channel::<()>(1);
    // The worker has the dispatcher as its default: the registry closes a parent (here the
    // tick, kept open by its child) through the default dispatcher of the thread that drops
    // the child's last handle.
    let worker = {
        let dispatch = dispatch.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for span in worker_gets {
                    drop(span);
                    ack.send(()).unwrap();
                }
            });
        })
    };
    let report = tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling("moved").unwrap();
        for i in 0..TICKS {
            let tick = tracing::info_span!("tick");
            let moved = {
                let _t = tick.enter();
                let c = tracing::info_span!("moved");
                c.in_scope(|| boxes(2, i));
                c
            };
            drop(tick);
            to_worker.send(moved).unwrap();
            acked.recv().unwrap();
        }
        collector.stop_profiling().unwrap()
    });
    drop(to_worker);
    worker.join().unwrap();
    assert_eq!(report.ticks.count, TICKS);
    assert_eq!(report.ticks.latency.samples, TICKS - WARMUP);
    assert_every_span(report.ticks.allocations.as_ref(), 2, 2 * BOX_BYTES);
    assert_eq!(samples(report.ticks.allocations.as_ref()), TICKS - WARMUP);
    assert_every_span(component(&report, "moved"), 2, 2 * BOX_BYTES);
    assert_eq!(samples(component(&report, "moved")), TICKS - WARMUP);
}

/// Warm-up ticks that close on another thread (a child's last handle dropped there) stay in
/// the list of this thread's open warm-up ticks. The registry's span ids recur when a slab
/// slot's generation wraps (every 16,384 reuses of a slot): the components of later ticks
/// that get one of those ids are then taken for warm-up components and left out. 40,000
/// ticks after the warm-up, each with a component of 1 box closed here: 40,000 samples.
#[test]
fn recycled_ids_of_warmup_ticks_closed_elsewhere_do_not_hide_components() {
    const AFTER: u64 = 40_000;
    let collector = collector(Sampling::full());
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (to_worker, worker_gets) = mpsc::sync_channel::<tracing::Span>(1);
    let (ack, acked) = mpsc::sync_channel::<()>(1);
    let worker = {
        let dispatch = dispatch.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for span in worker_gets {
                    drop(span);
                    ack.send(()).unwrap();
                }
            });
        })
    };
    let report = tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling("recycled").unwrap();
        for i in 0..WARMUP + AFTER {
            let tick = tracing::info_span!("tick");
            let _t = tick.enter();
            if i < WARMUP {
                let moved = tracing::info_span!("moved");
                moved.in_scope(|| black_box(i));
                drop(_t);
                drop(tick);
                to_worker.send(moved).unwrap();
                acked.recv().unwrap();
            } else {
                tracing::info_span!("work").in_scope(|| boxes(1, i));
            }
        }
        collector.stop_profiling().unwrap()
    });
    drop(to_worker);
    worker.join().unwrap();
    assert_eq!(report.ticks.count, WARMUP + AFTER);
    assert_eq!(samples(report.ticks.allocations.as_ref()), AFTER);
    assert_eq!(report.components["work"].count, AFTER);
    assert_every_span(component(&report, "work"), 1, BOX_BYTES);
    assert_eq!(samples(component(&report, "work")), AFTER);
}

/// A component entered with a raw `Dispatch::enter` on this thread and "exited" on another
/// thread (which never entered it): nothing panics, and the tick still reads exactly what
/// was made while it was entered (2 + 1).
#[test]
fn a_span_entered_here_and_exited_on_another_thread() {
    let report = run_raw(&collector(Sampling::full()), || {
        for i in 0..TICKS {
            let tick = tracing::info_span!("tick").entered();
            let c = tracing::info_span!("wanderer");
            let id = c.id().unwrap();
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            dispatch.enter(&id);
            boxes(2, i);
            std::thread::scope(|s| {
                s.spawn(|| {
                    // With the dispatcher as default (see the test above).
                    tracing::dispatcher::with_default(&dispatch, || {
                        dispatch.exit(&id);
                        drop(c);
                    });
                });
            });
            boxes(1, i);
            drop(tick);
        }
    });
    assert_eq!(report.ticks.count, TICKS);
    // The scoped thread's spawn and join allocate on this thread, inside the tick: count them
    // once, outside the profiler, to know the exact figure.
    let before = tickprof_alloc::thread_counts();
    std::thread::scope(|s| {
        s.spawn(|| {});
    });
    let spawn = tickprof_alloc::thread_counts().since(before);
    let ticks = report
        .ticks
        .allocations
        .as_ref()
        .unwrap_or_else(|| panic!("no tick figures: {}", report.to_json_string()));
    // The median only: the registry's stack of this thread keeps each wandering span (its
    // exit came on another thread), and grows inside a tick now and then.
    assert_eq!(
        ticks.p50,
        3 + spawn.allocations,
        "{ticks:?} spawn {spawn:?}"
    );
}

/// A component whose last handle is dropped while it is entered (a raw `Dispatch::enter`):
/// its figure ends at its close (1 box); what is made after, until its exit (2 boxes), is its
/// parent's, which it no longer is inside; the tick reads all 3.
#[test]
fn a_component_closed_while_entered() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let _parent = tracing::info_span!("holder").entered();
        let c = tracing::info_span!("closed_inside");
        let id = c.id().unwrap();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        dispatch.enter(&id);
        boxes(1, i);
        drop(c);
        boxes(2, i);
        dispatch.exit(&id);
    });
    assert_every_span(component(&report, "closed_inside"), 1, BOX_BYTES);
    assert_every_span(component(&report, "holder"), 2, 2 * BOX_BYTES);
    assert_every_span(report.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
}

/// What this thread allocates over ticks 1,000 to 8,000 of a loop whose ticks hold a
/// `holder` and, inside it, a span made by `inner` that makes 1 box: (allocations, bytes).
/// Slow ticks are off (a tick entering the top-K allocates its timeline, when its latency says).
fn steady_state_allocations(inner: impl Fn(u64)) -> (u64, u64) {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(WARMUP)
        .slowest_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("steady").unwrap();
        let mut before = None;
        for i in 0..8_000u64 {
            if i == 1_000 {
                before = Some(tickprof_alloc::thread_counts());
            }
            let _tick = tracing::info_span!("tick").entered();
            let _holder = tracing::info_span!("holder").entered();
            inner(i);
        }
        let made = tickprof_alloc::thread_counts().since(before.unwrap());
        collector.stop_profiling().unwrap();
        (made.allocations, made.bytes)
    })
}

/// In steady state a loop of ordinary components allocates only what its code does: 7,000
/// ticks, 7,000 boxes (the control of the test below).
#[test]
fn steady_state_allocates_only_the_users_boxes() {
    let made = steady_state_allocations(|i| {
        let _c = tracing::info_span!("ordinary").entered();
        boxes(1, i);
    });
    assert_eq!(made, (7_000, 7_000 * BOX_BYTES));
}

/// The same with a span closed while entered in every tick (its last handle dropped between a
/// raw enter and exit): tickprof keeps such a span on its thread's stack (`Entry::Closed`)
/// until a span is created above it, and its exit never reaches a per-layer-filtered layer, so
/// with nothing created after it the frames pile up, one per tick, until the registry's span
/// ids recycle (a slab generation wraps, ~8,192 ticks here): the stack reallocates inside the
/// spans (charged to them) up to thousands of dead frames, which every callback then scans.
#[test]
fn a_span_closed_while_entered_leaves_nothing_behind() {
    let made = steady_state_allocations(|i| {
        let c = tracing::info_span!("closed_inside");
        let id = c.id().unwrap();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        dispatch.enter(&id);
        boxes(1, i);
        drop(c);
        dispatch.exit(&id);
    });
    assert_eq!(made, (7_000, 7_000 * BOX_BYTES));
}

/// A tick span inside a tick span: each is a tick; the inner reads its 2 boxes, the outer
/// everything made while it was entered (1 + 2).
#[test]
fn a_tick_inside_a_tick() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        boxes(1, i);
        let _inner = tracing::info_span!("tick").entered();
        boxes(2, i);
    });
    let ticks = report.ticks.allocations.as_ref().unwrap();
    let (count, _) = ticks.decode_histograms("ticks.allocations").unwrap();
    assert_eq!(report.ticks.count, 2 * TICKS);
    assert_eq!(ticks.samples, 2 * TICKS - WARMUP, "{ticks:?}");
    assert_eq!(
        count.count_at(2) + count.count_at(3),
        ticks.samples,
        "{ticks:?}"
    );
    assert_eq!(count.count_at(2), count.count_at(3), "{ticks:?}");
}

/// Ticks that are futures on one thread, two tasks interleaved: each tick and its component
/// are entered at every poll, 3 times; task A makes 1 box per poll, task B 2. Nothing of one
/// task is charged to the other's spans.
#[test]
fn spans_reentered_across_awaits_on_one_thread_are_charged_only_their_polls() {
    let collector = collector(Sampling::full());
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _default = tracing::dispatcher::set_default(&dispatch);
    collector.start_profiling("awaits").unwrap();
    runtime.block_on(async {
        let task = |name: &'static str, per_poll: u64| {
            tokio::spawn(async move {
                for i in 0..TICKS {
                    async {
                        // Created at the tick's first poll, inside it.
                        let component = match name {
                            "a" => tracing::info_span!("poll_a"),
                            _ => tracing::info_span!("poll_b"),
                        };
                        async {
                            for _ in 0..3 {
                                boxes(per_poll, i);
                                tokio::task::yield_now().await;
                            }
                        }
                        .instrument(component)
                        .await;
                    }
                    .instrument(tracing::info_span!("tick"))
                    .await;
                }
            })
        };
        let (a, b) = (task("a", 1), task("b", 2));
        a.await.unwrap();
        b.await.unwrap();
    });
    let report = collector.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 2 * TICKS);
    assert_every_span(component(&report, "poll_a"), 3, 3 * BOX_BYTES);
    assert_every_span(component(&report, "poll_b"), 6, 6 * BOX_BYTES);
    let ticks = report.ticks.allocations.as_ref().unwrap();
    let (count, bytes) = ticks.decode_histograms("ticks.allocations").unwrap();
    assert_eq!(ticks.samples, 2 * TICKS - WARMUP);
    assert_eq!(
        count.count_at(3) + count.count_at(6),
        ticks.samples,
        "{ticks:?}"
    );
    assert_eq!(
        bytes.count_at(3 * BOX_BYTES) + bytes.count_at(6 * BOX_BYTES),
        ticks.samples
    );
}

// ---------------------------------------------------------------------------------------------
// What is an allocation: realloc, shrink, zero sizes, drops
// ---------------------------------------------------------------------------------------------

/// A vector of 64 bytes grown to 128, shrunk to 16, then freed: 3 allocator calls that return
/// memory (alloc, grow, shrink), 64 + 64 + 0 bytes; the free is not an allocation.
#[test]
fn growth_and_shrinks_are_counted_as_the_allocator_sees_them() {
    let report = run(&collector(Sampling::full()), TICKS, |_| {
        let _c = tracing::info_span!("resize").entered();
        let mut v: Vec<u8> = Vec::with_capacity(64);
        v.reserve_exact(128);
        v.shrink_to(16);
        black_box(&v);
        v.shrink_to(0);
        black_box(&v);
    });
    assert_every_span(component(&report, "resize"), 3, 128);
    assert_every_span(report.ticks.allocations.as_ref(), 3, 128);
}

/// Zero-sized allocations never reach the allocator: a component that makes only those reads
/// 0, and does not count as allocating.
#[test]
fn zero_sized_values_are_not_allocations() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let _c = tracing::info_span!("zero").entered();
        black_box(Box::new(()));
        black_box(Vec::<u64>::with_capacity(0));
        black_box(Vec::<()>::with_capacity(1_000 + i as usize));
        black_box(String::new());
        black_box(Vec::<u8>::new().into_boxed_slice());
        let mut v: Vec<u8> = Vec::new();
        v.shrink_to_fit();
        black_box(v);
    });
    assert_every_span(component(&report, "zero"), 0, 0);
    assert_every_span(report.ticks.allocations.as_ref(), 0, 0);
}

/// A guard whose `Drop` allocates before the span exits: the 2 boxes are the component's. A
/// value dropped after the guard allocates in the tick, not in the component.
#[test]
fn allocations_in_a_guards_drop() {
    struct AllocatingGuard(#[allow(dead_code)] tracing::span::EnteredSpan, u64);
    impl Drop for AllocatingGuard {
        fn drop(&mut self) {
            boxes(2, self.1);
        }
    }
    struct AllocOnDrop(u64);
    impl Drop for AllocOnDrop {
        fn drop(&mut self) {
            boxes(3, self.0);
        }
    }
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        {
            let _g = AllocatingGuard(tracing::info_span!("drop_inside").entered(), i);
        }
        let _after = AllocOnDrop(i);
        let _g = tracing::info_span!("drop_after").entered();
    });
    assert_every_span(component(&report, "drop_inside"), 2, 2 * BOX_BYTES);
    assert_every_span(component(&report, "drop_after"), 0, 0);
    assert_every_span(report.ticks.allocations.as_ref(), 5, 5 * BOX_BYTES);
}

/// A vector made in one component, grown in a second, freed in a third: the maker reads its
/// allocation (16 bytes), the grower its realloc (32 more), the one that frees nothing.
#[test]
fn memory_made_in_one_component_grown_in_another_freed_in_a_third() {
    let report = run(&collector(Sampling::full()), TICKS, |_| {
        let mut v: Vec<u8> =
            tracing::info_span!("make").in_scope(|| black_box(Vec::with_capacity(16)));
        tracing::info_span!("grow").in_scope(|| v.reserve_exact(48));
        tracing::info_span!("free").in_scope(|| drop(black_box(v)));
    });
    assert_every_span(component(&report, "make"), 1, 16);
    assert_every_span(component(&report, "grow"), 1, 32);
    assert_every_span(component(&report, "free"), 0, 0);
    assert_every_span(report.ticks.allocations.as_ref(), 2, 48);
}

// ---------------------------------------------------------------------------------------------
// Other layers, and tickprof's own growth after the warm-up
// ---------------------------------------------------------------------------------------------

/// The pattern of the fmt-layer tests: a parent making nothing around a child making 3 boxes.
fn parent_child(i: u64) {
    let _parent = tracing::info_span!("parent", i).entered();
    black_box(i);
    let _child = tracing::info_span!("child", i).entered();
    boxes(3, i);
}

#[track_caller]
fn assert_parent_child(report: &Report) {
    assert_every_span(component(report, "child"), 3, 3 * BOX_BYTES);
    assert_every_span(component(report, "parent"), 0, 0);
    assert_every_span(report.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
}

fn fmt_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer().with_writer(std::io::sink)
}

/// tickprof below a fmt layer (`registry().with(tickprof).with(fmt)`, the fmt layer's
/// `on_new_span` runs after tickprof's): the fmt layer's per-span allocations (its formatted
/// fields) are instrumentation, not the parent's, nor the tick's.
#[test]
fn a_fmt_layer_after_tickprof_is_not_charged_to_the_parent() {
    let collector = collector(Sampling::full());
    let subscriber = tracing_subscriber::registry()
        .with(collector.layer())
        .with(fmt_layer());
    let report = run_in(subscriber, &collector, TICKS, parent_child);
    assert_parent_child(&report);
}

/// tickprof above a fmt layer (`registry().with(fmt).with(tickprof)`).
#[test]
fn a_fmt_layer_before_tickprof_is_not_charged_to_the_parent() {
    let collector = collector(Sampling::full());
    let subscriber = tracing_subscriber::registry()
        .with(fmt_layer())
        .with(collector.layer());
    let report = run_in(subscriber, &collector, TICKS, parent_child);
    assert_parent_child(&report);
}

/// An `EnvFilter` with span directives (dynamic: it tracks the spans it matches and their
/// scope on every enter) and a fmt layer, both inside tickprof.
#[test]
fn an_env_filter_and_a_fmt_layer_before_tickprof() {
    let collector = collector(Sampling::full());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(
            "info,[parent]=trace,[child{i}]=trace",
        ))
        .with(fmt_layer())
        .with(collector.layer());
    let report = run_in(subscriber, &collector, TICKS, parent_child);
    assert_parent_child(&report);
}

/// The same `EnvFilter` and fmt layer, added after tickprof.
#[test]
fn an_env_filter_and_a_fmt_layer_after_tickprof() {
    let collector = collector(Sampling::full());
    let subscriber = tracing_subscriber::registry()
        .with(collector.layer())
        .with(tracing_subscriber::EnvFilter::new(
            "info,[parent]=trace,[child{i}]=trace",
        ))
        .with(fmt_layer());
    let report = run_in(subscriber, &collector, TICKS, parent_child);
    assert_parent_child(&report);
}

/// The fmt layer with a per-layer `EnvFilter`, after tickprof.
#[test]
fn a_filtered_fmt_layer_after_tickprof() {
    let collector = collector(Sampling::full());
    let subscriber = tracing_subscriber::registry().with(collector.layer()).with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::sink)
            .with_filter(tracing_subscriber::EnvFilter::new("trace")),
    );
    let report = run_in(subscriber, &collector, TICKS, parent_child);
    assert_parent_child(&report);
}

/// A fmt layer that writes span events (enter, exit, close) before tickprof: the events it
/// formats for a span's enter, exit and close are not the spans'.
#[test]
fn a_fmt_layer_with_span_events_is_not_charged_to_the_spans() {
    let collector = collector(Sampling::full());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::sink)
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL),
        )
        .with(collector.layer());
    let report = run_in(subscriber, &collector, TICKS, parent_child);
    assert_parent_child(&report);
}

/// Default sampling with a fmt layer: most ticks are timed without their components, which
/// tickprof refuses but the fmt layer still wants (so the registry and the fmt layer create
/// them inside the timed tick). The tick's figure is the user's 3 boxes, as under full
/// sampling.
#[test]
#[ignore = "known limit (docs/allocations.md): spans tickprof refuses in a timed tick but another layer wants are still created, and what the registry and that layer allocate for them is charged to the tick"]
fn default_sampling_with_a_fmt_layer_agrees_with_full_sampling() {
    let collector = collector(Sampling::default());
    let subscriber = tracing_subscriber::registry()
        .with(fmt_layer())
        .with(collector.layer());
    let report = run_in(subscriber, &collector, 20_000, parent_child);
    let ticks = report.ticks.allocations.as_ref().unwrap();
    assert!(ticks.samples > 0);
    assert_every_span(Some(ticks), 3, 3 * BOX_BYTES);
}

/// `depth` nested spans of one callsite (`level`), then the `leaf` that makes a box.
fn nest(depth: u32, i: u64) {
    if depth == 0 {
        let _leaf = tracing::info_span!("leaf").entered();
        boxes(1, i);
        return;
    }
    let _level = tracing::info_span!("level").entered();
    nest(depth - 1, i);
}

/// Nesting deeper after the warm-up than during it (every callsite reached in the warm-up):
/// the stacks of entered spans grow (the registry's and tickprof's own, each a realloc made
/// inside the span being entered). Only the leaf makes a box: every `level` reads 0, every
/// leaf and every tick 1.
#[test]
fn deeper_nesting_after_the_warmup_is_not_charged() {
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        nest(if i < 100 { 1 } else { 12 }, i);
    });
    let max = |stats: Option<&AllocationStats>| {
        let s = stats.unwrap();
        (s.max, s.max_bytes)
    };
    assert_eq!(
        [
            max(component(&report, "level")),
            max(component(&report, "leaf")),
            max(report.ticks.allocations.as_ref()),
        ],
        [(0, 0), (1, BOX_BYTES), (1, BOX_BYTES)],
        "(max, max_bytes) of level, leaf, tick"
    );
}

/// One new span callsite per tick after the warm-up, each inside `outer` (48 error paths
/// reached one after another): the registrations grow tickprof's callsite tables, which is
/// not `outer`'s allocation, nor the tick's. Nothing here allocates. (A single late callsite
/// shows it only when a table happens to be full: tracing registers a callsite with every
/// live dispatcher, so with this binary's tests in parallel it depends on the others.)
#[test]
#[ignore = "known limit (docs/allocations.md): a callsite first reached after the warm-up registers inside the running span (tracing-core and tickprof tables grow once)"]
fn many_callsites_first_reached_after_the_warmup_are_not_charged() {
    macro_rules! nth_path {
        ($n:expr; $($k:literal)*) => {
            match $n {
                $($k => { let _s = tracing::info_span!(concat!("path", $k)).entered(); black_box($k); })*
                _ => {}
            }
        };
    }
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        let _outer = tracing::info_span!("outer").entered();
        black_box(i);
        if i >= 100 {
            nth_path!(i - 100;
                0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
                24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47);
        }
    });
    assert_every_span(component(&report, "outer"), 0, 0);
    assert_every_span(report.ticks.allocations.as_ref(), 0, 0);
}

/// Many more spans alive at once after the warm-up than during it (the registry's slab and
/// tickprof's span table grow): from tick 150 on, 500 children kept open until the tick ends
/// (in a vector made before the run). Nothing here allocates: every figure is 0.
#[test]
fn many_live_spans_after_the_warmup_are_not_charged() {
    const KEPT: usize = 500;
    let kept = std::cell::RefCell::new(Vec::with_capacity(KEPT));
    let report = run(&collector(Sampling::full()), TICKS, |i| {
        // The callsite is reached in every tick (registered in the warm-up), 1 span early on.
        let n = if i >= 150 { KEPT } else { 1 };
        for _ in 0..n {
            let s = tracing::info_span!("kept");
            s.in_scope(|| black_box(i));
            kept.borrow_mut().push(s);
        }
        kept.borrow_mut().clear();
    });
    assert_every_span(component(&report, "kept"), 0, 0);
    assert_every_span(report.ticks.allocations.as_ref(), 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Threads, sampling, snapshots, merges
// ---------------------------------------------------------------------------------------------

/// Twelve threads in three waves of four (homes released and reused), each running
/// `WARMUP + 36` ticks with a component of 2 boxes: 12 × 36 ticks after the warm-up, every
/// one 2.
#[test]
fn thread_churn_keeps_every_figure_exact() {
    const PER_THREAD: u64 = WARMUP + 36;
    let collector = collector(Sampling::full());
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("churn").unwrap();
    for wave in 0..3u64 {
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let dispatch = dispatch.clone();
                s.spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        for i in 0..PER_THREAD {
                            let _tick = tracing::info_span!("tick").entered();
                            let _c = tracing::info_span!("work").entered();
                            boxes(2, wave * 1_000 + t * 100 + i);
                        }
                    });
                });
            }
        });
    }
    let report = collector.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 12 * PER_THREAD);
    assert_eq!(samples(report.ticks.allocations.as_ref()), 12 * 36);
    assert_every_span(report.ticks.allocations.as_ref(), 2, 2 * BOX_BYTES);
    assert_eq!(samples(component(&report, "work")), 12 * 36);
    assert_every_span(component(&report, "work"), 2, 2 * BOX_BYTES);
}

/// The same deterministic loop under full sampling, `one_in(4)` and the default budget: every
/// figure of every span measured agrees exactly (only `samples` differs).
#[test]
fn full_one_in_and_default_sampling_agree_exactly() {
    let body = |i: u64| {
        {
            let _c = tracing::info_span!("alloc").entered();
            boxes(3, i);
        }
        let _q = tracing::info_span!("quiet").entered();
        black_box(i);
    };
    for sampling in [Sampling::full(), Sampling::one_in(4), Sampling::default()] {
        let report = run(&collector(sampling), 20_000, body);
        let ticks = report.ticks.allocations.as_ref().unwrap();
        assert_eq!(ticks.samples, report.ticks.latency.samples, "{sampling:?}");
        assert_every_span(Some(ticks), 3, 3 * BOX_BYTES);
        if let Some(c) = report.components.get("alloc") {
            assert_every_span(c.allocations.as_ref(), 3, 3 * BOX_BYTES);
        }
        if let Some(c) = report.components.get("quiet") {
            assert_every_span(c.allocations.as_ref(), 0, 0);
        }
        if sampling.is_full() {
            assert_eq!(ticks.samples, 20_000 - WARMUP);
        }
    }
}

/// Snapshots (on the ticking thread, between ticks, and from another thread all the while) and
/// intervals taken during the run: each reads the exact figures; the intervals' samples add
/// up to the run's, and so do their merge's.
#[test]
fn snapshots_and_intervals_during_the_run_are_exact_and_add_up() {
    let collector = collector(Sampling::full());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let (intervals, report, snapshots) = std::thread::scope(|s| {
        let (started, started_rx) = mpsc::channel();
        let (stop, watched) = (&stop, &collector);
        let watcher = s.spawn(move || {
            started_rx.recv().unwrap();
            let mut taken = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(r) = watched.snapshot()
                    && let Some(t) = r.ticks.allocations.as_ref()
                {
                    assert_every_span(Some(t), 3, 3 * BOX_BYTES);
                    taken += 1;
                }
            }
            taken
        });
        let result = tracing::subscriber::with_default(subscriber, || {
            collector.start_profiling("snapshots").unwrap();
            started.send(()).unwrap();
            let mut intervals = Vec::new();
            for i in 0..5_000u64 {
                {
                    let _tick = tracing::info_span!("tick").entered();
                    let _c = tracing::info_span!("alloc").entered();
                    boxes(3, i);
                }
                if i % 500 == 499 {
                    let snap = collector.snapshot().unwrap();
                    assert_every_span(snap.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
                    intervals.push(collector.interval().unwrap());
                }
            }
            let report = collector.stop_profiling().unwrap();
            (intervals, report)
        });
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let snapshots = watcher.join().unwrap();
        (result.0, result.1, snapshots)
    });
    assert!(snapshots > 0);
    assert_every_span(report.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
    assert_every_span(component(&report, "alloc"), 3, 3 * BOX_BYTES);
    let whole = samples(report.ticks.allocations.as_ref());
    assert_eq!(whole, 5_000 - WARMUP);
    let mut sum = 0;
    for interval in &intervals {
        if let Some(t) = interval.ticks.allocations.as_ref() {
            assert_every_span(Some(t), 3, 3 * BOX_BYTES);
            sum += t.samples;
        }
    }
    assert_eq!(
        sum, whole,
        "the 10 intervals hold every tick after the warm-up"
    );
    let labelled: Vec<(String, &Report)> = intervals
        .iter()
        .enumerate()
        .map(|(n, r)| (format!("interval{n}"), r))
        .collect();
    let merged = merge_reports(
        labelled.iter().map(|(l, r)| (l.as_str(), *r)),
        Shards::Sequential,
    )
    .unwrap();
    assert_eq!(samples(merged.ticks.allocations.as_ref()), whole);
    assert_every_span(merged.ticks.allocations.as_ref(), 3, 3 * BOX_BYTES);
    assert_eq!(samples(component(&merged, "alloc")), {
        intervals
            .iter()
            .filter_map(|r| r.components.get("alloc")?.allocations.as_ref())
            .map(|a| a.samples)
            .sum::<u64>()
    });
}

/// Two runs of different patterns merged: 236 ticks of 1 box and 436 of 3 boxes give 672
/// samples, a mean of exactly (236 + 3 × 436) / 672, a p50 and max of 3; the component
/// present in one run only keeps its figures.
#[test]
fn two_runs_merge_to_exact_counts() {
    let one = run(&collector(Sampling::full()), 300, |i| {
        let _c = tracing::info_span!("alloc").entered();
        boxes(1, i);
    });
    let three = run(&collector(Sampling::full()), 500, |i| {
        let _c = tracing::info_span!("alloc").entered();
        boxes(3, i);
        let _only = tracing::info_span!("only_here").entered();
    });
    let merged = merge_reports([("one", &one), ("three", &three)], Shards::Sequential).unwrap();
    let t = merged.ticks.allocations.as_ref().unwrap();
    assert_eq!(t.samples, 236 + 436);
    assert_eq!(t.mean, (236.0 + 3.0 * 436.0) / 672.0, "{t:?}");
    assert_eq!((t.p50, t.max, t.share_allocating), (3, 3, 1.0), "{t:?}");
    assert_eq!(t.mean_bytes, (236.0 * 32.0 + 436.0 * 96.0) / 672.0, "{t:?}");
    let c = component(&merged, "alloc").unwrap();
    assert_eq!(c.samples, 236 + 436);
    assert_eq!(c.mean, (236.0 + 3.0 * 436.0) / 672.0, "{c:?}");
    assert_eq!(
        component(&merged, "only_here"),
        component(&three, "only_here")
    );
    // And through JSON, as `tickprof merge` reads them.
    let back = |r: &Report| Report::from_json_str(&r.to_json_string(), "r.json".as_ref()).unwrap();
    let merged_back = merge_reports(
        [("one", &back(&one)), ("three", &back(&three))],
        Shards::Parallel,
    )
    .unwrap();
    assert_eq!(merged_back.ticks.allocations, merged.ticks.allocations);
}

// ---------------------------------------------------------------------------------------------
// The CI gate
// ---------------------------------------------------------------------------------------------

/// `tickprof check` with `[ticks.allocations] max_max = 0` fails a report of an allocating
/// loop (exit 1) and passes an allocation-free one (exit 0).
#[test]
fn the_gate_fails_an_allocating_loop_and_passes_an_allocation_free_one() {
    let dir = tempfile::tempdir().unwrap();
    run(&collector(Sampling::full()), TICKS, |i| {
        let _c = tracing::info_span!("alloc").entered();
        boxes(1, i);
    })
    .save_json(dir.path().join("allocating.json"))
    .unwrap();
    run(&collector(Sampling::full()), TICKS, |i| {
        let _c = tracing::info_span!("quiet").entered();
        black_box(i);
    })
    .save_json(dir.path().join("free.json"))
    .unwrap();
    std::fs::write(
        dir.path().join("gate.toml"),
        "[ticks.allocations]\nmax_max = 0\n",
    )
    .unwrap();
    let check = |file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tickprof"))
            .current_dir(dir.path())
            .args(["check", file, "--thresholds", "gate.toml"])
            .output()
            .unwrap()
    };
    let failed = check("allocating.json");
    let text = String::from_utf8_lossy(&failed.stdout).into_owned();
    assert_eq!(failed.status.code(), Some(1), "{text}");
    assert!(text.contains("ticks.allocations.max"), "{text}");
    let passed = check("free.json");
    let text = String::from_utf8_lossy(&passed.stdout).into_owned();
    assert_eq!(
        passed.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&passed.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Slow ticks: the culprit path (`Dominant::path`) against hostile timelines
// ---------------------------------------------------------------------------------------------

fn span(name: &str, busy_ns: u64, depth: u32, parent: Option<u32>) -> TimelineSpan {
    TimelineSpan::new(name, 0, busy_ns, busy_ns, depth, parent)
}

fn slow_tick(latency_ns: u64, timeline: Vec<TimelineSpan>) -> SlowTick {
    let mut t = SlowTick::new(1, "main", latency_ns);
    t.recorded = true;
    t.timeline = timeline;
    t
}

/// Runs `test` (a test of this module, by name) in a child process under a 2 GiB address-space
/// limit; panics unless it passes within `limit`. What could loop forever or eat memory is
/// tried there, not in this process.
#[track_caller]
fn in_child(test: &str, limit: Duration) {
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152; exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "--exact",
            &test_path(module_path!(), test),
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("TICKPROF_ATTACK_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            // Seen to run there: a name that matches nothing would pass without testing.
            assert!(
                status.success()
                    && String::from_utf8_lossy(&out.stdout).contains("test result: ok. 1 passed"),
                "{test} failed in the child ({status}) after {:?}:\n{}{}",
                started.elapsed(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{test} did not finish within {limit:?} (killed)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether this process is the child of [`in_child`] (the child bodies run only there).
fn is_child() -> bool {
    std::env::var_os("TICKPROF_ATTACK_CHILD").is_some()
}

/// The child's body: a span that is its own parent.
#[test]
#[ignore = "child process body of compute_dominant_with_a_self_parent_terminates"]
fn child_self_parent() {
    if !is_child() {
        return;
    }
    let t = slow_tick(100, vec![span("loop", 100, 1, Some(0))]);
    let d = t.compute_dominant().unwrap();
    let _ = d.label(t.latency_ns);
}

/// The child's body: two spans, each the other's parent, each more than half of the other.
#[test]
#[ignore = "child process body of compute_dominant_with_a_two_cycle_terminates"]
fn child_two_cycle() {
    if !is_child() {
        return;
    }
    let t = slow_tick(
        100,
        vec![span("a", 100, 1, Some(1)), span("b", 90, 2, Some(0))],
    );
    let d = t.compute_dominant().unwrap();
    let _ = d.label(t.latency_ns);
}

/// A timeline span whose `parent` is itself: `compute_dominant` must return (it descends
/// while one child holds more than half of its parent: a span is all of itself).
#[test]
fn compute_dominant_with_a_self_parent_terminates() {
    in_child("child_self_parent", Duration::from_secs(20));
}

/// Two spans that are each other's parent.
#[test]
fn compute_dominant_with_a_two_cycle_terminates() {
    in_child("child_two_cycle", Duration::from_secs(20));
}

/// Parents that point forward (a child listed before its parent), out of range, or at a
/// span of another depth; depth 0; empty names: no panic, and a sensible answer.
#[test]
fn compute_dominant_with_odd_links_and_names() {
    // A child listed before its parent: a timeline is in order of start, and a parent starts
    // before its children, so such a link is not followed (that is what rules out cycles).
    let t = slow_tick(
        100,
        vec![span("inner", 80, 2, Some(1)), span("outer", 90, 1, None)],
    );
    let d = t.compute_dominant().unwrap();
    assert_eq!((d.name.as_str(), d.busy_ns), ("outer", 90));
    assert!(d.path.is_empty() && d.path_busy_ns.is_none(), "{d:?}");
    // Out of range, and u32::MAX.
    let t = slow_tick(
        100,
        vec![
            span("top", 90, 1, None),
            span("lost", 80, 2, Some(7)),
            span("far", 80, 2, Some(u32::MAX)),
        ],
    );
    let d = t.compute_dominant().unwrap();
    assert_eq!(d.name, "top");
    assert!(d.path.is_empty(), "{d:?}");
    // Depth that contradicts the parent link (a "depth 1" span with a parent; depth 0).
    let t = slow_tick(
        100,
        vec![
            span("top", 60, 1, None),
            span("odd", 50, 1, Some(0)),
            span("zero", 40, 0, Some(0)),
        ],
    );
    let d = t.compute_dominant().unwrap();
    let _ = d.label(t.latency_ns);
    // Empty names.
    let t = slow_tick(100, vec![span("", 90, 1, None), span("", 80, 2, Some(0))]);
    let d = t.compute_dominant().unwrap();
    assert_eq!(
        (d.name.as_str(), d.path.as_slice()),
        ("", [String::new()].as_slice())
    );
    assert_eq!(d.label(t.latency_ns), " ›  80 ns (80 %)");
    // A zero-latency tick.
    let t = slow_tick(0, vec![span("a", 0, 1, None)]);
    let d = t.compute_dominant().unwrap();
    assert_eq!(d.label(0), "a 0 ns (0 %)");
}

/// Busy times near `u64::MAX`: summing the direct children must not overflow (a panic in a
/// debug build, a wrong culprit in a release one).
#[test]
fn compute_dominant_with_busy_times_near_u64_max() {
    let t = slow_tick(
        u64::MAX,
        vec![
            span("a", u64::MAX - 1, 1, None),
            span("b", u64::MAX / 2, 1, None),
            span("c", u64::MAX, 2, Some(0)),
        ],
    );
    let d = std::panic::catch_unwind(|| t.compute_dominant())
        .expect("compute_dominant panicked")
        .unwrap();
    assert_eq!(d.name, "a");
    assert_eq!(d.path, ["c"]);
    assert!(d.share_percent <= 100.0);
    let label = d.label(t.latency_ns);
    assert!(label.starts_with("a › c "), "{label}");
}

/// The same, through the public label of a loaded report's dominant part: huge and zero values.
#[test]
fn label_of_extreme_dominants() {
    let json = r#"{"name":"x","busy_ns":18446744073709551615,"share_percent":100.0,
        "path":["","y"],"path_busy_ns":18446744073709551615}"#;
    let d: Dominant = serde_json::from_str(json).unwrap();
    assert_eq!(d.label(1), "x ›  › y 18446744073.71 s (100 %)");
    assert_eq!(d.label(0), "x ›  › y 18446744073.71 s (100 %)");
    let d: Dominant =
        serde_json::from_str(r#"{"name":"x","busy_ns":0,"share_percent":0.0}"#).unwrap();
    assert_eq!(d.label(0), "x 0 ns (0 %)");
}

/// Wall time of `compute_dominant` on `t`, best of 3.
fn time_dominant(t: &SlowTick) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            black_box(t.compute_dominant());
            started.elapsed()
        })
        .min()
        .unwrap()
}

/// Timelines of `n` spans in the shapes that cost most: all distinct direct children; one
/// chain `n` deep, each span most of its parent; one parent with `n/2` children of one name,
/// each with a child of one name.
fn hostile_timelines(n: u32) -> [(&'static str, SlowTick); 4] {
    let distinct = (0..n)
        .map(|i| span(&format!("c{i}"), 1_000 + u64::from(i), 1, None))
        .collect();
    let chain = (0..n)
        .map(|i| {
            let parent = i.checked_sub(1);
            span(
                &format!("l{i}"),
                1_000_000_000 - u64::from(i),
                i + 1,
                parent,
            )
        })
        .collect();
    let mut wide = vec![span("top", 1_000_000_000, 1, None)];
    let half = n / 2;
    wide.extend((0..half).map(|_| span("x", 1_000_000, 2, Some(0))));
    wide.extend((0..half).map(|i| span("y", 900_000, 3, Some(1 + i))));
    let mut distinct_below = vec![span("top", 1_000_000_000, 1, None)];
    distinct_below.extend((0..n).map(|i| span(&format!("d{i}"), 1_000, 2, Some(0))));
    [
        ("distinct_below", slow_tick(1_000_000_000, distinct_below)),
        ("distinct", slow_tick(2_000_000_000, distinct)),
        ("chain", slow_tick(2_000_000_000, chain)),
        ("wide", slow_tick(1_000_000_000, wide)),
    ]
}

/// What `compute_dominant` costs on 1,000 and 10,000 spans of each hostile shape (printed with
/// `--nocapture`). Not an assertion about time: a figure to read (see the report).
#[test]
#[ignore = "measurement: run with --release --ignored --nocapture"]
fn measure_compute_dominant_on_huge_timelines() {
    for n in [1_000u32, 10_000, 20_000] {
        for (shape, t) in hostile_timelines(n) {
            let d = t.compute_dominant().unwrap();
            println!(
                "{shape:>8} n={n:>6}: {:>10.3} ms (path {} deep)",
                time_dominant(&t).as_secs_f64() * 1e3,
                d.path.len()
            );
        }
    }
}

/// The answers on the hostile shapes are right, whatever they cost.
#[test]
fn compute_dominant_on_huge_timelines_answers_right() {
    let [(_, below), (_, distinct), (_, chain), (_, wide)] = hostile_timelines(2_000);
    let d = below.compute_dominant().unwrap();
    assert_eq!(d.name, "top");
    assert!(d.path.is_empty());
    let d = distinct.compute_dominant().unwrap();
    // The unattributed time (2 s minus the children's ~4 ms) is the largest part.
    assert_eq!(d.name, "(unattributed)");
    let d = chain.compute_dominant().unwrap();
    assert_eq!(d.name, "l0");
    assert_eq!(d.path.len(), 1_999);
    assert_eq!(d.path_busy_ns, Some(1_000_000_000 - 1_999));
    let d = wide.compute_dominant().unwrap();
    assert_eq!(d.path, ["x", "y"]);
    assert_eq!(d.path_busy_ns, Some(900_000 * 1_000));
}

/// A report whose slow tick has a hostile timeline (a cycle, an offset near `u64::MAX`) is
/// loaded, summarised and turned into a trace without a panic.
#[test]
fn a_loaded_report_with_a_hostile_timeline_is_summarised_and_traced() {
    let mut report = run(&collector(Sampling::full()), 100, |i| {
        let _c = tracing::info_span!("alloc").entered();
        boxes(1, i);
    });
    let slow = report.slowest_ticks.as_mut().unwrap();
    let latest = slow.ticks.iter().map(|t| t.start_unix_ns).max().unwrap();
    assert!(slow.ticks.len() > 1);
    let tick = slow.ticks.first_mut().unwrap();
    tick.start_unix_ns = latest + 1_000;
    tick.timeline = vec![
        TimelineSpan::new("cycle", u64::MAX, u64::MAX, u64::MAX, 1, Some(0)),
        TimelineSpan::new("", 0, 0, 0, 0, Some(99)),
    ];
    let json = report.to_json_string();
    let loaded = Report::from_json_str(&json, "hostile.json".as_ref()).unwrap();
    let _ = loaded.summary();
    let trace = std::panic::catch_unwind(|| loaded.chrome_trace());
    assert!(trace.is_ok(), "chrome_trace panicked");
}
