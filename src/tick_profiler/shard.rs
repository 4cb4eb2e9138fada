//! One thread's records: the tick counter, lock-free park slots and record ring for the hot
//! path, and behind a mutex (taken by the owner about once per 64 closed spans, between ticks,
//! and by `stop_profiling`) the histograms, the counters and the spans parked while every slot
//! was busy. `stop_profiling` merges all shards.
//!
//! A span that is not entered anywhere — created and not yet entered, or between two entered
//! intervals — is parked here, so that whichever thread enters or closes it next finds it.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, TryLockError};

use hdrhistogram::Histogram;
use rustc_hash::FxHashMap;

use super::callsites::Callsites;
use super::park_slot::ParkSlot;
use super::record_ring::{Record, RecordKind, RecordRing};
use super::records::{Counters, RunRecords, ThreadHistograms};
use super::shared::lock;
use super::slow_ticks::ThreadSlowTicks;
use super::span_state::SpanState;

/// Park slots per thread: a tick, the child being created or exited, and room for a span
/// created ahead of being entered; more spill into the mutex-protected map.
const PARK_SLOTS: usize = 4;

/// A thread's shard (reused by a later thread after its first owner exits).
#[derive(Debug, Default)]
pub(crate) struct Shard {
    /// The run `ticks` counts; written by the owner after resetting `ticks`.
    run: AtomicU64,
    /// Ticks counted on this thread in `run`: written by the owner (load + store, no
    /// read-modify-write), read by the resource sampler with relaxed loads.
    ticks: AtomicU64,
    park_slots: [ParkSlot; PARK_SLOTS],
    pub(crate) ring: RecordRing,
    /// Whether `data.parked` may hold spans, so the hot path skips the mutex when it is empty.
    has_parked: AtomicBool,
    /// Rare events, counted without the mutex (written by the owner only).
    pub(crate) events: EventCounters,
    /// The least latency a tick needs to enter this thread's slowest ticks (timed, recorded),
    /// published by the drain side: the owner sends a tick's fields only from it. Between
    /// harvests it lags (a few fields sent in vain); a tick closing while a harvest empties the
    /// list may read the one before, and is then listed without fields (never wrong ones).
    slow_threshold: [AtomicU64; 2],
    /// The kernel id of the owner when it began its run (0: unknown), for the resource
    /// sampler, which reads that thread's scheduler counters without taking the mutex.
    tid: AtomicU32,
    pub(crate) data: Mutex<ShardData>,
}

/// Rare events of one thread: written by the owner with a load and a store (no lock, no
/// read-modify-write), read when the run is drained.
#[derive(Debug, Default)]
pub(crate) struct EventCounters {
    pub(crate) straddled: AtomicU64,
    pub(crate) clamped: AtomicU64,
    pub(crate) uncredited_children: AtomicU64,
    pub(crate) missing_span_data: AtomicU64,
}

impl EventCounters {
    /// Adds `n` to one counter. Owner thread only.
    #[inline]
    pub(crate) fn bump(counter: &AtomicU64, n: u64) {
        let value = counter.load(Ordering::Relaxed);
        counter.store(value.saturating_add(n), Ordering::Relaxed);
    }

    fn reset(&self) {
        for c in [
            &self.straddled,
            &self.clamped,
            &self.uncredited_children,
            &self.missing_span_data,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// The counts now. Any thread; the owner writes them without read-modify-write, so they
    /// are read, never reset, by harvests during a run.
    fn read(&self) -> EventCounts {
        EventCounts {
            straddled: self.straddled.load(Ordering::Relaxed),
            clamped: self.clamped.load(Ordering::Relaxed),
            uncredited_children: self.uncredited_children.load(Ordering::Relaxed),
            missing_span_data: self.missing_span_data.load(Ordering::Relaxed),
        }
    }
}

/// [`EventCounters`] as read at one moment.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct EventCounts {
    straddled: u64,
    clamped: u64,
    uncredited_children: u64,
    missing_span_data: u64,
}

impl EventCounts {
    /// Adds what was counted between `earlier` and `self` to `counters`.
    fn add_since(&self, earlier: &EventCounts, counters: &mut Counters) {
        counters.straddled += self.straddled.saturating_sub(earlier.straddled);
        counters.clamped += self.clamped.saturating_sub(earlier.clamped);
        counters.uncredited_children += self
            .uncredited_children
            .saturating_sub(earlier.uncredited_children);
        counters.missing_span_data += self
            .missing_span_data
            .saturating_sub(earlier.missing_span_data);
    }
}

/// Whether a harvest leaves the run going or ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Harvest {
    /// A snapshot or interval: the shard keeps recording the run.
    DuringRun,
    /// The run has stopped: the shard forgets it.
    Final,
}

/// How far earlier harvests of the run went, so the next takes only what came after.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Harvested {
    ticks: u64,
    events: EventCounts,
}

