//! Turns harvested records into a [`Report`]: shared by `stop_profiling`, `snapshot` and
//! `interval`, which differ only in what part of the run they cover.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::error::Result;
use crate::report::{
    ComponentStats, Dropped, Environment, InsideTicks, LatencyStats, Overhead, Report, Resources,
    RunPart, SCHEMA_VERSION, SamplingStats, ThreadTime, TickStats, WarmupStats, WriterStats,
};
use crate::run_window::ClosedWindow;
use crate::sampling::{Sampling, SamplingMode};
use crate::tick_profiler::allocation_records::AllocationHistograms;
use crate::tick_profiler::records::{ComponentHistograms, RunRecords};
use crate::tick_profiler::shared::Shared;
use crate::tick_profiler::slow_ticks::ClockAnchor;

/// Everything a report states besides the records.
#[derive(Debug)]
pub(super) struct ReportParts {
    pub(super) name: String,
    /// When the covered part began.
    pub(super) started_at: SystemTime,
    /// Its wall time (and the process CPU time in it).
    pub(super) window: ClosedWindow,
    pub(super) overhead: Overhead,
    pub(super) resources: Option<Resources>,
    pub(super) resources_unavailable: Option<String>,
    /// The followed threads' scheduler windows, for the slow ticks.
    #[cfg(feature = "sampler")]
    pub(super) scheduler: Option<crate::resource_profiler::SchedulerSource>,
    pub(super) span: Span,
    /// The run's raw clock against the wall clock (slow ticks' start times).
    pub(super) anchor: ClockAnchor,
    pub(super) part: Option<RunPart>,
    pub(super) checkpoints: Option<WriterStats>,
    pub(super) interval_log: Option<WriterStats>,
    /// Each followed thread's CPU time (ns) where the covered part began; `None` when it
    /// began with the run. A thread missing from it has no CPU figure for the part.
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(super) thread_cpu_before: ThreadCpuBefore,
}

/// See [`ReportParts::thread_cpu_before`].
pub(super) type ThreadCpuBefore = Option<std::collections::BTreeMap<u32, u64>>;

/// The recording windows opened in the covered part, and what switching them took.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) windows: u64,
    /// What the window switches (interest rebuilds) in it took, ns.
    pub(super) switches_ns: u64,
}

impl Span {
    /// The active run's, from its start to now.
    pub(super) fn whole_run(shared: &Shared) -> Self {
        Span {
            windows: shared.window.opened(),
            switches_ns: shared.budget.switches_ns(),
        }
    }
}

/// The figures of each named span of `histograms`, found in the report under `root`;
/// `recorded`: the recorded ticks they are components of (their per-tick count), `None` for
/// spans outside ticks (which say how many were seen).
fn named_stats(
    root: &str,
    histograms: &BTreeMap<String, ComponentHistograms>,
    recorded: Option<u64>,
) -> Result<BTreeMap<String, ComponentStats>> {
    let mut named = BTreeMap::new();
    for (name, c) in histograms {
        let (net, wall) = (&c.latency, &c.wall);
        let stats = ComponentStats {
            count: net.len(),
            latency: LatencyStats::from_histogram(net, &format!("{root}.{name}.latency"))?,
            self_time: Some(LatencyStats::from_histogram(
                c.self_time(),
                &format!("{root}.{name}.self_time"),
            )?),
            wall: wall
                .as_ref()
                .map(|w| LatencyStats::from_histogram(w, &format!("{root}.{name}.wall")))
                .transpose()?,
            per_tick: recorded
                .filter(|&recorded| recorded > 0)
                .map(|recorded| net.len() as f64 / recorded as f64),
            allocations: AllocationHistograms::stats(&c.allocations),
            seen: recorded.is_none().then_some(c.seen),
        };
        named.insert(name.clone(), stats);
    }
    Ok(named)
}

