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
//! `Costs::residue_ns` per span created: small, calibrated), computed as each interval ends.
//! An interval's net time is credited to the span it ran in: the innermost timed span entered
//! below it on its thread, whatever its declared parent. A span's **self** time is its net time
//! less what was credited to it, so self times partition a tick: a component that ran inside a
//! sibling (an explicit parent) is subtracted once, from the sibling, and one that ran on
//! another thread ran beside its parent, not in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::costs::Costs;
use super::home::Home;
use super::tick_fields::TickFields;
use super::window::WindowId;
use crate::allocations::AllocCounts;

/// What a live span is to the profiler, decided once when it is created. Other spans (inside a
/// timed tick, or outside every tick while nothing is recorded) are not tracked at all.
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
    /// A span outside every tick, created while recording (a mock exchange, a timer, the
    /// loop's own work between ticks): what the ticks leave out.
    Outside {
        /// The interned name's slot.
        slot: u32,
        /// A tick started inside it while ticks were sampled: the ticks not timed would be in
        /// its own time, so it is counted, not recorded (see
        /// `ThreadState::untime_outside_frames`).
        holds_ticks: bool,
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
    /// A span outside every tick: spans created inside it are outside too.
    Outside,
}

impl SpanKind {
    pub(crate) fn class(&self) -> Class {
        match self {
            SpanKind::Tick(TickInfo { recorded: true, .. }) => Class::RecordedTick,
            SpanKind::Tick(_) => Class::TimedTick,
            SpanKind::Component { .. } => Class::Component,
            SpanKind::Outside { .. } => Class::Outside,
        }
    }

    /// The tick a span of this kind is (`id`) or is inside (0: none).
    pub(crate) fn tick(&self, id: u64) -> u64 {
        match self {
            SpanKind::Tick(_) => id,
            SpanKind::Component { tick, .. } => *tick,
            SpanKind::Outside { .. } => 0,
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

/// The cumulative timing of a live span: the sum of its finished intervals.
#[derive(Debug)]
pub(crate) struct SpanTiming {
    pub(crate) kind: SpanKind,
    /// For a recorded tick: its place in the collector's count of live recorded ticks.
    pub(crate) live: Option<LiveTick>,
    /// For a tick: its first fields, for the slow-tick list.
    pub(crate) fields: Option<TickFields>,
    /// Entered intervals, summed (`B` to `C`), raw clock units.
    pub(crate) busy_raw: u64,
    /// Its intervals.
    pub(crate) enters: u32,
    /// Its intervals' net times, summed (each never less than its children's).
    pub(crate) net_ns: u64,
    /// The net times of the spans that ran nested in its intervals on their thread, summed.
    pub(crate) children_net_ns: u64,
    /// Whether a correction exceeded what an interval measured.
    pub(crate) clamped: bool,
    /// Intervals that ran inside no timed span of its thread (a component entered on a
    /// worker thread): their time is credited to no span.
    pub(crate) outside_any: u32,
    /// Intervals in progress on threads other than its home's: if it closes meanwhile, those
    /// threads' frames for it are dead (see `ThreadState::drop_dead_frames`).
    pub(crate) open_elsewhere: u32,
    /// What its thread allocated inside its intervals (with a `CountingAllocator`), and of
    /// that what the spans nested in it did.
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
            net_ns: 0,
            children_net_ns: 0,
            clamped: false,
            outside_any: 0,
            open_elsewhere: 0,
            allocations: AllocCounts::default(),
            children_allocations: AllocCounts::default(),
            first_enter_raw: 0,
            last_exit_raw: 0,
        }
    }

    /// Adds one finished interval (or part of one); `nested`: it ran inside a timed span of
    /// its thread, which its net time was credited to.
    pub(crate) fn add(&mut self, ended: &Ended, nested: bool) {
        if self.enters == 0 || ended.entered_raw < self.first_enter_raw {
            self.first_enter_raw = ended.entered_raw;
        }
        self.last_exit_raw = self.last_exit_raw.max(ended.exited_raw);
        self.busy_raw = self
            .busy_raw
            .saturating_add(ended.exited_raw.saturating_sub(ended.entered_raw));
        self.net_ns = self.net_ns.saturating_add(ended.net_ns);
        self.children_net_ns = self.children_net_ns.saturating_add(ended.children_net_ns);
        self.clamped |= ended.clamped;
        self.outside_any = self.outside_any.saturating_add(u32::from(!nested));
        self.allocations = self.allocations.plus(ended.allocations);
        self.children_allocations = self.children_allocations.plus(ended.children_allocations);
        self.enters = self.enters.saturating_add(u32::from(ended.entered));
    }

    /// What the span measured, now that it closes.
    pub(crate) fn close(self, clock: &quanta::Clock) -> Closed {
        Closed {
            kind: self.kind,
            fields: self.fields,
            entered: self.enters > 0,
            nested: self.outside_any == 0,
            busy_ns: clock.delta_as_nanos(0, self.busy_raw),
            // Each interval's net time is at least its children's.
            self_ns: self.net_ns.saturating_sub(self.children_net_ns),
            net_ns: self.net_ns,
            wall_ns: (self.enters > 1)
                .then(|| clock.delta_as_nanos(self.first_enter_raw, self.last_exit_raw)),
            start_raw: self.first_enter_raw,
            clamped: self.clamped,
            allocations: self.allocations,
            self_allocations: self.allocations.since(self.children_allocations),
        }
    }
}

/// One finished interval's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ended {
    pub(crate) entered_raw: u64,
    pub(crate) exited_raw: u64,
    /// It began with an enter (a part of an interval split off ends without an exit, and its
    /// continuation begins without an enter: together they are one interval).
    pub(crate) entered: bool,
    /// Its busy time less the instrumentation measured inside it and the calibrated
    /// corrections, never less than its children's net times.
    pub(crate) net_ns: u64,
    /// The net times of the spans that ran nested in it.
    pub(crate) children_net_ns: u64,
    /// Whether the corrections exceeded what it measured.
    pub(crate) clamped: bool,
    /// What its thread allocated inside it, and of that what the spans nested in it did.
    pub(crate) allocations: AllocCounts,
    pub(crate) children_allocations: AllocCounts,
}