/// The part of a shard behind its mutex.
#[derive(Debug, Default)]
pub(crate) struct ShardData {
    /// The run these records belong to; records of another run are never mixed in.
    pub(crate) run: u64,
    pub(crate) histograms: ThreadHistograms,
    pub(crate) counters: Counters,
    /// Spans exited but not closed while the park slot was taken (async spans between polls).
    pub(crate) parked: FxHashMap<u64, SpanState>,
    /// The thread's slowest ticks since the last harvest (a field of its own, taken apart
    /// from the histograms).
    pub(crate) slow: ThreadSlowTicks,
    /// Emptied histograms a harvest swaps in, so the owner never waits for a merge nor
    /// allocates after one.
    spare: Option<ThreadHistograms>,
    /// What harvests of `run` have taken so far.
    harvested: Harvested,
}

impl ShardData {
    /// Moves one closed span's record into the histograms, the counters and the slow ticks.
    /// (Inlined into the drain loop: called once per record.)
    #[inline(always)]
    fn take_record(&mut self, record: &Record, template: &Histogram<u64>) {
        let Some(kind) = RecordKind::decode(record.kind) else {
            return;
        };
        self.counters.overflow +=
            self.histograms
                .record(record, kind, &mut self.counters, template);
        self.slow.record(record, kind);
    }
}

impl Shard {
    /// Counts one tick; returns its ordinal (the n-th tick counted here in the run, 1-based).
    /// Owner thread only.
    #[inline]
    pub(crate) fn count_tick(&self) -> u64 {
        let ticks = self.ticks.load(Ordering::Relaxed).wrapping_add(1);
        self.ticks.store(ticks, Ordering::Relaxed);
        ticks
    }

