//! Attacks on spans outside ticks between recording windows (`report.outside_ticks[name]`,
//! `seen` and `count`): callsites used both inside and outside ticks, spans moved between
//! threads, ticks started inside spans outside ticks, explicit parents, runs and collectors
//! that come and go, two collectors in one subscriber, a window's cold first ticks.
//!
//! Sampling `one_in(1_000_000_000)` with no warm-up has one window, opened by each thread's
//! first tick (none is open then), and none after: its ticks after the window are untimed, and
//! a span outside ticks is recorded at most once per a billion spans' cost (150 s with the
//! uncalibrated span cost) on each thread, the first always. With `warmup_ticks(w)` the first
//! `w` ticks are timed and the one after opens the window. On the mock clock every figure is
//! exact; on the real clock only counts are asserted.
//!
//! A test that shows a known limit is `#[ignore = "known limit: …"]`, its doc comment giving the
//! span program, what tickprof reports and what it should (docs/sampling.md says why). The
//! tests whose doc comment says "Fixed" found bugs that are fixed.

use quanta::Mock;
use tickprof::{ComponentStats, MetricsCollector, Report, Sampling};
use tracing::{Dispatch, Level, Span, span};
use tracing_subscriber::prelude::*;

use super::mock_clock::advance;

/// The gap between two spans outside ticks recorded on one thread, with one-in-a-billion
/// sampling and the uncalibrated span cost (150 ns), and a nanosecond more.
const PAST_THE_GAP_NS: u64 = 150 * 1_000_000_000 + 1;

/// A collector sampling one tick in a billion, with `warmup` timed warm-up ticks, on `clock`
/// (the real one if `None`).
fn rare(clock: Option<quanta::Clock>, warmup: u64) -> MetricsCollector {
    let builder = MetricsCollector::builder()
        .sampling(Sampling::one_in(1_000_000_000))
        .warmup_ticks(warmup)
        .slowest_ticks(8)
        .measure_overhead(false)
        .without_resource_sampling();
    match clock {
        Some(clock) => builder.clock(clock),
        None => builder,
    }
    .build()
    .unwrap()
}

/// A collector recording every tick and every span, on `clock` (the real one if `None`).
fn full(clock: Option<quanta::Clock>) -> MetricsCollector {
    let builder = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling();
    match clock {
        Some(clock) => builder.clock(clock),
        None => builder,
    }
    .build()
    .unwrap()
}

/// Runs `body` under `collector` (on a dispatcher it gets, to hand to other threads); its
/// report.
fn profile(collector: &MetricsCollector, name: &str, body: impl FnOnce(&Dispatch)) -> Report {
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling(name).unwrap();
        body(&dispatch);
        collector.stop_profiling().unwrap()
    })
}

/// Rare sampling on the real clock, no warm-up.
fn rarely(name: &str, body: impl FnOnce(&Dispatch)) -> Report {
    profile(&rare(None, 0), name, body)
}

/// Rare sampling on a mock clock with `warmup` warm-up ticks.
fn rarely_on_mock(name: &str, warmup: u64, body: impl FnOnce(&Mock)) -> Report {
    let (clock, mock) = quanta::Clock::mock();
    profile(&rare(Some(clock), warmup), name, |_| body(&mock))
}

/// `n` ticks with a component `work` in each.
fn ticks(n: u64) {
    for _ in 0..n {
        span!(Level::INFO, "tick").in_scope(|| span!(Level::INFO, "work").in_scope(|| {}));
    }
}

/// Enough ticks that the window opened by the first closed and the last ones are untimed.
const PAST_THE_WINDOW: u64 = 3_000;

/// Runs ticks until one is timed and not recorded (the one after the window: the sampler's
/// first timed tick), runs `body` inside it and returns it, alive. A tick is timed and not
/// recorded when it exists and a span inside it (`probe`) does not.
fn in_a_timed_tick(body: impl FnOnce()) -> Span {
    for _ in 0..2 * PAST_THE_WINDOW {
        let tick = span!(Level::INFO, "tick");
        if tick.is_disabled() {
            continue;
        }
        let entered = tick.enter();
        if span!(Level::INFO, "probe").is_disabled() {
            body();
            drop(entered);
            return tick;
        }
        drop(entered);
    }
    panic!("no timed tick");
}

/// `(seen, count)` of spans named `name` outside ticks (`None` if not listed).
fn outside(report: &Report, name: &str) -> Option<(Option<u64>, u64)> {
    report
        .outside_ticks
        .get(name)
        .map(|stats| (stats.seen, stats.count))
}

fn listed(report: &Report, name: &str) -> ComponentStats {
    report.outside_ticks.get(name).cloned().unwrap_or_else(|| {
        panic!(
            "{name} not listed outside ticks: {:?}",
            report.outside_ticks.keys().collect::<Vec<_>>()
        )
    })
}

