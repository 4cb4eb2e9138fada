//! One thread's state for one collector: the spans entered on it (the stack of [`Frame`]s), the
//! instrumentation measured on it so far, the filter's decision for the span about to be
//! created, the tick sampler and the tick count. Only its own thread touches it: no
//! locks. What other threads must reach (live spans' timing, records) is in its [`Home`].

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use super::between_ticks::BetweenTicks;
use super::callsites::{CallsiteCache, CallsiteInfo, Veto};
use super::costs::Costs;
use super::home::Home;
use super::sampler::TickSampler;
use super::shared::Shared;
use super::shortcut::{self, ArmedFor};
use super::sync::Ordering;
use super::timing::{Class, Closed, Ended, Entry, Frame, Interval, SpanKind, Tally, TickInfo};
use super::window::{COLD_TICKS, WindowId};
use crate::allocations::AllocCounts;

/// Spans closed while entered that a thread keeps on its stack at most (see
/// [`ThreadState::closed_while_entered`]).
const MAX_CLOSED_FRAMES: usize = 64;

/// The filter's decision for the span its thread is about to create.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    /// The callsite decided for (the decision is for that callsite only).
    pub(crate) callsite: usize,
    /// The clock when the decision began, if a timed span was running (its own time stops
    /// there once the span is created).
    pub(crate) started_raw: Option<u64>,
    /// For a tick: what to measure of it.
    pub(crate) tick: Option<TickInfo>,
    /// The thread's allocation counters when the decision began, if counted and a timed span
    /// was running: what the span's creation allocates (the registry's slab, other layers,
    /// tickprof) is instrumentation, not the running span's.
    pub(crate) allocations_at_start: Option<AllocCounts>,
    /// The span may be recorded as one outside every tick (if it is not a tick's child by an
    /// explicit parent).
    pub(crate) outside: bool,
}

/// What the previous callback on this thread expects next: a span created here is usually
/// entered at once, and its enter then needs no lookup of what its creation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Nothing,
    /// The span just created here, to be entered (what its creation left to know).
    Enter {
        id: u64,
        class: Class,
        /// The tick it is or is inside.
        tick: u64,
        /// A tick that opens a recording window at its first enter.
        opens_window: bool,
        /// The thread's allocation counters as tickprof's `on_new_span` ended (if counted and
        /// a timed span runs): what the layers after tickprof allocate for the span, and the
        /// registry's enter, are instrumentation too, settled as the span is entered.
        allocations_from: Option<AllocCounts>,
    },
}

#[derive(Debug)]
pub(crate) struct ThreadState {
    collector: u64,
    /// Lets a thread drop the state of collectors that no longer exist.
    owner: Weak<Shared>,
    /// The run this state belongs to (0: none yet).
    run: u64,
    pub(crate) home: Arc<Home>,
    pub(crate) costs: Costs,
    pub(crate) callsites: CallsiteCache,
    pub(crate) sampler: TickSampler,
    /// Whether the thread is certainly between ticks, and which spans outside ticks to record.
    pub(crate) between: BetweenTicks,
    /// Ticks this thread counted in the run: the last one's ordinal.
    ticks: u64,
    pub(crate) stack: Vec<Frame>,
    /// What this thread measured so far: every interval takes the difference between its
    /// enter and its exit.
    pub(crate) tally: Tally,
    pub(crate) expect: Expect,
    pub(crate) pending: Option<Pending>,
    /// The window of the last recorded tick closed here, and how many of its ticks closed here
    /// (see `COLD_TICKS`).
    window_closes: (WindowId, u64),
    /// Components created here since the last recorded tick closed here (what recording it
    /// cost the budget).
    pub(crate) recorded_spans: u64,
    /// The countdown lent to the untimed tick's shortcut (see `shortcut`), 0 if none.
    lent_quiet: u64,
    /// Tick decisions (with their callsites) that spans created while the ticks' fields were
    /// evaluated displaced from `pending`, innermost last: each was counted, and its creation
    /// takes it back (see `take_displaced`).
    displaced: Vec<(usize, TickInfo)>,
    /// Whether a `CountingAllocator` counts this process's allocations (read once a run).
    count_allocations: bool,
    /// Whether a span closed while entered may still be on the stack (see `Entry::Closed`).
    pub(crate) closed_on_stack: bool,
    /// What tickprof's own callbacks on this thread allocated (raw counter differences): not
    /// charged to the spans they ran inside (see `allocated`).
    own_allocations: AllocCounts,
    /// The collector's count of spans closed before any interval of theirs ended, as this
    /// thread last checked its stack against it (see `drop_dead_frames`).
    seen_closed_early: u64,
    /// This thread's kernel id, read once (see `kernel_tid`).
    tid: Option<u32>,
}