/// The report of `records`, which cover the part of a run that `parts` describes.
pub(super) fn build(
    parts: ReportParts,
    mut records: RunRecords,
    shared: &Shared,
    warmup_ticks: u64,
) -> Result<Report> {
    let overhead = parts.overhead;
    let total_time_s = parts.window.wall.as_secs_f64();
    let count = records.ticks_counted;
    let sampling = sampling_stats(shared.sampling, &records, &overhead, parts.span);
    let recorded = records.counters.ticks_recorded;
    let components = named_stats("components", &records.components, Some(recorded))?;
    // A name recorded as a component is not listed outside ticks: its spans outside ticks
    // cannot be told from the children of ticks tickprof did not record (a tick refused while
    // another thread's window is open does not exist, and its children look like roots).
    records
        .outside
        .retain(|name, _| !records.components.contains_key(name));
    let outside_ticks = named_stats("outside_ticks", &records.outside, None)?;
    let slowest_ticks = (shared.slowest_ticks > 0).then(|| {
        let mut slow = std::mem::take(&mut records.slow).into_report(
            warmup_ticks,
            &shared.callsites.names(),
            &|fields| {
                shared
                    .callsites
                    .metadata(fields.callsite())
                    .map(|metadata| fields.resolve(metadata))
                    .unwrap_or_default()
            },
            &shared.clock,
            parts.anchor,
            !shared.budget.is_full(),
        );
        if let Some(resources) = &parts.resources {
            slow.attach_resources(resources);
        }
        #[cfg(feature = "sampler")]
        if let Some(scheduler) = &parts.scheduler {
            let margin_ms = parts.anchor.skew_ms(&shared.clock);
            scheduler.attach(&mut slow, parts.anchor.instant.0, margin_ms);
        }
        slow
    });
    let counters = &records.counters;
    let unattributed_mean_ns =
        (!records.unattributed.is_empty()).then(|| records.unattributed.mean());
    // The CPU time the summary prints (the sampler's, read over this window), else the window's.
    let cpu_time_s = parts
        .resources
        .as_ref()
        .map(|r| r.cpu_time_s)
        .or_else(|| parts.window.cpu.map(|cpu| cpu.as_secs_f64()));
    #[cfg(feature = "sampler")]
    let exits = shared.exit_cpu_ns();
    #[cfg(feature = "sampler")]
    let threads = thread_times(&records, |tid| {
        let scheduler = parts.scheduler.as_ref()?;
        match &parts.thread_cpu_before {
            // A thread that exited: from its own reading as it did.
            None => scheduler
                .cpu_time_s(tid)
                .or_else(|| scheduler.cpu_time_at_exit_s(tid, *exits.get(&tid)?)),
            Some(before) => {
                let total_s = scheduler.cpu_time_s(tid)?;
                Some((total_s - *before.get(&tid)? as f64 / 1e9).max(0.0))
            }
        }
    });
    #[cfg(not(feature = "sampler"))]
    let threads = thread_times(&records, |_| None);
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        name: parts.name,
        started_at: humantime::format_rfc3339_millis(parts.started_at).to_string(),
        total_time_s,
        ticks: TickStats {
            count,
            throughput_per_s: if total_time_s > 0.0 {
                count as f64 / total_time_s
            } else {
                0.0
            },
            latency: LatencyStats::from_histogram(&records.latency, "ticks.latency")?,
            latency_raw: Some(LatencyStats::from_histogram(
                &records.latency_raw,
                "ticks.latency_raw",
            )?),
            wall: (!records.wall.is_empty())
                .then(|| LatencyStats::from_histogram(&records.wall, "ticks.wall"))
                .transpose()?,
            recorded: (!records.recorded.is_empty())
                .then(|| LatencyStats::from_histogram(&records.recorded, "ticks.recorded"))
                .transpose()?,
            warmup: (warmup_ticks > 0)
                .then(|| -> Result<WarmupStats> {
                    Ok(WarmupStats {
                        ticks_per_thread: warmup_ticks,
                        count: counters.warmup_ticks,
                        recorded: counters.warmup_recorded,
                        latency: (!records.warmup.is_empty())
                            .then(|| LatencyStats::from_histogram(&records.warmup, "ticks.warmup"))
                            .transpose()?,
                    })
                })
                .transpose()?,
            allocations: AllocationHistograms::stats(&records.tick_allocations),
        },
        components,
        // Filled below, from the figures above.
        inside_ticks: None,
        // Spans outside every tick are not recorded yet.
        outside_ticks,
        unattributed: LatencyStats::from_histogram(&records.unattributed, "unattributed")?,
        unattributed_mean_ns,
        sampling: Some(sampling),
        overhead,
        dropped: Dropped {
            overflow: counters.overflow,
            missing_span_data: counters.missing_span_data,
            straddled: counters.straddled,
            clamped: counters.clamped,
            uncredited_children: counters.uncredited_children,
        },
        environment: Environment::current(),
        resources: parts.resources,
        resources_unavailable: parts.resources_unavailable,
        loop_comparison: None,
        part: parts.part,
        checkpoints: parts.checkpoints,
        interval_log: parts.interval_log,
        slowest_ticks,
    };
    report.inside_ticks = InsideTicks::by_thread(&report, cpu_time_s, &threads);
    Ok(report)
}

