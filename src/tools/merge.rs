//! Exact merges of reports: a backtest sharded across processes or machines, or a run split into
//! parts, becomes one report as if one profiler had seen every tick.
//!
//! Histograms are decoded and added, so every percentile of the merge is what one histogram over
//! all the values would give, not an average of percentiles (which has no meaning). Reports whose
//! histograms were recorded with different settings cannot be added exactly and are an error.

mod allocations;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use self::allocations::AllocationSum;

use crate::error::{Error, Result};
use crate::report::{
    CalibrationSite, ComponentStats, Dropped, Environment, InsideTicks, LatencyStats, MeanMax,
    MemoryStats, Overhead, Report, Resources, RunPart, SCHEMA_VERSION, SamplingKind, SamplingStats,
    SlowestTicks, ThreadSampling, TickStats, WarmupStats,
};

/// How the merged reports' runs relate in time; decides `total_time_s` and so the throughput
/// (`ticks.count / total_time_s` in both cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    /// The runs happened one after another (parts of a replay on one worker): wall times add
    /// up, the throughput is that of the one worker, and resource samples are concatenated.
    Sequential,
    /// The runs happened at the same time (processes or machines): the job took as long as its
    /// longest shard, the throughput is the job's aggregate, and `resources` is `null` because
    /// the CPU and memory of separate processes are not one process's figures.
    Parallel,
}

impl Report {
    /// Merges `reports` exactly, naming each by its `name` in errors; see [`merge_reports`].
    ///
    /// # Errors
    /// As [`merge_reports`].
    pub fn merge(reports: &[Report], shards: Shards) -> Result<Report> {
        merge_reports(reports.iter().map(|r| (r.name.as_str(), r)), shards)
    }
}

/// One component's figures over the merged reports.
struct MergedComponent {
    count: u64,
    latency: Sum,
    /// `None` once a part lacks it.
    self_time: Option<Sum>,
    wall: Option<Sum>,
    allocations: AllocationSum,
    /// `None` once a part lacks it.
    seen: Option<u64>,
}

impl MergedComponent {
    /// `field` names its place in the report: `components.parse`, `outside_ticks.exchange`.
    fn new(field: &str) -> Self {
        MergedComponent {
            count: 0,
            latency: Sum::new(format!("{field}.latency")),
            self_time: Some(Sum::new(format!("{field}.self_time"))),
            wall: None,
            allocations: AllocationSum::new(format!("{field}.allocations")),
            seen: Some(0),
        }
    }

    /// Adds a part's figures of this name, each value counting `weight` times.
    fn add(&mut self, field: &str, label: &str, c: &ComponentStats, weight: u64) -> Result<()> {
        self.count = self.count.saturating_add(c.count);
        self.seen = self
            .seen
            .zip(c.seen)
            .map(|(sum, part)| sum.saturating_add(part));
        self.latency.add(label, &c.latency, weight)?;
        match (&c.self_time, &mut self.self_time) {
            (Some(own), Some(sum)) => sum.add(label, own, weight)?,
            // A part without it (before schema 5): the merge has none, rather than a part's.
            _ => self.self_time = None,
        }
        if let Some(wall) = &c.wall {
            self.wall
                .get_or_insert_with(|| Sum::new(format!("{field}.wall")))
                .add(label, wall, weight)?;
        }
        self.allocations
            .add(label, c.allocations.as_ref(), c.count > 0, weight)
    }

    /// The merged figures; `per_tick` over `per_tick_of` (the merge's recorded ticks), `null`
    /// without it.
    fn finish(self, per_tick_of: Option<u64>) -> Result<ComponentStats> {
        let count = self.count;
        Ok(ComponentStats {
            count,
            latency: self.latency.finish()?,
            self_time: self.self_time.map(Sum::finish).transpose()?,
            wall: self.wall.map(Sum::finish).transpose()?,
            per_tick: per_tick_of
                .filter(|ticks| *ticks > 0)
                .map(|ticks| count as f64 / ticks as f64),
            allocations: self.allocations.finish()?,
            seen: self.seen,
        })
    }
}

/// Merged components (or spans outside ticks), by name.
#[derive(Default)]
struct MergedComponents<'a>(BTreeMap<&'a str, MergedComponent>);

impl<'a> MergedComponents<'a> {
    /// Adds a part's map, found in the report under `root` (`components`, `outside_ticks`).
    fn add(
        &mut self,
        root: &str,
        label: &str,
        parts: &'a BTreeMap<String, ComponentStats>,
        weight: u64,
    ) -> Result<()> {
        for (name, c) in parts {
            let field = format!("{root}.{name}");
            self.0
                .entry(name.as_str())
                .or_insert_with(|| MergedComponent::new(&field))
                .add(&field, label, c, weight)?;
        }
        Ok(())
    }

    fn finish(self, per_tick_of: Option<u64>) -> Result<BTreeMap<String, ComponentStats>> {
        self.0
            .into_iter()
            .map(|(name, c)| Ok((name.to_owned(), c.finish(per_tick_of)?)))
            .collect()
    }
}

