//! What a run recorded: histograms (per thread while running, merged at stop) and counters.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::record_ring::{Record, RecordKind};
use super::slow_ticks::SlowCandidates;

/// Counts a run keeps beside its histograms; summed over threads at stop.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Ticks in the latency histograms (timed ticks; every tick with full sampling), warm-up
    /// ticks aside.
    pub(crate) ticks_timed: u64,
    /// Warm-up ticks (each thread's first ticks of the run), timed or recorded: their latency
    /// goes to its own histogram.
    pub(crate) warmup_ticks: u64,
    /// Of those, the ones recorded with their components.
    pub(crate) warmup_recorded: u64,
    /// Ticks recorded with every span inside them.
    pub(crate) ticks_recorded: u64,
    /// Component spans recorded.
    pub(crate) components_recorded: u64,
    /// Spans tickprof created inside recorded ticks' intervals (what the recording cost).
    pub(crate) nested_spans: u64,
    /// Of those, the ones recorded ticks' unattributed times were compensated for.
    pub(crate) direct_spans: u64,
    /// The recorded ticks' raw busy time, summed (against the timed ticks' mean, it measures
    /// what a nested span costs in this very run).
    pub(crate) recorded_raw_ns: u64,
    /// Timed ticks left out because the recording window switched while they ran (another
    /// thread opened or closed it: their children were recorded for part of the tick only).
    pub(crate) straddled: u64,
    /// Compensations larger than the measured time (the net is clamped to 0).
    pub(crate) clamped: u64,
    /// Children that exited while their parent was not entered on the same thread (a worker
    /// span with an explicit parent): their time is not subtracted from the parent's.
    pub(crate) uncredited_children: u64,
    /// Values above the histogram bound, clamped to it.
    pub(crate) overflow: u64,
    /// Callbacks for spans the recorder had no state for, and odd span sequences.
    pub(crate) missing_span_data: u64,
}

impl Counters {
    pub(crate) fn add(&mut self, other: &Counters) {
        self.ticks_timed += other.ticks_timed;
        self.warmup_ticks += other.warmup_ticks;
        self.warmup_recorded += other.warmup_recorded;
        self.ticks_recorded += other.ticks_recorded;
        self.components_recorded += other.components_recorded;
        self.nested_spans += other.nested_spans;
        self.direct_spans += other.direct_spans;
        self.recorded_raw_ns = self.recorded_raw_ns.saturating_add(other.recorded_raw_ns);
        self.straddled += other.straddled;
        self.clamped += other.clamped;
        self.uncredited_children += other.uncredited_children;
        self.overflow += other.overflow;
        self.missing_span_data += other.missing_span_data;
    }
}

/// What was recorded of one component name: net busy and (for spans entered more than once)
/// wall time, and two sums the report's estimates need.
#[derive(Debug, Clone)]
pub(crate) struct ComponentHistograms {
    pub(crate) net: Histogram<u64>,
    pub(crate) wall: Option<Histogram<u64>>,
    /// Spans recorded inside this name's spans, summed (their compensation).
    pub(crate) nested: u64,
    /// The spans that were direct children of their tick, and their net busy time summed:
    /// what the tick's own time is estimated net of (`Report::unattributed_mean_ns`).
    pub(crate) direct_count: u64,
    pub(crate) direct_net_ns: u64,
}

impl ComponentHistograms {
    fn new(template: &Histogram<u64>) -> Self {
        ComponentHistograms {
            net: Histogram::new_from(template),
            wall: None,
            nested: 0,
            direct_count: 0,
            direct_net_ns: 0,
        }
    }

    fn add(&mut self, other: &ComponentHistograms, template: &Histogram<u64>) {
        // Same bounds everywhere, so `add` cannot fail; a failure would only lose counts
        // that are then missing from `count`, never a panic.
        let _ = self.net.add(&other.net);
        if let Some(part) = other.wall.as_ref().filter(|w| !w.is_empty()) {
            let _ = self
                .wall
                .get_or_insert_with(|| Histogram::new_from(template))
                .add(part);
        }
        self.nested += other.nested;
        self.direct_count += other.direct_count;
        self.direct_net_ns = self.direct_net_ns.saturating_add(other.direct_net_ns);
    }
}

