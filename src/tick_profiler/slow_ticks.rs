//! The slowest ticks of one thread (and, merged, of a run): a bounded top-K by latency, with
//! the timeline of every recorded one.
//!
//! Filled where a closed span is recorded (under its thread's home mutex). Per tick the cost is
//! one comparison with the current K-th latency; a component is copied into a bounded buffer
//! of the tick being assembled (the components of a tick close before it, on its thread). Only
//! a tick that enters the top-K allocates (its timeline): with latencies in random order that
//! is about K × ln(ticks / K) times in a run, not per tick.
//!
//! Kept apart from the histograms, with its own [`take`](ThreadSlowTicks::take) and
//! [`SlowCandidates::merge`], so that snapshots (harvesting shards during a run) can take the
//! top-K so far the way they take the histograms.
//!
//! Warm-up ticks (ordinal ≤ `warmup_ticks`) are left out: a thread's first ticks are slow for
//! reasons the steady loop does not have (cold caches, lazy initialization), and their latency
//! is reported apart. Components closed on another thread than their tick's are not in its
//! timeline.

use std::sync::Arc;

use super::thread_ticks::ThreadKey;
use super::tick_fields::TickFields;
use super::timing::{Closed, TickInfo};
use super::window::COLD_ALLOWANCE_NS;
use crate::report::{SlowTick, SlowestTicks, TickField, TimelineSpan};

/// Components of one tick kept for its timeline; more are counted, not kept.
pub(crate) const TIMELINE_CAPACITY: usize = 256;

/// One component span of a slow tick, as recorded (raw clock units for its position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimelineEntry {
    /// The interned name's slot.
    pub(crate) slot: u32,
    pub(crate) start_raw: u64,
    /// Busy time as measured, and net of the instrumentation inside it.
    pub(crate) raw_ns: u64,
    pub(crate) net_ns: u64,
    /// First enter to last exit, when entered more than once.
    pub(crate) wall_ns: Option<u64>,
    /// 1 for the tick's direct children.
    pub(crate) depth: u32,
    /// Index of its parent in the timeline (`None`: the tick).
    pub(crate) parent: Option<u32>,
}

/// A component record waiting for its tick to close.
#[derive(Debug, Clone, Copy)]
struct Pending {
    slot: u32,
    id: u64,
    parent: u64,
    /// The tick it is inside.
    tick: u64,
    start_raw: u64,
    raw_ns: u64,
    net_ns: u64,
    wall_ns: Option<u64>,
}

/// One slow tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlowCandidate {
    /// The n-th tick its thread started in the run (0: unknown).
    pub(crate) ordinal: u64,
    /// The thread's name (or id) when it ran.
    pub(crate) thread: Arc<str>,
    /// The thread's kernel id, if known.
    pub(crate) tid: Option<u32>,
    /// The clock (raw units) at its first enter.
    pub(crate) start_raw: u64,
    /// Busy time net of instrumentation (what the latency histograms hold), and as measured.
    pub(crate) net_ns: u64,
    pub(crate) raw_ns: u64,
    /// First enter to last exit, when entered more than once.
    pub(crate) wall_ns: Option<u64>,
    /// Whether its components were recorded (it has a timeline).
    pub(crate) recorded: bool,
    /// Its components in order of start (empty unless recorded).
    pub(crate) timeline: Vec<TimelineEntry>,
    /// Components recorded in it but not in `timeline` (beyond the capacity).
    pub(crate) timeline_dropped: u64,
    /// The tick span's first fields, if it had any and its thread kept them.
    pub(crate) fields: Option<TickFields>,
}

/// A bounded set of the slowest ticks (by net latency); ties keep the earlier.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopK {
    limit: usize,
    ticks: Vec<SlowCandidate>,
    /// The smallest latency kept once full (a tick must beat it); 0 while not full.
    floor_ns: u64,
}

impl TopK {
    fn new(limit: usize) -> Self {
        TopK {
            limit,
            ticks: Vec::new(),
            floor_ns: 0,
        }
    }

    /// Whether a tick of `net_ns` would enter.
    #[inline]
    fn admits(&self, net_ns: u64) -> bool {
        self.limit > 0 && (self.ticks.len() < self.limit || net_ns > self.floor_ns)
    }

