//! One thread's records: a lock-free park slot and record ring for the hot path, and behind a
//! mutex (taken by the owner about once per 128 spans, and by `stop_profiling`) the histograms
//! and the spans parked while the slot was busy. `stop_profiling` merges all shards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, TryLockError};

use hdrhistogram::Histogram;
use rustc_hash::FxHashMap;

use super::park_slot::ParkSlot;
use super::record_ring::{Record, RecordRing};
use super::shared::lock;
use super::span_state::{SpanKind, SpanState};

/// Busy and wall histograms of one component name.
#[derive(Debug)]
pub(crate) struct ComponentHistograms {
    pub(crate) busy: Histogram<u64>,
    pub(crate) wall: Option<Histogram<u64>>,
}

/// A thread's shard (reused by a later thread after its first owner exits).
#[derive(Debug, Default)]
pub(crate) struct Shard {
    pub(crate) park_slot: ParkSlot,
    pub(crate) ring: RecordRing,
    /// Whether `data.parked` may hold spans, so the hot path skips the mutex when it is empty.
    has_parked: AtomicBool,
    pub(crate) data: Mutex<ShardData>,
}

/// The part of a shard behind its mutex.
#[derive(Debug, Default)]
pub(crate) struct ShardData {
    /// The run these records belong to; records of another run are never mixed in.
    pub(crate) run: u64,
    pub(crate) ticks: Option<Histogram<u64>>,
    pub(crate) unattributed: Option<Histogram<u64>>,
    pub(crate) components: Vec<Option<ComponentHistograms>>,
    /// Spans exited but not closed while the park slot was taken (async spans between polls).
    pub(crate) parked: FxHashMap<u64, SpanState>,
    pub(crate) overflow: u64,
    pub(crate) missing_span_data: u64,
}

impl Shard {
    /// Parks an exited span until it is entered again or closed. Owner thread only.
    #[inline]
    pub(crate) fn park(&self, id: u64, state: &SpanState) {
        if !self.park_slot.try_put(id, state) {
            let mut data = lock(&self.data);
            data.parked.insert(id, *state);
            self.has_parked.store(true, Ordering::Release);
        }
    }

    /// Takes a parked span out, if this shard holds it. Any thread.
    #[inline]
    pub(crate) fn unpark(&self, id: u64) -> Option<SpanState> {
        if let Some(state) = self.park_slot.try_take(id) {
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

    /// The kind of a parked span, without taking it.
    pub(crate) fn parked_kind(&self, id: u64) -> Option<SpanKind> {
        if let Some(kind) = self.park_slot.kind_of(id) {
            return Some(kind);
        }
        if !self.has_parked.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.data).parked.get(&id).map(|state| state.kind)
    }

    /// Records a closed span. Owner thread only.
    ///
    /// `between_ticks` is set when a tick closes: its busy time is already taken, so moving the
    /// buffered records into the histograms now (once the ring is half full, so the lock is
    /// amortized over 64 records) is charged to no tick. (Draining whenever the
    /// ring filled up put a 0.6 µs step at p94 of the driver's tick latency.)
    #[inline]
    pub(crate) fn push(&self, record: Record, template: &Histogram<u64>, between_ticks: bool) {
        if self.ring.try_push(record) {
            if between_ticks && self.ring.half_full() {
                let data = match self.data.try_lock() {
                    Ok(data) => Some(data),
                    Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                    Err(TryLockError::WouldBlock) => None, // drained later
                };
                if let Some(mut data) = data {
                    self.drain_into(&mut data, template);
                }
            }
            return;
        }
        let mut data = lock(&self.data);
        self.drain_into(&mut data, template);
        if !self.ring.try_push(record) {
            data.record(record, template);
        }
    }

    /// Moves buffered records into the histograms; `data` is this shard's locked data.
    pub(crate) fn drain_into(&self, data: &mut ShardData, template: &Histogram<u64>) {
        self.ring.drain(|record| data.record(record, template));
    }

    /// Empties the shard for `run`; `data` is this shard's locked data.
    pub(crate) fn reset_for(&self, data: &mut ShardData, run: u64) {
        data.reset_for(run);
        self.ring.discard();
        self.park_slot.clear();
        self.has_parked.store(false, Ordering::Release);
    }
}

impl ShardData {
    /// Empties the data for `run`, keeping allocated histograms for reuse.
    fn reset_for(&mut self, run: u64) {
        self.run = run;
        for histogram in [&mut self.ticks, &mut self.unattributed]
            .into_iter()
            .flatten()
        {
            histogram.reset();
        }
        for component in self.components.iter_mut().flatten() {
            component.busy.reset();
            if let Some(wall) = component.wall.as_mut() {
                wall.reset();
            }
        }
        self.parked.clear();
        self.overflow = 0;
        self.missing_span_data = 0;
    }

    /// Ticks recorded for this run (excluding any still in the ring).
    pub(crate) fn tick_count(&self) -> u64 {
        self.ticks.as_ref().map_or(0, Histogram::len)
    }

    fn record(&mut self, record: Record, template: &Histogram<u64>) {
        match record.kind {
            0 => {}
            1 => {
                let ticks = self
                    .ticks
                    .get_or_insert_with(|| Histogram::new_from(template));
                self.overflow += record_clamped(ticks, record.busy_ns);
                let unattributed = self
                    .unattributed
                    .get_or_insert_with(|| Histogram::new_from(template));
                self.overflow += record_clamped(
                    unattributed,
                    record.busy_ns.saturating_sub(record.children_ns),
                );
            }
            kind => {
                let slot = usize::try_from(kind - 2).unwrap_or(usize::MAX);
                if self.components.len() <= slot {
                    if slot == usize::MAX {
                        return;
                    }
                    self.components.resize_with(slot + 1, || None);
                }
                let Some(entry) = self.components.get_mut(slot) else {
                    return;
                };
                let component = entry.get_or_insert_with(|| ComponentHistograms {
                    busy: Histogram::new_from(template),
                    wall: None,
                });
                self.overflow += record_clamped(&mut component.busy, record.busy_ns);
                if let Some(wall_ns) = record.wall_ns {
                    let wall = component
                        .wall
                        .get_or_insert_with(|| Histogram::new_from(template));
                    self.overflow += record_clamped(wall, wall_ns);
                }
            }
        }
    }
}

/// Records `value`, clamped into the histogram's range; returns 1 if it had to be clamped.
fn record_clamped(histogram: &mut Histogram<u64>, value: u64) -> u64 {
    let high = histogram.high();
    histogram.saturating_record(value.min(high));
    u64::from(value > high)
}
