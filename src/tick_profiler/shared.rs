//! State shared by a `MetricsCollector` and its layer: the active run, the configuration, the
//! callsite table, the recording window, the compensation constants and the per-thread shards.

use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hdrhistogram::Histogram;
use tracing_core::Metadata;
use tracing_core::dispatcher::{Dispatch, WeakDispatch};

use super::budget::Budget;
use super::callsites::{Callsites, Role, key};
use super::records::RunRecords;
use super::shard::{Harvest, Shard};
use super::slow_ticks::SlowCandidates;
use super::span_state::SpanState;
use super::tick_fields::TickFieldCapture;
use super::window::Window;
use crate::sampling::Sampling;

/// Distinguishes collectors in thread-local state, so two collectors never cross-talk.
static NEXT_COLLECTOR_ID: AtomicU64 = AtomicU64::new(1);

/// Locks a mutex, ignoring poisoning: tickprof code never panics while holding a lock, and a
/// poisoned lock must not turn into a panic in the user's program.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the recorder subtracts from measured busy time, in ns (see `overhead_calibration`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Compensation {
    /// Busy time an empty recorded span reads: instrumentation inside its own interval.
    pub(crate) floor_ns: u64,
    /// What one recorded span adds to the loop, registry included: subtracted once from every
    /// ancestor's busy time for each recorded descendant.
    pub(crate) span_ns: u64,
}

/// Collector-wide state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) id: u64,
    /// The active run's id (the calibration run included); 0 when not profiling.
    run: AtomicU64,
    last_run: AtomicU64,
    pub(crate) sampling: Sampling,
    /// An empty histogram with the configured bounds; every histogram is made from it.
    pub(crate) template: Histogram<u64>,
    pub(crate) clock: quanta::Clock,
    pub(crate) callsites: Callsites,
    pub(crate) window: Window,
    pub(crate) budget: Budget,
    /// How many of the slowest ticks a run keeps (0: none).
    pub(crate) slowest_ticks: usize,
    /// Which tick fields slow ticks are reported with.
    pub(crate) tick_fields: TickFieldCapture,
    /// Tick spans this collector enabled that have not closed yet, whatever run made them (it
    /// is never reset: the recorder adds each tick at its creation and takes it off at its
    /// close, both delivered for exactly the spans tickprof enabled, in a run or not). While
    /// any exists, every span evaluated may belong to one (a child created with an explicit
    /// parent on another thread), so the filter lets spans through and the recorder classifies
    /// them.
    pub(crate) live_ticks: AtomicU64,
    /// Span states parked by a thread that did not create them (a span entered on two threads
    /// at once): while any exists, a close looks for copies in every shard.
    pub(crate) foreign_copies: AtomicU64,
    floor_ns: AtomicU64,
    span_ns: AtomicU64,
    /// The dispatcher the layer was installed in: callsites are probed through it.
    dispatch: Mutex<Option<WeakDispatch>>,
    shards: Mutex<Vec<Arc<Shard>>>,
}

impl Shared {
    pub(crate) fn new(
        tick_name: String,
        sampling: Sampling,
        template: Histogram<u64>,
        clock: quanta::Clock,
    ) -> Self {
        Shared {
            id: NEXT_COLLECTOR_ID.fetch_add(1, Ordering::Relaxed),
            run: AtomicU64::new(0),
            last_run: AtomicU64::new(0),
            sampling,
            template,
            clock,
            callsites: Callsites::new(tick_name),
            window: Window::default(),
            budget: Budget::new(sampling),
            slowest_ticks: 0,
            tick_fields: TickFieldCapture::Off,
            live_ticks: AtomicU64::new(0),
            foreign_copies: AtomicU64::new(0),
            floor_ns: AtomicU64::new(0),
            span_ns: AtomicU64::new(0),
            dispatch: Mutex::new(None),
            shards: Mutex::new(Vec::new()),
        }
    }

    /// Keeps the `n` slowest ticks of every run (set before the layer exists).
    pub(crate) fn with_slowest_ticks(mut self, n: usize) -> Self {
        self.slowest_ticks = n;
        self
    }

    /// Reports slow ticks with their fields (set before the layer exists).
    pub(crate) fn with_tick_fields(mut self, capture: TickFieldCapture) -> Self {
        self.tick_fields = capture;
        self
    }

    /// The configured tick span name.
    pub(crate) fn tick_name(&self) -> &str {
        self.callsites.tick_name()
    }

    /// Whether `metadata` is a tick callsite of this collector (the configured tick or the
    /// calibration tick). For the callbacks' rare paths; the hot path knows from the span's
    /// state.
    pub(crate) fn is_tick_callsite(&self, metadata: &Metadata<'_>) -> bool {
        let key = key(metadata);
        self.callsites.tick(key).is_some()
            || self.callsites.is_calibration_tick(key)
            || self
                .callsites
                .get(key)
                .is_some_and(|info| info.role == Role::Tick)
    }

    /// The active run, or 0.
    #[inline]
    pub(crate) fn current_run(&self) -> u64 {
        self.run.load(Ordering::Acquire)
    }