/// Displaced tick decisions kept per thread (ticks whose fields create ticks, nested).
const MAX_DISPLACED: usize = 8;

thread_local! {
    static THREADS: RefCell<Vec<ThreadState>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's state for `shared`'s collector; `None` if the thread-local is
/// gone (thread teardown) or already borrowed (a callback re-entered from inside tickprof).
#[inline]
pub(crate) fn with_thread<R>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&mut ThreadState) -> R,
) -> Option<R> {
    THREADS
        .try_with(|states| {
            let mut states = states.try_borrow_mut().ok()?;
            let index = match states.iter().position(|s| s.collector == shared.id) {
                Some(index) => index,
                None => {
                    // First use of this collector on this thread: forget dropped collectors.
                    states.retain(|state| state.owner.strong_count() > 0);
                    shortcut::forget_dropped(|id| states.iter().any(|s| s.collector == id));
                    states.push(ThreadState::new(shared));
                    states.len() - 1
                }
            };
            states.get_mut(index).map(f)
        })
        .ok()
        .flatten()
}

impl Drop for ThreadState {
    /// The thread exits (or the state is dropped with its collector's other states): the
    /// ticks it decided since its last checkpoint go to the budget, and the spans it is still
    /// inside end their intervals now.
    fn drop(&mut self) {
        if let Some(shared) = self.owner.upgrade()
            && self.run != 0
            && shared.current_run() == self.run
        {
            self.take_shortcut();
            self.sampler.flush(&shared.budget);
            let now = shared.clock.raw();
            while let Some(innermost) = self.stack.len().checked_sub(1) {
                self.end_interval(innermost, now, &shared.clock);
            }
            // Its CPU time over the run, for the resource sampler's per-thread figures.
            #[cfg(feature = "sampler")]
            if let Some(tid) = self.tid
                && let Some(cpu_ns) = crate::collector::resource_profiler::procfs::own_on_cpu_ns()
            {
                self.home.data().note_exit(tid, cpu_ns);
            }
        }
        self.home.release();
    }
}

impl ThreadState {
    fn new(shared: &Arc<Shared>) -> Self {
        ThreadState {
            collector: shared.id,
            owner: Arc::downgrade(shared),
            run: 0,
            home: shared.register_home(),
            costs: Costs::UNMEASURED,
            callsites: CallsiteCache::default(),
            sampler: TickSampler::new(0, 0),
            between: BetweenTicks::default(),
            ticks: 0,
            stack: Vec::new(),
            tally: Tally::default(),
            expect: Expect::Nothing,
            pending: None,
            recorded_spans: 0,
            window_closes: (0, 0),
            lent_quiet: 0,
            displaced: Vec::new(),
            count_allocations: false,
            own_allocations: AllocCounts::default(),
            closed_on_stack: false,
            seen_closed_early: 0,
            tid: super::kernel_tid::current(),
        }
    }