    /// The least latency that may enter (`admits` decides at it; `u64::MAX` when K is 0).
    fn admission_threshold(&self) -> u64 {
        if self.limit == 0 {
            u64::MAX
        } else if self.ticks.len() < self.limit {
            0
        } else {
            self.floor_ns.saturating_add(1)
        }
    }

    /// Adds a tick (if it is among the slowest).
    fn offer(&mut self, tick: SlowCandidate) {
        if !self.admits(tick.net_ns) {
            return;
        }
        if self.ticks.len() < self.limit {
            self.ticks.push(tick);
        } else if let Some(slowest_out) = self
            .ticks
            .iter_mut()
            .min_by_key(|t| t.net_ns)
            .filter(|t| t.net_ns < tick.net_ns)
        {
            *slowest_out = tick;
        }
        if self.ticks.len() == self.limit {
            self.floor_ns = self.ticks.iter().map(|t| t.net_ns).min().unwrap_or(0);
        }
    }

    /// The ticks kept, slowest first.
    pub(crate) fn into_sorted(mut self) -> Vec<SlowCandidate> {
        self.ticks
            .sort_by(|a, b| b.net_ns.cmp(&a.net_ns).then(a.start_raw.cmp(&b.start_raw)));
        self.ticks
    }
}

/// The slowest ticks of some threads: of all timed ticks, and of the recorded ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct SlowCandidates {
    /// The slowest ticks of `ticks.latency`: timed ones with sampling (recorded ones read a
    /// little slower, their instrumentation corrected by calibration), every tick without.
    pub(crate) any: TopK,
    /// The slowest recorded ticks (the ones with timelines; with sampling, few of the slowest
    /// ticks are recorded).
    pub(crate) recorded: TopK,
}

impl SlowCandidates {
    pub(crate) fn new(limit: usize) -> Self {
        SlowCandidates {
            any: TopK::new(limit),
            recorded: TopK::new(limit),
        }
    }

    /// Adds `other`'s ticks: the top-K of the union (K: the larger of the two, so an empty
    /// accumulator made without a limit takes the shards').
    pub(crate) fn merge(&mut self, other: SlowCandidates) {
        self.any.limit = self.any.limit.max(other.any.limit);
        self.recorded.limit = self.recorded.limit.max(other.recorded.limit);
        for tick in other.any.ticks {
            self.any.offer(tick);
        }
        for tick in other.recorded.ticks {
            self.recorded.offer(tick);
        }
    }
}

/// Where a run's raw clock readings sit in wall-clock time and in `Instant` time: one reading
/// of each, taken together when the run started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClockAnchor {
    pub(crate) raw: u64,
    pub(crate) unix_ns: u64,
    /// `Instant`s read just before and just after `raw`.
    // Read only by the resource sampler (feature `sampler`).
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) instant: (std::time::Instant, std::time::Instant),
}

impl ClockAnchor {
    /// Reads the three clocks now.
    pub(crate) fn now(clock: &quanta::Clock) -> Self {
        let before = std::time::Instant::now();
        let raw = clock.raw();
        let after = std::time::Instant::now();
        ClockAnchor {
            raw,
            unix_ns: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            instant: (before, after),
        }
    }

    /// How far, at most, `clock`'s time since the anchor disagrees with `Instant`'s now, in ms:
    /// the run's ticks are placed with `clock`, the sampler's windows with `Instant`. Measured,
    /// not assumed (a TSC calibrated against the monotonic clock drifts by parts per million;
    /// a mock clock by anything).
    // Read only by the resource sampler (feature `sampler`).
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) fn skew_ms(&self, clock: &quanta::Clock) -> f64 {
        let before = std::time::Instant::now();
        let raw = clock.raw();
        let after = std::time::Instant::now();
        let ticks_ms = clock.delta_as_nanos(self.raw, raw) as f64 / 1e6;
        let ms = |later: std::time::Instant, earlier: std::time::Instant| {
            later.saturating_duration_since(earlier).as_secs_f64() * 1_000.0
        };
        // The true time between the two raw readings lies in [shortest, longest].
        let shortest = ms(before, self.instant.1);
        let longest = ms(after, self.instant.0);
        (ticks_ms - shortest).abs().max((ticks_ms - longest).abs())
    }
}

