//! What tickprof measures of a span, and where each part lives:
//! - the **interval in progress** (entered on a thread, not yet exited) is a [`Frame`] on that
//!   thread's stack;
//! - the **cumulative timing** of a live span (every interval so far, and what is known of it
//!   from its creation) is one [`SpanTiming`] in its home thread's table (see `home`), from its
//!   creation to its close, whichever threads enter it.
//!
//! **Instrumentation, measured.** The recorder reads the clock where each span's
//! instrumentation begins and ends: at the filter decision that creates it (`A`), at the end of
//! its enter (`B`), at the start of its exit (`C`) and at the end of its close (`D`). The time
//! from a span's `A` to its `B` and from its `C` to its `D` (its creation, enter, exit and
//! close, in the `Registry` and in every layer) is instrumentation. Each thread keeps a
//! [`Tally`] of what it measured so far; an interval takes the difference between its enter
//! and its exit, so it knows exactly how much instrumentation fell inside it, at any depth. A
//! span's **net** time is its busy time less that, less what lies outside the clock reads, for
//! every interval and every creation inside it (`Costs::floor_ns` per interval,
//! `Costs::residue_ns` per span created: small, calibrated). Its **self** time is its net time
//! less the net times of its children that ran nested in it on its thread (children that ran
//! on other threads ran beside it, not in it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::costs::Costs;
use super::home::Home;
use super::tick_fields::TickFields;
use super::window::WindowId;
use crate::allocations::AllocCounts;

/// What a live span is to the profiler, decided once when it is created. Spans that are
/// neither (anything outside a recorded tick) are not tracked at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SpanKind {
    /// A tick the sampler chose to time (alone) or to record (with every span inside it).
    Tick(TickInfo),
    /// A span inside a recorded tick.
    Component {
        /// The interned name's slot.
        slot: u32,
        /// The span its net time is credited to (a component, or the tick).
        parent: u64,
        /// Whether that parent is the tick itself.
        direct: bool,
        /// The tick it is inside (its timeline's).
        tick: u64,
    },
}

/// What the filter decided for one tick, and what identifies it in a report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TickInfo {
    /// Recorded with every span inside it (else timed alone).
    pub(crate) recorded: bool,
    /// One of its thread's first ticks of the run: its latency goes to the warm-up figures.
    pub(crate) warmup: bool,
    /// It opens a recording window at its first enter (before any child exists).
    pub(crate) opens_window: bool,
    /// The window whose place it holds (0: none; full sampling needs none).
    pub(crate) window: WindowId,
    /// The n-th tick its thread counted in the run (1-based; 0 if unknown).
    pub(crate) ordinal: u64,
}

/// How spans created inside an entered span are classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A tick timed alone: spans created inside it are not recorded.
    TimedTick,
    /// A recorded tick: spans created inside it are its direct components.
    RecordedTick,
    /// A component: spans created inside it are components too.
    Component,
    /// A component still entered after its tick closed (a guard forgotten, a raw enter):
    /// spans created inside it are not recorded (they belong to no tick).
    Detached,
}

impl SpanKind {
    pub(crate) fn class(&self) -> Class {
        match self {
            SpanKind::Tick(TickInfo { recorded: true, .. }) => Class::RecordedTick,
            SpanKind::Tick(_) => Class::TimedTick,
            SpanKind::Component { .. } => Class::Component,
        }
    }

    /// The tick a span of this kind is (`id`) or is inside.
    pub(crate) fn tick(&self, id: u64) -> u64 {
        match self {
            SpanKind::Tick(_) => id,
            SpanKind::Component { tick, .. } => *tick,
        }
    }
}

/// Counts the recorded ticks alive in a collector: one is held by each recorded tick's
/// [`SpanTiming`], so the count falls whenever that timing goes, however it goes (closed,
/// cleared with its run, dropped with its home).
#[derive(Debug)]
pub(crate) struct LiveTick(Arc<AtomicU64>);

impl LiveTick {
    pub(crate) fn new(count: &Arc<AtomicU64>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        LiveTick(Arc::clone(count))
    }
}