    /// Makes this state `run`'s (a no-op when it is already): spans still entered from an
    /// earlier run stay on the stack as such (their exits are expected, nothing more).
    #[inline]
    pub(crate) fn enter_run(&mut self, run: u64, shared: &Shared) {
        if self.run != run {
            self.begin_run(run, shared);
        }
        let closed_early = shared.closed_early.load(Ordering::Relaxed);
        if closed_early != self.seen_closed_early {
            self.seen_closed_early = closed_early;
            self.drop_dead_frames();
        } else if self.home.take_closed_elsewhere() {
            self.drop_dead_frames();
        }
    }

    /// Removes from the stack the timed spans that closed while entered here (on another
    /// thread, after their last handle went; the registry delivers no exit for a closed span
    /// to a filtered layer): counted as odd sequences, and no longer anyone's parent.
    #[cold]
    fn drop_dead_frames(&mut self) {
        let own = Arc::clone(&self.home);
        let alive =
            |home: Option<&Arc<Home>>, id: u64| home.unwrap_or(&own).data().spans.contains_key(&id);
        let mut dead = 0;
        let mut closed = false;
        self.stack.retain_mut(|frame| match &frame.entry {
            Entry::Timed(interval) => {
                let alive = alive(interval.home.as_ref(), frame.id);
                dead += u64::from(!alive);
                alive
            }
            // Its time here was the tick's (nothing is lost): the registry keeps it on its
            // stack, closed, until it exits here, which tickprof never hears of.
            Entry::OutsideInTick { home } => {
                if !alive(home.as_ref(), frame.id) {
                    frame.entry = Entry::Closed;
                    closed = true;
                }
                true
            }
            _ => true,
        });
        self.closed_on_stack |= closed;
        if dead > 0 {
            self.home.odd.fetch_add(dead, Ordering::Relaxed);
        }
    }

    /// A tick starts inside spans outside ticks (a span around the loop) while ticks are
    /// sampled: the ticks the sampler does not time would be in their own time, so they stop
    /// being timed. Each is marked as holding ticks (counted at its close, not recorded) and
    /// its frame only expects its exit (the untimed tick's shortcut then works inside it).
    #[cold]
    pub(crate) fn untime_outside_frames(&mut self) {
        let own = Arc::clone(&self.home);
        for frame in &mut self.stack {
            let Entry::Timed(interval) = &frame.entry else {
                continue;
            };
            if interval.class != Class::Outside {
                continue;
            }
            let elsewhere = interval.home.is_some();
            if let Some(timing) = interval
                .home
                .as_ref()
                .unwrap_or(&own)
                .data()
                .spans
                .get_mut(&frame.id)
            {
                if let SpanKind::Outside { holds_ticks, .. } = &mut timing.kind {
                    *holds_ticks = true;
                }
                if elsewhere {
                    timing.open_elsewhere = timing.open_elsewhere.saturating_sub(1);
                }
            }
            frame.entry = Entry::EarlierRun { in_tick: false };
        }
    }

    /// Tick `tick` closes while spans inside it are still entered here (possible only with a
    /// raw `Dispatch::enter`: a live child keeps its parent open): they are detached (see
    /// `Class::Detached`).
    pub(crate) fn detach_from(&mut self, tick: u64) {
        for frame in &mut self.stack {
            if let Entry::Timed(interval) = &mut frame.entry
                && interval.tick == tick
                && interval.class == Class::Component
            {
                interval.class = Class::Detached;
            }
        }
    }

    /// Where the interval of the frame at `index` is credited: the innermost timed span
    /// entered below it here, if its time is credited to such a span (see
    /// `Interval::credited_to`).
    fn enclosing(&self, index: usize, interval: &Interval) -> Option<usize> {
        let below = self.stack.get(..index)?;
        let outer = below
            .iter()
            .rposition(|frame| matches!(frame.entry, Entry::Timed(_)))?;
        match below.get(outer).map(|frame| &frame.entry) {
            Some(Entry::Timed(enclosing)) if interval.credited_to(enclosing) => Some(outer),
            _ => None,
        }
    }

