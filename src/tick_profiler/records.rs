//! What a run recorded: histograms (per thread while running, merged by a harvest) and
//! counters. Every histogram is made from the collector's template, so they all merge exactly.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::allocation_records::AllocationHistograms;
use super::slow_ticks::SlowCandidates;
use super::thread_ticks::{ThreadKey, ThreadTicks};
use super::timing::{Closed, TickInfo};
use crate::allocations::AllocCounts;

/// Counts a run keeps beside its histograms; summed over threads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Ticks in the latency histograms (timed ticks; every tick with full sampling), warm-up
    /// ticks aside.
    pub(crate) ticks_timed: u64,
    /// Ticks recorded with every span inside them, warm-up ticks included.
    pub(crate) ticks_recorded: u64,
    /// Warm-up ticks (each thread's first ticks of the run), all measured, and of those the
    /// ones recorded with their components.
    pub(crate) warmup_ticks: u64,
    pub(crate) warmup_recorded: u64,
    /// Component spans recorded.
    pub(crate) components_recorded: u64,
    /// Spans recorded outside every tick.
    pub(crate) outside_recorded: u64,
    /// Spans whose own time the corrections exceeded (reported as 0).
    pub(crate) clamped: u64,
    /// Children whose parent had closed (or was in no state tickprof could reach) when they
    /// closed: their time is in no parent's.
    pub(crate) uncredited_children: u64,
    /// Values above the histograms' bound, clamped to it.
    pub(crate) overflow: u64,
    /// Odd span sequences: callbacks for a span in no state tickprof expects.
    pub(crate) missing_span_data: u64,
    /// Recorded ticks that are not whole: they outlived their window (the spans they held
    /// after it closed were not recorded, and their unattributed time is not known), or were
    /// still open when the run ended (their components were recorded without them).
    pub(crate) straddled: u64,
    /// Histograms made while recording, and the time making them took.
    pub(crate) setup: Setup,
}

/// Histograms made on the recording threads (on first use: a tick's, a new component name's),
/// and the time it took. A histogram is 270 KB at the default precision, written whole when
/// made, so a fresh one costs its pages' faults: a one-off, priced apart from the per-tick cost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Setup {
    pub(crate) histograms: u64,
    pub(crate) ns: u64,
}

impl Setup {
    /// A histogram from `template`, timed (two clock reads, beside a 270 KB write).
    #[cold]
    #[inline(never)]
    fn make(&mut self, make: impl FnOnce() -> Histogram<u64>) -> Histogram<u64> {
        let started = std::time::Instant::now();
        let histogram = make();
        self.histograms += 1;
        self.ns += u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        histogram
    }

    fn add(&mut self, other: &Setup) {
        self.histograms += other.histograms;
        self.ns = self.ns.saturating_add(other.ns);
    }
}

impl Counters {
    pub(crate) fn add(&mut self, other: &Counters) {
        self.ticks_timed += other.ticks_timed;
        self.ticks_recorded += other.ticks_recorded;
        self.warmup_ticks += other.warmup_ticks;
        self.warmup_recorded += other.warmup_recorded;
        self.components_recorded += other.components_recorded;
        self.outside_recorded += other.outside_recorded;
        self.clamped += other.clamped;
        self.uncredited_children += other.uncredited_children;
        self.overflow += other.overflow;
        self.missing_span_data += other.missing_span_data;
        self.straddled += other.straddled;
        self.setup.add(&other.setup);
    }
}

/// What was recorded of one component name.
#[derive(Debug, Clone)]
pub(crate) struct ComponentHistograms {
    /// Its whole time, net of instrumentation (its children's net times included).
    pub(crate) latency: Histogram<u64>,
    /// Its own time net of instrumentation (its children's excluded); `None` while every span
    /// recorded had no time in children (its own time is then `latency`): most components
    /// are leaves, and a histogram is 270 KB at the default precision.
    self_time: Option<Histogram<u64>>,
    /// First enter to last exit, for spans entered more than once.
    pub(crate) wall: Option<Histogram<u64>>,
    /// How many of its spans were direct children of their tick.
    pub(crate) direct: u64,
    /// Spans outside ticks of this name created, recorded or not (sampled out between windows,
    /// holding ticks, never entered, open at the end).
    pub(crate) seen: u64,
    /// What its spans allocated themselves (children excluded), after the warm-up.
    pub(crate) allocations: Option<AllocationHistograms>,
}