/// A closed span's figures, in ns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Closed {
    pub(crate) kind: SpanKind,
    /// A tick's first fields.
    pub(crate) fields: Option<TickFields>,
    /// Whether it was ever entered (a span never entered has no time to report).
    pub(crate) entered: bool,
    /// Whether every interval of it ran inside a timed span of its thread (its time is
    /// credited to the span it ran in).
    pub(crate) nested: bool,
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
    /// A span outside ticks entered inside a tick: its time there is the tick's, as an
    /// untracked span's. Its timing lives in `home` (`None`: this thread's), so that a close of
    /// it on another thread while it is entered here is seen (see
    /// `ThreadState::drop_dead_frames`).
    OutsideInTick { home: Option<Arc<Home>> },
    /// Entered again while already entered here (recursion): timed once.
    Reentry,
    /// Entered before this thread's part of the run began: only its exit is expected.
    EarlierRun {
        /// It was a tick or a component then: spans created above it run inside a tick.
        in_tick: bool,
    },
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
    pub(crate) entered_raw: u64,
    /// It continues an interval split off where a span below it exited first (see
    /// `ThreadState::split_above`): it began with no enter of its own.
    pub(crate) continued: bool,
    /// The thread's tally when it was entered.
    pub(crate) tally_at_enter: Tally,
    /// The net times of the spans that ran nested in it (credited as each exits).
    pub(crate) children_net_ns: u64,
    /// Its thread's allocation counters when it was entered, and what the spans nested in it
    /// allocated.
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
}

impl Interval {
    pub(crate) fn new(class: Class, tick: u64, home: Option<Arc<Home>>) -> Self {
        Interval {
            class,
            tick,
            home,
            entered_raw: 0,
            continued: false,
            tally_at_enter: Tally::default(),
            children_net_ns: 0,
            allocations_at_enter: AllocCounts::default(),
            children_allocations: AllocCounts::default(),
        }
    }

    /// Continues this interval after a part of it ended at `raw` (see
    /// `ThreadState::split_above`), with its thread's tally and allocation counters then.
    pub(crate) fn continue_from(&mut self, raw: u64, tally: Tally, allocated: AllocCounts) {
        self.entered_raw = raw;
        self.continued = true;
        self.tally_at_enter = tally;
        self.allocations_at_enter = allocated;
        self.children_net_ns = 0;
        self.children_allocations = AllocCounts::default();
    }

    /// Whether this interval's time is credited to `enclosing`, the innermost timed span
    /// entered below it: a component's or an outside span's always; a tick's only to a span
    /// outside ticks (a tick is a unit of its own: run inside another tick's component, it is
    /// part of that component's time).
    pub(crate) fn credited_to(&self, enclosing: &Interval) -> bool {
        match self.class {
            Class::Component | Class::Detached | Class::Outside => true,
            Class::RecordedTick | Class::TimedTick => enclosing.class == Class::Outside,
        }
    }

    /// Whether the span runs inside something on its thread as a rule (a component in its
    /// tick): one that does not ran beside its parent, on another thread.
    pub(crate) fn is_component(&self) -> bool {
        matches!(self.class, Class::Component | Class::Detached)
    }