/// The run opened its window (the premise of "after the window, ticks are untimed").
fn only_the_window(report: &Report) {
    let sampling = report.sampling.as_ref().expect("sampled");
    assert!(sampling.windows >= 1, "{sampling:?}");
}

// ---------------------------------------------------------------------------------------------
// Learning where a callsite runs.
// ---------------------------------------------------------------------------------------------

/// `a {} · b {} · 3,000 ticks · 10 × b {}`, all outside ticks.
///
/// `b`'s first span is created where the thread is certainly between ticks (no tick yet), so
/// `b` is known to run outside ticks, and each of its 11 spans is seen (`seen` 11). `a` took
/// the thread's recording in the gap, but a callsite's first sight is always let through (the
/// recorder, which sees an explicit parent, learns its place from it), so `b`'s first span is
/// recorded and the ten after the ticks are in the gap. (Fixed: it was `b` seen 1, count 0,
/// never learned.)
#[test]
fn a_callsite_first_seen_inside_the_gap_is_learned_all_the_same() {
    let report = rarely("learned_in_the_gap", |_| {
        let b = || span!(Level::INFO, "b").in_scope(|| {});
        span!(Level::INFO, "a").in_scope(|| {});
        b();
        ticks(PAST_THE_WINDOW);
        (0..10).for_each(|_| b());
    });
    only_the_window(&report);
    assert_eq!(outside(&report, "a"), Some((Some(1), 1)));
    assert_eq!(outside(&report, "b"), Some((Some(11), 1)));
}

/// The control of the test above: a callsite whose first span is recorded is learned, and its
/// spans after the untimed ticks are seen.
#[test]
fn a_callsite_whose_first_span_is_recorded_is_seen_after_untimed_ticks() {
    let report = rarely("learned_when_recorded", |_| {
        let b = || span!(Level::INFO, "b").in_scope(|| {});
        b();
        ticks(PAST_THE_WINDOW);
        (0..10).for_each(|_| b());
    });
    only_the_window(&report);
    assert_eq!(report.ticks.count, PAST_THE_WINDOW);
    assert_eq!(outside(&report, "b"), Some((Some(11), 1)));
    assert!(!report.outside_ticks.contains_key("work"));
    assert!(!report.outside_ticks.contains_key("tick"));
}