impl Drop for LiveTick {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The cumulative timing of a live span, in raw clock units until it closes.
#[derive(Debug)]
pub(crate) struct SpanTiming {
    pub(crate) kind: SpanKind,
    /// For a recorded tick: its place in the collector's count of live recorded ticks.
    pub(crate) live: Option<LiveTick>,
    /// For a tick: its first fields, for the slow-tick list.
    pub(crate) fields: Option<TickFields>,
    /// Entered intervals, summed (`B` to `C`).
    pub(crate) busy_raw: u64,
    /// Its intervals.
    pub(crate) enters: u32,
    /// What its thread measured inside those intervals (the spans inside it, at any depth).
    pub(crate) inside: Tally,
    /// Intervals entered while its parent was not entered on the same thread (it ran beside
    /// its parent, not in it).
    pub(crate) beside_parent: u32,
    /// The net times of its children that ran nested in it, credited as each closes.
    pub(crate) children_net_ns: u64,
    /// What its thread allocated inside its intervals (with a `CountingAllocator`), and what
    /// its nested children did (credited as each closes).
    pub(crate) allocations: AllocCounts,
    pub(crate) children_allocations: AllocCounts,
    /// The first enter and the last exit (wall time of a span entered more than once).
    pub(crate) first_enter_raw: u64,
    pub(crate) last_exit_raw: u64,
}

impl SpanTiming {
    pub(crate) fn new(kind: SpanKind, live: Option<LiveTick>, fields: Option<TickFields>) -> Self {
        SpanTiming {
            kind,
            live,
            fields,
            busy_raw: 0,
            enters: 0,
            inside: Tally::default(),
            beside_parent: 0,
            children_net_ns: 0,
            allocations: AllocCounts::default(),
            children_allocations: AllocCounts::default(),
            first_enter_raw: 0,
            last_exit_raw: 0,
        }
    }

    /// Adds one finished interval, exited at `exited_raw` with its thread's tally at `tally`
    /// and its allocation counters at `allocated`; `nested`: it ran inside its parent's
    /// interval on this thread from enter to exit.
    pub(crate) fn add(
        &mut self,
        interval: &Interval,
        exited_raw: u64,
        tally: Tally,
        allocated: AllocCounts,
        nested: bool,
    ) {
        self.allocations = self
            .allocations
            .plus(allocated.since(interval.allocations_at_enter));
        self.children_allocations = self
            .children_allocations
            .plus(interval.children_allocations);
        if self.enters == 0 || interval.entered_raw < self.first_enter_raw {
            self.first_enter_raw = interval.entered_raw;
        }
        self.last_exit_raw = self.last_exit_raw.max(exited_raw);
        self.busy_raw = self
            .busy_raw
            .saturating_add(exited_raw.saturating_sub(interval.entered_raw));
        self.inside = self.inside.plus(tally.since(interval.tally_at_enter));
        self.enters = self.enters.saturating_add(1);
        self.beside_parent = self.beside_parent.saturating_add(u32::from(!nested));
        self.children_net_ns = self
            .children_net_ns
            .saturating_add(interval.children_net_ns);
    }

    /// What the span measured, now that it closes.
    pub(crate) fn close(self, costs: &Costs, clock: &quanta::Clock) -> Closed {
        let busy_ns = clock.delta_as_nanos(0, self.busy_raw);
        let inside = &self.inside;
        let measured_ns =
            busy_ns.saturating_sub(clock.delta_as_nanos(0, inside.instrumentation_raw));
        let (net_ns, net_clamped) = costs.net_ns(
            measured_ns,
            u64::from(self.enters).saturating_add(inside.intervals),
            inside.creations,
            inside.refusals,
        );
        // Its children's net times were measured inside it: corrections never leave it less.
        let children_exceed = self.children_net_ns > net_ns;
        let net_ns = net_ns.max(self.children_net_ns);
        let self_ns = net_ns - self.children_net_ns;

        Closed {
            kind: self.kind,
            fields: self.fields,
            entered: self.enters > 0,
            in_parent: self.beside_parent == 0,
            busy_ns,
            self_ns,
            net_ns,
            wall_ns: (self.enters > 1)
                .then(|| clock.delta_as_nanos(self.first_enter_raw, self.last_exit_raw)),
            start_raw: self.first_enter_raw,
            clamped: net_clamped || children_exceed,
            allocations: self.allocations,
            self_allocations: self.allocations.since(self.children_allocations),
        }
    }
}

/// A closed span's figures, in ns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Closed {
    pub(crate) kind: SpanKind,
    /// A tick's first fields.
    pub(crate) fields: Option<TickFields>,
    /// Whether it was ever entered (a span never entered has no time to report).
    pub(crate) entered: bool,
    /// Whether every interval of it ran nested in its parent, on the parent's thread (so its
    /// time is part of its parent's, and is credited to it).
    pub(crate) in_parent: bool,
    /// Busy time as measured (the instrumentation of the spans inside it included).
    pub(crate) busy_ns: u64,
    /// Its own time, its nested children's excluded, net of instrumentation (for a tick: its
    /// unattributed time).
    pub(crate) self_ns: u64,
    /// Its whole time net of instrumentation.
    pub(crate) net_ns: u64,
    /// First enter to last exit, for a span entered more than once.
    pub(crate) wall_ns: Option<u64>,
    /// The clock at its first enter (where it sits on its tick's timeline).
    pub(crate) start_raw: u64,
    /// Whether a correction exceeded what it measured (the figure is then 0).
    pub(crate) clamped: bool,
    /// What its thread allocated inside it, and of that what its nested children did not.
    pub(crate) allocations: AllocCounts,
    pub(crate) self_allocations: AllocCounts,
}