impl ComponentHistograms {
    fn new(template: &Histogram<u64>) -> Self {
        Self::with_latency(Histogram::new_from(template))
    }

    fn with_latency(latency: Histogram<u64>) -> Self {
        ComponentHistograms {
            latency,
            self_time: None,
            wall: None,
            direct: 0,
            seen: 0,
            allocations: None,
        }
    }

    /// [`new`](Self::new), on a recording thread: its making is counted in `setup`.
    fn new_timed(template: &Histogram<u64>, setup: &mut Setup) -> Self {
        Self::with_latency(setup.make(|| Histogram::new_from(template)))
    }

    fn add(&mut self, other: &ComponentHistograms, template: &Histogram<u64>) {
        // Same bounds everywhere, so `add` cannot fail; a failure would only lose counts that
        // are then missing from `count`, never a panic.
        if self.self_time.is_none() && other.self_time.is_some() {
            self.self_time = Some(self.latency.clone());
        }
        if let Some(mine) = self.self_time.as_mut() {
            let _ = mine.add(other.self_time());
        }
        let _ = self.latency.add(&other.latency);
        if let Some(part) = other.wall.as_ref().filter(|w| !w.is_empty()) {
            let _ = self
                .wall
                .get_or_insert_with(|| Histogram::new_from(template))
                .add(part);
        }
        self.direct += other.direct;
        self.seen += other.seen;
        AllocationHistograms::add(&mut self.allocations, &other.allocations);
    }

    /// How many histograms it holds.
    fn histograms(&self) -> usize {
        1 + usize::from(self.self_time.is_some()) + usize::from(self.wall.is_some())
    }

    /// Its own time per span (its children's excluded).
    pub(crate) fn self_time(&self) -> &Histogram<u64> {
        self.self_time.as_ref().unwrap_or(&self.latency)
    }

    /// A closed span's times; returns how many values were clamped into range.
    #[inline]
    fn record(&mut self, closed: &Closed, template: &Histogram<u64>, setup: &mut Setup) -> u64 {
        if self.self_time.is_none() && closed.self_ns != closed.net_ns {
            self.own_times_diverge(setup);
        }
        let mut overflow = record_in(&mut self.latency, closed.net_ns);
        overflow += match self.self_time.as_mut() {
            Some(self_time) => record_in(self_time, closed.self_ns),
            None => u64::from(closed.self_ns > self.latency.high()),
        };
        if let Some(wall) = closed.wall_ns {
            overflow += record(&mut self.wall, template, wall, setup);
        }
        overflow
    }

    /// The first span with time in children: own times so far were the whole times.
    #[cold]
    fn own_times_diverge(&mut self, setup: &mut Setup) {
        self.self_time = Some(setup.make(|| self.latency.clone()));
    }

    fn reset(&mut self) {
        clear(&mut self.latency);
        if let Some(self_time) = self.self_time.as_mut() {
            clear(self_time);
        }
        if let Some(wall) = self.wall.as_mut() {
            clear(wall);
        }
        self.direct = 0;
        self.seen = 0;
        AllocationHistograms::reset(&mut self.allocations);
    }
}

/// Threads whose ticks a run keeps apart; later ones add up in one entry.
pub(crate) const MAX_THREADS: usize = 256;

/// One thread's histograms (made on first use), components indexed by interned name slot.
#[derive(Debug, Default)]
pub(crate) struct ThreadRecords {
    pub(crate) warmup: Option<Histogram<u64>>,
    /// Ticks' net latency: timed ticks, or every tick with full sampling.
    pub(crate) latency: Option<Histogram<u64>>,
    /// The same ticks' busy time as measured.
    pub(crate) latency_raw: Option<Histogram<u64>>,
    /// The same ticks' first enter to last exit, when entered more than once.
    pub(crate) wall: Option<Histogram<u64>>,
    /// Recorded ticks' net latency: the basis of the components' shares.
    pub(crate) recorded: Option<Histogram<u64>>,
    /// Recorded ticks' own net time: what is in none of their components.
    pub(crate) unattributed: Option<Histogram<u64>>,
    pub(crate) components: Vec<Option<ComponentHistograms>>,
    /// Spans outside every tick, indexed by interned name slot.
    pub(crate) outside: Vec<Option<ComponentHistograms>>,
    /// What the ticks of `latency` allocated (with a `CountingAllocator`).
    pub(crate) tick_allocations: Option<AllocationHistograms>,
    pub(crate) counters: Counters,
    /// Timed ticks made on other threads and closed here, by maker: their count moves here
    /// with their record (see `ThreadTicks::moved`).
    pub(crate) moved_from: Vec<(ThreadKey, u64)>,
}