/// `x {} · 3,000 ticks · 10 × tick { x { 5 ns } } · (150 s) · tick { x { 5 ns } }`.
///
/// `x` runs once outside ticks (before any tick: learned as outside ticks), then only inside
/// ticks the sampler did not time (after the window). Those 11 spans ran inside ticks: `x` is
/// a span outside ticks seen once. Reported: `seen` 12, `count` 2, the second recorded
/// figure (5 ns) being a span that ran inside an untimed tick, listed as time outside ticks.
/// (A callsite that runs in rare ticks and once at start-up, a `rebalance` or a `reload`,
/// is never seen in a timed tick, so it is never learned as one inside ticks.)
#[test]
#[ignore = "known limit: a callsite seen outside ticks and then only in untimed ticks is taken for one outside ticks (docs/sampling.md)"]
fn a_callsite_known_outside_ticks_is_not_counted_inside_untimed_ticks() {
    let report = rarely_on_mock("outside_then_inside", 0, |mock| {
        let x = |ns| span!(Level::INFO, "x").in_scope(|| advance(mock, ns));
        x(0);
        ticks(PAST_THE_WINDOW);
        let tick_with_x = || span!(Level::INFO, "tick").in_scope(|| x(5));
        for _ in 0..10 {
            tick_with_x();
        }
        advance(mock, PAST_THE_GAP_NS);
        tick_with_x();
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW + 11);
    let x = listed(&report, "x");
    assert_eq!((x.seen, x.count), (Some(1), 1), "{x:?}");
    assert_eq!(x.latency.max_ns, 0, "the one outside ticks took no time");
}

/// A span of the one callsite `x` with an explicit parent `None` (a root wherever it is made).
fn root_x() {
    let parent: Option<tracing::Id> = None;
    span!(parent: parent, Level::INFO, "x").in_scope(|| {});
}

/// `x {} · window · tick (timed) { x {} } · 3,000 ticks · 5 × x {}`, every `x` a root span
/// (`parent: None`) of one callsite.
///
/// A root span created inside a tick is neither a component nor a span outside ticks (see
/// docs/sampling.md): it says nothing of where its callsite runs. The gate takes it for one
/// inside a timed tick and marks `x` as running inside ticks (final), so that `x`'s spans
/// between windows are no longer created: `x` is listed outside ticks with `seen` 1 where 6 of
/// its spans ran outside ticks. (Inside a *recorded* tick the same root span teaches nothing:
/// the recorder returns before learning.)
#[test]
#[ignore = "known limit: a filter cannot see `parent: None`, so a root span in a timed tick marks its callsite as inside ticks (docs/sampling.md)"]
fn a_root_span_inside_a_timed_tick_does_not_make_its_callsite_a_component() {
    let report = rarely("root_in_timed_tick", |_| {
        root_x();
        drop(in_a_timed_tick(root_x));
        ticks(PAST_THE_WINDOW);
        (0..5).for_each(|_| root_x());
    });
    assert!(!report.components.contains_key("x"), "never a component");
    assert_eq!(outside(&report, "x").map(|(seen, _)| seen), Some(Some(6)));
}

/// The same root span inside a *recorded* tick (the window's first): `x` stays a span outside
/// ticks and its 6 spans outside ticks are seen.
#[test]
fn a_root_span_inside_a_recorded_tick_does_not_make_its_callsite_a_component() {
    let report = rarely("root_in_recorded_tick", |_| {
        root_x();
        span!(Level::INFO, "tick").in_scope(root_x);
        ticks(PAST_THE_WINDOW);
        (0..5).for_each(|_| root_x());
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW + 1);
    assert!(!report.components.contains_key("x"));
    assert_eq!(outside(&report, "x").map(|(seen, _)| seen), Some(Some(6)));
}

/// A callsite used outside ticks first, then inside the window's recorded ticks: a component,
/// so not listed outside ticks, and the ticks' counts exact.
#[test]
fn a_callsite_used_outside_then_inside_recorded_ticks_is_a_component_only() {
    let report = rarely("outside_then_component", |_| {
        let step = || span!(Level::INFO, "step").in_scope(|| {});
        step();
        for _ in 0..PAST_THE_WINDOW {
            span!(Level::INFO, "tick").in_scope(step);
        }
        for _ in 0..4 {
            step();
        }
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW);
    assert!(report.components.contains_key("step"));
    assert!(
        !report.outside_ticks.contains_key("step"),
        "{:?}",
        report.outside_ticks
    );
}

// ---------------------------------------------------------------------------------------------
// Explicit parents.
// ---------------------------------------------------------------------------------------------

/// `window · tick (timed, exited, alive) · 3 × fill (parent: tick) {}`: the window is closed
/// and the thread's last tick decided was timed.
///
/// `fill` is a child of a tick tickprof times and does not record: it is inside that tick, not
/// outside every tick. The first `fill` is let through and found a child of the timed tick
/// (untracked), but it used the thread's recording in the gap; the next two are counted as
/// spans outside ticks before anyone looks at their parent. Reported: `fill` seen 2, count 0.
/// (Fixed: a first sight is let through to the recorder, which learns `fill` runs inside
/// ticks.)
#[test]
fn a_child_of_a_timed_tick_by_explicit_parent_is_not_outside_ticks() {
    let report = rarely("explicit_parent_timed_tick", |_| {
        let tick = in_a_timed_tick(|| {});
        for _ in 0..3 {
            span!(parent: &tick, Level::INFO, "fill").in_scope(|| {});
        }
        drop(tick);
    });
    assert_eq!(report.sampling.as_ref().unwrap().windows, 1);
    assert_eq!(outside(&report, "fill"), None, "{:?}", report.outside_ticks);
    assert!(!report.components.contains_key("fill"));
}

/// Children of a recorded tick by an explicit parent, created while the tick is not entered
/// (between its enters, after the window's first tick): components, never outside ticks.
#[test]
fn a_child_of_a_recorded_tick_by_explicit_parent_is_a_component() {
    let report = profile(&rare(None, 0), "explicit_parent_recorded_tick", |_| {
        let tick = span!(Level::INFO, "tick");
        tick.in_scope(|| {});
        for _ in 0..3 {
            span!(parent: &tick, Level::INFO, "fill").in_scope(|| {});
        }
        drop(tick);
        ticks(PAST_THE_WINDOW);
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW + 1);
    assert_eq!(report.components.get("fill").map(|c| c.count), Some(3));
    assert!(!report.outside_ticks.contains_key("fill"));
}

/// A span with an explicit parent outside ticks, created inside a recorded tick: it runs in the
/// tick, so it is no span outside ticks (and no component either: its parent is outside).
#[test]
fn a_child_of_a_span_outside_ticks_created_inside_a_tick_is_not_outside_ticks() {
    let (clock, mock) = quanta::Clock::mock();
    let report = profile(&full(Some(clock)), "explicit_parent_outside", |_| {
        let feed = span!(Level::INFO, "feed");
        feed.in_scope(|| advance(&mock, 3));
        span!(Level::INFO, "tick").in_scope(|| {
            advance(&mock, 2);
            span!(parent: &feed, Level::INFO, "fill").in_scope(|| advance(&mock, 7));
        });
        drop(feed);
    });
    assert_eq!(outside(&report, "feed"), Some((Some(1), 1)));
    assert_eq!(listed(&report, "feed").latency.max_ns, 3);
    assert_eq!(outside(&report, "fill"), None);
    assert_eq!(report.ticks.latency.max_ns, 9, "fill's time is the tick's");
}

// ---------------------------------------------------------------------------------------------
// Spans of a program under full and rare sampling: the same `seen`.
// ---------------------------------------------------------------------------------------------

/// `seen` of `name` under full sampling and under rare sampling, for the same program (no tick
/// inside a span outside ticks, every callsite first run before any tick).
fn seen_both_ways(name: &str, program: fn(&Dispatch)) -> (Option<u64>, Option<u64>) {
    let full = profile(&full(None), "full", program);
    let rare = profile(&rare(None, 0), "rare", program);
    let seen = |report: &Report| outside(report, name).and_then(|(seen, _)| seen);
    (seen(&full), seen(&rare))
}

/// `5 × feed (created, never entered) · 2 × feed {} · 3,000 ticks`.
///
/// `seen` counts the spans created outside ticks, entered or not, recorded or sampled out:
/// 7 under both samplings (it was 2 under full and 6 under rare: the one let through and
/// never entered went uncounted).
#[test]
fn spans_never_entered_are_seen_alike_under_any_sampling() {
    let (full, rare) = seen_both_ways("feed", |_| {
        for _ in 0..5 {
            drop(span!(Level::INFO, "feed"));
        }
        for _ in 0..2 {
            span!(Level::INFO, "feed").in_scope(|| {});
        }
        ticks(PAST_THE_WINDOW);
    });
    assert_eq!(full, Some(7));
    assert_eq!(rare, full);
}

/// `feed {} · feed entered and still open at the stop` (guard held).
///
/// Both were created outside ticks: `seen` 2 under both samplings (it was 1 under full: the
/// open one was counted only when sampled out).
#[test]
fn a_span_open_at_the_stop_is_seen_alike_under_any_sampling() {
    fn program(collector: &MetricsCollector, name: &str) -> Option<u64> {
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        tracing::dispatcher::with_default(&dispatch, || {
            collector.start_profiling(name).unwrap();
            span!(Level::INFO, "feed").in_scope(|| {});
            let open = span!(Level::INFO, "feed").entered();
            let report = collector.stop_profiling().unwrap();
            drop(open);
            outside(&report, "feed").and_then(|(seen, _)| seen)
        })
    }
    let full = program(&full(None), "open_at_stop_full");
    let rare = program(&rare(None, 0), "open_at_stop_rare");
    assert_eq!(full, Some(2));
    assert_eq!(rare, full);
}

/// `feed {}` on the main thread, then 3 `feed`s created on the main thread and entered on
/// another inside a recorded tick there.
///
/// All four were created outside ticks (the three ran inside a tick: their intervals are the
/// tick's time there): `seen` 4 under both samplings (it was 1 under full).
#[test]
fn spans_entered_inside_a_tick_elsewhere_are_seen_alike_under_any_sampling() {
    let (full, rare) = seen_both_ways("feed", |dispatch| {
        span!(Level::INFO, "feed").in_scope(|| {});
        let feeds: Vec<Span> = (0..3).map(|_| span!(Level::INFO, "feed")).collect();
        std::thread::scope(|s| {
            s.spawn(|| {
                tracing::dispatcher::with_default(dispatch, || {
                    span!(Level::INFO, "tick").in_scope(|| {
                        for feed in &feeds {
                            feed.in_scope(|| {});
                        }
                    });
                })
            });
        });
        drop(feeds);
    });
    assert_eq!(full, Some(4));
    assert_eq!(rare, full);
}

// ---------------------------------------------------------------------------------------------
// Spans outside ticks holding other spans.
// ---------------------------------------------------------------------------------------------

/// `exchange { 1,000 × order {} }` on a thread of its own, between windows (no tick there).
///
/// Docs: between windows a span outside ticks is recorded at most once per gap on each thread
/// (150 s here), the first always. `exchange` is that first; each `order` is its child, let
/// through with no sampling, so all 1,000 are recorded (a matching engine's thread of spans
/// inside one session span is recorded in full for the whole run, whatever the budget).
/// Reported: `order` count 1,000. Expected: `order` seen 1,000, recorded at most once.
/// (Fixed: children are sampled like any span outside ticks; one not recorded is its parent's
/// own time.)
#[test]
fn children_of_a_span_outside_ticks_are_sampled_between_windows() {
    let report = rarely("exchange_session", |dispatch| {
        ticks(PAST_THE_WINDOW);
        std::thread::scope(|s| {
            s.spawn(|| {
                tracing::dispatcher::with_default(dispatch, || {
                    span!(Level::INFO, "exchange").in_scope(|| {
                        for _ in 0..1_000 {
                            span!(Level::INFO, "order").in_scope(|| {});
                        }
                    });
                })
            });
        });
    });
    assert_eq!(report.sampling.as_ref().unwrap().windows, 1);
    assert_eq!(outside(&report, "exchange"), Some((Some(1), 1)));
    let order = listed(&report, "order");
    assert_eq!(order.seen, Some(1_000));
    assert!(order.count <= 1, "{} orders recorded", order.count);
}

/// `outer { inner { 10 ticks } · after { 4 ns } }` with sampling: the ticks untime both spans
/// around them (counted, not recorded); `after`, created in `outer` after the recorded ticks
/// while the window is still open, is recorded with its own time.
#[test]
fn nested_spans_around_sampled_ticks_are_counted_and_a_later_sibling_recorded() {
    let report = rarely_on_mock("nested_around_ticks", 0, |mock| {
        span!(Level::INFO, "outer").in_scope(|| {
            span!(Level::INFO, "inner").in_scope(|| ticks(10));
            span!(Level::INFO, "after").in_scope(|| advance(mock, 4));
        });
    });
    assert_eq!(report.ticks.count, 10);
    assert_eq!(outside(&report, "outer"), Some((Some(1), 0)));
    assert_eq!(outside(&report, "inner"), Some((Some(1), 0)));
    assert_eq!(outside(&report, "after"), Some((Some(1), 1)));
    assert_eq!(listed(&report, "after").latency.max_ns, 4);
    assert_eq!(report.dropped.missing_span_data, 0);
}

/// `feed {} · 3,000 ticks · (150 s) · let f = feed · tick {} · f { tick { signal { 5 } } }`,
/// one callsite for `tick` and one for `feed`.
///
/// `f` is recorded (the gap has passed). The untimed tick between its creation and its enter
/// arms the untimed tick's shortcut (nothing was entered), and `f`'s enter, expected since its
/// creation, does not take the shortcut back (only an enter of a span outside ticks created
/// elsewhere or earlier does, `enter_other`): the tick inside `f` is decided by the shortcut,
/// so `f` is not untimed. `signal`, inside that untimed tick, is taken for `f`'s child:
/// recorded as a span outside ticks (5 ns of a tick's time) and learned as one. Expected:
/// `signal` not listed, `f` counted and not recorded (`feed` seen 2, count 1). (Fixed: every
/// enter of a span outside ticks takes the shortcut back.)
#[test]
fn a_tick_inside_a_span_created_before_an_untimed_tick_untimes_it() {
    let report = rarely_on_mock("shortcut_inside_feed", 0, |mock| {
        let feed = || span!(Level::INFO, "feed");
        let tick = |body: &dyn Fn()| span!(Level::INFO, "tick").in_scope(body);
        feed().in_scope(|| {});
        for _ in 0..PAST_THE_WINDOW {
            tick(&|| {});
        }
        advance(mock, PAST_THE_GAP_NS);
        let f = feed();
        tick(&|| {});
        f.in_scope(|| {
            tick(&|| span!(Level::INFO, "signal").in_scope(|| advance(mock, 5)));
        });
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW + 2);
    assert_eq!(
        outside(&report, "signal"),
        None,
        "{:?}",
        report.outside_ticks
    );
    assert_eq!(outside(&report, "feed"), Some((Some(2), 1)));
}

/// The control: the same without the untimed tick between `f`'s creation and its enter: the
/// tick inside `f` takes the whole decision and untimes `f`; `signal` inside the untimed tick
/// is not created.
#[test]
fn a_tick_inside_a_span_entered_at_once_untimes_it() {
    let report = rarely_on_mock("no_shortcut_inside_feed", 0, |mock| {
        let feed = || span!(Level::INFO, "feed");
        let tick = |body: &dyn Fn()| span!(Level::INFO, "tick").in_scope(body);
        feed().in_scope(|| {});
        for _ in 0..PAST_THE_WINDOW {
            tick(&|| {});
        }
        advance(mock, PAST_THE_GAP_NS);
        feed().in_scope(|| {
            tick(&|| span!(Level::INFO, "signal").in_scope(|| advance(mock, 5)));
        });
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW + 1);
    assert_eq!(outside(&report, "signal"), None);
    assert_eq!(outside(&report, "feed"), Some((Some(2), 1)));
}

/// A snapshot sees the spans outside ticks seen so far; the final report all of them.
#[test]
fn a_snapshot_counts_the_spans_outside_ticks_seen_so_far() {
    let collector = rare(None, 0);
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (snapshot, last) = tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling("snapshot_feed").unwrap();
        let feed = || span!(Level::INFO, "feed").in_scope(|| {});
        (0..3).for_each(|_| feed());
        ticks(PAST_THE_WINDOW);
        let snapshot = collector.snapshot().unwrap();
        (0..2).for_each(|_| feed());
        (snapshot, collector.stop_profiling().unwrap())
    });
    assert_eq!(outside(&snapshot, "feed"), Some((Some(3), 1)));
    assert_eq!(outside(&last, "feed"), Some((Some(5), 1)));
}

/// `run` re-entered around sampled ticks (`run { run { tick } }` then `run { tick }`): counted
/// once, not recorded, and every enter and exit paired.
#[test]
fn a_re_entered_span_around_sampled_ticks_is_counted_once() {
    let report = rarely("reentered_around_ticks", |_| {
        let run = span!(Level::INFO, "run");
        run.in_scope(|| run.in_scope(|| ticks(5)));
        run.in_scope(|| ticks(5));
        run.in_scope(|| {});
        drop(run);
        ticks(PAST_THE_WINDOW);
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW + 10);
    assert_eq!(outside(&report, "run"), Some((Some(1), 0)));
    assert_eq!(report.dropped.missing_span_data, 0);
}

/// With full sampling, the same re-entered span is recorded net of its ticks:
/// `run { 1 · run { 2 · tick { 3 } · 4 } · 5 } · run { tick { 6 } · 7 }`: whole 1+2+3+4+5+6+7
/// = 28, own 1+2+4+5+7 = 19.
#[test]
fn a_re_entered_span_around_ticks_with_full_sampling_is_recorded_net_of_them() {
    let (clock, mock) = quanta::Clock::mock();
    let report = profile(&full(Some(clock)), "reentered_full", |_| {
        let run = span!(Level::INFO, "run");
        let tick = |ns| span!(Level::INFO, "tick").in_scope(|| advance(&mock, ns));
        run.in_scope(|| {
            advance(&mock, 1);
            run.in_scope(|| {
                advance(&mock, 2);
                tick(3);
                advance(&mock, 4);
            });
            advance(&mock, 5);
        });
        run.in_scope(|| {
            tick(6);
            advance(&mock, 7);
        });
        drop(run);
    });
    let run = listed(&report, "run");
    assert_eq!((run.seen, run.count), (Some(1), 1));
    assert_eq!(run.latency.max_ns, 28);
    assert_eq!(run.self_time.as_ref().unwrap().max_ns, 19);
    assert_eq!(report.ticks.count, 2);
}

// ---------------------------------------------------------------------------------------------
// Threads.
// ---------------------------------------------------------------------------------------------

/// `run` created on the main thread (recorded: the thread's first), entered on another that
/// starts sampled ticks inside it, exited there and closed on the main thread: counted once,
/// not recorded, nothing odd.
#[test]
fn ticks_inside_a_span_entered_away_from_its_home_untime_it() {
    let report = rarely("untimed_elsewhere", |dispatch| {
        let run = span!(Level::INFO, "run");
        std::thread::scope(|s| {
            s.spawn(|| {
                tracing::dispatcher::with_default(dispatch, || run.in_scope(|| ticks(20)));
            });
        });
        drop(run);
        ticks(PAST_THE_WINDOW);
    });
    assert_eq!(report.ticks.count, PAST_THE_WINDOW + 20);
    assert_eq!(outside(&report, "run"), Some((Some(1), 0)));
    assert_eq!(report.dropped.missing_span_data, 0);
}

/// The same with full sampling on the mock clock: `run` (created on the main thread) entered on
/// another: `{ 2 · tick { 3 } · 4 }`, closed on the main thread: whole 9, own 6.
#[test]
fn a_span_around_ticks_entered_away_from_its_home_with_full_sampling() {
    let (clock, mock) = quanta::Clock::mock();
    let report = profile(&full(Some(clock)), "full_elsewhere", |dispatch| {
        let run = span!(Level::INFO, "run");
        std::thread::scope(|s| {
            s.spawn(|| {
                tracing::dispatcher::with_default(dispatch, || {
                    run.in_scope(|| {
                        advance(&mock, 2);
                        span!(Level::INFO, "tick").in_scope(|| advance(&mock, 3));
                        advance(&mock, 4);
                    })
                });
            });
        });
        drop(run);
    });
    let run = listed(&report, "run");
    assert_eq!((run.seen, run.count), (Some(1), 1));
    assert_eq!(run.latency.max_ns, 9);
    assert_eq!(run.self_time.as_ref().unwrap().max_ns, 6);
    assert_eq!(report.ticks.latency.max_ns, 3);
}

/// A span outside ticks created on the main thread and entered on another outside every
/// tick, between windows: recorded (the main thread's first), with the time it ran there.
#[test]
fn a_span_outside_ticks_moved_to_another_thread_is_recorded_with_its_time_there() {
    let report = rarely_on_mock("moved_feed", 0, |mock| {
        let feed = span!(Level::INFO, "feed");
        std::thread::scope(|s| {
            s.spawn(|| feed.in_scope(|| advance(mock, 5)));
        });
        drop(feed);
        ticks(PAST_THE_WINDOW);
    });
    let feed = listed(&report, "feed");
    assert_eq!((feed.seen, feed.count), (Some(1), 1));
    assert_eq!(feed.latency.max_ns, 5);
}

/// Eight threads, each: `5 × feed {}`, 300 ticks, `5 × feed {}`. `feed` is known to run
/// outside ticks from its first span on every thread, so all 80 are seen; each thread records
/// its first, and more only while a window is open (another thread's first ticks).
#[test]
fn spans_outside_ticks_on_many_threads_are_all_seen() {
    const THREADS: u64 = 8;
    let report = rarely("many_threads_feed", |dispatch| {
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    tracing::dispatcher::with_default(dispatch, || {
                        let feed = || span!(Level::INFO, "feed").in_scope(|| {});
                        (0..5).for_each(|_| feed());
                        ticks(300);
                        (0..5).for_each(|_| feed());
                    })
                });
            }
        });
    });
    assert_eq!(report.ticks.count, THREADS * 300);
    let feed = listed(&report, "feed");
    assert_eq!(feed.seen, Some(THREADS * 10));
    assert!(
        (THREADS..=THREADS * 10).contains(&feed.count),
        "{}",
        feed.count
    );
    assert!(!report.outside_ticks.contains_key("work"));
    assert!(!report.outside_ticks.contains_key("tick"));
}