/// Merges labelled reports (the label, a file name for instance, names the report in errors).
///
/// Counts and dropped records are summed; every histogram (ticks, unattributed, each
/// component's busy and wall time) is the sum of the shards' histograms and its statistics are
/// recomputed from it; components are the union. Reports that sampled at different rates
/// (one timed 1 tick in 10, another 1 in 40) are weighted so that each stands for its ticks,
/// not for its samples: every value of a report counts `ticks / samples` times (relative to
/// the most densely sampled report, in thousandths); `samples` stays the number of values. `total_time_s` is the sum for
/// [`Shards::Sequential`] and the maximum for [`Shards::Parallel`]; `started_at` is the earliest.
/// The name is the shared name, or the distinct names joined with `+`. Environment fields that
/// differ are joined with `+` (`logical_cores`: the largest); `overhead` is the largest of the
/// shards (the conservative floor).
///
/// Parts of one run that overlap are refused, since their ticks would count twice. Two reports
/// are of one run when their name and `started_at` agree. A run's final report, its snapshots
/// and its checkpoints each hold it from its start, so any of them with another report of the
/// run is refused (`tickprof merge final.json checkpoint.json` counted the run twice and read
/// as a final report); two of its intervals add up, unless they are the same interval. Two final
/// reports are one run only when their `total_time_s` agree too (the same file, or a copy):
/// `started_at` has millisecond resolution, and shards launched together under one name can
/// start within the same millisecond; their wall times, in nanoseconds, still differ. (Such
/// shards with a checkpoint among them are refused as well: rename one to merge them.)
///
/// # Errors
/// [`Error::Merge`] if there are no reports, two overlap (naming both), or two
/// histograms of the same field were recorded with different bounds or precision (naming both
/// reports and the field); [`Error::Histogram`] if a histogram blob cannot be decoded.
pub fn merge_reports<'a>(
    reports: impl IntoIterator<Item = (&'a str, &'a Report)>,
    shards: Shards,
) -> Result<Report> {
    let reports: Vec<(&str, &Report)> = reports.into_iter().collect();
    let Some(&(_, first)) = reports.first() else {
        return Err(Error::Merge("no reports to merge".to_owned()));
    };
    refuse_duplicates(&reports)?;

    // Each report's sampling (schema 1: every tick), and how much each of its values weighs.
    let samplings: Vec<SamplingStats> = reports
        .iter()
        .map(|(_, r)| {
            r.sampling
                .clone()
                .unwrap_or_else(|| SamplingStats::every_tick(r.ticks.count))
        })
        .collect();
    let timed_weights = Weights::new(
        reports
            .iter()
            .zip(&samplings)
            // The latency histogram stands for the ticks after the warm-up.
            .map(|((_, r), s)| ratio(r.ticks_after_warmup(), s.ticks_timed)),
    );
    let recorded_weights = Weights::new(
        reports
            .iter()
            .zip(&samplings)
            .map(|((_, r), s)| ratio(r.ticks.count, s.ticks_recorded)),
    );

    let mut ticks = Sum::new("ticks.latency");
    let mut ticks_raw = Sum::new("ticks.latency_raw");
    let mut ticks_wall = Sum::new("ticks.wall");
    let mut unattributed = Sum::new("unattributed");
    let mut ticks_recorded_latency = Sum::new("ticks.recorded");
    // Over the ticks `ticks.latency` holds, so weighted as it is.
    let mut tick_allocations = AllocationSum::new("ticks.allocations");
    // Every warm-up tick is timed: weight 1. Parts with different warm-ups keep the longest.
    let mut warmup = Sum::new("ticks.warmup.latency");
    let mut warmup_per_thread: Option<u64> = None;
    let (mut warmup_count, mut warmup_recorded) = (0u64, 0u64);
    let mut components = MergedComponents::default();
    let mut outside_ticks = MergedComponents::default();
    let mut count = 0u64;
    let mut dropped = Dropped::default();
    for (i, &(label, report)) in reports.iter().enumerate() {
        let timed = timed_weights.get(i);
        let recorded = recorded_weights.get(i);
        count = count.saturating_add(report.ticks.count);
        ticks.add(label, &report.ticks.latency, timed)?;
        if let Some(raw) = &report.ticks.latency_raw {
            ticks_raw.add(label, raw, timed)?;
        }
        if let Some(wall) = &report.ticks.wall {
            ticks_wall.add(label, wall, timed)?;
        }
        tick_allocations.add(
            label,
            report.ticks.allocations.as_ref(),
            // Schema 1 has no sample counts: a part with ticks measured them.
            report.ticks.latency.samples > 0 || report.schema_version < 2,
            timed,
        )?;
        unattributed.add(label, &report.unattributed, recorded)?;
        if let Some(latency) = &report.ticks.recorded {
            ticks_recorded_latency.add(label, latency, recorded)?;
        }
        if let Some(w) = &report.ticks.warmup {
            warmup_per_thread = warmup_per_thread.max(Some(w.ticks_per_thread));
            warmup_count = warmup_count.saturating_add(w.count);
            warmup_recorded = warmup_recorded.saturating_add(w.recorded);
            if let Some(latency) = &w.latency {
                warmup.add(label, latency, 1)?;
            }
        }
        let d = &report.dropped;
        dropped.overflow = dropped.overflow.saturating_add(d.overflow);
        dropped.missing_span_data = dropped
            .missing_span_data
            .saturating_add(d.missing_span_data);
        dropped.straddled = dropped.straddled.saturating_add(d.straddled);
        dropped.clamped = dropped.clamped.saturating_add(d.clamped);
        dropped.uncredited_children = dropped
            .uncredited_children
            .saturating_add(d.uncredited_children);
        components.add("components", label, &report.components, recorded)?;
        // Spans outside ticks are recorded while windows are open, as components are.
        outside_ticks.add("outside_ticks", label, &report.outside_ticks, recorded)?;
    }
    let sampling = merge_sampling(&samplings, &reports);
    let ticks_recorded = sampling.ticks_recorded;

    let times = reports.iter().map(|(_, r)| r.total_time_s);
    let total_time_s = match shards {
        Shards::Sequential => times.sum(),
        Shards::Parallel => times.fold(0.0, f64::max),
    };
    let throughput_per_s = if total_time_s > 0.0 {
        count as f64 / total_time_s
    } else {
        0.0
    };
    let (resources, resources_unavailable) = match merge_resources(&reports, shards) {
        Ok(r) => (Some(r), None),
        Err(reason) => (None, Some(reason)),
    };

    let slowest_ticks = merge_slowest_ticks(&reports);

    Ok(Report {
        schema_version: SCHEMA_VERSION,
        name: join_distinct(reports.iter().map(|(_, r)| r.name.as_str())),
        started_at: reports
            .iter()
            .map(|(_, r)| r.started_at.as_str())
            .min()
            .unwrap_or(first.started_at.as_str())
            .to_owned(),
        total_time_s,
        ticks: TickStats {
            count,
            throughput_per_s,
            latency: ticks.finish()?,
            latency_raw: ticks_raw.finish_if_any()?,
            wall: ticks_wall.finish_if_any()?,
            recorded: ticks_recorded_latency.finish_if_any()?,
            warmup: match warmup_per_thread {
                Some(ticks_per_thread) => Some(WarmupStats {
                    ticks_per_thread,
                    count: warmup_count,
                    recorded: warmup_recorded,
                    latency: warmup.finish_if_any()?,
                }),
                None => None,
            },
            allocations: tick_allocations.finish()?,
        },
        components: components.finish(Some(ticks_recorded))?,
        inside_ticks: InsideTicks::merged(reports.iter().map(|(_, r)| *r)),
        // Spans under no tick are not "per tick".
        outside_ticks: outside_ticks.finish(None)?,
        unattributed: unattributed.finish()?,
        unattributed_mean_ns: weighted_mean(
            reports
                .iter()
                .map(|(_, r)| (r.unattributed_mean_ns, r.ticks.count)),
        ),
        sampling: Some(sampling),
        overhead: Overhead {
            per_span_ns: max_f64(reports.iter().map(|(_, r)| r.overhead.per_span_ns)),
            nested_span_ns: max_option(reports.iter().map(|(_, r)| r.overhead.nested_span_ns)),
            nested_span_in_run_ns: max_option(
                reports
                    .iter()
                    .map(|(_, r)| r.overhead.nested_span_in_run_ns),
            ),
            layer_ns_per_span: max_option(
                reports.iter().map(|(_, r)| r.overhead.layer_ns_per_span),
            ),
            empty_span_busy_ns: max_f64(reports.iter().map(|(_, r)| r.overhead.empty_span_busy_ns)),
            tick_check_ns: max_option(reports.iter().map(|(_, r)| r.overhead.tick_check_ns)),
            calibration_ticks: reports
                .iter()
                .map(|(_, r)| r.overhead.calibration_ticks)
                .max()
                .unwrap_or(0),
            measured_on: merge_site(reports.iter().map(|(_, r)| &r.overhead.measured_on)),
        },
        dropped,
        environment: merge_environment(&reports),
        resources,
        resources_unavailable,
        // A comparison belongs to one loop: merged runs have none.
        loop_comparison: None,
        slowest_ticks,
        part: None,
        checkpoints: None,
        interval_log: None,
    })
}

