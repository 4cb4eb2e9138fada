//! The slowest ticks of a run (`Report::slowest_ticks`): which ticks were slow, when, on which
//! thread, and — for the recorded ones — what happened inside them.
//!
//! The histograms say that something is slow; these say which tick, so it can be replayed (on a
//! single-threaded backtest a tick's ordinal is its position in the data) and opened as a trace
//! (`Report::write_chrome_trace`). With sampling, most ticks are timed without their components:
//! `ticks` lists the slowest of all timed ticks (`recorded` says which have a timeline), and
//! `recorded` adds the slowest recorded ticks that are not among them, so timelines are there
//! even when the slowest ticks were only timed.
//!
//! What a slow tick says about its cause is only what was measured: the component that took
//! most of it (`dominant`), the process CPU the resource sampler saw in the interval around
//! it (`machine`), and what the kernel's scheduler counted for its thread over the sample
//! windows that hold it (`scheduler`). Nothing is inferred beyond that: a count over a window
//! is an upper bound for the tick, and only a zero is a statement about the tick itself.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::tick_fields::TickField;
use super::{ResourceSample, Resources};

/// How many slowest ticks a run keeps unless configured
/// ([`MetricsCollectorBuilder::slowest_ticks`](crate::MetricsCollectorBuilder::slowest_ticks)).
pub const DEFAULT_SLOWEST_TICKS: usize = 10;

/// The slowest ticks of a run (or of merged runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SlowestTicks {
    /// How many were kept at most (in each list).
    pub limit: u32,
    /// Each thread's first ticks (this many) were left out, as from the latency figures.
    #[serde(default)]
    pub warmup_ticks_per_thread: u64,
    /// The slowest ticks of `ticks.latency`, slowest first: with sampling the timed ones (a
    /// recorded tick, whose instrumentation is corrected by calibration, reads a little
    /// slower and is in `recorded`); without, every tick.
    pub ticks: Vec<SlowTick>,
    /// With sampling, the slowest recorded ticks (the ones with timelines), slowest first;
    /// without, none (every tick is recorded and `ticks` has them all).
    #[serde(default)]
    pub recorded: Vec<SlowTick>,
}

/// One slow tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SlowTick {
    /// The n-th tick its thread started in the run, 1-based (0: unknown, a tick timed without
    /// its counter's decision).
    pub ordinal: u64,
    /// The thread it ran on: its name, or its id (`ThreadId(3)`).
    pub thread: String,
    /// The kernel's id of that thread (Linux), if it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    /// The run it belongs to, in merged reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// When it was first entered: ns since the Unix epoch.
    pub start_unix_ns: u64,
    /// The same, RFC 3339 in UTC with µs.
    pub started_at: String,
    /// The same, seconds since the run started.
    pub offset_s: f64,
    /// Busy time net of the instrumentation inside it: what `ticks.latency` holds.
    pub latency_ns: u64,
    /// Busy time as measured.
    pub raw_ns: u64,
    /// First enter to last exit (the timeline's extent; equal to `raw_ns` for a tick entered
    /// once).
    pub wall_ns: u64,
    /// The tick span's first fields (`info_span!("tick", seq = n)`), in declaration order:
    /// how the user names this tick. Kept for ticks created and closed on one thread.
    #[serde(
        default,
        with = "super::tick_fields::as_object",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub fields: Vec<TickField>,
    /// Whether its components were recorded: `false` for a tick only timed (sampling), which
    /// has no timeline.
    pub recorded: bool,
    /// Its component spans recorded on its thread, in order of start.
    #[serde(default)]
    pub timeline: Vec<TimelineSpan>,
    /// Components recorded in it but left out of `timeline` (beyond 256).
    #[serde(default)]
    pub timeline_dropped: u64,
    /// The direct child that took most of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominant: Option<Dominant>,
    /// What the resource sampler saw around it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<MachineAround>,
    /// What the scheduler counted for its thread over the sample windows holding the whole
    /// tick; `null` when unknown (no tid, the files unreadable, the tick outside the
    /// thread's readings), never zeros.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<SchedulerAround>,
}

/// One component span in a slow tick's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TimelineSpan {
    /// The span's name.
    pub name: String,
    /// From the tick's first enter to this span's first enter.
    pub offset_ns: u64,
    /// From its first enter to its last exit (within its parent's extent).
    pub duration_ns: u64,
    /// Its busy time net of the instrumentation inside it.
    pub busy_ns: u64,
    /// 1 for the tick's direct children.
    pub depth: u32,
    /// Index of its parent in the timeline; `null` for the tick's direct children.
    pub parent: Option<u32>,
}