/// One thread's histograms, components indexed by interned name slot.
#[derive(Debug, Default)]
pub(crate) struct ThreadHistograms {
    /// The thread's first tick records of the run still to go to `warmup` (its warm-up ticks
    /// are all timed or recorded, so they are its first tick records).
    warmup_left: u64,
    pub(crate) warmup: Option<Histogram<u64>>,
    pub(crate) ticks_net: Option<Histogram<u64>>,
    pub(crate) ticks_raw: Option<Histogram<u64>>,
    pub(crate) ticks_wall: Option<Histogram<u64>>,
    pub(crate) unattributed: Option<Histogram<u64>>,
    pub(crate) components: Vec<Option<ComponentHistograms>>,
}

impl ThreadHistograms {
    /// Exchanges every histogram and sum with `other`'s, keeping this thread's warm-up
    /// progress: a harvest swaps an emptied spare in and takes what was recorded out, in O(1)
    /// under the shard mutex (the recorder/interval model of HdrHistogram).
    pub(crate) fn swap_records(&mut self, other: &mut ThreadHistograms) {
        let warmup_left = self.warmup_left;
        std::mem::swap(self, other);
        other.warmup_left = 0;
        self.warmup_left = warmup_left;
    }

    /// The next `warmup_ticks` tick records are a new owner thread's warm-up.
    pub(crate) fn begin_warmup(&mut self, warmup_ticks: u64) {
        self.warmup_left = warmup_ticks;
    }

    /// Empties every histogram, keeping the allocations for the next run, whose first
    /// `warmup_ticks` tick records are warm-up.
    pub(crate) fn reset(&mut self, warmup_ticks: u64) {
        self.begin_warmup(warmup_ticks);
        for h in [
            &mut self.warmup,
            &mut self.ticks_net,
            &mut self.ticks_raw,
            &mut self.ticks_wall,
            &mut self.unattributed,
        ]
        .into_iter()
        .flatten()
        {
            h.reset();
        }
        for c in self.components.iter_mut().flatten() {
            c.nested = 0;
            c.direct_count = 0;
            c.direct_net_ns = 0;
            c.net.reset();
            if let Some(wall) = c.wall.as_mut() {
                wall.reset();
            }
        }
    }

    /// Adds one closed span and counts it; returns how many values had to be clamped to the
    /// histograms' bound.
    pub(crate) fn record(
        &mut self,
        record: &Record,
        kind: RecordKind,
        counters: &mut Counters,
        template: &Histogram<u64>,
    ) -> u64 {
        let new = || Histogram::new_from(template);
        let mut overflow = 0;
        match kind {
            RecordKind::TimedTick | RecordKind::RecordedTick { .. } => {
                let (latency, recorded, nested, direct) = match kind {
                    RecordKind::RecordedTick {
                        latency,
                        nested,
                        direct,
                    } => (latency, true, nested, direct),
                    _ => (true, false, 0, 0),
                };
                if self.warmup_left > 0 {
                    // A warm-up tick (timed or recorded: none is untimed): its net busy time,
                    // compensated like the timed ticks', goes to the warm-up histogram.
                    self.warmup_left -= 1;
                    counters.warmup_ticks += 1;
                    counters.warmup_recorded += u64::from(recorded);
                    overflow += record_clamped(self.warmup.get_or_insert_with(new), record.net_ns);
                } else if latency {
                    counters.ticks_timed += 1;
                    overflow +=
                        record_clamped(self.ticks_net.get_or_insert_with(new), record.net_ns);
                    overflow +=
                        record_clamped(self.ticks_raw.get_or_insert_with(new), record.raw_ns);
                    if let Some(wall_ns) = record.wall_ns {
                        overflow +=
                            record_clamped(self.ticks_wall.get_or_insert_with(new), wall_ns);
                    }
                }
                if recorded {
                    counters.ticks_recorded += 1;
                    counters.nested_spans += u64::from(nested);
                    counters.direct_spans += u64::from(direct);
                    counters.recorded_raw_ns =
                        counters.recorded_raw_ns.saturating_add(record.raw_ns);
                    if let Some(unattributed) = record.extra_ns {
                        overflow +=
                            record_clamped(self.unattributed.get_or_insert_with(new), unattributed);
                    }
                }
            }
            RecordKind::TickFields => {}
            RecordKind::Component {
                slot,
                nested,
                direct,
            } => {
                counters.components_recorded += 1;
                let Ok(slot) = usize::try_from(slot) else {
                    return 0;
                };
                if self.components.len() <= slot {
                    self.components.resize_with(slot + 1, || None);
                }
                let Some(entry) = self.components.get_mut(slot) else {
                    return 0;
                };
                let component = entry.get_or_insert_with(|| ComponentHistograms::new(template));
                component.nested += u64::from(nested);
                if direct {
                    component.direct_count += 1;
                    component.direct_net_ns = component.direct_net_ns.saturating_add(record.net_ns);
                }
                overflow += record_clamped(&mut component.net, record.net_ns);
                if let Some(wall_ns) = record.wall_ns {
                    overflow += record_clamped(component.wall.get_or_insert_with(new), wall_ns);
                }
            }
        }
        overflow
    }
}