/// `ticks / samples` (1 when nothing was sampled).
fn ratio(ticks: u64, samples: u64) -> f64 {
    if samples == 0 {
        1.0
    } else {
        (ticks as f64 / samples as f64).max(1.0)
    }
}

/// How many times each report's values count in a merge: 1 for all when every report sampled
/// at the same rate (the merge is then exact), else each report's `ticks / samples` relative to
/// the smallest, in thousandths.
struct Weights(Vec<u64>);

impl Weights {
    fn new(ratios: impl Iterator<Item = f64>) -> Self {
        let ratios: Vec<f64> = ratios.collect();
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let equal = ratios.iter().all(|r| (r / min - 1.0).abs() < 1e-9);
        Weights(
            ratios
                .iter()
                .map(|r| {
                    if equal {
                        1
                    } else {
                        (1_000.0 * r / min).round() as u64
                    }
                })
                .collect(),
        )
    }

    fn get(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(1)
    }
}

/// The merged sampling: sums, and the mode if every report shares it (else `mixed`).
fn merge_sampling(samplings: &[SamplingStats], reports: &[(&str, &Report)]) -> SamplingStats {
    let first = samplings.first();
    let same = |f: fn(&SamplingStats) -> String| {
        let values: Vec<String> = samplings.iter().map(f).collect();
        values.windows(2).all(|w| w.first() == w.last())
    };
    let uniform = same(|s| format!("{}/{:?}/{:?}", s.mode, s.budget_fraction, s.one_in));
    let saturating_sum =
        |values: &mut dyn Iterator<Item = u64>| values.fold(0u64, u64::saturating_add);
    let count = saturating_sum(&mut reports.iter().map(|(_, r)| r.ticks.count));
    let cost: f64 = samplings
        .iter()
        .zip(reports)
        .map(|(s, (_, r))| s.cost_ns_per_tick * r.ticks.count as f64)
        .sum();
    SamplingStats {
        mode: match (uniform, first) {
            (true, Some(s)) => s.mode.clone(),
            _ => SamplingKind::Mixed,
        },
        budget_fraction: first.filter(|_| uniform).and_then(|s| s.budget_fraction),
        one_in: first.filter(|_| uniform).and_then(|s| s.one_in),
        ticks_timed: saturating_sum(&mut samplings.iter().map(|s| s.ticks_timed)),
        ticks_recorded: saturating_sum(&mut samplings.iter().map(|s| s.ticks_recorded)),
        windows: saturating_sum(&mut samplings.iter().map(|s| s.windows)),
        cost_ns_per_tick: if count > 0 { cost / count as f64 } else { 0.0 },
        histograms_made: saturating_sum(&mut samplings.iter().map(|s| s.histograms_made)),
        setup_ns: saturating_sum(&mut samplings.iter().map(|s| s.setup_ns)),
    }
}

