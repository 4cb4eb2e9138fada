//! Figures under a mock clock ([`MetricsCollectorBuilder::clock`] with `quanta::Clock::mock()`):
//! time passes only where a test advances it and tickprof's own work takes none, so every
//! figure is exact on any machine, however loaded. Nestings where a span's declared parent is
//! not the span it ran in: each interval's time is credited once, to the span it ran in, so a
//! tick's self times add up to its latency.
//!
//! [`MetricsCollectorBuilder::clock`]: tickprof::MetricsCollectorBuilder::clock

use tickprof::Report;
use tracing::{Level, span};

use super::mock_clock::{advance, run, seen_and_recorded};

/// (net, self) of the single span of component `name`.
fn net_and_self(report: &Report, name: &str) -> (u64, u64) {
    let c = &report.components[name];
    assert_eq!(c.count, 1, "{name}: one span");
    let self_time = c.self_time.as_ref().expect("self time");
    (c.latency.max_ns, self_time.max_ns)
}

/// The tick's self times (its components' and its unattributed time) add up to its latency.
fn assert_partition(report: &Report) {
    let selves: u64 = report
        .components
        .values()
        .map(|c| c.self_time.as_ref().expect("self time").max_ns * c.count)
        .sum();
    assert_eq!(
        selves + report.unattributed.max_ns,
        report.ticks.latency.max_ns,
        "self times add up to the tick"
    );
}

#[test]
fn a_component_run_inside_a_sibling_is_credited_to_the_sibling_only() {
    // tick { 10 · a { 20 · b (parent: tick) { 30 } · 5 } · 7 }
    let report = run("inside_a_sibling", |mock| {
        let tick = span!(Level::INFO, "tick");
        let _tick = tick.enter();
        advance(mock, 10);
        {
            let _a = span!(Level::INFO, "a").entered();
            advance(mock, 20);
            {
                let _b = span!(parent: &tick, Level::INFO, "b").entered();
                advance(mock, 30);
            }
            advance(mock, 5);
        }
        advance(mock, 7);
    });
    assert_eq!(report.ticks.count, 1);
    assert_eq!(report.ticks.latency.max_ns, 72);
    assert_eq!(net_and_self(&report, "b"), (30, 30));
    assert_eq!(net_and_self(&report, "a"), (55, 25));
    assert_eq!(report.unattributed.max_ns, 17);
    assert_partition(&report);
    assert_eq!(report.dropped.uncredited_children, 0);
}

#[test]
fn a_component_inside_another_ticks_span_is_credited_where_it_ran() {
    // tick { a { 4 · other_tick { 6 · c (parent: a) { 8 } } · 2 } }: `c` ran inside the
    // second tick, which ran inside `a`. Each tick's breakdown adds up to it: the second tick
    // is `c` and 6 unattributed; the first is `a`, which holds the second tick whole.
    let report = run("inside_another_tick", |mock| {
        let _tick = span!(Level::INFO, "tick").entered();
        let a = span!(Level::INFO, "a");
        let _a = a.enter();
        advance(mock, 4);
        {
            let _other = span!(parent: None, Level::INFO, "tick").entered();
            advance(mock, 6);
            let _c = span!(parent: &a, Level::INFO, "c").entered();
            advance(mock, 8);
        }
        advance(mock, 2);
    });
    assert_eq!(report.ticks.count, 2);
    assert_eq!(net_and_self(&report, "c"), (8, 8));
    assert_eq!(net_and_self(&report, "a"), (20, 20));
    assert_eq!(report.ticks.latency.max_ns, 20);
    assert_eq!(report.ticks.latency.min_ns, 14);
    assert_eq!(report.unattributed.max_ns, 6);
    assert_eq!(report.unattributed.min_ns, 0);
}

#[test]
fn a_component_entered_again_while_entered_is_timed_once() {
    // tick { a { 3 · a { 4 } · 5 } }: the re-entry is one interval of 12.
    let report = run("reentered", |mock| {
        let _tick = span!(Level::INFO, "tick").entered();
        let a = span!(Level::INFO, "a");
        let _outer = a.enter();
        advance(mock, 3);
        {
            let _inner = a.enter();
            advance(mock, 4);
        }
        advance(mock, 5);
    });
    assert_eq!(net_and_self(&report, "a"), (12, 12));
    assert!(report.components["a"].wall.is_none(), "one interval");
    assert_eq!(report.unattributed.max_ns, 0);
    assert_partition(&report);
}

#[test]
fn a_component_on_another_thread_ran_beside_its_parent() {
    // tick { 10 · [worker: w (parent: tick) { 40 }] · 5 }: `w` ran beside the tick, on another
    // thread; its time is its own and the tick's unattributed time is all of its own time.
    let report = run("beside", |mock| {
        let tick = span!(Level::INFO, "tick");
        let _tick = tick.enter();
        advance(mock, 10);
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    let _w = span!(parent: &tick, Level::INFO, "w").entered();
                    advance(mock, 40);
                });
            });
        });
        advance(mock, 5);
    });
    assert_eq!(net_and_self(&report, "w"), (40, 40));
    assert_eq!(report.ticks.latency.max_ns, 55);
    assert_eq!(report.unattributed.max_ns, 55);
    assert_eq!(report.dropped.uncredited_children, 1);
}