/// A span outside ticks entered on one thread while another runs the ticks that open and close
/// the window: `feed { 6 ns }` entered before the window, exited after it closed; recorded with
/// its own time (no tick ran inside it on its thread).
#[test]
fn a_span_outside_ticks_alive_across_a_window_is_recorded_with_its_time() {
    let (clock, mock) = quanta::Clock::mock();
    let report = profile(&rare(Some(clock), 0), "across_window", |dispatch| {
        let feed = span!(Level::INFO, "feed").entered();
        advance(&mock, 6);
        std::thread::scope(|s| {
            s.spawn(|| tracing::dispatcher::with_default(dispatch, || ticks(PAST_THE_WINDOW)));
        });
        drop(feed);
    });
    assert_eq!(report.sampling.as_ref().unwrap().windows, 1);
    let feed = listed(&report, "feed");
    assert_eq!((feed.seen, feed.count), (Some(1), 1));
    assert_eq!(feed.latency.max_ns, 6);
}

// ---------------------------------------------------------------------------------------------
// Runs and collectors that come and go.
// ---------------------------------------------------------------------------------------------

/// `session` entered in run 1 and exited in run 2, with `feed`s and ticks inside it in run 2:
/// run 2 does not list `session` (it is run 1's), and sees its three `feed`s.
#[test]
fn a_span_entered_in_an_earlier_run_is_not_listed_in_the_next() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = full(Some(clock));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (first, second) = tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling("run_1").unwrap();
        let session = span!(Level::INFO, "session").entered();
        advance(&mock, 5);
        let first = collector.stop_profiling().unwrap();
        collector.start_profiling("run_2").unwrap();
        for _ in 0..3 {
            span!(Level::INFO, "feed").in_scope(|| advance(&mock, 2));
        }
        span!(Level::INFO, "tick").in_scope(|| advance(&mock, 1));
        drop(session);
        let second = collector.stop_profiling().unwrap();
        (first, second)
    });
    // Created outside ticks in run 1 and open at its stop: seen, not recorded.
    let session = listed(&first, "session");
    assert_eq!((session.seen, session.count), (Some(1), 0));
    assert!(
        !second.outside_ticks.contains_key("session"),
        "{:?}",
        second.outside_ticks
    );
    let feed = listed(&second, "feed");
    assert_eq!((feed.seen, feed.count), (Some(3), 3));
    assert_eq!(feed.latency.max_ns, 2);
    assert_eq!(second.ticks.count, 1);
    assert_eq!(second.ticks.latency.max_ns, 1);
}