/// A span entered on this thread.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) id: u64,
    pub(crate) entry: Entry,
}

/// What an entered span is to this thread's stack.
#[derive(Debug)]
pub(crate) enum Entry {
    /// A span tickprof times: its interval in progress.
    Timed(Interval),
    /// A span tickprof does not track, entered inside a timed one: its time is the timed
    /// span's (its enter and exit are instrumentation, read around).
    Untracked,
    /// Entered again while already entered here (recursion): timed once.
    Reentry,
    /// Entered before this thread's part of the run began: only its exit is expected.
    EarlierRun,
    /// Closed while entered here (its last handle dropped inside it): the registry keeps it on
    /// its stack until its exit, which tickprof never hears of; meanwhile the registry, not
    /// this stack, says what the current span is.
    Closed,
}

/// The interval in progress of a timed span.
#[derive(Debug)]
pub(crate) struct Interval {
    pub(crate) class: Class,
    /// The tick the span is or is inside (for the spans created in it).
    pub(crate) tick: u64,
    /// The home of its [`SpanTiming`] when it is not this thread's.
    pub(crate) home: Option<Arc<Home>>,
    /// Whether its parent was entered on this thread when it was entered.
    pub(crate) in_parent: bool,
    pub(crate) entered_raw: u64,
    /// The thread's tally when it was entered.
    pub(crate) tally_at_enter: Tally,
    /// The net times of its children that ran nested in it and closed in it.
    pub(crate) children_net_ns: u64,
    /// Its thread's allocation counters when it was entered, and what its children that
    /// closed in it allocated.
    pub(crate) allocations_at_enter: AllocCounts,
    pub(crate) children_allocations: AllocCounts,
}

/// What a thread has measured so far, summed: an interval takes the difference between its
/// exit and its enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tally {
    /// Instrumentation measured (`A` to `B`, `C` to `D`), raw clock units.
    pub(crate) instrumentation_raw: u64,
    /// Intervals of timed spans ended (each holds one floor).
    pub(crate) intervals: u64,
    /// Tracked spans created inside a timed span (each leaves one residue).
    pub(crate) creations: u64,
    /// Span evaluations refused inside a timed span (each costs one check).
    pub(crate) refusals: u64,
}

impl Tally {
    /// What was measured between `earlier` and `self`.
    pub(crate) fn since(self, earlier: Tally) -> Tally {
        Tally {
            instrumentation_raw: self
                .instrumentation_raw
                .saturating_sub(earlier.instrumentation_raw),
            intervals: self.intervals.saturating_sub(earlier.intervals),
            creations: self.creations.saturating_sub(earlier.creations),
            refusals: self.refusals.saturating_sub(earlier.refusals),
        }
    }

    /// The sum of two tallies.
    pub(crate) fn plus(self, other: Tally) -> Tally {
        Tally {
            instrumentation_raw: self
                .instrumentation_raw
                .saturating_add(other.instrumentation_raw),
            intervals: self.intervals.saturating_add(other.intervals),
            creations: self.creations.saturating_add(other.creations),
            refusals: self.refusals.saturating_add(other.refusals),
        }
    }
}