/// The first pair of reports that are one run (see [`merge_reports`]), as an error naming both.
fn refuse_duplicates(reports: &[(&str, &Report)]) -> Result<()> {
    for (i, &(label, a)) in reports.iter().enumerate() {
        for &(other, b) in &reports[i + 1..] {
            if a.name != b.name || a.started_at != b.started_at {
                continue;
            }
            match (&a.part, &b.part) {
                // Two final reports: one run given twice, or shards launched together under one
                // name (their wall times, in ns, differ).
                (None, None) => {
                    if a.total_time_s.to_bits() == b.total_time_s.to_bits() {
                        return Err(Error::Merge(format!(
                            "{label} and {other} are the same run (`{}`, started {}, {} s): \
                             merging it twice would count its ticks twice",
                            a.name, a.started_at, a.total_time_s
                        )));
                    }
                }
                // Two intervals of one run are disjoint, unless they are the same interval.
                (
                    Some(RunPart::Interval { index: i, .. }),
                    Some(RunPart::Interval { index: j, .. }),
                ) if i != j => {}
                // A snapshot or a checkpoint holds the run from its start, as the final report
                // does: with any other part of the run, some ticks are in both.
                _ => {
                    return Err(Error::Merge(format!(
                        "{label} ({}) and {other} ({}) are parts of the same run (`{}`, started \
                         {}) that overlap: merging them would count ticks twice. A run's final \
                         report, snapshots and checkpoints each hold it from its start (merge \
                         the latest alone); only its distinct intervals add up",
                        describe(a.part.as_ref()),
                        describe(b.part.as_ref()),
                        a.name,
                        a.started_at
                    )));
                }
            }
        }
    }
    Ok(())
}

/// What part of its run a report is, for an error.
fn describe(part: Option<&RunPart>) -> String {
    match part {
        None => "the final report".to_owned(),
        Some(RunPart::Snapshot) => "a snapshot".to_owned(),
        Some(RunPart::Checkpoint) => "a checkpoint".to_owned(),
        Some(RunPart::Interval { index, .. }) => format!("interval {index}"),
    }
}

/// A running sum of one field's histograms, remembering which report set its settings.
struct Sum {
    field: String,
    total: Option<(Histogram<u64>, String)>,
    /// Values actually measured (the histogram's counts are weighted).
    samples: u64,
}

impl Sum {
    fn new(field: impl Into<String>) -> Self {
        Sum {
            field: field.into(),
            total: None,
            samples: 0,
        }
    }

    fn add(&mut self, label: &str, stats: &LatencyStats, weight: u64) -> Result<()> {
        let h = stats.decode_histogram(&format!("{} in {label}", self.field))?;
        self.samples = self.samples.saturating_add(h.len());
        let h = if weight > 1 { scaled(&h, weight) } else { h };
        add_histogram(&mut self.total, &self.field, label, h)
    }

    fn finish_if_any(self) -> Result<Option<LatencyStats>> {
        if self.total.is_none() {
            return Ok(None);
        }
        self.finish().map(Some)
    }

    fn finish(self) -> Result<LatencyStats> {
        match self.total {
            Some((h, _)) => {
                let mut stats = LatencyStats::from_histogram(&h, &self.field)?;
                stats.samples = self.samples;
                Ok(stats)
            }
            // Unreachable in practice (every report has these fields), but an empty histogram
            // is the honest answer rather than a panic.
            None => {
                let empty = Histogram::<u64>::new(3)
                    .map_err(|e| Error::histogram(&self.field, format!("{e:?}")))?;
                LatencyStats::from_histogram(&empty, &self.field)
            }
        }
    }
}

/// Adds part `label`'s histogram `h` of `field` to `total` (the sum so far, and the part that
/// set its settings): histograms recorded with other bounds or precision cannot be added
/// exactly, and are an error naming both parts.
fn add_histogram(
    total: &mut Option<(Histogram<u64>, String)>,
    field: &str,
    label: &str,
    h: Histogram<u64>,
) -> Result<()> {
    match total {
        None => *total = Some((h, label.to_owned())),
        Some((total, first)) => {
            let settings = |h: &Histogram<u64>| (h.low(), h.high(), h.sigfig());
            let (want, got) = (settings(total), settings(&h));
            if want != got {
                return Err(Error::Merge(format!(
                    "histogram settings of `{field}` differ: {first} has low {}, high {}, sigfig {} \
                     but {label} has low {}, high {}, sigfig {}",
                    want.0, want.1, want.2, got.0, got.1, got.2
                )));
            }
            total
                .add(&h)
                .map_err(|e| Error::Merge(format!("cannot add `{field}` of {label}: {e:?}")))?;
        }
    }
    Ok(())
}