/// The same with sampling: run 2's ticks start inside run 1's `session` (not untimed: it is no
/// span of run 2); run 2 lists no `session`, and its `feed` from before its ticks.
#[test]
fn a_span_entered_in_an_earlier_run_holds_sampled_ticks_harmlessly() {
    let collector = rare(None, 0);
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (first, second) = tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling("run_1").unwrap();
        let session = span!(Level::INFO, "session").entered();
        ticks(3);
        let first = collector.stop_profiling().unwrap();
        collector.start_profiling("run_2").unwrap();
        span!(Level::INFO, "feed").in_scope(|| {});
        ticks(PAST_THE_WINDOW);
        drop(session);
        let second = collector.stop_profiling().unwrap();
        (first, second)
    });
    assert_eq!(first.ticks.count, 3);
    assert_eq!(second.ticks.count, PAST_THE_WINDOW);
    assert!(!second.outside_ticks.contains_key("session"));
    assert_eq!(outside(&second, "feed"), Some((Some(1), 1)));
    assert_eq!(second.dropped.missing_span_data, 0);
}

/// A collector dropped (its run never stopped) while a span outside ticks is entered and
/// ticks run inside it: nothing panics, and the spans go on.
#[test]
fn a_collector_dropped_while_a_span_outside_ticks_is_entered() {
    let collector = rare(None, 0);
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling("dropped").unwrap();
        span!(Level::INFO, "feed").in_scope(|| {});
        let session = span!(Level::INFO, "session").entered();
        ticks(10);
        drop(collector);
        ticks(10);
        span!(Level::INFO, "feed").in_scope(|| ticks(2));
        drop(session);
    });
}