impl Interval {
    pub(crate) fn new(class: Class, tick: u64, home: Option<Arc<Home>>, in_parent: bool) -> Self {
        Interval {
            class,
            tick,
            home,
            in_parent,
            entered_raw: 0,
            tally_at_enter: Tally::default(),
            children_net_ns: 0,
            allocations_at_enter: AllocCounts::default(),
            children_allocations: AllocCounts::default(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn component() -> SpanKind {
        SpanKind::Component {
            slot: 0,
            parent: 1,
            direct: true,
            tick: 1,
        }
    }

    fn interval(
        entered_raw: u64,
        instrumentation_raw: u64,
        allocations_at_enter: AllocCounts,
        in_parent: bool,
    ) -> Interval {
        Interval {
            entered_raw,
            tally_at_enter: tally(instrumentation_raw, 0),
            allocations_at_enter,
            ..Interval::new(Class::Component, 1, None, in_parent)
        }
    }

    fn tally(instrumentation_raw: u64, creations: u64) -> Tally {
        Tally {
            instrumentation_raw,
            intervals: creations,
            creations,
            refusals: 0,
        }
    }

    #[test]
    fn intervals_add_up_and_close_net_of_instrumentation_and_costs() {
        let clock = quanta::Clock::mock().0;
        let costs = Costs {
            floor_ns: 10,
            residue_ns: 30,
            check_ns: 0,
            span_ns: 100,
        };
        let mut timing = SpanTiming::new(component(), None, None);
        // [100, 600] with 150 of instrumentation inside and 2 children of 80 net (2 intervals,
        // 2 creations); [1000, 1100] with none.
        let mut first = interval(100, 1_000, AllocCounts::default(), true);
        first.children_net_ns = 160;
        timing.add(&first, 600, tally(1_150, 2), AllocCounts::default(), true);
        let mut second = interval(1_000, 1_150, AllocCounts::default(), true);
        second.tally_at_enter.intervals = 2;
        second.tally_at_enter.creations = 2;
        timing.add(
            &second,
            1_100,
            tally(1_150, 2),
            AllocCounts::default(),
            true,
        );
        let closed = timing.close(&costs, &clock);
        assert_eq!(closed.busy_ns, 600);
        // 600 − 150 instrumentation − 4 intervals × 10 floor − 2 creations × 30 residue.
        assert_eq!(closed.net_ns, 350);
        assert_eq!(closed.self_ns, 190);
        assert_eq!(closed.wall_ns, Some(1_000));
        assert_eq!(closed.start_raw, 100);
        assert!(closed.entered && closed.in_parent && !closed.clamped);
    }

    #[test]
    fn a_span_entered_beside_its_parent_is_not_in_it() {
        let clock = quanta::Clock::mock().0;
        let mut timing = SpanTiming::new(component(), None, None);
        timing.add(
            &interval(0, 0, AllocCounts::default(), true),
            10,
            Tally::default(),
            AllocCounts::default(),
            true,
        );
        timing.add(
            &interval(20, 0, AllocCounts::default(), false),
            30,
            Tally::default(),
            AllocCounts::default(),
            false,
        );
        assert!(!timing.close(&Costs::UNMEASURED, &clock).in_parent);
    }

    #[test]
    fn corrections_never_leave_a_parent_less_than_its_children() {
        let clock = quanta::Clock::mock().0;
        let costs = Costs {
            floor_ns: 40,
            residue_ns: 40,
            check_ns: 0,
            span_ns: 100,
        };
        // An empty parent around one child: 100 busy, the child's 90 net credited; the
        // corrections (2 intervals, 1 creation: 120) exceed what is left.
        let mut timing = SpanTiming::new(component(), None, None);
        let mut around = interval(0, 0, AllocCounts::default(), true);
        around.children_net_ns = 90;
        timing.add(&around, 100, tally(0, 1), AllocCounts::default(), true);
        let closed = timing.close(&costs, &clock);
        assert_eq!((closed.net_ns, closed.self_ns), (90, 0));
        assert!(closed.clamped, "counted as clamped");
    }

    #[test]
    fn never_entered_spans_say_so() {
        let clock = quanta::Clock::mock().0;
        let closed = SpanTiming::new(component(), None, None).close(&Costs::UNMEASURED, &clock);
        assert!(!closed.entered);
        assert_eq!((closed.net_ns, closed.wall_ns), (0, None));
    }
}
