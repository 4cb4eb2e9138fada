//! One thread's histograms and parked spans, behind a mutex only that thread takes on the hot
//! path (uncontended), so `stop_profiling` can merge every thread's records without a global lock
//! per span.

use hdrhistogram::Histogram;
use rustc_hash::FxHashMap;

use super::span_state::{SpanKind, SpanState};

/// Busy and wall histograms of one component name.
#[derive(Debug)]
pub(crate) struct ComponentHistograms {
    pub(crate) busy: Histogram<u64>,
    pub(crate) wall: Option<Histogram<u64>>,
}

/// Records of one thread (or of threads that reused it after the first one exited).
#[derive(Debug)]
pub(crate) struct Shard {
    /// The run these records belong to; records of another run are never mixed in.
    pub(crate) run: u64,
    pub(crate) ticks: Option<Histogram<u64>>,
    pub(crate) unattributed: Option<Histogram<u64>>,
    pub(crate) components: Vec<Option<ComponentHistograms>>,
    /// The most recently exited span: a sync span is closed right after its exit, so most
    /// closes are found here without hashing.
    pub(crate) last_parked: Option<(u64, SpanState)>,
    /// Other spans exited but not closed (async spans between polls, long-lived spans).
    pub(crate) parked: FxHashMap<u64, SpanState>,
    pub(crate) overflow: u64,
    pub(crate) missing_span_data: u64,
}

impl Shard {
    pub(crate) fn new() -> Self {
        Shard {
            run: 0,
            ticks: None,
            unattributed: None,
            components: Vec::new(),
            last_parked: None,
            parked: FxHashMap::default(),
            overflow: 0,
            missing_span_data: 0,
        }
    }

    /// Empties the shard for `run`, keeping allocated histograms for reuse.
    pub(crate) fn reset_for(&mut self, run: u64) {
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
        self.last_parked = None;
        self.parked.clear();
        self.overflow = 0;
        self.missing_span_data = 0;
    }

    /// Parks an exited span until it is entered again or closed.
    pub(crate) fn park(&mut self, id: u64, state: SpanState) {
        if let Some((old_id, old_state)) = self.last_parked.replace((id, state)) {
            self.parked.insert(old_id, old_state);
        }
    }

    /// Takes a parked span out, if this shard holds it.
    pub(crate) fn unpark(&mut self, id: u64) -> Option<SpanState> {
        match self.last_parked {
            Some((parked_id, state)) if parked_id == id => {
                self.last_parked = None;
                Some(state)
            }
            _ if self.parked.is_empty() => None,
            _ => self.parked.remove(&id),
        }
    }

    /// Ticks recorded in this shard for its run.
    pub(crate) fn tick_count(&self) -> u64 {
        self.ticks.as_ref().map_or(0, Histogram::len)
    }

    /// Records a closed span; durations already converted to ns.
    pub(crate) fn record(
        &mut self,
        kind: SpanKind,
        busy_ns: u64,
        children_ns: u64,
        wall_ns: Option<u64>,
        template: &Histogram<u64>,
    ) {
        match kind {
            SpanKind::Tick => {
                let ticks = self.ticks.get_or_insert_with(|| Histogram::new_from(template));
                self.overflow += record_clamped(ticks, busy_ns);
                let unattributed = self.unattributed.get_or_insert_with(|| Histogram::new_from(template));
                self.overflow += record_clamped(unattributed, busy_ns.saturating_sub(children_ns));
            }
            SpanKind::Component { slot } => {
                let slot = slot as usize;
                if self.components.len() <= slot {
                    self.components.resize_with(slot + 1, || None);
                }
                let Some(entry) = self.components.get_mut(slot) else {
                    return;
                };
                let component = entry.get_or_insert_with(|| ComponentHistograms {
                    busy: Histogram::new_from(template),
                    wall: None,
                });
                self.overflow += record_clamped(&mut component.busy, busy_ns);
                if let Some(wall_ns) = wall_ns {
                    let wall = component.wall.get_or_insert_with(|| Histogram::new_from(template));
                    self.overflow += record_clamped(wall, wall_ns);
                }
            }
            SpanKind::Ignored => {}
        }
    }
}

/// Records `value`, clamped into the histogram's range; returns 1 if it had to be clamped.
fn record_clamped(histogram: &mut Histogram<u64>, value: u64) -> u64 {
    let high = histogram.high();
    histogram.saturating_record(value.min(high));
    u64::from(value > high)
}