    /// Adds an interval (or part of one) of span `id` to its timing in `home` and credits
    /// its net time to the frame at `enclosing`; whether the timing was found.
    fn settle(
        &mut self,
        home: Option<&Home>,
        id: u64,
        ended: &Ended,
        enclosing: Option<usize>,
        component: bool,
        last_part: bool,
    ) -> bool {
        // A component inside nothing timed here, or only in a span outside ticks, ran beside
        // its tick (on another thread, or after it): its time is in no tick's breakdown.
        let nested = !component
            || matches!(
                enclosing.and_then(|below| self.stack.get(below)),
                Some(Frame { entry: Entry::Timed(outer), .. }) if outer.class != Class::Outside
            );
        let added = home
            .unwrap_or(&self.home)
            .data()
            .spans
            .get_mut(&id)
            .map(|timing| {
                timing.add(ended, nested);
                if last_part && home.is_some() {
                    timing.open_elsewhere = timing.open_elsewhere.saturating_sub(1);
                }
            })
            .is_some();
        if added
            && let Some(Frame {
                entry: Entry::Timed(outer),
                ..
            }) = enclosing.and_then(|below| self.stack.get_mut(below))
        {
            outer.children_net_ns = outer.children_net_ns.saturating_add(ended.net_ns);
            outer.children_allocations = outer.children_allocations.plus(ended.allocations);
        }
        added
    }

    /// Ends the interval of the frame at `position` at `exited_raw`, adding it to the span's
    /// timing wherever that lives; whether the frame was a timed span's. Its net time is
    /// credited to the span it ran in (see `enclosing`), whatever its declared parent: a
    /// sibling it ran inside, or a span between, already holds it.
    pub(crate) fn end_interval(
        &mut self,
        position: usize,
        exited_raw: u64,
        clock: &quanta::Clock,
    ) -> bool {
        if position + 1 < self.stack.len() {
            self.split_above(position, exited_raw, clock);
        }
        let frame = self.stack.remove(position);
        let Entry::Timed(interval) = frame.entry else {
            return false;
        };
        let ended = interval.end(exited_raw, self.tally, self.allocated(), &self.costs, clock);
        self.tally.intervals += 1;
        let enclosing = self.enclosing(position, &interval);
        let home = interval.home.as_deref();
        if !self.settle(
            home,
            frame.id,
            &ended,
            enclosing,
            interval.is_component(),
            true,
        ) {
            self.count_odd();
        }
        true
    }

    /// The frame at `position` exits while spans are still entered above it (exits out of
    /// order): every interval above it is split here, innermost first. The part before ends
    /// now and is credited to the span it ran in (the exiting one, for the lowest); the rest
    /// continues above whatever is below it then. Each moment of the thread is credited once,
    /// to the span it ran in.
    #[cold]
    fn split_above(&mut self, position: usize, exited_raw: u64, clock: &quanta::Clock) {
        let allocated = self.allocated();
        for index in (position + 1..self.stack.len()).rev() {
            let Some(Frame {
                id,
                entry: Entry::Timed(inner),
            }) = self.stack.get(index)
            else {
                continue;
            };
            let id = *id;
            let part = inner.end(exited_raw, self.tally, allocated, &self.costs, clock);
            let enclosing = self.enclosing(index, inner);
            let (component, home) = (inner.is_component(), inner.home.clone());
            if let Some(Frame {
                entry: Entry::Timed(inner),
                ..
            }) = self.stack.get_mut(index)
            {
                inner.continue_from(exited_raw, self.tally, allocated);
            }
            if !self.settle(home.as_deref(), id, &part, enclosing, component, false) {
                self.count_odd();
            }
        }
    }