/// Makers a thread's records keep apart; later ones add up in the last entry.
const MOVED_FROM: usize = 16;

/// Records `value` (the histogram made on first use), clamped into the histogram's range;
/// returns 1 if it had to be clamped.
#[inline]
fn record(
    histogram: &mut Option<Histogram<u64>>,
    template: &Histogram<u64>,
    value: u64,
    setup: &mut Setup,
) -> u64 {
    if histogram.is_none() {
        *histogram = Some(setup.make(|| Histogram::new_from(template)));
    }
    histogram
        .as_mut()
        .map_or(0, |histogram| record_in(histogram, value))
}

/// Empties `histogram` unless it is (an empty one is left untouched: a reset writes all of
/// it).
fn clear(histogram: &mut Histogram<u64>) {
    if !histogram.is_empty() {
        histogram.reset();
    }
}

fn record_in(histogram: &mut Histogram<u64>, value: u64) -> u64 {
    let high = histogram.high();
    histogram.saturating_record(value.min(high));
    u64::from(value > high)
}

impl ThreadRecords {
    /// Empties every histogram and counter, keeping the allocations.
    pub(crate) fn reset(&mut self) {
        for h in [
            &mut self.warmup,
            &mut self.latency,
            &mut self.latency_raw,
            &mut self.wall,
            &mut self.recorded,
            &mut self.unattributed,
        ]
        .into_iter()
        .flatten()
        {
            clear(h);
        }
        self.components
            .iter_mut()
            .chain(self.outside.iter_mut())
            .flatten()
            .for_each(ComponentHistograms::reset);
        AllocationHistograms::reset(&mut self.tick_allocations);
        self.counters = Counters::default();
        self.moved_from.clear();
    }

    /// A timed tick `maker` made closed here.
    #[cold]
    pub(crate) fn tick_moved_from(&mut self, maker: ThreadKey) {
        let full = self.moved_from.len() >= MOVED_FROM;
        match self.moved_from.iter_mut().find(|(key, _)| *key == maker) {
            Some((_, n)) => *n += 1,
            None if full => {
                if let Some((key, n)) = self.moved_from.last_mut() {
                    *key = ThreadKey::others();
                    *n += 1;
                }
            }
            None => self.moved_from.push((maker, 1)),
        }
    }

    /// How many histograms it holds (made on first use, kept by `reset`).
    pub(crate) fn histograms_made(&self) -> usize {
        let ticks = [
            &self.warmup,
            &self.latency,
            &self.latency_raw,
            &self.wall,
            &self.recorded,
            &self.unattributed,
        ]
        .into_iter()
        .filter(|h| h.is_some())
        .count();
        let named = self
            .components
            .iter()
            .chain(&self.outside)
            .flatten()
            .map(ComponentHistograms::histograms)
            .sum::<usize>();
        ticks + named
    }

    /// A closed tick (timed or recorded). `full`: every tick is recorded, and recorded ticks
    /// are the latency histogram's.
    pub(crate) fn record_tick(
        &mut self,
        closed: &Closed,
        tick: &TickInfo,
        full: bool,
        whole: bool,
        template: &Histogram<u64>,
    ) {
        let c = &mut self.counters;
        let mut overflow = 0;
        if tick.warmup {
            c.warmup_ticks += 1;
            c.warmup_recorded += u64::from(tick.recorded);
            overflow += record(&mut self.warmup, template, closed.net_ns, &mut c.setup);
        } else if !tick.recorded || full {
            c.ticks_timed += 1;
            overflow += record(&mut self.latency, template, closed.net_ns, &mut c.setup);
            overflow += record(
                &mut self.latency_raw,
                template,
                closed.busy_ns,
                &mut c.setup,
            );
            if let Some(wall) = closed.wall_ns {
                overflow += record(&mut self.wall, template, wall, &mut c.setup);
            }
        }
        if tick.recorded {
            c.ticks_recorded += 1;
            overflow += record(&mut self.recorded, template, closed.net_ns, &mut c.setup);
            if whole {
                overflow += record(
                    &mut self.unattributed,
                    template,
                    closed.self_ns,
                    &mut c.setup,
                );
            }
        }
        c.clamped += u64::from(closed.clamped);
        c.overflow += overflow;
    }

