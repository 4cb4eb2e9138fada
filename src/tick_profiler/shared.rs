//! State shared by a `MetricsCollector` and its layer: the active run, the configuration, the
//! callsite table, the recording window, the sampling budget, the calibrated costs and the
//! threads' homes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use tracing_core::dispatcher::{Dispatch, WeakDispatch};

use super::callsites::{Callsites, Others, Role, key};
use super::costs::Costs;
use super::home::{Harvest, Home, HomeData};
use super::records::RunRecords;
use super::sampler::Budget;
use super::slow_ticks::SlowCandidates;
use super::subscriber_internals::probe;
use super::tick_fields::TickFieldCapture;
use super::window::Window;
use crate::lock::lock;
use crate::sampling::Sampling;

/// Distinguishes collectors in thread-local state, so two collectors never cross-talk.
static NEXT_COLLECTOR_ID: AtomicU64 = AtomicU64::new(1);

/// Collector-wide state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) id: u64,
    /// The active run's id (the calibration's included); 0 when not profiling.
    run: AtomicU64,
    last_run: AtomicU64,
    pub(crate) sampling: Sampling,
    /// An empty histogram with the configured bounds; every histogram is made from it.
    pub(crate) template: Histogram<u64>,
    pub(crate) clock: quanta::Clock,
    pub(crate) callsites: Callsites,
    pub(crate) window: Window,
    pub(crate) budget: Budget,
    costs: Mutex<Costs>,
    /// How many of the slowest ticks a run keeps (0: none).
    pub(crate) slowest_ticks: usize,
    /// Which tick fields slow ticks are reported with.
    pub(crate) tick_fields: TickFieldCapture,
    /// Recorded ticks alive now (see `timing::LiveTick`): while any is, a span evaluated on a
    /// thread with nothing timed may be a child of one (created with an explicit parent).
    pub(crate) live_recorded_ticks: Arc<AtomicU64>,
    /// Tracked spans closed while another thread may still be inside them (never exited there:
    /// a raw enter, a forgotten guard): each thread checks its stack when this moves.
    pub(crate) closed_early: AtomicU64,
    /// Warm-up ticks of the run not closed yet, on any thread: while there are none (after
    /// every thread's warm-up), a closing component needs no look at its tick to know its
    /// allocations count.
    pub(crate) open_warmup_ticks: AtomicU64,
    /// Ticks evaluated on a thread whose tickprof state was already torn down (thread exit):
    /// counted here, so that no tick is lost; (run, count, harvested).
    orphan_ticks: Mutex<(u64, u64, u64)>,
    /// The dispatcher the layer was installed in: callsites are probed through it.
    dispatch: Mutex<Option<WeakDispatch>>,
    homes: Mutex<Vec<Arc<Home>>>,
}