    #[cold]
    fn begin_run(&mut self, run: u64, shared: &Shared) {
        self.run = run;
        for frame in &mut self.stack {
            let in_tick = match &frame.entry {
                Entry::Timed(interval) => interval.class != Class::Outside,
                Entry::EarlierRun { in_tick } => *in_tick,
                _ => false,
            };
            frame.entry = Entry::EarlierRun { in_tick };
        }
        self.expect = Expect::Nothing;
        self.pending = None;
        self.displaced.clear();
        self.count_allocations = crate::allocations::installed();
        self.seen_closed_early = shared.closed_early.load(Ordering::Relaxed);
        self.costs = shared.costs();
        let seed = (std::ptr::from_ref(self) as u64) ^ shared.clock.raw() ^ run.rotate_left(32);
        let warmup_ticks = shared.budget.warmup_ticks();
        self.sampler = TickSampler::new(seed, warmup_ticks);
        self.between = BetweenTicks::default();
        self.ticks = 0;
        self.recorded_spans = 0;
        self.window_closes = (0, 0);
        self.home.begin_run(
            run,
            shared.slowest_ticks,
            warmup_ticks,
            !shared.budget.is_full(),
            self.tid,
        );
    }

    /// A decision the gate made that no span creation took yet: another layer disabled the
    /// span after tickprof's filter let it through, or a span created while the tick's fields
    /// were evaluated came first. A window place it claimed is given back (a filter decision
    /// cannot close the window), and the tick, counted, waits in `displaced` as a timed tick.
    #[inline]
    pub(crate) fn discard_stale_pending(&mut self, shared: &Shared) {
        let Some(Pending {
            callsite,
            tick: Some(mut tick),
            ..
        }) = self.pending.take()
        else {
            return;
        };
        if tick.window != 0 || tick.opens_window {
            shared.window.give_back(tick.window);
            tick.recorded = false;
            tick.window = 0;
            tick.opens_window = false;
        }
        if self.displaced.len() == MAX_DISPLACED {
            // Decisions no span creation ever took (another layer disabled those spans).
            self.displaced.remove(0);
        }
        self.displaced.push((callsite, tick));
    }

    /// The displaced decision of a tick of callsite `key` being created now, if any.
    pub(crate) fn take_displaced(&mut self, key: usize) -> Option<TickInfo> {
        let position = self
            .displaced
            .iter()
            .rposition(|(callsite, _)| *callsite == key)?;
        Some(self.displaced.remove(position).1)
    }

    /// Takes back this collector's shortcut: what is left of the sampler's countdown, and
    /// the ticks it decided (the thread's ordinals, the sampler's skipped ticks).
    #[inline]
    pub(crate) fn take_shortcut(&mut self) {
        let lent = std::mem::take(&mut self.lent_quiet);
        if let Some((run, quiet)) = shortcut::take(self.collector)
            && run == self.run
        {
            let decided = lent.saturating_sub(quiet);
            self.ticks += decided;
            self.sampler.take_back(quiet, decided);
        }
    }

    /// Arms the shortcut for tick callsite `key` (the thread has nothing entered and nothing
    /// pending), lending it the sampler's countdown.
    #[inline]
    pub(crate) fn arm_shortcut(&mut self, key: usize, generation: u64, veto: Veto) {
        if !self.nothing_timed() || self.pending.is_some() {
            return;
        }
        let quiet = self.sampler.lend_quiet();
        if quiet == 0 {
            return;
        }
        let armed_for = ArmedFor {
            collector: self.collector,
            key,
            generation,
        };
        let ticks = self.home.tick_counter();
        if shortcut::arm(armed_for, self.run, quiet, veto, ticks) {
            self.lent_quiet = quiet;
        } else {
            self.sampler.take_back(quiet, 0);
        }
    }

    /// The callsite's entry (`None` if it never registered with this collector).
    #[inline]
    pub(crate) fn callsite(&mut self, shared: &Shared, key: usize) -> Option<CallsiteInfo> {
        self.callsites.get(&shared.callsites, key)
    }