impl SlowCandidates {
    /// The report's form: names for slots, wall-clock starts, offsets in ns, each timeline span
    /// (and its busy time) clamped into its parent's extent (the conversions of two raw differences can disagree
    /// by a nanosecond), dominant components.
    pub(crate) fn into_report(
        self,
        warmup_ticks: u64,
        names: &[&'static str],
        fields: &dyn Fn(&TickFields) -> Vec<TickField>,
        clock: &quanta::Clock,
        anchor: ClockAnchor,
        sampled: bool,
    ) -> SlowestTicks {
        let limit = self.any.limit;
        let ticks = self
            .any
            .into_sorted()
            .into_iter()
            .chain(self.recorded.into_sorted())
            .map(|c| report_tick(c, names, fields, clock, anchor));
        if sampled {
            SlowestTicks::from_sampled_ticks(limit, warmup_ticks, ticks)
        } else {
            SlowestTicks::from_ticks(limit, warmup_ticks, ticks)
        }
    }
}

fn report_tick(
    c: SlowCandidate,
    names: &[&'static str],
    fields: &dyn Fn(&TickFields) -> Vec<TickField>,
    clock: &quanta::Clock,
    anchor: ClockAnchor,
) -> SlowTick {
    let since_start = clock.delta_as_nanos(anchor.raw, c.start_raw);
    let start_unix_ns = anchor.unix_ns.saturating_add(since_start);
    let wall_ns = c.wall_ns.unwrap_or(c.raw_ns);
    // (offset, end) of each placed span, for its children's clamping.
    let mut extents: Vec<(u64, u64)> = Vec::with_capacity(c.timeline.len());
    let mut timeline = Vec::with_capacity(c.timeline.len());
    for e in &c.timeline {
        let (parent_offset, parent_end) = e
            .parent
            .and_then(|p| extents.get(p as usize).copied())
            .unwrap_or((0, wall_ns));
        let offset_ns = clock
            .delta_as_nanos(c.start_raw, e.start_raw)
            .clamp(parent_offset, parent_end);
        let end = offset_ns
            .saturating_add(e.wall_ns.unwrap_or(e.raw_ns))
            .min(parent_end);
        extents.push((offset_ns, end));
        timeline.push(TimelineSpan {
            name: names
                .get(e.slot as usize)
                .map_or_else(|| format!("(span {})", e.slot), |n| (*n).to_owned()),
            offset_ns,
            duration_ns: end - offset_ns,
            // Within its extent: a span that outlived its tick (guards dropped out of order)
            // was busy past the tick's end, outside this timeline.
            busy_ns: e.net_ns.min(end - offset_ns),
            depth: e.depth,
            parent: e.parent,
        });
    }
    let mut tick = SlowTick {
        ordinal: c.ordinal,
        thread: c.thread.to_string(),
        tid: c.tid,
        run: None,
        start_unix_ns,
        started_at: rfc3339_micros(start_unix_ns),
        offset_s: since_start as f64 / 1e9,
        latency_ns: c.net_ns,
        raw_ns: c.raw_ns,
        wall_ns,
        recorded: c.recorded,
        timeline,
        timeline_dropped: c.timeline_dropped,
        fields: c.fields.as_ref().map(fields).unwrap_or_default(),
        dominant: None,
        machine: None,
        scheduler: None,
    };
    tick.dominant = tick.compute_dominant();
    tick
}

/// `2026-12-02T03:41:29.123456Z`.
fn rfc3339_micros(unix_ns: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(unix_ns);
    humantime::format_rfc3339_micros(time).to_string()
}

/// One thread's slow-tick candidates, beside its records in its home.
#[derive(Debug, Default)]
pub(crate) struct ThreadSlowTicks {
    /// Ticks with an ordinal up to this are warm-up (left out).
    warmup_ticks: u64,
    /// Ticks are sampled: a recorded tick (its instrumentation corrected by calibration, so
    /// it reads a little slower than a timed one) competes with recorded ticks only, and the
    /// slowest ticks are timed ones, as `ticks.latency` is.
    sampled: bool,
    thread: Option<Arc<str>>,
    /// The owner's kernel id.
    tid: Option<u32>,
    /// Components closed since the last tick (the tick being assembled).
    pending: Vec<Pending>,
    pending_dropped: u64,
    candidates: SlowCandidates,
    /// The least latency a timed (recorded) tick needs to enter a top-K, kept up to date with
    /// `candidates`: a tick below it costs one comparison.
    timed_threshold: u64,
    recorded_threshold: u64,
}

impl ThreadSlowTicks {
    /// Empties it for a new run of `limit` slowest ticks (`sampled`: ticks are sampled), on the
    /// thread `owner`.
    pub(crate) fn reset(
        &mut self,
        limit: usize,
        warmup_ticks: u64,
        sampled: bool,
        owner: ThreadKey,
    ) {
        self.warmup_ticks = warmup_ticks;
        self.sampled = sampled;
        self.begin_thread(owner);
        self.pending.clear();
        self.pending_dropped = 0;
        self.candidates = SlowCandidates::new(limit);
        self.update_thresholds();
    }

    /// Recomputes the thresholds from `candidates` (after any change to them).
    fn update_thresholds(&mut self) {
        let any = self.candidates.any.admission_threshold();
        let recorded = self.candidates.recorded.admission_threshold();
        self.timed_threshold = any;
        self.recorded_threshold = if self.sampled {
            recorded
        } else {
            any.min(recorded)
        };
    }

    /// A new owner thread takes the home over (its candidates are kept: they add up).
    pub(crate) fn begin_thread(&mut self, owner: ThreadKey) {
        self.tid = owner.tid;
        self.thread = Some(owner.label);
    }

    /// A component (span `id` of name `slot`, inside `parent`, in `tick`) closed on this
    /// thread: kept for the timeline of its tick.
    #[inline]
    pub(crate) fn component(
        &mut self,
        id: u64,
        slot: u32,
        parent: u64,
        tick: u64,
        closed: &Closed,
    ) {
        if self.candidates.any.limit == 0 {
            return;
        }
        if self.pending.len() < TIMELINE_CAPACITY {
            if self.pending.capacity() == 0 {
                // Once per thread and run: never per tick.
                self.pending.reserve_exact(TIMELINE_CAPACITY);
            }
            self.pending.push(Pending {
                slot,
                id,
                parent,
                tick,
                start_raw: closed.start_raw,
                raw_ns: closed.busy_ns,
                net_ns: closed.net_ns,
                wall_ns: closed.wall_ns,
            });
        } else {
            self.pending_dropped += 1;
        }
    }

    /// A tick (span `id`) closed on this thread: offered if it may be among the slowest. Its
    /// components leave the pending ones; those of ticks still open here (interleaved async
    /// ticks) stay, unless the buffer is half full and `is_live` says their tick is gone
    /// (it closed on another thread).
    #[inline]
    pub(crate) fn tick(
        &mut self,
        id: u64,
        tick: &TickInfo,
        closed: &Closed,
        cold: bool,
        is_live: impl Fn(u64) -> bool,
    ) {
        let threshold = if tick.recorded {
            self.recorded_threshold
        } else {
            self.timed_threshold
        };
        // The one comparison most ticks cost (`u64::MAX` when K is 0).
        // A window's cold first ticks (`window::COLD_TICKS`) are the profiler's, not the loop's,
        // unless they are far slower than cold caches make them.
        let cold = cold && closed.net_ns < COLD_ALLOWANCE_NS;
        if closed.net_ns >= threshold && !tick.warmup && !cold {
            self.consider(id, tick, closed);
        }
        if self.pending.iter().all(|p| p.tick == id) {
            self.pending.clear();
            self.pending_dropped = 0;
        } else {
            let crowded = self.pending.len() >= TIMELINE_CAPACITY / 2;
            self.pending
                .retain(|p| p.tick != id && (!crowded || is_live(p.tick)));
        }
    }

    /// A tick at or above its threshold.
    #[cold]
    fn consider(&mut self, id: u64, tick: &TickInfo, closed: &Closed) {
        let recorded = tick.recorded;
        let in_any = !(recorded && self.sampled);
        let wanted = (in_any && self.candidates.any.admits(closed.net_ns))
            || (recorded && self.candidates.recorded.admits(closed.net_ns));
        if !wanted {
            return;
        }
        let candidate = SlowCandidate {
            ordinal: tick.ordinal,
            thread: self
                .thread
                .clone()
                .unwrap_or_else(|| Arc::from("(unknown thread)")),
            tid: self.tid,
            start_raw: closed.start_raw,
            net_ns: closed.net_ns,
            raw_ns: closed.busy_ns,
            wall_ns: closed.wall_ns,
            recorded,
            timeline: if recorded {
                let own: Vec<Pending> = self
                    .pending
                    .iter()
                    .filter(|p| p.tick == id)
                    .copied()
                    .collect();
                timeline(id, &own)
            } else {
                Vec::new()
            },
            timeline_dropped: self.pending_dropped,
            fields: closed.fields,
        };
        if recorded && self.candidates.recorded.admits(candidate.net_ns) {
            self.candidates.recorded.offer(candidate.clone());
        }
        if in_any {
            self.candidates.any.offer(candidate);
        }
        self.update_thresholds();
    }

    /// The candidates so far (the thread keeps collecting from empty, same limit).
    pub(crate) fn take(&mut self) -> SlowCandidates {
        let limit = self.candidates.any.limit;
        let taken = std::mem::replace(&mut self.candidates, SlowCandidates::new(limit));
        self.update_thresholds();
        taken
    }
}

/// The timeline of tick `tick_id`: the pending components below it (by parent links; others
/// belong to another tick), in order of start, each with its depth and parent index.
fn timeline(tick_id: u64, pending: &[Pending]) -> Vec<TimelineEntry> {
    let mut order: Vec<&Pending> = pending.iter().collect();
    order.sort_by_key(|p| p.start_raw);
    let mut out: Vec<TimelineEntry> = Vec::with_capacity(order.len());
    let mut ids: Vec<u64> = Vec::with_capacity(order.len());
    // A parent starts before its children, so one pass in start order finds every parent
    // already placed (ties: a parent first entered at the same clock reading as its child is
    // retried).
    let mut rest = order;
    loop {
        let before = rest.len();
        let mut unplaced = Vec::new();
        for p in rest {
            let parent = if p.parent == tick_id {
                Some((None, 0))
            } else {
                ids.iter()
                    .position(|&id| id == p.parent)
                    .and_then(|i| Some((Some(u32::try_from(i).ok()?), out.get(i)?.depth)))
            };
            match parent {
                Some((parent, depth)) => {
                    ids.push(p.id);
                    out.push(TimelineEntry {
                        slot: p.slot,
                        start_raw: p.start_raw,
                        raw_ns: p.raw_ns,
                        net_ns: p.net_ns,
                        wall_ns: p.wall_ns,
                        depth: depth + 1,
                        parent,
                    });
                }
                None => unplaced.push(p),
            }
        }
        if unplaced.is_empty() || unplaced.len() == before {
            break;
        }
        rest = unplaced;
    }
    // Re-sort by start (retried entries were appended), keeping parent indices right.
    let mut index: Vec<usize> = (0..out.len()).collect();
    index.sort_by_key(|&i| out.get(i).map_or(0, |e| e.start_raw));
    let mut new_position = vec![0u32; out.len()];
    for (new, &old) in index.iter().enumerate() {
        if let Some(slot) = new_position.get_mut(old) {
            *slot = u32::try_from(new).unwrap_or(u32::MAX);
        }
    }
    index
        .iter()
        .filter_map(|&i| out.get(i).copied())
        .map(|mut e| {
            e.parent = e.parent.and_then(|p| new_position.get(p as usize).copied());
            e
        })
        .collect()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::allocations::AllocCounts;
    use crate::tick_profiler::timing::SpanKind;

    fn closed(start_raw: u64, ns: u64) -> Closed {
        Closed {
            kind: SpanKind::Component {
                slot: 0,
                parent: 0,
                direct: false,
                tick: 0,
            },
            fields: None,
            entered: true,
            nested: true,
            busy_ns: ns,
            self_ns: ns,
            net_ns: ns,
            wall_ns: None,
            start_raw,
            clamped: false,
            allocations: AllocCounts::default(),
            self_allocations: AllocCounts::default(),
        }
    }

    fn info(ordinal: u64, recorded: bool, warmup: bool) -> TickInfo {
        TickInfo {
            recorded,
            warmup,
            opens_window: false,
            window: 0,
            ordinal,
        }
    }

    #[test]
    fn keeps_the_k_slowest_after_the_warmup_and_leaves_cold_ticks_out() {
        let mut slow = ThreadSlowTicks::default();
        slow.reset(3, 2, false, ThreadKey::current(None));
        for (ordinal, ns) in [
            (1, 900),
            (2, 800),
            (3, 10),
            (4, 50),
            (5, 700),
            (8, COLD_ALLOWANCE_NS),
            (6, 40),
            (7, 5),
        ] {
            slow.tick(
                ordinal,
                &info(ordinal, false, ordinal <= 2),
                &closed(ordinal * 1_000, ns),
                ordinal >= 5 && ordinal != 6 && ordinal != 7,
                |_| true,
            );
        }
        let got: Vec<(u64, u64)> = slow
            .take()
            .any
            .into_sorted()
            .iter()
            .map(|t| (t.ordinal, t.net_ns))
            .collect();
        // 5 cold and left out, 8 cold and listed (as slow as a cold tick may be).
        assert_eq!(got, [(8, COLD_ALLOWANCE_NS), (4, 50), (6, 40)]);
    }

    #[test]
    fn timelines_nest_by_parent_and_sort_by_start() {
        let mut slow = ThreadSlowTicks::default();
        slow.reset(2, 0, false, ThreadKey::current(None));
        // tick 100: a (id 1) contains b (id 2); c (id 3) after; x (id 9) belongs to tick 77,
        // still open here (interleaved), whose timeline keeps it.
        slow.component(2, 1, 1, 100, &closed(20, 5));
        slow.component(1, 0, 100, 100, &closed(10, 30));
        slow.component(3, 2, 100, 100, &closed(50, 7));
        slow.component(9, 3, 77, 77, &closed(60, 1));
        slow.tick(
            100,
            &info(1, true, false),
            &closed(1_000, 60),
            false,
            |_| true,
        );
        slow.tick(77, &info(2, true, false), &closed(5, 2_000), false, |_| {
            true
        });
        let ticks = slow.take().recorded.into_sorted();
        let t = ticks.get(1).expect("tick 100, the second slowest");
        let got: Vec<(u32, u32, Option<u32>)> = t
            .timeline
            .iter()
            .map(|e| (e.slot, e.depth, e.parent))
            .collect();
        assert_eq!(got, [(0, 1, None), (1, 2, Some(0)), (2, 1, None)]);
        assert_eq!(t.timeline_dropped, 0);
        let interleaved = ticks.first().expect("tick 77, the slowest");
        let got: Vec<u32> = interleaved.timeline.iter().map(|e| e.slot).collect();
        assert_eq!(got, [3]);
    }

    #[test]
    fn merge_is_the_top_k_of_the_union() {
        let mut a = ThreadSlowTicks::default();
        a.reset(2, 0, false, ThreadKey::current(None));
        let mut b = ThreadSlowTicks::default();
        b.reset(2, 0, false, ThreadKey::current(None));
        for (i, ns) in [10, 70, 30].into_iter().enumerate() {
            let i = i as u64 + 1;
            a.tick(i, &info(i, false, false), &closed(i, ns), false, |_| true);
        }
        for (i, ns) in [60, 80, 5].into_iter().enumerate() {
            let i = i as u64 + 1;
            b.tick(i, &info(i, true, false), &closed(i, ns), false, |_| true);
        }
        let mut merged = a.take();
        merged.merge(b.take());
        let any: Vec<u64> = merged
            .any
            .clone()
            .into_sorted()
            .iter()
            .map(|t| t.net_ns)
            .collect();
        let recorded: Vec<u64> = merged
            .recorded
            .into_sorted()
            .iter()
            .map(|t| t.net_ns)
            .collect();
        assert_eq!(any, [80, 70]);
        assert_eq!(recorded, [80, 60]);
    }

    #[test]
    fn with_sampling_the_slowest_ticks_are_timed_ones_and_recorded_ones_apart() {
        let mut slow = ThreadSlowTicks::default();
        slow.reset(2, 0, true, ThreadKey::current(None));
        for (i, (ns, recorded)) in [(10, false), (900, true), (30, false), (50, true)]
            .into_iter()
            .enumerate()
        {
            let i = i as u64 + 1;
            slow.tick(i, &info(i, recorded, false), &closed(i, ns), false, |_| {
                true
            });
        }
        let taken = slow.take();
        let net = |top: TopK| -> Vec<u64> { top.into_sorted().iter().map(|t| t.net_ns).collect() };
        assert_eq!(net(taken.any), [30, 10], "timed ticks only");
        assert_eq!(net(taken.recorded), [900, 50]);
    }
}