/// Two collectors in one subscriber, one recording everything, one sampling rarely, over
/// `feed {} · 3,000 ticks · 5 × feed {}`: each sees all six `feed`s; the first records all,
/// the second its first only. Neither lists a component outside ticks.
#[test]
fn two_collectors_in_one_subscriber_count_spans_outside_ticks_alike() {
    let (every, sampled) = (full(None), rare(None, 0));
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(every.layer())
            .with(sampled.layer()),
    );
    let (all, some) = tracing::dispatcher::with_default(&dispatch, || {
        every.start_profiling("both_full").unwrap();
        sampled.start_profiling("both_rare").unwrap();
        let feed = || span!(Level::INFO, "feed").in_scope(|| {});
        feed();
        ticks(PAST_THE_WINDOW);
        (0..5).for_each(|_| feed());
        (
            every.stop_profiling().unwrap(),
            sampled.stop_profiling().unwrap(),
        )
    });
    assert_eq!(all.ticks.count, PAST_THE_WINDOW);
    assert_eq!(some.ticks.count, PAST_THE_WINDOW);
    assert_eq!(outside(&all, "feed"), Some((Some(6), 6)));
    assert_eq!(outside(&some, "feed"), Some((Some(6), 1)));
    for report in [&all, &some] {
        assert!(!report.outside_ticks.contains_key("work"));
        assert!(!report.outside_ticks.contains_key("tick"));
    }
}