    /// Starts a new run and returns its id. The caller rebuilds the interest cache afterwards.
    pub(crate) fn begin_run(&self) -> u64 {
        let run = self.last_run.fetch_add(1, Ordering::Relaxed) + 1;
        self.window.reset();
        self.run.store(run, Ordering::Release);
        run
    }

    /// Ends the active run: from now on callbacks return at once.
    pub(crate) fn end_run(&self) -> u64 {
        self.window.reset();
        self.run.swap(0, Ordering::AcqRel)
    }

    /// The compensation constants of the active run.
    #[inline]
    pub(crate) fn compensation(&self) -> Compensation {
        Compensation {
            floor_ns: self.floor_ns.load(Ordering::Relaxed),
            span_ns: self.span_ns.load(Ordering::Relaxed),
        }
    }

    /// Sets the compensation constants (before the run they apply to begins).
    pub(crate) fn set_compensation(&self, compensation: Compensation) {
        self.floor_ns
            .store(compensation.floor_ns, Ordering::Relaxed);
        self.span_ns.store(compensation.span_ns, Ordering::Relaxed);
    }

    /// Remembers the dispatcher the layer lives in (the last one, if several).
    pub(crate) fn set_dispatch(&self, dispatch: &Dispatch) {
        *lock(&self.dispatch) = Some(dispatch.downgrade());
    }

    /// The dispatcher the layer lives in, if it still exists.
    pub(crate) fn dispatch(&self) -> Option<Dispatch> {
        lock(&self.dispatch)
            .as_ref()
            .and_then(WeakDispatch::upgrade)
    }

    /// Whether the layer was ever installed in a dispatcher.
    pub(crate) fn installed(&self) -> bool {
        lock(&self.dispatch).is_some()
    }

    /// A shard for a thread that has none: a shard whose thread has exited, or a new one.
    pub(crate) fn register_shard(&self) -> Arc<Shard> {
        let mut shards = lock(&self.shards);
        if let Some(orphan) = shards.iter().find(|shard| Arc::strong_count(shard) == 1) {
            // Pairs with the Release decrement of the exited thread's `Arc`, as `Arc::drop`
            // does: its last ring and slot writes happen before this thread's.
            fence(Ordering::Acquire);
            return Arc::clone(orphan);
        }
        let shard = Arc::new(Shard::default());
        shards.push(Arc::clone(&shard));
        shard
    }

    /// Takes every state of span `id` parked by other threads in `run` (a future that moved,
    /// or copies of a span entered on two threads at once), merged, with how many of them were
    /// copies. Shards whose owners have not begun `run` are left alone: what they hold is an
    /// earlier run's. Never called with a shard lock held.
    pub(crate) fn unpark_elsewhere(
        &self,
        own: &Arc<Shard>,
        run: u64,
        id: u64,
    ) -> Option<(SpanState, u64)> {
        let shards = lock(&self.shards);
        shards
            .iter()
            .filter(|shard| !Arc::ptr_eq(shard, own) && shard.holds_run(run))
            .filter_map(|shard| shard.unpark(id))
            .map(|state| (state, u64::from(state.copy)))
            .reduce(|(a, ac), (b, bc)| (a.merge(b), ac + bc))
    }

    /// Whether another thread has span `id` parked in `run`.
    pub(crate) fn held_elsewhere(&self, own: &Arc<Shard>, run: u64, id: u64) -> bool {
        let shards = lock(&self.shards);
        shards
            .iter()
            .filter(|shard| !Arc::ptr_eq(shard, own) && shard.holds_run(run))
            .any(|shard| shard.holds(id))
    }

    /// Ticks counted so far in `run`, over all threads: relaxed loads of per-thread counters,
    /// no lock the hot path takes.
    pub(crate) fn ticks_so_far(&self, run: u64) -> u64 {
        let shards = lock(&self.shards);
        shards.iter().map(|shard| shard.ticks_in(run)).sum()
    }

    /// Replaces `out` with the kernel ids of the shards' owners, in any run: a thread that
    /// ticked in an earlier run (or the calibration) is read from the sampler's start, before
    /// its first tick of this run. For the resource sampler: one lock of the shard list (taken
    /// by a thread's first callback only), relaxed loads.
    pub(crate) fn thread_ids(&self, out: &mut Vec<u32>) {
        out.clear();
        let shards = lock(&self.shards);
        out.extend(shards.iter().filter_map(|shard| shard.tid()));
    }

    /// Merges and clears every shard's records of `run`: the run has ended.
    pub(crate) fn drain(&self, run: u64) -> RunRecords {
        self.harvest(run, Harvest::Final)
    }

    /// Merges what every shard recorded of `run` since the previous harvest. During a run, the
    /// threads go on ticking: each shard is held for a ring drain and a swap (see
    /// [`Shard::harvest_into`]), one after the other.
    pub(crate) fn harvest(&self, run: u64, harvest: Harvest) -> RunRecords {
        let mut records = RunRecords::new(&self.template);
        records.slow = SlowCandidates::new(self.slowest_ticks);
        // The list is cloned so that no thread registering its shard waits on a merge.
        let shards: Vec<Arc<Shard>> = lock(&self.shards).clone();
        for shard in &shards {
            shard.harvest_into(run, harvest, &self.callsites, &mut records, &self.template);
        }
        records
    }
}