/// The top-K of the parts' slowest ticks (K: the largest part's limit), each tick labelled
/// with its run; `None` when no part kept any.
fn merge_slowest_ticks(reports: &[(&str, &Report)]) -> Option<SlowestTicks> {
    let parts: Vec<(&str, &SlowestTicks)> = reports
        .iter()
        .filter_map(|(_, r)| Some((r.name.as_str(), r.slowest_ticks.as_ref()?)))
        .collect();
    let limit = parts.iter().map(|(_, s)| s.limit as usize).max()?;
    let warmup = parts
        .iter()
        .map(|(_, s)| s.warmup_ticks_per_thread)
        .max()
        .unwrap_or(0);
    let ticks = parts.iter().flat_map(|(run, s)| {
        s.all().cloned().map(move |mut t| {
            t.run.get_or_insert_with(|| (*run).to_owned());
            t
        })
    });
    // Timed and recorded ticks rank apart if any part sampled its ticks.
    let sampled = reports.iter().any(|(_, r)| {
        r.sampling
            .as_ref()
            .is_some_and(|s| s.mode != crate::report::SamplingKind::Full)
    });
    Some(if sampled {
        SlowestTicks::from_sampled_ticks(limit, warmup, ticks)
    } else {
        SlowestTicks::from_ticks(limit, warmup, ticks)
    })
}

fn merge_resources(
    reports: &[(&str, &Report)],
    shards: Shards,
) -> std::result::Result<Resources, String> {
    let mut all = Vec::with_capacity(reports.len());
    for (label, report) in reports {
        match &report.resources {
            Some(r) => all.push((*report, r)),
            None => {
                let why = report
                    .resources_unavailable
                    .as_deref()
                    .unwrap_or("no reason given");
                return Err(format!("{label} has no resources ({why})"));
            }
        }
    }
    if shards == Shards::Parallel {
        return Err(
            "parallel shards: CPU and memory of separate processes are not one \
                    process's figures; see each shard's report"
                .to_owned(),
        );
    }
    let samples_taken = saturating_sum(all.iter().map(|(_, r)| r.samples_taken));
    // The report's means are over every sample, so the merged mean weights each shard by its
    // sample count.
    let weighted = |f: fn(&Resources) -> f64| {
        if samples_taken == 0 {
            0.0
        } else {
            all.iter()
                .map(|(_, r)| f(r) * r.samples_taken as f64)
                .sum::<f64>()
                / samples_taken as f64
        }
    };
    let mut samples = Vec::new();
    let (mut offset_ms, mut offset_ticks) = (0.0, 0u64);
    for (report, r) in &all {
        samples.extend(r.samples.iter().map(|s| {
            let mut s = *s;
            s.elapsed_ms += offset_ms;
            s.ticks = s.ticks.saturating_add(offset_ticks);
            s
        }));
        offset_ms += report.total_time_s * 1_000.0;
        offset_ticks = offset_ticks.saturating_add(report.ticks.count);
    }
    Ok(Resources {
        sample_interval_ms: all
            .iter()
            .map(|(_, r)| r.sample_interval_ms)
            .min()
            .unwrap_or(0),
        samples_taken,
        samples_failed: saturating_sum(all.iter().map(|(_, r)| r.samples_failed)),
        cpu_percent: merged_cpu(&all, |_| 1.0, |r| r.cpu_percent.max),
        cpu_percent_of_machine: merged_cpu(
            &all,
            |report| report.environment.logical_cores.max(1) as f64,
            |r| r.cpu_percent_of_machine.max,
        ),
        cpu_time_s: all.iter().map(|(_, r)| r.cpu_time_s).sum(),
        memory_bytes: MemoryStats {
            mean: weighted(|r| r.memory_bytes.mean),
            peak: all
                .iter()
                .map(|(_, r)| r.memory_bytes.peak)
                .max()
                .unwrap_or(0),
        },
        peak_rss_bytes: all.iter().map(|(_, r)| r.peak_rss_bytes).max().unwrap_or(0),
        samples,
        threads: merged_thread_sampling(all.iter().map(|(_, r)| r.threads)),
    })
}

/// The parts' per-thread read counts added up; `None` when no part read threads.
fn merged_thread_sampling(
    parts: impl Iterator<Item = Option<ThreadSampling>>,
) -> Option<ThreadSampling> {
    parts.flatten().reduce(|a, b| ThreadSampling {
        threads_sampled: a.threads_sampled.saturating_add(b.threads_sampled),
        threads_exited: a.threads_exited.saturating_add(b.threads_exited),
        reads_failed: a.reads_failed.saturating_add(b.reads_failed),
        threads_untracked: a.threads_untracked.saturating_add(b.threads_untracked),
    })
}

fn merge_environment(reports: &[(&str, &Report)]) -> Environment {
    let envs: Vec<&Environment> = reports.iter().map(|(_, r)| &r.environment).collect();
    let models: Vec<&str> = envs.iter().filter_map(|e| e.cpu_model.as_deref()).collect();
    Environment {
        crate_version: join_distinct(envs.iter().map(|e| e.crate_version.as_str())),
        os: join_distinct(envs.iter().map(|e| e.os.as_str())),
        arch: join_distinct(envs.iter().map(|e| e.arch.as_str())),
        logical_cores: envs.iter().map(|e| e.logical_cores).max().unwrap_or(0),
        cpu_model: (!models.is_empty()).then(|| join_distinct(models.into_iter())),
    }
}