/// Two collectors, one started after the other learned `feed` as outside ticks: the second
/// learns on its own (a callsite's place is each collector's), and sees every `feed` of its
/// run.
#[test]
fn a_second_collector_learns_places_on_its_own() {
    let (first, second) = (rare(None, 0), rare(None, 0));
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(first.layer())
            .with(second.layer()),
    );
    let (one, two) = tracing::dispatcher::with_default(&dispatch, || {
        first.start_profiling("first").unwrap();
        let feed = || span!(Level::INFO, "feed").in_scope(|| {});
        feed();
        ticks(PAST_THE_WINDOW);
        second.start_profiling("second").unwrap();
        feed();
        ticks(PAST_THE_WINDOW);
        (0..3).for_each(|_| feed());
        (
            first.stop_profiling().unwrap(),
            second.stop_profiling().unwrap(),
        )
    });
    assert_eq!(outside(&one, "feed"), Some((Some(5), 1)));
    assert_eq!(outside(&two, "feed"), Some((Some(4), 1)));
}

// ---------------------------------------------------------------------------------------------
// A window's cold first ticks.
// ---------------------------------------------------------------------------------------------

/// The window's ticks on the mock clock: the first four take 9,999 ns (cold, left out of the
/// slow-tick lists), the fifth 5 ns, the sixth 10,000 ns (listed: as slow as a cold tick may
/// be), then 1 ns each. The recorded slow ticks are the sixth and the fifth, never the first
/// four.
#[test]
fn a_windows_cold_first_ticks_are_left_out_of_the_slow_ticks_below_10_us() {
    let report = rarely_on_mock("cold_ticks", 0, |mock| {
        let tick = |ns| span!(Level::INFO, "tick").in_scope(|| advance(mock, ns));
        for ns in [9_999, 9_999, 9_999, 9_999, 5, 10_000] {
            tick(ns);
        }
        for _ in 0..10 {
            tick(1);
        }
    });
    let slow = report.slowest_ticks.as_ref().expect("on");
    let listed: Vec<(u64, u64)> = slow.all().map(|t| (t.ordinal, t.latency_ns)).collect();
    assert!(
        listed.iter().all(|&(ordinal, _)| ordinal > 4),
        "cold ticks listed: {listed:?}"
    );
    assert_eq!(listed.first(), Some(&(6, 10_000)), "{listed:?}");
    assert!(listed.contains(&(5, 5)), "{listed:?}");
}

/// The window opens at the first tick, a warm-up one: the two warm-up ticks are two of its four
/// cold ticks (and never listed, being warm-up), so only the third and fourth tick are left out
/// as cold; the fifth on are listed.
#[test]
fn warmup_ticks_are_among_a_windows_cold_ticks() {
    let report = rarely_on_mock("cold_after_warmup", 2, |mock| {
        let tick = |ns| span!(Level::INFO, "tick").in_scope(|| advance(mock, ns));
        for ns in [20_000, 20_000, 9_500, 9_500, 9_000, 9_000, 8_000, 7] {
            tick(ns);
        }
    });
    let slow = report.slowest_ticks.as_ref().expect("on");
    let listed: Vec<(u64, u64)> = slow.all().map(|t| (t.ordinal, t.latency_ns)).collect();
    assert_eq!(
        listed,
        [(5, 9_000), (6, 9_000), (7, 8_000), (8, 7)],
        "{slow:?}"
    );
}
