//! State shared by a `MetricsCollector` and every `TickProfiler` layer it hands out: the active
//! run, the configuration, interned span names and the list of per-thread shards.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hdrhistogram::Histogram;

use super::shard::Shard;
use super::span_state::{SpanKind, SpanState};

/// Distinguishes collectors in thread-local state, so two collectors never cross-talk.
static NEXT_COLLECTOR_ID: AtomicU64 = AtomicU64::new(1);

/// Locks a mutex, ignoring poisoning: tickprof code never panics while holding a lock, and a
/// poisoned lock must not turn into a panic in the user's program.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Collector-wide state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) id: u64,
    /// The active run's id; 0 when not profiling (every callback checks this first).
    run: AtomicU64,
    last_run: AtomicU64,
    pub(crate) tick_name: String,
    /// An empty histogram with the configured bounds; every histogram is made from it.
    pub(crate) template: Histogram<u64>,
    pub(crate) clock: quanta::Clock,
    names: Mutex<Vec<&'static str>>,
    shards: Mutex<Vec<Arc<Shard>>>,
}

/// Everything the layer recorded during one run, merged over all threads.
#[derive(Debug)]
pub(crate) struct RunRecords {
    pub(crate) ticks: Histogram<u64>,
    pub(crate) unattributed: Histogram<u64>,
    /// Busy and (if any span was entered more than once) wall histograms per component name.
    pub(crate) components: BTreeMap<String, (Histogram<u64>, Option<Histogram<u64>>)>,
    pub(crate) overflow: u64,
    pub(crate) missing_span_data: u64,
}

impl Shared {
    pub(crate) fn new(tick_name: String, template: Histogram<u64>, clock: quanta::Clock) -> Self {
        Shared {
            id: NEXT_COLLECTOR_ID.fetch_add(1, Ordering::Relaxed),
            run: AtomicU64::new(0),
            last_run: AtomicU64::new(0),
            tick_name,
            template,
            clock,
            names: Mutex::new(Vec::new()),
            shards: Mutex::new(Vec::new()),
        }
    }

    /// The active run, or 0.
    #[inline]
    pub(crate) fn current_run(&self) -> u64 {
        self.run.load(Ordering::Acquire)
    }

    /// Starts a new run and returns its id.
    pub(crate) fn begin_run(&self) -> u64 {
        let run = self.last_run.fetch_add(1, Ordering::Relaxed) + 1;
        self.run.store(run, Ordering::Release);
        run
    }

    /// Ends the active run: from now on callbacks return at once.
    pub(crate) fn end_run(&self) -> u64 {
        self.run.swap(0, Ordering::AcqRel)
    }

    /// The slot of a span name, interning it on first sight (once per thread and callsite).
    pub(crate) fn intern(&self, name: &'static str) -> u32 {
        let mut names = lock(&self.names);
        let slot = match names.iter().position(|known| *known == name) {
            Some(slot) => slot,
            None => {
                names.push(name);
                names.len() - 1
            }
        };
        u32::try_from(slot).unwrap_or(u32::MAX)
    }

    /// A shard for a thread that has none: a shard whose thread has exited, or a new one.
    /// Histograms are additive, so a reused shard's records of the current run stay valid.
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

    /// Takes a span parked by other threads (a future that moved between worker threads).
    /// Every copy is taken and merged, so a span entered on two threads at once keeps the busy
    /// time of both. Never called with a shard lock held, so shard locks are never nested.
    pub(crate) fn unpark_elsewhere(&self, own: &Arc<Shard>, id: u64) -> Option<SpanState> {
        let shards = lock(&self.shards);
        shards
            .iter()
            .filter(|shard| !Arc::ptr_eq(shard, own))
            .filter_map(|shard| shard.unpark(id))
            .reduce(SpanState::merge)
    }

    /// The kind of a span parked by another thread, without taking it.
    pub(crate) fn parked_kind_elsewhere(&self, own: &Arc<Shard>, id: u64) -> Option<SpanKind> {
        let shards = lock(&self.shards);
        shards
            .iter()
            .filter(|shard| !Arc::ptr_eq(shard, own))
            .find_map(|shard| shard.parked_kind(id))
    }

    /// Ticks completed so far in `run`, over all threads (for the resource sampler).
    pub(crate) fn ticks_so_far(&self, run: u64) -> u64 {
        let shards = lock(&self.shards);
        shards
            .iter()
            .map(|shard| {
                let mut data = lock(&shard.data);
                if data.run != run {
                    return 0;
                }
                shard.drain_into(&mut data, &self.template);
                data.tick_count()
            })
            .sum()
    }

    /// Merges and clears every shard's records of `run`.
    pub(crate) fn drain(&self, run: u64) -> RunRecords {
        let names = lock(&self.names).clone();
        let mut records = RunRecords {
            ticks: Histogram::new_from(&self.template),
            unattributed: Histogram::new_from(&self.template),
            components: BTreeMap::new(),
            overflow: 0,
            missing_span_data: 0,
        };
        let shards = lock(&self.shards);
        for shard in shards.iter() {
            let mut data = lock(&shard.data);
            if data.run != run {
                continue;
            }
            shard.drain_into(&mut data, &self.template);
            // Same bounds everywhere, so `add` cannot fail; a failure would only lose counts
            // that are then missing from `count`, never a panic.
            if let Some(ticks) = &data.ticks {
                let _ = records.ticks.add(ticks);
            }
            if let Some(unattributed) = &data.unattributed {
                let _ = records.unattributed.add(unattributed);
            }
            for (slot, component) in data.components.iter().enumerate() {
                let (Some(component), Some(name)) = (component, names.get(slot)) else {
                    continue;
                };
                if component.busy.is_empty() {
                    continue;
                }
                let (busy, wall) = records
                    .components
                    .entry((*name).to_owned())
                    .or_insert_with(|| (Histogram::new_from(&self.template), None));
                let _ = busy.add(&component.busy);
                if let Some(shard_wall) = component.wall.as_ref().filter(|w| !w.is_empty()) {
                    let wall = wall.get_or_insert_with(|| Histogram::new_from(&self.template));
                    let _ = wall.add(shard_wall);
                }
            }
            records.overflow += data.overflow;
            records.missing_span_data += data.missing_span_data;
            shard.reset_for(&mut data, 0);
        }
        records
    }
}