/// Where the merged reports were calibrated: their one site, or `Mixed`; `None` if none says.
fn merge_site<'a>(
    sites: impl Iterator<Item = &'a Option<CalibrationSite>>,
) -> Option<CalibrationSite> {
    let mut known = sites.flatten();
    let first = known.next()?;
    Some(if known.all(|site| site == first) {
        first.clone()
    } else {
        CalibrationSite::Mixed
    })
}

/// The distinct values in first-seen order, joined with `+`.
fn join_distinct<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.join("+")
}

/// Counts from reports are summed saturating: a corrupt count near `u64::MAX` must not panic
/// (debug) or wrap (release).
fn saturating_sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

fn max_f64(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, f64::max)
}

/// CPU of consecutive runs as one: the mean is their CPU time over their wall time (so it
/// agrees with the merged `cpu_time_s / total_time_s`), `null` when any part has none (a part
/// too short to judge, whose wall time would still count); the max is the busiest sample of
/// any part. `cores` scales a part to % of its machine.
fn merged_cpu(
    all: &[(&Report, &Resources)],
    cores: fn(&Report) -> f64,
    max: fn(&Resources) -> Option<f64>,
) -> MeanMax {
    let wall_s: f64 = all.iter().map(|(report, _)| report.total_time_s).sum();
    let cpu_s: f64 = all
        .iter()
        .map(|(report, r)| r.cpu_time_s / cores(report))
        .sum();
    let every_part_has_a_mean = all.iter().all(|(_, r)| r.cpu_percent.mean.is_some());
    MeanMax {
        mean: (every_part_has_a_mean && wall_s > 0.0).then(|| cpu_s / wall_s * 100.0),
        max: all.iter().filter_map(|(_, r)| max(r)).reduce(f64::max),
    }
}

/// The mean of `(mean, weight)` pairs weighted by `weight`; `None` if any mean is missing.
fn weighted_mean(parts: impl Iterator<Item = (Option<f64>, u64)>) -> Option<f64> {
    let (mut sum, mut weight) = (0.0, 0.0);
    for (mean, w) in parts {
        sum += mean? * w as f64;
        weight += w as f64;
    }
    (weight > 0.0).then(|| sum / weight)
}

fn max_option(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.flatten().reduce(f64::max)
}