    /// Ends the interval at `exited_raw`, with its thread's tally at `tally` (its own interval
    /// not yet counted) and its allocation counters at `allocated`.
    pub(crate) fn end(
        &self,
        exited_raw: u64,
        tally: Tally,
        allocated: AllocCounts,
        costs: &Costs,
        clock: &quanta::Clock,
    ) -> Ended {
        let inside = tally.since(self.tally_at_enter);
        let busy_ns = clock.delta_as_nanos(self.entered_raw, exited_raw);
        let measured_ns =
            busy_ns.saturating_sub(clock.delta_as_nanos(0, inside.instrumentation_raw));
        // Its own floor (the tail of its enter, the head of its exit) once per enter.
        let (net_ns, clamped) = costs.net_ns(
            measured_ns,
            inside.intervals + u64::from(!self.continued),
            inside.creations,
            inside.refusals,
        );
        // Its children's net times were measured inside it: corrections never leave it less.
        let children_exceed = self.children_net_ns > net_ns;
        Ended {
            entered_raw: self.entered_raw,
            exited_raw,
            entered: !self.continued,
            net_ns: net_ns.max(self.children_net_ns),
            children_net_ns: self.children_net_ns,
            clamped: clamped || children_exceed,
            allocations: allocated.since(self.allocations_at_enter),
            children_allocations: self.children_allocations,
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

    fn interval(entered_raw: u64, at_enter: Tally) -> Interval {
        Interval {
            entered_raw,
            tally_at_enter: at_enter,
            ..Interval::new(Class::Component, 1, None)
        }
    }

    fn tally(instrumentation_raw: u64, intervals: u64, creations: u64) -> Tally {
        Tally {
            instrumentation_raw,
            intervals,
            creations,
            refusals: 0,
        }
    }

    const COSTS: Costs = Costs {
        floor_ns: 10,
        residue_ns: 30,
        check_ns: 0,
        span_ns: 100,
    };

    #[test]
    fn an_interval_is_net_of_the_instrumentation_and_corrections_inside_it() {
        let clock = quanta::Clock::mock().0;
        // [100, 600] with 150 of instrumentation inside and 2 children of 80 net (2 intervals,
        // 2 creations).
        let mut first = interval(100, tally(1_000, 0, 0));
        first.children_net_ns = 160;
        let ended = first.end(
            600,
            tally(1_150, 2, 2),
            AllocCounts::default(),
            &COSTS,
            &clock,
        );
        // 500 − 150 instrumentation − 3 intervals × 10 floor − 2 creations × 30 residue.
        assert_eq!(ended.net_ns, 260);
        assert_eq!(ended.children_net_ns, 160);
        assert!(!ended.clamped);
    }

    #[test]
    fn intervals_add_up_and_close_with_self_time_net_of_children() {
        let clock = quanta::Clock::mock().0;
        let mut timing = SpanTiming::new(component(), None, None);
        let mut first = interval(100, tally(1_000, 0, 0));
        first.children_net_ns = 160;
        let first = first.end(
            600,
            tally(1_150, 2, 2),
            AllocCounts::default(),
            &COSTS,
            &clock,
        );
        timing.add(&first, true);
        // [1000, 1100] with nothing inside.
        let second = interval(1_000, tally(1_150, 3, 2)).end(
            1_100,
            tally(1_150, 3, 2),
            AllocCounts::default(),
            &COSTS,
            &clock,
        );
        assert_eq!(second.net_ns, 90);
        timing.add(&second, true);
        let closed = timing.close(&clock);
        assert_eq!(closed.busy_ns, 600);
        assert_eq!(closed.net_ns, 350);
        assert_eq!(closed.self_ns, 190);
        assert_eq!(closed.wall_ns, Some(1_000));
        assert_eq!(closed.start_raw, 100);
        assert!(closed.entered && closed.nested && !closed.clamped);
    }

    #[test]
    fn a_span_with_an_interval_outside_every_timed_span_is_not_nested() {
        let clock = quanta::Clock::mock().0;
        let mut timing = SpanTiming::new(component(), None, None);
        for (entered, nested) in [(0, true), (20, false)] {
            let ended = interval(entered, Tally::default()).end(
                entered + 10,
                Tally::default(),
                AllocCounts::default(),
                &Costs::UNMEASURED,
                &clock,
            );
            timing.add(&ended, nested);
        }
        let closed = timing.close(&clock);
        assert!(!closed.nested);
        assert_eq!(closed.net_ns, 20);
    }

    #[test]
    fn corrections_never_leave_an_interval_less_than_its_children() {
        let clock = quanta::Clock::mock().0;
        let costs = Costs {
            floor_ns: 40,
            residue_ns: 40,
            check_ns: 0,
            span_ns: 100,
        };
        // An empty parent around one child: 100 busy, the child's 90 net credited; the
        // corrections (2 intervals, 1 creation: 120) exceed what is left.
        let mut around = interval(0, Tally::default());
        around.children_net_ns = 90;
        let ended = around.end(100, tally(0, 1, 1), AllocCounts::default(), &costs, &clock);
        let mut timing = SpanTiming::new(component(), None, None);
        timing.add(&ended, true);
        let closed = timing.close(&clock);
        assert_eq!((closed.net_ns, closed.self_ns), (90, 0));
        assert!(closed.clamped, "counted as clamped");
    }

    #[test]
    fn never_entered_spans_say_so() {
        let clock = quanta::Clock::mock().0;
        let closed = SpanTiming::new(component(), None, None).close(&clock);
        assert!(!closed.entered);
        assert_eq!((closed.net_ns, closed.wall_ns), (0, None));
    }
}