    /// What a closed tick allocated (its own code, components excluded): kept for the ticks
    /// `latency` holds (timed ones, or every one with full sampling), warm-up ticks aside.
    pub(crate) fn record_tick_allocations(
        &mut self,
        tick: &TickInfo,
        full: bool,
        allocations: AllocCounts,
    ) {
        if !tick.warmup && (!tick.recorded || full) {
            self.counters.overflow +=
                AllocationHistograms::record(&mut self.tick_allocations, allocations);
        }
    }

    /// A closed component of name `slot`; `direct`: a direct child of its tick.
    pub(crate) fn record_component(
        &mut self,
        closed: &Closed,
        slot: u32,
        direct: bool,
        allocations: Option<AllocCounts>,
        template: &Histogram<u64>,
    ) {
        let setup = &mut self.counters.setup;
        let Some(component) = named(&mut self.components, slot, template, setup) else {
            return;
        };
        let mut overflow = component.record(closed, template, setup);
        component.direct += u64::from(direct);
        if let Some(counts) = allocations {
            overflow += AllocationHistograms::record(&mut component.allocations, counts);
        }
        self.counters.components_recorded += 1;
        self.counters.clamped += u64::from(closed.clamped);
        self.counters.overflow += overflow;
    }

    /// A closed span of name `slot` that ran outside every tick.
    pub(crate) fn record_outside(&mut self, closed: &Closed, slot: u32, template: &Histogram<u64>) {
        let setup = &mut self.counters.setup;
        let Some(outside) = named(&mut self.outside, slot, template, setup) else {
            return;
        };
        self.counters.overflow += outside.record(closed, template, setup);
        self.counters.outside_recorded += 1;
        self.counters.clamped += u64::from(closed.clamped);
    }

    /// A span of name `slot` created outside every tick (recorded or not).
    pub(crate) fn outside_seen(&mut self, slot: u32, template: &Histogram<u64>) {
        if let Some(outside) = named(&mut self.outside, slot, template, &mut self.counters.setup) {
            outside.seen += 1;
        }
    }
}

/// The histograms of name `slot` in `list` (made on first use).
#[inline]
fn named<'a>(
    list: &'a mut Vec<Option<ComponentHistograms>>,
    slot: u32,
    template: &Histogram<u64>,
    setup: &mut Setup,
) -> Option<&'a mut ComponentHistograms> {
    let slot = usize::try_from(slot).ok()?;
    if list.len() <= slot {
        list.resize_with(slot + 1, || None);
    }
    let entry = list.get_mut(slot)?;
    if entry.is_none() {
        make_named(entry, template, setup);
    }
    entry.as_mut()
}

/// A name's first record on this thread: its histograms (out of line, off the hot path).
#[cold]
#[inline(never)]
fn make_named(
    entry: &mut Option<ComponentHistograms>,
    template: &Histogram<u64>,
    setup: &mut Setup,
) {
    *entry = Some(ComponentHistograms::new_timed(template, setup));
}

/// Everything the layer recorded during one run (or part of one), merged over all threads.
#[derive(Debug, Clone)]
pub(crate) struct RunRecords {
    pub(crate) warmup: Histogram<u64>,
    pub(crate) latency: Histogram<u64>,
    pub(crate) latency_raw: Histogram<u64>,
    pub(crate) wall: Histogram<u64>,
    pub(crate) recorded: Histogram<u64>,
    pub(crate) unattributed: Histogram<u64>,
    /// Per component name.
    pub(crate) components: BTreeMap<String, ComponentHistograms>,
    /// Per name of a span outside every tick.
    pub(crate) outside: BTreeMap<String, ComponentHistograms>,
    /// What the ticks of `latency` allocated (with a `CountingAllocator`).
    pub(crate) tick_allocations: Option<AllocationHistograms>,
    pub(crate) counters: Counters,
    /// Ticks counted (exact), over all threads.
    pub(crate) ticks_counted: u64,
    /// The slowest ticks over all threads.
    pub(crate) slow: SlowCandidates,
    /// Each thread's ticks, for its time inside ticks.
    pub(crate) threads: BTreeMap<ThreadKey, ThreadTicks>,
}