/// Records `value`, clamped into the histogram's range; returns 1 if it had to be clamped.
fn record_clamped(histogram: &mut Histogram<u64>, value: u64) -> u64 {
    let high = histogram.high();
    histogram.saturating_record(value.min(high));
    u64::from(value > high)
}

/// Everything the layer recorded during one run (or part of one), merged over all threads.
#[derive(Debug, Clone)]
pub(crate) struct RunRecords {
    /// The warm-up ticks' net busy time.
    pub(crate) warmup: Histogram<u64>,
    pub(crate) ticks_net: Histogram<u64>,
    pub(crate) ticks_raw: Histogram<u64>,
    pub(crate) ticks_wall: Histogram<u64>,
    pub(crate) unattributed: Histogram<u64>,
    /// Per component name.
    pub(crate) components: BTreeMap<String, ComponentHistograms>,
    pub(crate) counters: Counters,
    /// Ticks counted (exact), over all threads.
    pub(crate) ticks_counted: u64,
    /// The slowest ticks over all threads.
    pub(crate) slow: SlowCandidates,
}

impl RunRecords {
    pub(crate) fn new(template: &Histogram<u64>) -> Self {
        RunRecords {
            warmup: Histogram::new_from(template),
            ticks_net: Histogram::new_from(template),
            ticks_raw: Histogram::new_from(template),
            ticks_wall: Histogram::new_from(template),
            unattributed: Histogram::new_from(template),
            components: BTreeMap::new(),
            counters: Counters::default(),
            ticks_counted: 0,
            slow: SlowCandidates::default(),
        }
    }

    /// Adds another part of the same run (an earlier or later harvest).
    pub(crate) fn add(&mut self, other: &RunRecords, template: &Histogram<u64>) {
        // Same bounds everywhere, so `add` cannot fail (see `add_thread`).
        for (sum, part) in [
            (&mut self.warmup, &other.warmup),
            (&mut self.ticks_net, &other.ticks_net),
            (&mut self.ticks_raw, &other.ticks_raw),
            (&mut self.ticks_wall, &other.ticks_wall),
            (&mut self.unattributed, &other.unattributed),
        ] {
            let _ = sum.add(part);
        }
        for (name, component) in &other.components {
            self.components
                .entry(name.clone())
                .or_insert_with(|| ComponentHistograms::new(template))
                .add(component, template);
        }
        self.counters.add(&other.counters);
        self.ticks_counted += other.ticks_counted;
        self.slow.merge(other.slow.clone());
    }

    /// Adds one thread's histograms; `names` maps slots to span names.
    pub(crate) fn add_thread(
        &mut self,
        thread: &ThreadHistograms,
        names: &[&'static str],
        template: &Histogram<u64>,
    ) {
        // Same bounds everywhere, so `add` cannot fail; a failure would only lose counts
        // that are then missing from `count`, never a panic.
        for (sum, part) in [
            (&mut self.warmup, &thread.warmup),
            (&mut self.ticks_net, &thread.ticks_net),
            (&mut self.ticks_raw, &thread.ticks_raw),
            (&mut self.ticks_wall, &thread.ticks_wall),
            (&mut self.unattributed, &thread.unattributed),
        ] {
            if let Some(part) = part {
                let _ = sum.add(part);
            }
        }
        for (slot, component) in thread.components.iter().enumerate() {
            let (Some(component), Some(name)) = (component, names.get(slot)) else {
                continue;
            };
            if component.net.is_empty() {
                continue;
            }
            self.components
                .entry((*name).to_owned())
                .or_insert_with(|| ComponentHistograms::new(template))
                .add(component, template);
        }
    }
}