#[test]
fn a_component_whose_parent_exited_first_is_split_where_the_parent_exited() {
    // tick { a { 2 · b (contextual: a) { 3 · [a exits] 4 } } 6 }: `b` outlives `a` on the
    // stack. Its 3 inside `a` are credited to `a`, its 4 after to the tick: each moment once.
    let report = run("parent_exited_first", |mock| {
        let _tick = span!(Level::INFO, "tick").entered();
        let a = span!(Level::INFO, "a");
        let a_guard = a.enter();
        advance(mock, 2);
        let b = span!(Level::INFO, "b");
        let b_guard = b.enter();
        advance(mock, 3);
        drop(a_guard);
        advance(mock, 4);
        drop(b_guard);
        advance(mock, 6);
    });
    assert_eq!(net_and_self(&report, "b"), (7, 7));
    assert!(report.components["b"].wall.is_none(), "still one interval");
    assert_eq!(net_and_self(&report, "a"), (5, 2));
    assert_eq!(report.ticks.latency.max_ns, 15);
    assert_eq!(report.unattributed.max_ns, 6);
    assert_partition(&report);
}

#[test]
fn an_out_of_order_exit_splits_every_interval_above_it() {
    // tick { a { 1 · b { 2 · c { 3 · [a exits] 4 } 5 } } 6 }: each span's own time is what
    // ran in it with nothing tracked above it.
    let report = run("split_above", |mock| {
        let _tick = span!(Level::INFO, "tick").entered();
        let a = span!(Level::INFO, "a");
        let a_guard = a.enter();
        advance(mock, 1);
        let b = span!(Level::INFO, "b").entered();
        advance(mock, 2);
        let c = span!(Level::INFO, "c").entered();
        advance(mock, 3);
        drop(a_guard);
        advance(mock, 4);
        drop(c);
        advance(mock, 5);
        drop(b);
        advance(mock, 6);
    });
    assert_eq!(net_and_self(&report, "c"), (7, 7));
    assert_eq!(net_and_self(&report, "b"), (14, 7));
    assert_eq!(net_and_self(&report, "a"), (6, 1));
    assert_eq!(report.ticks.latency.max_ns, 21);
    assert_eq!(report.unattributed.max_ns, 6);
    assert_partition(&report);
}

#[test]
fn spans_between_ticks_are_recorded_outside_ticks() {
    // tick { 5 } · exchange { 3 · match { 2 } } · tick { 5 }, and on another thread a timer
    // outside every tick: what the ticks leave out, each under its name.
    let report = run("between_ticks", |mock| {
        let tick = || span!(Level::INFO, "tick").in_scope(|| advance(mock, 5));
        tick();
        span!(Level::INFO, "exchange").in_scope(|| {
            advance(mock, 3);
            span!(Level::INFO, "match").in_scope(|| advance(mock, 2));
        });
        tick();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                tracing::dispatcher::with_default(&dispatch, || {
                    span!(Level::INFO, "timer").in_scope(|| advance(mock, 9));
                });
            });
        });
    });
    assert_eq!(report.ticks.count, 2);
    assert!(report.components.is_empty());
    let outside = |name: &str| {
        let c = &report.outside_ticks[name];
        assert_eq!(c.count, 1, "{name}");
        (c.latency.max_ns, c.self_time.as_ref().unwrap().max_ns)
    };
    assert_eq!(outside("exchange"), (5, 3));
    assert_eq!(outside("match"), (2, 2));
    assert_eq!(outside("timer"), (9, 9));
    assert_eq!(report.outside_ticks.len(), 3);
    assert_eq!(report.dropped.uncredited_children, 0);
}

#[test]
fn a_span_around_the_loop_holds_its_ticks_and_its_own_time_apart() {
    // run { 1 · tick { a { 4 } · 2 } · 3 · tick { a { 4 } · 2 } }: `run` is outside ticks; its
    // own time is what no tick holds (4 of 16).
    let report = run("around_the_loop", |mock| {
        let _run = span!(Level::INFO, "run").entered();
        advance(mock, 1);
        let tick = || {
            span!(Level::INFO, "tick").in_scope(|| {
                span!(Level::INFO, "a").in_scope(|| advance(mock, 4));
                advance(mock, 2);
            });
        };
        tick();
        advance(mock, 3);
        tick();
    });
    let run = &report.outside_ticks["run"];
    assert_eq!(run.latency.max_ns, 16);
    assert_eq!(run.self_time.as_ref().unwrap().max_ns, 4);
    assert_eq!(report.components["a"].count, 2);
    assert_eq!(report.unattributed.max_ns, 2);
    assert!(!report.outside_ticks.contains_key("a"));
}

#[test]
fn a_span_made_outside_ticks_and_entered_in_one_is_the_ticks_time() {
    // `send` made before the tick (ahead of its work), entered inside it: tick { 2 · send { 3 } }.
    let report = run("made_ahead", |mock| {
        let send = span!(Level::INFO, "send");
        span!(Level::INFO, "tick").in_scope(|| {
            advance(mock, 2);
            send.in_scope(|| advance(mock, 3));
        });
    });
    // Made outside ticks (seen), it ran only inside one: nothing recorded outside ticks.
    assert_eq!(seen_and_recorded(&report, "send"), (Some(1), 0));
    assert_eq!(report.outside_ticks.len(), 1, "{:?}", report.outside_ticks);
    assert_eq!(report.ticks.latency.max_ns, 5);
    assert_eq!(report.unattributed.max_ns, 5);
}