impl RunRecords {
    pub(crate) fn new(template: &Histogram<u64>) -> Self {
        RunRecords {
            warmup: Histogram::new_from(template),
            latency: Histogram::new_from(template),
            latency_raw: Histogram::new_from(template),
            wall: Histogram::new_from(template),
            recorded: Histogram::new_from(template),
            unattributed: Histogram::new_from(template),
            components: BTreeMap::new(),
            outside: BTreeMap::new(),
            tick_allocations: None,
            counters: Counters::default(),
            ticks_counted: 0,
            slow: SlowCandidates::default(),
            threads: BTreeMap::new(),
        }
    }

    fn histograms_mut(&mut self) -> [&mut Histogram<u64>; 6] {
        [
            &mut self.warmup,
            &mut self.latency,
            &mut self.latency_raw,
            &mut self.wall,
            &mut self.recorded,
            &mut self.unattributed,
        ]
    }

    /// Adds another part of the same run (an earlier or later harvest).
    pub(crate) fn add(&mut self, other: &RunRecords, template: &Histogram<u64>) {
        let parts = [
            &other.warmup,
            &other.latency,
            &other.latency_raw,
            &other.wall,
            &other.recorded,
            &other.unattributed,
        ];
        for (sum, part) in self.histograms_mut().into_iter().zip(parts) {
            // Same bounds everywhere, so `add` cannot fail.
            let _ = sum.add(part);
        }
        for (mine, theirs) in [
            (&mut self.components, &other.components),
            (&mut self.outside, &other.outside),
        ] {
            for (name, component) in theirs {
                mine.entry(name.clone())
                    .or_insert_with(|| ComponentHistograms::new(template))
                    .add(component, template);
            }
        }
        AllocationHistograms::add(&mut self.tick_allocations, &other.tick_allocations);
        self.counters.add(&other.counters);
        self.ticks_counted += other.ticks_counted;
        self.slow.merge(other.slow.clone());
        for (thread, ticks) in &other.threads {
            self.add_thread_ticks(thread, ticks);
        }
    }

    /// Adds `ticks` to `thread`'s, or to the entry of other threads once [`MAX_THREADS`] are
    /// kept apart.
    pub(crate) fn add_thread_ticks(&mut self, thread: &ThreadKey, ticks: &ThreadTicks) {
        let key = if self.threads.len() < MAX_THREADS || self.threads.contains_key(thread) {
            thread.clone()
        } else {
            ThreadKey::others()
        };
        self.threads.entry(key).or_default().add(ticks);
    }