    /// Ticks this thread counted in `run` (0 if it has not ticked in it). Any thread.
    pub(crate) fn ticks_in(&self, run: u64) -> u64 {
        if self.holds_run(run) {
            self.ticks.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// The kernel id of the thread that last began a run here, if known (it may have exited
    /// since). Any thread.
    pub(crate) fn tid(&self) -> Option<u32> {
        Some(self.tid.load(Ordering::Relaxed)).filter(|&tid| tid != 0)
    }

    /// Whether the shard's owner has begun `run` (so what it parked belongs to `run`; a shard
    /// whose owner has not, holds what an earlier run left, to be cleared at its next
    /// callback). Any thread.
    #[inline]
    pub(crate) fn holds_run(&self, run: u64) -> bool {
        self.run.load(Ordering::Acquire) == run
    }

    /// Parks an exited span until it is entered again or closed. Owner thread only.
    #[inline]
    pub(crate) fn park(&self, id: u64, state: &SpanState) {
        if !self.park_slots.iter().any(|slot| slot.try_put(id, state)) {
            let mut data = lock(&self.data);
            data.parked.insert(id, *state);
            self.has_parked.store(true, Ordering::Release);
        }
    }

    /// Takes a parked span out, if this shard holds it. Any thread.
    #[inline]
    pub(crate) fn unpark(&self, id: u64) -> Option<SpanState> {
        if let Some(state) = self.park_slots.iter().find_map(|slot| slot.try_take(id)) {
            return Some(state);
        }
        if !self.has_parked.load(Ordering::Acquire) {
            return None;
        }
        let mut data = lock(&self.data);
        let state = data.parked.remove(&id);
        if data.parked.is_empty() {
            self.has_parked.store(false, Ordering::Release);
        }
        state
    }

    /// A parked span's state, without taking it. Owner thread only (see `park_slot`).
    pub(crate) fn peek(&self, id: u64) -> Option<SpanState> {
        if let Some(state) = self.park_slots.iter().find_map(|slot| slot.peek(id)) {
            return Some(state);
        }
        if !self.has_parked.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.data).parked.get(&id).copied()
    }

    /// Whether span `id` is parked here now. Any thread.
    pub(crate) fn holds(&self, id: u64) -> bool {
        if self.park_slots.iter().any(|slot| slot.holds(id)) {
            return true;
        }
        self.has_parked.load(Ordering::Acquire) && lock(&self.data).parked.contains_key(&id)
    }

    /// Records a closed span. Owner thread only.
    ///
    /// `between_ticks` is set when a tick closes: its time is already taken, so moving the
    /// buffered records into the histograms now (once the ring is half full, so the lock is
    /// amortized over 64 records) is charged to no tick. (Draining whenever the ring filled up
    /// put a 0.6 µs step at p94 of the driver's tick latency.)
    #[inline(always)]
    pub(crate) fn push(&self, record: Record, template: &Histogram<u64>, between_ticks: bool) {
        if self.ring.try_push(record) {
            if between_ticks && self.ring.half_full() {
                self.try_drain(template);
            }
            return;
        }
        self.push_full(record, template);
    }

    /// Drains the ring between ticks unless a harvest holds the mutex (drained later then).
    #[inline(never)]
    fn try_drain(&self, template: &Histogram<u64>) {
        let data = match self.data.try_lock() {
            Ok(data) => Some(data),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(mut data) = data {
            self.drain_ring(&mut data, template);
        }
    }

    /// Pushes into a full ring: drains it first (out of line: once per 128 records at most).
    #[cold]
    #[inline(never)]
    fn push_full(&self, record: Record, template: &Histogram<u64>) {
        let mut data = lock(&self.data);
        self.drain_ring(&mut data, template);
        if !self.ring.try_push(record) {
            data.take_record(&record, template);
        }
    }

    /// Moves buffered records into the histograms; `data` is this shard's locked data.
    fn drain_ring(&self, data: &mut ShardData, template: &Histogram<u64>) {
        self.ring
            .drain(|record| data.take_record(&record, template));
        self.publish_slow_threshold(data);
    }

    /// Publishes the slow-tick thresholds of `data` (this shard's locked data).
    fn publish_slow_threshold(&self, data: &ShardData) {
        for (threshold, recorded) in self.slow_threshold.iter().zip([false, true]) {
            threshold.store(data.slow.threshold_ns(recorded), Ordering::Relaxed);
        }
    }

    /// The least latency a tick (`recorded` or only timed) needs now to be among this
    /// thread's slowest. Owner thread.
    #[inline]
    pub(crate) fn slow_threshold(&self, recorded: bool) -> u64 {
        self.slow_threshold
            .get(usize::from(recorded))
            .map_or(0, |threshold| threshold.load(Ordering::Relaxed))
    }

    /// Claims the shard for `run` (its owner's first callback in the run); `tid` is the owner's
    /// kernel id. A shard that already holds `run` (its previous owner exited during the run)
    /// keeps its records: histograms add up. Any other is emptied.
    pub(crate) fn begin_run(
        &self,
        run: u64,
        warmup_ticks: u64,
        slowest_ticks: usize,
        template: &Histogram<u64>,
        tid: Option<u32>,
    ) {
        let mut data = lock(&self.data);
        self.tid.store(tid.unwrap_or(0), Ordering::Relaxed);
        if data.run == run {
            // The previous owner's records first: the new owner's warm-up is its own.
            self.drain_ring(&mut data, template);
            data.histograms.begin_warmup(warmup_ticks);
            data.slow.begin_thread(tid);
            return;
        }
        data.run = run;
        data.histograms.reset(warmup_ticks);
        data.slow.reset(slowest_ticks, warmup_ticks, tid);
        self.publish_slow_threshold(&data);
        data.counters = Counters::default();
        data.parked.clear();
        data.harvested = Harvested::default();
        self.ring.discard();
        self.park_slots.iter().for_each(ParkSlot::clear);
        self.has_parked.store(false, Ordering::Release);
        self.events.reset();
        self.ticks.store(0, Ordering::Relaxed);
        // Pairs with the Acquire load in `ticks_in`: a reader that sees the new run sees the
        // counter reset.
        self.run.store(run, Ordering::Release);
    }

    /// Adds to `records` what this shard recorded of `run` since the previous harvest.
    ///
    /// Under the mutex it only drains the ring (at most 128 records) and swaps the histograms
    /// with the spare: the owner, which takes the mutex between ticks once per 64 spans (with
    /// `try_lock`) or when its ring is full, waits at most that long. The merge runs after the
    /// mutex is released; the emptied histograms become the next spare.
    pub(crate) fn harvest_into(
        &self,
        run: u64,
        harvest: Harvest,
        callsites: &Callsites,
        records: &mut RunRecords,
        template: &Histogram<u64>,
    ) {
        let (mut taken, slow) = {
            let mut data = lock(&self.data);
            if data.run != run {
                return;
            }
            self.drain_ring(&mut data, template);
            let mut taken = data.spare.take().unwrap_or_default();
            data.histograms.swap_records(&mut taken);
            // The top-K so far: the thread starts its next K from empty (no allocation here).
            let slow = data.slow.take();
            self.publish_slow_threshold(&data);
            records.counters.add(&std::mem::take(&mut data.counters));
            let now = Harvested {
                ticks: self.ticks_in(run),
                events: self.events.read(),
            };
            now.events
                .add_since(&data.harvested.events, &mut records.counters);
            records.ticks_counted += now.ticks.saturating_sub(data.harvested.ticks);
            data.harvested = now;
            if harvest == Harvest::Final {
                data.run = 0;
                data.histograms.reset(0);
                data.parked.clear();
                data.harvested = Harvested::default();
                self.events.reset();
                self.has_parked.store(false, Ordering::Release);
            }
            (taken, slow)
        };
        records.slow.merge(slow);
        // The names are read after the swap: every slot in `taken` was interned before its
        // record was pushed. (Read before the harvest, a name first seen meanwhile had its
        // histogram taken and dropped as nameless.)
        records.add_thread(&taken, &callsites.names(), template);
        taken.reset(0);
        let mut data = lock(&self.data);
        if data.spare.is_none() {
            data.spare = Some(taken);
        }
    }
}