impl Shared {
    pub(crate) fn new(
        tick_name: String,
        sampling: Sampling,
        template: Histogram<u64>,
        clock: quanta::Clock,
    ) -> Self {
        let callsites = Callsites::new(tick_name);
        Shared {
            id: NEXT_COLLECTOR_ID.fetch_add(1, Ordering::Relaxed),
            run: AtomicU64::new(0),
            last_run: AtomicU64::new(0),
            sampling,
            template,
            clock,
            window: Window::new(callsites.generation_counter()),
            callsites,
            budget: Budget::new(sampling),
            costs: Mutex::new(Costs::UNMEASURED),
            slowest_ticks: 0,
            tick_fields: TickFieldCapture::Off,
            live_recorded_ticks: Arc::new(AtomicU64::new(0)),
            closed_early: AtomicU64::new(0),
            open_warmup_ticks: AtomicU64::new(0),
            orphan_ticks: Mutex::new((0, 0, 0)),
            dispatch: Mutex::new(None),
            homes: Mutex::new(Vec::new()),
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

    /// Whether `metadata` is a tick callsite of this collector (rare paths only).
    pub(crate) fn is_tick_callsite(&self, metadata: &tracing_core::Metadata<'_>) -> bool {
        self.callsites
            .get(key(metadata))
            .is_some_and(|info| matches!(info.role, Role::Tick | Role::CalibrationTick))
    }

    /// The active run, or 0.
    #[inline]
    pub(crate) fn current_run(&self) -> u64 {
        self.run.load(Ordering::Acquire)
    }

    /// Whether every span is recorded now (full sampling, or a recording window is open): spans
    /// inside recorded ticks, and spans outside every tick.
    #[inline]
    pub(crate) fn recording(&self) -> bool {
        self.budget.is_full() || self.window.wants_components()
    }

    /// Starts a new run and returns its id. The caller rebuilds the interest cache afterwards.
    pub(crate) fn begin_run(&self) -> u64 {
        let run = self.last_run.fetch_add(1, Ordering::Relaxed) + 1;
        self.window.reset();
        self.open_warmup_ticks.store(0, Ordering::Relaxed);
        *lock(&self.orphan_ticks) = (run, 0, 0);
        self.run.store(run, Ordering::Release);
        self.callsites.bump_generation();
        run
    }

    /// A warm-up tick of the run closed (saturating: one of an earlier run may close late).
    pub(crate) fn warmup_tick_closed(&self) {
        let _ = self
            .open_warmup_ticks
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Ends the active run: from now on callbacks return at once.
    pub(crate) fn end_run(&self) -> u64 {
        self.window.reset();
        let run = self.run.swap(0, Ordering::AcqRel);
        self.callsites.bump_generation();
        run
    }

    /// The calibrated costs of the runs that begin from now.
    pub(crate) fn costs(&self) -> Costs {
        *lock(&self.costs)
    }

    /// Sets the costs (before the run they apply to begins).
    pub(crate) fn set_costs(&self, costs: Costs) {
        *lock(&self.costs) = costs;
    }

    /// A tick counted on a thread without tickprof state (torn down).
    pub(crate) fn count_orphan_tick(&self, run: u64) {
        let mut orphans = lock(&self.orphan_ticks);
        if orphans.0 == run {
            orphans.1 += 1;
        }
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

    /// Asks the other layers what they want of callsite `key` (see `subscriber_internals`),
    /// and keeps the answer. With no tickprof lock held, outside any registration pass.
    pub(crate) fn probe(&self, key: usize) -> Others {
        let (Some(dispatch), Some(metadata)) = (self.dispatch(), self.callsites.metadata(key))
        else {
            return Others::Unknown;
        };
        let others = probe(&dispatch, metadata, self.id);
        self.callsites.set_others(key, others);
        others
    }

    /// Asks the other layers about every callsite registered since the last probe (see
    /// `subscriber_internals`). Outside any pass, with no tickprof lock held.
    pub(crate) fn probe_unprobed(&self) {
        if !self.callsites.has_unprobed() {
            return;
        }
        let Some(dispatch) = self.dispatch() else {
            return;
        };
        for metadata in self.callsites.take_unprobed() {
            let others = probe(&dispatch, metadata, self.id);
            self.callsites.set_others(key(metadata), others);
        }
    }

    /// A home for a thread that has none: one whose thread has exited (see
    /// [`Home::claim`]), or a new one.
    pub(crate) fn register_home(&self) -> Arc<Home> {
        let mut homes = lock(&self.homes);
        if let Some(orphan) = homes.iter().find(|home| home.claim()) {
            return Arc::clone(orphan);
        }
        let home = Arc::new(Home::default());
        home.claim();
        homes.push(Arc::clone(&home));
        home
    }

    /// The home other than `own` whose data `holds` (a span that moved between threads),
    /// looked up under the homes' lock (then each home's, in that order everywhere).
    pub(crate) fn other_home(
        &self,
        own: &Arc<Home>,
        mut holds: impl FnMut(&mut HomeData) -> bool,
    ) -> Option<Arc<Home>> {
        lock(&self.homes)
            .iter()
            .find(|home| !Arc::ptr_eq(home, own) && holds(&mut home.data()))
            .cloned()
    }

    /// Ticks counted so far in `run`, over all threads: relaxed loads of per-thread counters.
    pub(crate) fn ticks_so_far(&self, run: u64) -> u64 {
        let orphans = {
            let orphans = lock(&self.orphan_ticks);
            if orphans.0 == run { orphans.1 } else { 0 }
        };
        lock(&self.homes)
            .iter()
            .map(|home| home.ticks_in(run))
            .sum::<u64>()
            + orphans
    }

    /// The CPU time (ns) of each thread that exited during the run, as it exited, by kernel id.
    // Read only with the resource sampler's windows (feature `sampler`).
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) fn exit_cpu_ns(&self) -> std::collections::BTreeMap<u32, u64> {
        lock(&self.homes)
            .iter()
            .flat_map(|home| home.data().exits().to_vec())
            .collect()
    }

    /// Replaces `out` with the kernel ids of the homes' owners (for the resource sampler).
    // Read only by the resource sampler (feature `sampler`).
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) fn thread_ids(&self, out: &mut Vec<u32>) {
        out.clear();
        out.extend(lock(&self.homes).iter().filter_map(|home| home.tid()));
    }

    /// Merges what every home recorded of `run` since the previous harvest. During a run, the
    /// threads go on ticking: each home is held for a swap, one after the other.
    pub(crate) fn harvest(&self, run: u64, harvest: Harvest) -> RunRecords {
        let mut records = RunRecords::new(&self.template);
        records.slow = SlowCandidates::new(self.slowest_ticks);
        // The list is cloned so that no thread registering its home waits on a merge.
        let homes: Vec<Arc<Home>> = lock(&self.homes).clone();
        for home in &homes {
            let Some(taken) = home.harvest(run, harvest) else {
                continue;
            };
            // The names are read after the swap: every slot in the records was interned first.
            records.add_thread(&taken.records, &self.callsites.names(), &self.template);
            records.ticks_counted += taken.ticks;
            records.counters.missing_span_data += taken.odd;
            records.slow.merge(taken.slow);
            // A thread that only made spans outside ticks has no ticks to report.
            for (thread, ticks) in taken.threads.iter().filter(|(_, t)| !t.is_empty()) {
                records.add_thread_ticks(thread, ticks);
            }
            home.give_back(taken.records);
        }
        let mut orphans = lock(&self.orphan_ticks);
        if orphans.0 == run {
            records.ticks_counted += orphans.1 - orphans.2;
            orphans.2 = orphans.1;
        }
        records
    }
}