/// `h` with every count multiplied by `weight`.
fn scaled(h: &Histogram<u64>, weight: u64) -> Histogram<u64> {
    let mut out = Histogram::new_from(h);
    for v in h.iter_recorded() {
        let _ = out.record_n(
            v.value_iterated_to(),
            v.count_at_value().saturating_mul(weight),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_support::{report, resources};

    proptest! {
        // Each case serializes and decodes a dozen histograms; 64 cases keep this under a second.
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn halves_merge_to_the_whole(
            values in proptest::collection::vec(1u64..50_000_000, 1..400),
            split in 0usize..400,
        ) {
            let split = split % (values.len() + 1);
            let (a, b) = values.split_at(split);
            let whole = report("run", &values, &[("c", &values)]);
            let merged = Report::merge(
                &[report("run", a, &[("c", a)]), report("run", b, &[("c", b)])],
                Shards::Sequential,
            ).unwrap();
            prop_assert_eq!(merged.ticks.count, whole.ticks.count);
            prop_assert_eq!(&merged.ticks.latency, &whole.ticks.latency);
            prop_assert_eq!(&merged.components["c"].latency, &whole.components["c"].latency);
            prop_assert_eq!(merged.components["c"].count, whole.components["c"].count);
            prop_assert!((merged.total_time_s - whole.total_time_s).abs() <= 1e-9 * whole.total_time_s);
            let l = &merged.ticks.latency;
            prop_assert!(l.min_ns <= l.p50_ns);
            prop_assert!(l.p50_ns <= l.p90_ns && l.p90_ns <= l.p95_ns);
            prop_assert!(l.p95_ns <= l.p99_ns && l.p99_ns <= l.p999_ns);
            prop_assert!(l.p999_ns <= l.max_ns);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Allocation figures of two halves merge into the whole's, bit for bit, for the ticks
        /// and for a component.
        #[test]
        fn allocation_halves_merge_to_the_whole(
            spans in proptest::collection::vec((0u64..40, 0u64..100_000), 1..300),
            split in 0usize..300,
        ) {
            let split = split % (spans.len() + 1);
            let (a, b) = spans.split_at(split);
            let with = |name: &str, part: &[(u64, u64)]| {
                let ticks = vec![1_000; part.len()];
                let mut r = report(name, &ticks, &[("parse", &ticks)]);
                let figures = (!part.is_empty()).then(|| crate::test_support::allocations(part));
                r.ticks.allocations = figures.clone();
                if let Some(c) = r.components.get_mut("parse") {
                    c.allocations = figures;
                }
                r
            };
            let whole = with("run", &spans);
            // Two runs (one run merged twice is refused).
            let merged = Report::merge(&[with("first", a), with("second", b)], Shards::Sequential)
                .unwrap();
            prop_assert_eq!(&merged.ticks.allocations, &whole.ticks.allocations);
            prop_assert_eq!(
                &merged.components["parse"].allocations,
                &whole.components["parse"].allocations
            );
            let m = merged.ticks.allocations.unwrap();
            prop_assert!(m.p50 <= m.p99 && m.p99 <= m.max);
            prop_assert!(m.p50_bytes <= m.p99_bytes && m.p99_bytes <= m.max_bytes);
        }
    }

    /// A part that measured ticks without counting allocations leaves the merge without
    /// allocation figures: the others' would claim to be every tick's. A part that measured
    /// none (a component it never ran) does not.
    #[test]
    fn a_part_without_allocation_figures_leaves_the_merge_without_them() {
        let mut a = report("a", &[1_000; 10], &[("parse", &[500; 10])]);
        a.ticks.allocations = Some(crate::test_support::allocations(&[(1, 8); 10]));
        if let Some(c) = a.components.get_mut("parse") {
            c.allocations = Some(crate::test_support::allocations(&[(1, 8); 10]));
        }
        let b = report("b", &[1_000; 10], &[("risk", &[500; 10])]);
        let m = Report::merge(&[a.clone(), b], Shards::Parallel).unwrap();
        assert_eq!(m.ticks.allocations, None);
        // `b` never ran `parse`: its figures stand.
        assert_eq!(
            m.components["parse"].allocations,
            a.components["parse"].allocations
        );
        assert_eq!(m.components["risk"].allocations, None);
    }

    /// Reports sampled at different rates weigh each value by the ticks it stands for, as the
    /// latency does; `samples` stays the spans measured.
    #[test]
    fn allocation_figures_are_weighted_by_the_ticks_they_stand_for() {
        let sampled = |name: &str, per_tick: u64, timed: u64| {
            let mut r = report(name, &vec![1_000; timed as usize], &[]);
            r.ticks.count = 1_000;
            r.sampling = Some(SamplingStats {
                mode: crate::report::SamplingKind::OneIn,
                budget_fraction: None,
                one_in: Some(1_000 / timed),
                ticks_timed: timed,
                ticks_recorded: 0,
                windows: 0,
                cost_ns_per_tick: 0.0,
                histograms_made: 0,
                setup_ns: 0,
            });
            r.ticks.allocations = Some(crate::test_support::allocations(&vec![
                (
                    per_tick,
                    8 * per_tick
                );
                timed as usize
            ]));
            r
        };
        // 1,000 ticks each: one sampled 1 in 10 with 2 allocations a tick, one 1 in 100 with 0.
        let m = Report::merge(
            &[sampled("a", 2, 100), sampled("b", 0, 10)],
            Shards::Parallel,
        )
        .unwrap();
        let t = m.ticks.allocations.unwrap();
        assert_eq!(t.samples, 110);
        assert!((t.mean - 1.0).abs() < 1e-9, "{t:?}");
        assert!((t.share_allocating - 0.5).abs() < 1e-9, "{t:?}");
        assert!((t.mean_bytes - 8.0).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn parallel_takes_the_longest_shard() {
        let a = report("a", &[1_000_000, 1_000_000], &[]);
        let b = report("b", &[3_000_000], &[]);
        let m = Report::merge(&[a, b], Shards::Parallel).unwrap();
        assert_eq!(m.name, "a+b");
        assert!((m.total_time_s - 0.003).abs() < 1e-12);
        assert!((m.ticks.throughput_per_s - 1_000.0).abs() < 1e-6);
        assert_eq!(m.resources, None);
        assert!(m.resources_unavailable.is_some());
    }

    #[test]
    fn sequential_resources_are_weighted_and_concatenated() {
        let mut a = report("r", &[1_000_000], &[]);
        let mut b = report("r", &[1_000_000], &[]);
        b.started_at = "2026-01-01T00:00:01Z".to_owned(); // the next part, not the same run
        a.resources = Some(resources(100.0, 90.0, 2.0));
        let mut rb = resources(300.0, 60.0, 2.0);
        rb.samples_taken = 20;
        rb.samples = vec![crate::report::ResourceSample {
            elapsed_ms: 0.5,
            cpu_percent: 60.0,
            rss_bytes: 1,
            ticks: 1,
        }];
        rb.cpu_percent.max = Some(75.0);
        b.resources = Some(rb);
        // CPU over wall of both parts: 0.9 s of CPU in 1 s, then 1.2 s in 2 s.
        a.total_time_s = 1.0;
        a.resources.as_mut().unwrap().cpu_time_s = 0.9;
        b.total_time_s = 2.0;
        b.resources.as_mut().unwrap().cpu_time_s = 1.2;
        let m = Report::merge(&[a.clone(), b.clone()], Shards::Sequential).unwrap();
        let r = m.resources.unwrap();
        assert_eq!(r.peak_rss_bytes, 300_000_000);
        assert!((r.cpu_percent.mean.unwrap() - 70.0).abs() < 1e-9);
        assert!((r.cpu_time_s / m.total_time_s * 100.0 - 70.0).abs() < 1e-9);
        assert_eq!(r.cpu_percent.max, Some(90.0_f64.max(75.0)));
        // A part too short for a CPU mean leaves the whole without one.
        b.resources.as_mut().unwrap().cpu_percent.mean = None;
        let m = Report::merge(&[a, b], Shards::Sequential).unwrap();
        assert_eq!(m.resources.as_ref().unwrap().cpu_percent.mean, None);
        assert_eq!(r.samples_taken, 30);
        assert!((r.samples[0].elapsed_ms - 1_000.5).abs() < 1e-9); // after the first part's 1 s
        assert_eq!(r.samples[0].ticks, 2);
    }

    #[test]
    fn missing_resources_give_a_reason() {
        let mut a = report("a", &[1_000], &[]);
        a.resources = Some(resources(1.0, 1.0, 1.0));
        let b = report("b", &[1_000], &[]);
        let m = merge_reports([("a.json", &a), ("b.json", &b)], Shards::Sequential).unwrap();
        assert_eq!(m.resources, None);
        assert_eq!(
            m.resources_unavailable.as_deref(),
            Some("b.json has no resources (sampler off)")
        );
    }

    #[test]
    fn different_settings_are_an_error() {
        let a = report("a", &[1_000], &[]);
        let mut b = report("b", &[1_000], &[]);
        let h = Histogram::<u64>::new_with_bounds(1, 1_000_000, 2).unwrap();
        b.ticks.latency = LatencyStats::from_histogram(&h, "t").unwrap();
        let err = merge_reports([("a.json", &a), ("b.json", &b)], Shards::Sequential)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.json") && err.contains("b.json"), "{err}");
        assert!(
            err.contains("ticks.latency") && err.contains("sigfig 2"),
            "{err}"
        );
    }

    #[test]
    fn the_same_run_twice_is_an_error_naming_both() {
        let a = report("run", &[1_000, 2_000], &[]);
        let b = report("run", &[4_000], &[]);
        let err = merge_reports(
            [("a.json", &a), ("b.json", &b), ("again.json", &a)],
            Shards::Parallel,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "cannot merge reports: a.json and again.json are the same run (`run`, started \
             2026-01-01T00:00:00Z, 0.000003 s): merging it twice would count its ticks twice"
        );
        // Same name and start (shards launched together), different runs: merged.
        assert!(merge_reports([("a.json", &a), ("b.json", &b)], Shards::Parallel).is_ok());
    }

    /// A checkpoint with the final report of its run overlaps it: an error naming both and
    /// what each is. Distinct intervals of the run merge; the same interval twice does not.
    #[test]
    fn overlapping_parts_of_a_run_are_an_error_naming_both() {
        let part = |values: &[u64], part: RunPart| {
            let mut r = report("run", values, &[]);
            r.part = Some(part);
            r
        };
        let whole = report("run", &[1_000, 2_000, 3_000], &[]);
        let checkpoint = part(&[1_000, 2_000], RunPart::Checkpoint);
        let interval = |index: u64, values: &[u64]| {
            part(
                values,
                RunPart::Interval {
                    index,
                    offset_s: 0.0,
                },
            )
        };
        let err = merge_reports(
            [("final.json", &whole), ("checkpoint.json", &checkpoint)],
            Shards::Sequential,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "cannot merge reports: final.json (the final report) and checkpoint.json (a \
                 checkpoint) are parts of the same run (`run`, started 2026-01-01T00:00:00Z) that \
                 overlap"
            ),
            "{err}"
        );
        let (first, second) = (interval(1, &[1_000]), interval(2, &[2_000, 3_000]));
        let merged = merge_reports([("1", &first), ("2", &second)], Shards::Sequential).unwrap();
        assert_eq!(merged.ticks.count, 3);
        assert_eq!(merged.part, None);
        let again = interval(2, &[2_000]);
        let err = merge_reports([("2", &second), ("2b", &again)], Shards::Sequential)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 (interval 2) and 2b (interval 2)"), "{err}");
        // Another run's checkpoint (another start) merges.
        let mut other = checkpoint.clone();
        other.started_at = "2026-01-01T00:00:01Z".to_owned();
        assert!(merge_reports([("a", &whole), ("b", &other)], Shards::Parallel).is_ok());
    }

    /// Counts at the edge of `u64` (a hostile or corrupt report that still loads) saturate
    /// instead of overflowing: a debug build used to panic here, a release build to wrap.
    #[test]
    fn counts_saturate() {
        let mut a = report("a", &[1_000], &[("c", &[500])]);
        a.ticks.count = u64::MAX;
        a.dropped.overflow = u64::MAX;
        a.dropped.missing_span_data = u64::MAX;
        a.components.get_mut("c").unwrap().count = u64::MAX;
        let mut ra = resources(1.0, 1.0, 1.0);
        ra.samples_taken = u64::MAX;
        ra.samples_failed = u64::MAX;
        ra.samples = vec![crate::report::ResourceSample {
            elapsed_ms: 1.0,
            cpu_percent: 1.0,
            rss_bytes: 1,
            ticks: u64::MAX,
        }];
        a.resources = Some(ra.clone());
        let mut b = a.clone();
        b.name = "b".to_owned();
        let m = Report::merge(&[a, b], Shards::Sequential).unwrap();
        assert_eq!(m.ticks.count, u64::MAX);
        assert_eq!(m.dropped.overflow, u64::MAX);
        assert_eq!(m.dropped.missing_span_data, u64::MAX);
        assert_eq!(m.components["c"].count, u64::MAX);
        let r = m.resources.unwrap();
        assert_eq!((r.samples_taken, r.samples_failed), (u64::MAX, u64::MAX));
        assert_eq!(r.samples[1].ticks, u64::MAX);
    }

    #[test]
    fn nothing_to_merge_is_an_error() {
        assert!(matches!(
            Report::merge(&[], Shards::Sequential),
            Err(Error::Merge(_))
        ));
    }
}