    /// A recorded tick of `window` closes here: whether it is one of the window's first
    /// [`COLD_TICKS`] on this thread.
    pub(crate) fn cold_in_window(&mut self, window: WindowId) -> bool {
        if self.window_closes.0 != window {
            self.window_closes = (window, 0);
        }
        self.window_closes.1 += 1;
        self.window_closes.1 <= COLD_TICKS
    }

    /// Counts one tick; returns its ordinal (the n-th tick this thread counted in the run).
    #[inline]
    pub(crate) fn count_tick(&mut self) -> u64 {
        self.ticks += 1;
        self.home.count_tick();
        self.ticks
    }

    /// The parent a contextual span created now has, as the registry sees it: the innermost
    /// span entered here, re-entries skipped; with its class if tickprof times it. Above a
    /// span that closed while entered, `registry_current` (the registry's current span) says.
    #[inline]
    pub(crate) fn contextual_parent(
        &mut self,
        registry_current: impl FnOnce() -> Option<u64>,
    ) -> Option<(u64, Option<(Class, u64)>)> {
        for frame in self.stack.iter().rev() {
            match &frame.entry {
                Entry::Timed(interval) => {
                    return Some((frame.id, Some((interval.class, interval.tick))));
                }
                Entry::Untracked | Entry::OutsideInTick { .. } | Entry::EarlierRun { .. } => {
                    return Some((frame.id, None));
                }
                Entry::Reentry => {}
                Entry::Closed => return self.parent_after_closed(registry_current()),
            }
        }
        None
    }

    /// Drops the closed spans the registry has exited since (their exits never reach a filtered
    /// layer): those above `current`, the registry's current span. Called as spans are created.
    /// With no current span nothing can be said (the registry reads none both when nothing is
    /// entered and when a closed span tops its stack): [`MAX_CLOSED_FRAMES`] bounds them then.
    #[cold]
    pub(crate) fn drop_exited_closed(&mut self, current: Option<u64>) {
        if let Some(position) = current.and_then(|id| self.position(id)) {
            let mut index = 0;
            self.stack.retain(|frame| {
                index += 1;
                index <= position + 1 || !matches!(frame.entry, Entry::Closed)
            });
        }
        self.closed_on_stack = self
            .stack
            .iter()
            .any(|frame| matches!(frame.entry, Entry::Closed));
    }

    /// A span closed while entered here stays on the stack as closed until the registry is
    /// seen to have exited it; beyond [`MAX_CLOSED_FRAMES`] of them the oldest go (a loop that
    /// closes a span inside itself every tick must not make every callback scan thousands).
    #[cold]
    pub(crate) fn closed_while_entered(&mut self, position: usize, id: u64) {
        self.stack.insert(
            position,
            Frame {
                id,
                entry: Entry::Closed,
            },
        );
        self.closed_on_stack = true;
        let closed = self
            .stack
            .iter()
            .filter(|frame| matches!(frame.entry, Entry::Closed))
            .count();
        if closed > MAX_CLOSED_FRAMES
            && let Some(oldest) = self
                .stack
                .iter()
                .position(|frame| matches!(frame.entry, Entry::Closed))
        {
            self.stack.remove(oldest);
        }
    }

    /// The contextual parent when a closed span tops this stack: `current`, the registry's
    /// current span. Once that is a span below the closed one, the registry has exited the
    /// closed spans above it, and they leave this stack too.
    #[cold]
    fn parent_after_closed(&mut self, current: Option<u64>) -> Option<(u64, Option<(Class, u64)>)> {
        let current = current?;
        let Some(position) = self.position(current) else {
            return Some((current, None));
        };
        let mut index = 0;
        self.stack.retain(|frame| {
            index += 1;
            index <= position + 1 || !matches!(frame.entry, Entry::Closed)
        });
        // Its timed frame, below its re-entries (the registry's current span skips them too).
        let inside = self
            .stack
            .iter()
            .rev()
            .filter(|frame| frame.id == current)
            .find_map(|frame| match &frame.entry {
                Entry::Reentry => None,
                Entry::Timed(interval) => Some(Some((interval.class, interval.tick))),
                _ => Some(None),
            })
            .flatten();
        Some((current, inside))
    }