/// Each thread's ticks, with its CPU time (`cpu_of` its kernel id) where it is known.
fn thread_times(records: &RunRecords, cpu_of: impl Fn(u32) -> Option<f64>) -> Vec<ThreadTime> {
    records
        .threads
        .iter()
        // A thread whose every tick closed on another has nothing of its own left.
        .filter(|(_, t)| t.net_ticks() > 0 || t.timed > 0 || t.warmup_ticks > 0)
        .map(|(key, t)| ThreadTime {
            thread: key.label.to_string(),
            tid: key.tid,
            ticks: t.net_ticks(),
            warmup_ticks: t.warmup_ticks,
            warmup_ns: t.warmup_ns,
            timed: t.timed,
            timed_ns: t.timed_ns,
            cpu_time_s: key.tid.and_then(&cpu_of),
        })
        .collect()
}

/// What the covered part sampled, and what that cost per tick.
fn sampling_stats(
    sampling: Sampling,
    records: &RunRecords,
    overhead: &Overhead,
    span: Span,
) -> SamplingStats {
    let counters = &records.counters;
    let count = records.ticks_counted;
    // Timed and recorded ticks are disjoint; with full sampling every tick is recorded.
    let timed_only = if sampling.is_full() {
        0
    } else {
        counters.ticks_timed + counters.warmup_ticks - counters.warmup_recorded
    };
    let recorded_spans =
        counters.ticks_recorded + counters.components_recorded + counters.outside_recorded;
    let untimed = count.saturating_sub(timed_only + counters.ticks_recorded);
    // Spans outside ticks looked at and not recorded: a filter decision each, as a tick's.
    let outside_unrecorded: u64 = records
        .outside
        .values()
        .map(|c| c.seen.saturating_sub(c.latency.len()))
        .sum();
    // The costs the budget paces on (`Costs`), as the report states them.
    let cost_ns = overhead.tick_check_ns.unwrap_or(0.0) * (untimed + outside_unrecorded) as f64
        + overhead.per_span_ns * (timed_only + recorded_spans) as f64
        + span.switches_ns as f64;
    let (budget_fraction, one_in) = match sampling.mode {
        SamplingMode::Budget(fraction) => (Some(fraction), None),
        SamplingMode::OneIn(n) => (None, Some(n)),
        SamplingMode::Full => (None, None),
    };
    SamplingStats {
        mode: sampling.name().to_owned(),
        budget_fraction,
        one_in,
        ticks_timed: counters.ticks_timed,
        ticks_recorded: counters.ticks_recorded,
        windows: span.windows,
        cost_ns_per_tick: if count > 0 {
            cost_ns / count as f64
        } else {
            0.0
        },
        histograms_made: counters.setup.histograms,
        setup_ns: counters.setup.ns,
    }
}