impl TimelineSpan {
    /// A span `name` that started `offset_ns` after its tick, lasted `duration_ns` and was busy
    /// `busy_ns`, at `depth` (1: a direct child of the tick) under `parent` (an index into the
    /// timeline).
    pub fn new(
        name: impl Into<String>,
        offset_ns: u64,
        duration_ns: u64,
        busy_ns: u64,
        depth: u32,
        parent: Option<u32>,
    ) -> Self {
        TimelineSpan {
            name: name.into(),
            offset_ns,
            duration_ns,
            busy_ns,
            depth,
            parent,
        }
    }
}

/// What [`Dominant::name`] is when the time in none of the tick's components is the largest part.
const UNATTRIBUTED: &str = "(unattributed)";

/// The direct child of a tick that took most of its time, or `(unattributed)` when the time in
/// none of its components is larger (the tick's own code, or its thread off CPU between two);
/// and below it, the deepest span that holds most of that time (the culprit, which is often not
/// the direct child: `algo_orders › record_in_flight`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Dominant {
    /// The component's name.
    pub name: String,
    /// Its busy time in the tick (net), summed if it ran several times.
    pub busy_ns: u64,
    /// `busy_ns` as a share of the tick's latency.
    pub share_percent: f64,
    /// Below `name`, each span holding more than half of its parent's busy time, deepest last:
    /// empty when the component's own code holds most of it (and in reports before schema 7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
    /// The busy time of the last span of `path` (net, summed if it ran several times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_busy_ns: Option<u64>,
}

impl Dominant {
    /// `algo_orders › record_in_flight 2.70 ms (93 %)`: the deepest span holding most of the
    /// tick, its time and its share of the tick. What every output shows (the summary, the
    /// slow-tick graph, the trace).
    pub fn label(&self, tick_latency_ns: u64) -> String {
        let busy_ns = self.path_busy_ns.unwrap_or(self.busy_ns);
        let share = if self.path.is_empty() || tick_latency_ns == 0 {
            self.share_percent
        } else {
            (busy_ns as f64 / tick_latency_ns as f64 * 100.0).min(100.0)
        };
        let mut name = self.name.clone();
        for step in &self.path {
            name.push_str(" › ");
            name.push_str(step);
        }
        format!("{name} {} ({share:.0} %)", duration(busy_ns))
    }
}

/// The process CPU the resource sampler measured over the sample interval that holds a slow
/// tick's start: far below one core while the tick loop ran suggests the process was off CPU
/// then (descheduled, or waiting), nothing more precise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MachineAround {
    /// The interval, ms since the run started.
    pub from_ms: f64,
    /// Its end.
    pub to_ms: f64,
    /// The process's CPU over it, % of one core.
    pub cpu_percent: f64,
}

/// What the kernel's scheduler counted for a slow tick's thread over the resource sample
/// windows that together hold the tick's whole `[start, start + wall]`, read at each sample
/// from `/proc/self/task/<tid>/schedstat` and `…/status` (never on the tick's thread).
///
/// The counts cover `from_ms`–`to_ms`, usually far longer than the tick: for the tick they
/// are upper bounds, not events inside it. The exception is zero: no preemption and no
/// run-queue wait over windows that hold the tick means none during the tick
/// ([`not_descheduled`](Self::not_descheduled)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SchedulerAround {
    /// The windows' start, ms since the run started (the same origin as `offset_s`).
    pub from_ms: f64,
    /// Their end.
    pub to_ms: f64,
    /// Times the thread was preempted (`nonvoluntary_ctxt_switches`).
    pub involuntary_switches: u64,
    /// Times it gave up the CPU itself: blocked, slept, yielded (`voluntary_ctxt_switches`).
    pub voluntary_switches: u64,
    /// Time it was runnable but waiting for a CPU (`schedstat`'s run-queue delay): after a
    /// preemption, or between a wake-up and running again.
    pub run_queue_wait_ns: u64,
    /// Time it ran on a CPU.
    pub on_cpu_ns: u64,
}

impl SchedulerAround {
    /// The scheduler's counts over `from_ms..to_ms` (ms since the run started): run-queue
    /// wait and time on a CPU, with no context switch counted yet (set them to build one in
    /// code; the collector builds real ones).
    pub fn new(from_ms: f64, to_ms: f64, run_queue_wait_ns: u64, on_cpu_ns: u64) -> Self {
        SchedulerAround {
            from_ms,
            to_ms,
            involuntary_switches: 0,
            voluntary_switches: 0,
            run_queue_wait_ns,
            on_cpu_ns,
        }
    }