    /// This thread's allocation counters now, net of what instrumentation allocated (zeros
    /// without a `CountingAllocator`: then not read at all).
    #[inline]
    pub(crate) fn allocated(&self) -> AllocCounts {
        self.raw_allocations()
            .map_or_else(AllocCounts::default, |raw| raw.since(self.own_allocations))
    }

    /// This thread's allocation counters as the allocator keeps them, if counted.
    #[inline]
    pub(crate) fn raw_allocations(&self) -> Option<AllocCounts> {
        self.count_allocations
            .then(crate::allocations::thread_counts)
    }

    /// What was allocated since `raw_before` (a [`raw_allocations`](Self::raw_allocations)
    /// reading) was instrumentation's: no span is charged it.
    #[inline]
    pub(crate) fn instrumentation_allocated(&mut self, raw_before: Option<AllocCounts>) {
        if let Some(before) = raw_before {
            let made = crate::allocations::thread_counts().since(before);
            self.own_allocations = self.own_allocations.plus(made);
        }
    }

    /// Whether a `CountingAllocator` counts this run's allocations.
    pub(crate) fn counts_allocations(&self) -> bool {
        self.count_allocations
    }

    /// What a closed span allocated: a tick's with its components' (the tick's figure is the
    /// whole tick), a component's without its children's (so the allocating component is the
    /// one named).
    pub(crate) fn allocations_of(closed: &Closed) -> AllocCounts {
        match closed.kind {
            SpanKind::Tick(_) => closed.allocations,
            SpanKind::Component { .. } | SpanKind::Outside { .. } => closed.self_allocations,
        }
    }

    /// Instrumentation ran on this thread from `started_raw` to `ended_raw`.
    #[inline]
    pub(crate) fn instrumented(&mut self, started_raw: u64, ended_raw: u64) {
        self.tally.instrumentation_raw = self
            .tally
            .instrumentation_raw
            .saturating_add(ended_raw.saturating_sub(started_raw));
    }

    /// Where span `id` is entered on this thread (innermost first), if it is.
    #[inline]
    pub(crate) fn position(&self, id: u64) -> Option<usize> {
        self.stack.iter().rposition(|frame| frame.id == id)
    }

    /// Whether this thread runs outside every tick now: the innermost span it times, if any,
    /// is one outside ticks (a tick or component entered before the run counts as a tick).
    pub(crate) fn outside_ticks(&self) -> bool {
        self.stack
            .iter()
            .rev()
            .find_map(|frame| match &frame.entry {
                Entry::Timed(interval) => Some(interval.class == Class::Outside),
                Entry::EarlierRun { in_tick: true } => Some(false),
                _ => None,
            })
            .unwrap_or(true)
    }

    /// Whether the stack holds nothing tickprof times (so no clock needs to run for it).
    #[inline]
    pub(crate) fn nothing_timed(&self) -> bool {
        !self
            .stack
            .iter()
            .any(|frame| matches!(frame.entry, Entry::Timed(_)))
    }

    /// Counts a refused span evaluation inside the innermost timed span (its cost is inside
    /// that span's interval, and is subtracted).
    #[inline]
    pub(crate) fn refused_inside(&mut self) {
        if !self.stack.is_empty() && !self.nothing_timed() {
            self.tally.refusals += 1;
        }
    }

    /// Counts an odd span sequence (a callback for a span in no state tickprof expects).
    pub(crate) fn count_odd(&self) {
        self.home.odd.fetch_add(1, Ordering::Relaxed);
    }
}