    /// Adds one thread's records; `names` maps slots to span names.
    pub(crate) fn add_thread(
        &mut self,
        thread: &ThreadRecords,
        names: &[&'static str],
        template: &Histogram<u64>,
    ) {
        let parts = [
            &thread.warmup,
            &thread.latency,
            &thread.latency_raw,
            &thread.wall,
            &thread.recorded,
            &thread.unattributed,
        ];
        for (sum, part) in self.histograms_mut().into_iter().zip(parts) {
            if let Some(part) = part {
                let _ = sum.add(part);
            }
        }
        for (mine, theirs) in [
            (&mut self.components, &thread.components),
            (&mut self.outside, &thread.outside),
        ] {
            for (slot, component) in theirs.iter().enumerate() {
                let (Some(component), Some(name)) = (component, names.get(slot)) else {
                    continue;
                };
                if component.latency.is_empty() && component.seen == 0 {
                    continue;
                }
                mine.entry((*name).to_owned())
                    .or_insert_with(|| ComponentHistograms::new(template))
                    .add(component, template);
            }
        }
        AllocationHistograms::add(&mut self.tick_allocations, &thread.tick_allocations);
        self.counters.add(&thread.counters);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::tick_profiler::timing::SpanKind;

    fn closed(net_ns: u64, self_ns: u64, busy_ns: u64) -> Closed {
        Closed {
            kind: SpanKind::Component {
                slot: 0,
                parent: 0,
                direct: true,
                tick: 0,
            },
            fields: None,
            entered: true,
            nested: true,
            busy_ns,
            self_ns,
            net_ns,
            wall_ns: None,
            start_raw: 0,
            clamped: false,
            allocations: AllocCounts::default(),
            self_allocations: AllocCounts::default(),
        }
    }

    fn tick(recorded: bool, warmup: bool) -> TickInfo {
        TickInfo {
            recorded,
            warmup,
            opens_window: false,
            window: 0,
            ordinal: 1,
        }
    }

    #[test]
    fn ticks_go_where_their_decision_says() {
        let template = Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        let mut r = ThreadRecords::default();
        r.record_tick(
            &closed(500, 500, 520),
            &tick(false, false),
            false,
            true,
            &template,
        );
        r.record_tick(
            &closed(400, 30, 900),
            &tick(true, false),
            false,
            true,
            &template,
        );
        r.record_tick(
            &closed(9_000, 9_000, 9_000),
            &tick(false, true),
            false,
            true,
            &template,
        );
        let c = r.counters;
        assert_eq!((c.ticks_timed, c.ticks_recorded, c.warmup_ticks), (1, 1, 1));
        assert_eq!(r.latency.as_ref().unwrap().len(), 1);
        let max = |h: &Option<Histogram<u64>>| h.as_ref().map(|h| h.lowest_equivalent(h.max()));
        assert_eq!(max(&r.recorded), Some(400));
        assert_eq!(max(&r.unattributed), Some(30));
        assert_eq!(max(&r.warmup), Some(9_000));
        // A recorded tick that outlived its window: recorded, its unattributed time unknown.
        r.record_tick(
            &closed(700, 300, 900),
            &tick(true, false),
            false,
            false,
            &template,
        );
        assert_eq!(r.recorded.as_ref().unwrap().len(), 2);
        assert_eq!(r.unattributed.as_ref().unwrap().len(), 1);
        // Full sampling: a recorded tick is the latency histogram's too.
        r.record_tick(
            &closed(400, 30, 900),
            &tick(true, false),
            true,
            true,
            &template,
        );
        assert_eq!(r.latency.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn a_leaf_keeps_one_histogram_and_own_times_split_off_at_the_first_child() {
        let template = Histogram::new_with_bounds(1, 1_000_000, 3).unwrap();
        let mut leaf = ThreadRecords::default();
        leaf.record_component(&closed(100, 100, 100), 0, true, None, &template);
        leaf.record_component(&closed(300, 300, 300), 0, true, None, &template);
        let only = leaf.components[0].as_ref().unwrap();
        assert!(only.self_time.is_none(), "a leaf's own time is its latency");
        assert_eq!(only.self_time().len(), 2);
        // A span with 150 ns in children: the own times so far are kept, this one's added.
        let mut parent = ThreadRecords::default();
        parent.record_component(&closed(100, 100, 100), 0, true, None, &template);
        parent.record_component(&closed(300, 300, 300), 0, true, None, &template);
        parent.record_component(&closed(200, 50, 200), 0, true, None, &template);
        let own = parent.components[0].as_ref().unwrap().self_time();
        assert_eq!((own.len(), own.min(), own.max()), (3, 50, 300));
        // Merged: the leaf thread's latencies are its own times.
        let mut run = RunRecords::new(&template);
        run.add_thread(&leaf, &["c"], &template);
        run.add_thread(&parent, &["c"], &template);
        let merged = &run.components["c"];
        assert_eq!(merged.latency.len(), 5);
        let own = merged.self_time();
        assert_eq!((own.len(), own.min(), own.max()), (5, 50, 300));
        assert_eq!(own.count_at(100), 2);
    }

    #[test]
    fn threads_merge_by_name_and_values_above_the_bound_are_counted() {
        let template = Histogram::new_with_bounds(1, 1_000, 3).unwrap();
        let mut a = ThreadRecords::default();
        a.record_component(&closed(100, 40, 100), 1, true, None, &template);
        a.record_component(&closed(5_000, 40, 5_000), 1, false, None, &template);
        let mut run = RunRecords::new(&template);
        run.add_thread(&a, &["parse", "strategy"], &template);
        let strategy = &run.components["strategy"];
        assert_eq!(strategy.latency.len(), 2);
        assert_eq!(strategy.self_time().max(), 40);
        assert_eq!(strategy.direct, 1);
        assert_eq!(run.counters.overflow, 1);
        assert_eq!(run.counters.components_recorded, 2);
    }
}