    /// Whether the tick is proven not descheduled: no preemption and no run-queue wait in
    /// windows that hold all of it. (A tick that blocked may still be slow: that is its own
    /// doing, and `voluntary_switches` says it happened in the window.)
    pub fn not_descheduled(&self) -> bool {
        self.involuntary_switches == 0 && self.run_queue_wait_ns == 0
    }
}

impl SlowTick {
    /// How the outputs name this tick: `#904,211 seq=904210` (its ordinal on its thread, `#?`
    /// if unknown, then its fields).
    pub fn name(&self) -> String {
        match self.fields.as_slice() {
            [] => self.ordinal_label(),
            fields => format!(
                "{} {}",
                self.ordinal_label(),
                super::tick_fields::joined(fields)
            ),
        }
    }

    /// `#904,211`, or `#?` when the ordinal is unknown.
    pub(crate) fn ordinal_label(&self) -> String {
        match self.ordinal {
            0 => "#?".to_owned(),
            n => format!("#{}", super::thousands(n)),
        }
    }

    /// The `ordinal`-th tick of `thread`, `latency_ns` long (net, raw and wall alike), started
    /// at the Unix epoch, timed only: no fields, timeline or context. Set the fields to build
    /// one in code; the collector builds real ones.
    pub fn new(ordinal: u64, thread: impl Into<String>, latency_ns: u64) -> Self {
        SlowTick {
            ordinal,
            thread: thread.into(),
            tid: None,
            run: None,
            start_unix_ns: 0,
            started_at: "1970-01-01T00:00:00.000000Z".to_owned(),
            offset_s: 0.0,
            latency_ns,
            raw_ns: latency_ns,
            wall_ns: latency_ns,
            fields: Vec::new(),
            recorded: false,
            timeline: Vec::new(),
            timeline_dropped: 0,
            dominant: None,
            machine: None,
            scheduler: None,
        }
    }

    /// Which run and tick this is (a merge keeps each once).
    fn key(&self) -> (Option<&str>, &str, u64, u64) {
        (
            self.run.as_deref(),
            &self.thread,
            self.ordinal,
            self.start_unix_ns,
        )
    }

    /// The direct child with the most busy time (names summed), and its share of `latency_ns`.
    pub fn compute_dominant(&self) -> Option<Dominant> {
        let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
        for span in self.timeline.iter().filter(|s| s.depth == 1) {
            let busy = by_name.entry(span.name.as_str()).or_default();
            *busy = busy.saturating_add(span.busy_ns);
        }
        let children_ns = by_name
            .iter()
            .fold(0u64, |sum, (_, busy)| sum.saturating_add(*busy));
        let (name, busy_ns) = by_name.into_iter().max_by_key(|(_, busy)| *busy)?;
        // Time in none of its components (the tick's own code, or the thread off CPU between
        // two of them) can be what made it slow: then that is what is named.
        let unattributed_ns = self.latency_ns.saturating_sub(children_ns);
        let (name, busy_ns) = if unattributed_ns > busy_ns {
            (UNATTRIBUTED, unattributed_ns)
        } else {
            (name, busy_ns)
        };
        let (path, path_busy_ns) = if name == UNATTRIBUTED {
            (Vec::new(), None)
        } else {
            self.deepest_below(name, busy_ns)
        };
        Some(Dominant {
            name: name.to_owned(),
            busy_ns,
            share_percent: if self.latency_ns > 0 {
                (busy_ns as f64 / self.latency_ns as f64 * 100.0).min(100.0)
            } else {
                0.0
            },
            path,
            path_busy_ns,
        })
    }

    /// From the direct children named `name` (busy `busy_ns` in all), down the timeline: at
    /// each level the children (by name, summed) of the spans reached so far, descending while
    /// one name holds more than half of its parents' time. Linear in the timeline's length,
    /// and safe on a timeline loaded from a file: a span counts as a child only of a span
    /// before it (a parent starts before its children), so no cycle can be followed.
    fn deepest_below(&self, name: &str, busy_ns: u64) -> (Vec<String>, Option<u64>) {
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); self.timeline.len()];
        for (i, span) in (0u32..).zip(&self.timeline) {
            if let Some(p) = span.parent
                && p < i
                && let Some(list) = children.get_mut(p as usize)
            {
                list.push(i);
            }
        }
        let mut parents: Vec<u32> = (0u32..)
            .zip(&self.timeline)
            .filter(|(_, s)| s.depth == 1 && s.name == name)
            .map(|(i, _)| i)
            .collect();
        let (mut path, mut busy) = (Vec::new(), busy_ns);
        while !parents.is_empty() {
            let mut by_name: BTreeMap<&str, (u64, Vec<u32>)> = BTreeMap::new();
            for &p in &parents {
                for &c in children.get(p as usize).into_iter().flatten() {
                    let Some(span) = self.timeline.get(c as usize) else {
                        continue;
                    };
                    let entry = by_name.entry(span.name.as_str()).or_default();
                    entry.0 = entry.0.saturating_add(span.busy_ns);
                    entry.1.push(c);
                }
            }
            match by_name.into_iter().max_by_key(|(_, (b, _))| *b) {
                Some((child, (child_busy, at))) if child_busy.saturating_mul(2) > busy => {
                    path.push(child.to_owned());
                    busy = child_busy;
                    parents = at;
                }
                _ => break,
            }
        }
        let deepest = (!path.is_empty()).then_some(busy);
        (path, deepest)
    }

    /// The resource sample interval holding this tick's start, if the sampler covered it.
    pub(crate) fn machine_from(&self, resources: &Resources) -> Option<MachineAround> {
        let at_ms = self.offset_s * 1_000.0;
        let mut from_ms = 0.0;
        for ResourceSample {
            elapsed_ms,
            cpu_percent,
            ..
        } in &resources.samples
        {
            if *elapsed_ms >= at_ms {
                return Some(MachineAround {
                    from_ms,
                    to_ms: *elapsed_ms,
                    cpu_percent: *cpu_percent,
                });
            }
            from_ms = *elapsed_ms;
        }
        None
    }
}

impl SlowestTicks {
    /// Fills in each tick's `scheduler` from `around(tid, from_ms, to_ms)`: the counts over
    /// the windows holding `[from_ms, to_ms]` (ms since the run started), or `None`.
    /// `margin_ms` widens each tick on both sides: how far its clock may disagree with the
    /// sampler's.
    // Read only by the resource sampler (feature `sampler`).
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) fn attach_scheduler(
        &mut self,
        margin_ms: f64,
        around: impl Fn(u32, f64, f64) -> Option<SchedulerAround>,
    ) {
        for tick in self.ticks.iter_mut().chain(self.recorded.iter_mut()) {
            let start_ms = tick.offset_s * 1_000.0;
            let end_ms = start_ms + tick.wall_ns as f64 / 1e6;
            tick.scheduler = tick
                .tid
                .and_then(|tid| around(tid, start_ms - margin_ms, end_ms + margin_ms));
        }
    }

    /// The `limit` slowest of `ticks` (each kept once), and the `limit` slowest recorded ones
    /// not among them.
    pub fn from_ticks(
        limit: usize,
        warmup_ticks_per_thread: u64,
        ticks: impl IntoIterator<Item = SlowTick>,
    ) -> Self {
        let mut all: Vec<SlowTick> = Vec::new();
        let mut seen: BTreeSet<(Option<String>, String, u64, u64)> = BTreeSet::new();
        for tick in ticks {
            let (run, thread, ordinal, start) = tick.key();
            if seen.insert((run.map(str::to_owned), thread.to_owned(), ordinal, start)) {
                all.push(tick);
            }
        }
        all.sort_by(|a, b| {
            b.latency_ns
                .cmp(&a.latency_ns)
                .then(a.start_unix_ns.cmp(&b.start_unix_ns))
        });
        let mut ticks = Vec::new();
        let mut recorded = Vec::new();
        for tick in all {
            if ticks.len() < limit {
                ticks.push(tick);
            } else if tick.recorded
                && recorded.len() < limit
                && ticks.iter().chain(&recorded).filter(|t| t.recorded).count() < limit
            {
                recorded.push(tick);
            }
        }
        SlowestTicks {
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            warmup_ticks_per_thread,
            ticks,
            recorded,
        }
    }

    /// The top-K of `ticks` from a sampled run: the slowest timed ticks in `ticks`, the slowest
    /// recorded ones in `recorded` (a recorded tick reads a little slower than a timed one:
    /// every span's calibrated cost is taken out of it, so the two kinds rank apart).
    pub fn from_sampled_ticks(
        limit: usize,
        warmup_ticks_per_thread: u64,
        ticks: impl IntoIterator<Item = SlowTick>,
    ) -> Self {
        let (recorded, timed): (Vec<SlowTick>, Vec<SlowTick>) =
            ticks.into_iter().partition(|t| t.recorded);
        let timed = Self::from_ticks(limit, warmup_ticks_per_thread, timed).ticks;
        let recorded = Self::from_ticks(limit, warmup_ticks_per_thread, recorded).ticks;
        SlowestTicks {
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            warmup_ticks_per_thread,
            ticks: timed,
            recorded,
        }
    }

    /// Every tick kept, slowest first: `ticks`, then `recorded`.
    pub fn all(&self) -> impl Iterator<Item = &SlowTick> {
        self.ticks.iter().chain(&self.recorded)
    }

    /// Fills in each tick's `machine` from the run's resource samples.
    pub(crate) fn attach_resources(&mut self, resources: &Resources) {
        for tick in self.ticks.iter_mut().chain(self.recorded.iter_mut()) {
            tick.machine = tick.machine_from(resources);
        }
    }
}

/// `4.16 ms`, `12.3 µs`, `850 ns`: a duration as the summary prints it.
pub(crate) fn duration(ns: u64) -> String {
    let ns_f = ns as f64;
    if ns >= 1_000_000_000 {
        format!("{:.2} s", ns_f / 1e9)
    } else if ns >= 1_000_000 {
        format!("{:.2} ms", ns_f / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1} µs", ns_f / 1e3)
    } else {
        format!("{ns} ns")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn tick(ordinal: u64, latency_ns: u64, recorded: bool) -> SlowTick {
        SlowTick {
            ordinal,
            thread: "main".to_owned(),
            tid: None,
            run: None,
            start_unix_ns: ordinal * 1_000,
            started_at: String::new(),
            offset_s: 0.0,
            latency_ns,
            raw_ns: latency_ns,
            wall_ns: latency_ns,
            recorded,
            timeline: Vec::new(),
            timeline_dropped: 0,
            dominant: None,
            fields: Vec::new(),
            machine: None,
            scheduler: None,
        }
    }

    #[test]
    fn top_k_with_the_slowest_recorded_apart() {
        let slow = SlowestTicks::from_ticks(
            2,
            0,
            [
                tick(1, 50, false),
                tick(2, 90, false),
                tick(3, 70, true),
                tick(4, 60, true),
                tick(5, 40, true),
                tick(2, 90, false), // the same tick twice
            ],
        );
        let ordinals = |v: &[SlowTick]| v.iter().map(|t| t.ordinal).collect::<Vec<_>>();
        assert_eq!(ordinals(&slow.ticks), [2, 3]);
        assert_eq!(
            ordinals(&slow.recorded),
            [4],
            "with tick 3, two recorded in all"
        );
    }

    fn span(name: &str, offset_ns: u64, busy_ns: u64) -> TimelineSpan {
        TimelineSpan {
            name: name.to_owned(),
            offset_ns,
            duration_ns: busy_ns,
            busy_ns,
            depth: 1,
            parent: None,
        }
    }

    #[test]
    fn the_dominant_part_is_a_component_or_the_time_in_none() {
        // Preempted between two components: 4 ms in none of them.
        let mut t = tick(1, 4_100_000, true);
        t.timeline = vec![
            span("parse", 0, 60_000),
            span("strategy", 4_060_000, 40_000),
        ];
        let d = t.compute_dominant().unwrap();
        assert_eq!(d.name, "(unattributed)");
        assert_eq!(d.busy_ns, 4_000_000);
        assert!(
            (d.share_percent - 97.56).abs() < 0.01,
            "{}",
            d.share_percent
        );
        // Slow inside a component (summed over its two runs): that component.
        t.timeline = vec![
            span("parse", 0, 2_000_000),
            span("strategy", 2_000_000, 100_000),
            span("parse", 2_100_000, 1_900_000),
        ];
        let d = t.compute_dominant().unwrap();
        assert_eq!((d.name.as_str(), d.busy_ns), ("parse", 3_900_000));
        t.timeline.clear();
        assert!(t.compute_dominant().is_none(), "no timeline: nothing named");
    }

    fn child(name: &str, busy_ns: u64, depth: u32, parent: u32) -> TimelineSpan {
        TimelineSpan {
            depth,
            parent: Some(parent),
            ..span(name, 0, busy_ns)
        }
    }

    /// The stall the profiler found on a real engine: `algo_orders` slow because its child
    /// `record_in_flight` was (an order map that never drained). The culprit is named, down
    /// as far as one span holds most of its parent; a parent whose own code holds most stops
    /// the descent.
    #[test]
    fn the_dominant_part_names_the_deepest_span_that_holds_most_of_it() {
        let mut t = tick(1, 3_000_000, true);
        t.timeline = vec![
            span("parse", 0, 100_000),
            span("algo_orders", 100_000, 2_800_000),
            child("validate", 50_000, 2, 1),
            child("record_in_flight", 1_300_000, 2, 1),
            child("record_in_flight", 1_400_000, 2, 1),
            child("map_insert", 1_100_000, 3, 3),
            child("log", 100_000, 3, 3),
            child("map_insert", 900_000, 3, 4),
        ];
        let d = t.compute_dominant().unwrap();
        assert_eq!((d.name.as_str(), d.busy_ns), ("algo_orders", 2_800_000));
        // record_in_flight 2.7 ms of 2.8; below it, map_insert 2.0 of 2.7 (both runs' children
        // counted); below that, nothing.
        assert_eq!(d.path, ["record_in_flight", "map_insert"]);
        assert_eq!(d.path_busy_ns, Some(2_000_000));
        assert_eq!(
            d.label(t.latency_ns),
            "algo_orders › record_in_flight › map_insert 2.00 ms (67 %)"
        );
        // A child with half of its parent or less is not the culprit: the parent's own code is.
        t.timeline[3].busy_ns = 700_000;
        t.timeline[4].busy_ns = 700_000;
        let d = t.compute_dominant().unwrap();
        assert!(d.path.is_empty() && d.path_busy_ns.is_none(), "{d:?}");
        assert_eq!(d.label(t.latency_ns), "algo_orders 2.80 ms (93 %)");
    }

    /// A timeline loaded from a file can say anything: a span its own parent, two spans each
    /// other's, a parent after its child, busy times near `u64::MAX`. None of it may hang or
    /// panic; a span counts as a child only of a span before it.
    #[test]
    fn the_dominant_part_of_a_hostile_timeline_is_found_without_a_loop() {
        let mut t = tick(1, 3_000_000, true);
        t.timeline = vec![
            span("a", 0, 2_000_000),
            child("b", 1_900_000, 2, 2),
            child("c", 1_800_000, 3, 1),
        ];
        // b's parent is c, after it: ignored; c's parent b is before it, so a › ... stops at a.
        let d = t.compute_dominant().unwrap();
        assert_eq!((d.name.as_str(), d.path.len()), ("a", 0));
        t.timeline = vec![span("a", 0, 2_000_000), child("a", 1_900_000, 2, 1)];
        assert!(
            t.compute_dominant().unwrap().path.is_empty(),
            "its own parent"
        );
        t.timeline = vec![span("x", 0, u64::MAX), span("y", 0, u64::MAX)];
        assert_eq!(t.compute_dominant().unwrap().busy_ns, u64::MAX);

        // A chain of 20,000 spans, each holding all of its parent: followed to the end in one
        // pass per level.
        let n = 20_000u32;
        t.timeline = (0..n)
            .map(|i| match i {
                0 => span("s0", 0, 2_000_000),
                _ => child(&format!("s{i}"), 2_000_000, i + 1, i - 1),
            })
            .collect();
        let d = t.compute_dominant().unwrap();
        assert_eq!(d.path.len(), n as usize - 1);
        assert_eq!(d.path.last().map(String::as_str), Some("s19999"));
    }

    #[test]
    fn the_summary_says_when_a_listed_tick_is_slower_than_the_timed_max() {
        let mut report = crate::test_support::report("r", &[1_000, 2_000], &[]);
        let max_ns = report.ticks.latency.max_ns;
        report.slowest_ticks = Some(SlowestTicks::from_ticks(2, 0, [tick(7, 4_090_000, true)]));
        assert!(max_ns < 4_090_000);
        let summary = report.summary();
        assert!(
            summary.contains(
                "(a slower tick is listed under Slowest ticks: 4.09 ms: recorded, so not in \
                 these timed-tick figures)"
            ),
            "{summary}"
        );
        report.slowest_ticks = Some(SlowestTicks::from_ticks(2, 0, [tick(7, 1_500, true)]));
        assert!(!report.summary().contains("a slower tick"));
    }

    #[test]
    fn durations_read_in_their_unit() {
        assert_eq!(duration(850), "850 ns");
        assert_eq!(duration(12_345), "12.3 µs");
        assert_eq!(duration(4_160_000), "4.16 ms");
    }
}
