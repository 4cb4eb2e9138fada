//! The report of one profiling run: what `stop_profiling` returns, what `save_json` writes and
//! what the CLI, the graphs and users' CI read back.
//!
//! Field names carry their units (`_ns`, `_s`, `_bytes`, `_percent`) and maps are `BTreeMap`s, so
//! the JSON is deterministic and diffable. Every latency carries its whole HdrHistogram (V2 +
//! Deflate, base64), so reports can be merged and compared exactly, not from rounded percentiles.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::atomic_file;
use crate::error::{Error, Result};

mod allocations;
mod chrome_trace;
mod figures;
pub(crate) mod histogram_blob;
mod inside_ticks;
mod kinds;
mod live;
mod outliers;
mod slow_ticks;
mod summary;
mod tick_fields;
mod validation;

pub use allocations::AllocationStats;
#[cfg(feature = "plot")]
pub(crate) use figures::Resolved;
pub(crate) use figures::least_resolved_change;
pub use figures::{OutlierCause, TickOutlier, TickOutliers};
pub(crate) use inside_ticks::ThreadTime;
pub use inside_ticks::{InsideTicks, ThreadInsideTicks};
pub use kinds::{CalibrationSite, SamplingKind};
pub use live::{RunPart, WriterStats};
pub use outliers::{FAR_OUTLIER_FACTOR, FarOutliers};
#[cfg(feature = "plot")]
pub(crate) use slow_ticks::duration;
#[cfg(test)]
pub(crate) use slow_ticks::tests::tick as test_slow_tick;
pub use slow_ticks::{
    DEFAULT_SLOWEST_TICKS, Dominant, MachineAround, SchedulerAround, SlowTick, SlowestTicks,
    TimelineSpan,
};
pub(crate) use summary::thousands;
pub use tick_fields::{TickField, TickFieldValue};

/// The report format version this build writes and the newest it reads (it reads 1 to 6 too).
///
/// Version 7 counts allocations, when the run's binary installed a
/// [`CountingAllocator`](crate::CountingAllocator): `ticks.allocations` (per tick) and
/// `components.*.allocations` (per span, its children's excluded), both absent without one
/// (and in older reports); and a slow tick's culprit, `dominant.path` and `path_busy_ns`.
/// Version 6 says what the ticks leave out: `inside_ticks` (how much of the run's wall and CPU
/// time was inside ticks) and `outside_ticks` (spans that ran outside every tick, empty until
/// they are recorded), and the caller's loop timings in detail (`loop_comparison.times`); all
/// absent in older reports.
/// Version 5 measures what version 4 estimated: a component's `latency` is its own time, measured
/// net of its children's instrumentation, plus its children's net times (version 4 subtracted a
/// calibrated cost per child, and corrected it from the run's means); `overhead.nested_span_ns`
/// is now only what remains unmeasured per child. It added `components.*.self_time` (a
/// component's own time, children excluded) and `ticks.recorded` (the recorded ticks' latency,
/// the basis of the components' shares); both are `null` in older reports.
/// Version 4 added `slowest_ticks` (`null` in older reports).
/// Version 3 lets CPU figures be `null` where a run is too short for them
/// (`resources.cpu_percent.mean`/`.max`), and measures `cpu_time_s` over the run's own window.
/// Version 2 added what sampling and compensation mean for the figures: `sampling`,
/// `ticks.latency_raw`, `components.*.per_tick`, `LatencyStats::samples`, the calibration
/// fields of `overhead` and the `dropped` counters of sampling. In version 1 every tick was
/// timed and nothing was compensated.
pub const SCHEMA_VERSION: u32 = 7;

/// Everything measured in one profiling run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Format version ([`SCHEMA_VERSION`] when written by this build).
    pub schema_version: u32,
    /// The name given to `start_profiling`.
    pub name: String,
    /// When the run started, RFC 3339 in UTC.
    pub started_at: String,
    /// Wall time from `start_profiling` to `stop_profiling`, in seconds.
    pub total_time_s: f64,
    /// The tick spans.
    pub ticks: TickStats,
    /// One entry per component span name (any span with a tick among its ancestors).
    pub components: BTreeMap<String, ComponentStats>,
    /// How much of the run's wall time and CPU time was inside ticks
    /// ([`InsideTicks::estimate`]): what the components' shares are shares of, against the
    /// whole run. `null` before schema 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside_ticks: Option<InsideTicks>,
    /// Spans that ran outside every tick (a mock exchange, timers, channels in other tasks),
    /// by name, with the same figures as `components` (`per_tick` null: they are under no
    /// tick): what the ticks leave out. Empty (and absent from the JSON) when none was
    /// recorded, and before schema 6.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outside_ticks: BTreeMap<String, ComponentStats>,
    /// Per recorded tick: the tick's net busy time minus that of the components that ran in
    /// it on its thread (the tick's own work, not tracing's).
    pub unattributed: LatencyStats,
    /// Mean unattributed time per recorded tick. From schema 5, the `unattributed`
    /// histogram's mean; schemas 2–4 estimated it from means (the timed ticks' mean latency
    /// less the mean net busy time of the tick's direct children per recorded tick). What
    /// [`Report::unattributed_mean`] states, in the summary and the graphs alike. `null` in
    /// schema 1 or without recorded ticks.
    #[serde(default)]
    pub unattributed_mean_ns: Option<f64>,
    /// Which ticks were timed and recorded; `null` in schema 1 reports (every tick was).
    #[serde(default)]
    pub sampling: Option<SamplingStats>,
    /// What the profiler itself costs, measured at `start_profiling`.
    pub overhead: Overhead,
    /// Records that could not be taken exactly; each is counted, never silently lost.
    pub dropped: Dropped,
    /// Where the run happened.
    pub environment: Environment,
    /// CPU and memory sampled during the run; `null` when the sampler is off or unsupported.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Why `resources` is `null`, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_unavailable: Option<String>,
    /// The same loop measured without profiling, when the caller measured it (the scalability
    /// driver does): how much profiling slowed the loop. `null` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loop_comparison: Option<LoopComparison>,
    /// The slowest ticks, with the timelines of the recorded ones; `null` when switched off
    /// (`slowest_ticks(0)`) and in reports before schema 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowest_ticks: Option<SlowestTicks>,
    /// Which part of a run that went on this report covers (a snapshot, an interval, a
    /// checkpoint); `null` for the final report of a stopped run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<RunPart>,
    /// The crash-safe checkpoints saved during the run; `null` when checkpointing is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<WriterStats>,
    /// The HdrHistogram interval log written during the run; `null` when it is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_log: Option<WriterStats>,
}

/// A tick loop timed twice by the caller: with no profiling run active, and while profiling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoopComparison {
    /// Ticks per second of the loop with no run active.
    pub bare_per_s: f64,
    /// Ticks per second of the same loop while profiling.
    pub profiled_per_s: f64,
    /// The loops' times in detail, when the caller timed them so (the scalability driver
    /// does): what scaling efficiency is judged on ([`crate::scaling`]). `null` otherwise (and
    /// before schema 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<LoopTimes>,
}

/// A tick loop's times, bare (no profiling run active) and profiled: the whole loop, and the
/// loop after its first `warmup_ticks` ticks (cold caches, first allocations, the profiler's
/// first ticks on guessed rates), which a run pays once whatever its length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoopTimes {
    /// Ticks each loop ran.
    pub ticks: u64,
    /// The first ticks of each loop, timed apart from the rest.
    pub warmup_ticks: u64,
    /// Time in the bare loop run before the profiled one, and in the one run after it, s: two
    /// runs around the profiled one cancel a drift of the machine's speed, and their
    /// difference says how noisy the comparison is.
    pub bare_s: [f64; 2],
    /// Time in the profiled loop, s.
    pub profiled_s: f64,
    /// `bare_s` after the warm-up.
    pub bare_after_warmup_s: [f64; 2],
    /// `profiled_s` after the warm-up.
    pub profiled_after_warmup_s: f64,
}

impl LoopTimes {
    /// Ticks after the warm-up: the ticks the `…_after_warmup_s` times cover.
    pub fn ticks_after_warmup(&self) -> u64 {
        self.ticks.saturating_sub(self.warmup_ticks)
    }

    /// Mean time of the two bare loops after the warm-up, s.
    pub fn bare_after_warmup_mean_s(&self) -> f64 {
        (self.bare_after_warmup_s[0] + self.bare_after_warmup_s[1]) / 2.0
    }

    /// The bare loop's time per tick after the warm-up (mean of the two runs), ns; `None` when
    /// the loop is all warm-up.
    pub fn bare_ns_per_tick(&self) -> Option<f64> {
        let ticks = self.ticks_after_warmup();
        (ticks > 0).then(|| 1e9 * self.bare_after_warmup_mean_s() / ticks as f64)
    }

    /// The profiled loop's time per tick after the warm-up, ns; `None` when all warm-up.
    pub fn profiled_ns_per_tick(&self) -> Option<f64> {
        let ticks = self.ticks_after_warmup();
        (ticks > 0).then(|| 1e9 * self.profiled_after_warmup_s / ticks as f64)
    }

    /// How far apart the two bare loops are, as a share of their mean: the machine's noise.
    pub fn bare_spread(&self) -> f64 {
        spread(self.bare_s)
    }

    /// [`bare_spread`](Self::bare_spread) after the warm-up; `None` when all warm-up.
    pub fn bare_spread_after_warmup(&self) -> Option<f64> {
        (self.ticks_after_warmup() > 0).then(|| spread(self.bare_after_warmup_s))
    }
}

/// |a − b| / mean(a, b); 0 for two zeros.
fn spread([a, b]: [f64; 2]) -> f64 {
    if a + b > 0.0 {
        2.0 * (a - b).abs() / (a + b)
    } else {
        0.0
    }
}

impl LoopComparison {
    /// The comparison of loops timed in detail: the bare rate from the two bare loops' mean
    /// time, the profiled rate from the profiled loop's.
    pub fn from_times(times: LoopTimes) -> Self {
        let per_s = |s: f64| {
            if s > 0.0 { times.ticks as f64 / s } else { 0.0 }
        };
        LoopComparison {
            bare_per_s: per_s((times.bare_s[0] + times.bare_s[1]) / 2.0),
            profiled_per_s: per_s(times.profiled_s),
            times: Some(times),
        }
    }

    /// The loop's ticks per second without profiling and while profiling (no detailed times).
    pub fn new(bare_per_s: f64, profiled_per_s: f64) -> Self {
        LoopComparison {
            bare_per_s,
            profiled_per_s,
            times: None,
        }
    }

    /// How many times longer the profiled loop took: `bare_per_s / profiled_per_s`.
    pub fn slowdown(&self) -> f64 {
        if self.profiled_per_s > 0.0 {
            self.bare_per_s / self.profiled_per_s
        } else {
            f64::INFINITY
        }
    }

    /// The loop's time per tick without profiling, ns.
    pub fn bare_tick_ns(&self) -> f64 {
        if self.bare_per_s > 0.0 {
            1e9 / self.bare_per_s
        } else {
            0.0
        }
    }

    /// How the reported mean tick (`tick_mean_ns`, the report's `ticks.latency` mean) compares
    /// with the bare loop's time per tick: `tick_mean_ns / bare_tick_ns()`; 0 without a bare
    /// rate. The summary and the scalability driver print this one figure.
    pub fn tick_mean_ratio(&self, tick_mean_ns: f64) -> f64 {
        let bare = self.bare_tick_ns();
        if bare > 0.0 { tick_mean_ns / bare } else { 0.0 }
    }
}

/// The tick spans of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TickStats {
    /// Ticks the run saw: every tick, counted at its callsite's filter decision whether or not
    /// it was timed (schema 1: tick spans closed during the run).
    pub count: u64,
    /// `count / total_time_s`.
    pub throughput_per_s: f64,
    /// Busy time per timed tick, net of the instrumentation inside it (see `overhead`).
    pub latency: LatencyStats,
    /// Busy time per timed tick as measured, instrumentation included; `null` in schema 1.
    #[serde(default)]
    pub latency_raw: Option<LatencyStats>,
    /// First enter to last exit, for timed ticks entered more than once (a tick that is a
    /// future, polled across `.await`s); `null` if none was (and in schema 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<LatencyStats>,
    /// Each thread's first ticks, timed apart from `latency` (cold caches, page faults, lazy
    /// initialisation); `null` when the run had no warm-up (and before schema 3).
    #[serde(default)]
    pub warmup: Option<WarmupStats>,
    /// Net latency of the ticks recorded with their components (warm-up ticks included): the
    /// time the components' shares are shares of; `null` if none was (and before schema 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<LatencyStats>,
    /// Allocations per tick on the tick's thread, over the ticks `latency` holds; absent
    /// without a [`CountingAllocator`](crate::CountingAllocator) installed (and before
    /// schema 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocations: Option<AllocationStats>,
}

/// The warm-up ticks of a run: each thread's first ones, counted in `ticks.count` and the
/// throughput, but not in `ticks.latency` (nor `latency_raw`, `wall`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WarmupStats {
    /// The warm-up: this many of each thread's first ticks (the collector's `warmup_ticks`).
    pub ticks_per_thread: u64,
    /// Warm-up ticks measured (every warm-up tick that closed in the run), over all threads.
    pub count: u64,
    /// Of those, the ones recorded with their components (their components are in
    /// `components`; the rest were timed only).
    pub recorded: u64,
    /// Their busy time, net of the instrumentation inside; `null` if none closed.
    pub latency: Option<LatencyStats>,
}

/// One component (span name) of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ComponentStats {
    /// Spans of this name recorded (closed inside recorded ticks). With sampling this is a
    /// sample: `per_tick × ticks.count` estimates how many ran.
    pub count: u64,
    /// Its whole time per span: its own time plus its children's, net of the instrumentation
    /// of every span inside it.
    pub latency: LatencyStats,
    /// Its own time per span, its children's excluded, net of instrumentation: where to look
    /// when this component is slow; `null` before schema 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_time: Option<LatencyStats>,
    /// First enter to last exit, for spans entered more than once (async code); `null` if none was.
    pub wall: Option<LatencyStats>,
    /// Spans of this name per recorded tick, on average; `null` in schema 1.
    #[serde(default)]
    pub per_tick: Option<f64>,
    /// Allocations per span on its thread, its children's excluded (so the allocating
    /// component is the one named); absent without a
    /// [`CountingAllocator`](crate::CountingAllocator) installed (and before schema 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocations: Option<AllocationStats>,
    /// Spans outside ticks only: how many of this name tickprof saw outside every tick,
    /// recorded or not (`count` of them were recorded). Once its callsite is known to run
    /// outside ticks, every span of it is seen, between recording windows too. Absent for
    /// components and in older reports (an optional field: schema 7 readers skip it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u64>,
}

/// Which ticks a run timed and recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SamplingStats {
    /// How ticks were chosen: `full` (every tick recorded), `budget`, `one_in`, or `mixed` in a
    /// merge of reports sampled differently.
    pub mode: SamplingKind,
    /// The budget: the fraction of the loop's time profiling may cost (mode `budget`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_fraction: Option<f64>,
    /// `n` of mode `one_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_in: Option<u64>,
    /// Ticks whose latency is in `ticks.latency` (chosen at random, so its percentiles
    /// estimate all ticks'; its min, max and p99.9 are the sample's when fewer than
    /// `ticks.count`).
    pub ticks_timed: u64,
    /// Ticks recorded with every span inside them (the components and `unattributed`).
    pub ticks_recorded: u64,
    /// Recording windows (bursts of consecutive recorded ticks) opened.
    pub windows: u64,
    /// What profiling cost the loop, estimated from the calibrated costs, in ns per tick
    /// (the tick check of every tick included).
    pub cost_ns_per_tick: f64,
    /// Histograms made on the threads that tick (each on first use: the ticks', a new
    /// component name's), and the time that took, ns, measured where it happened: a one-off,
    /// not in `cost_ns_per_tick`. A fresh histogram (270 KB at the default precision) costs
    /// its pages' faults; a later run of the process records into the ones made before.
    #[serde(default)]
    pub histograms_made: u64,
    /// The time making `histograms_made` took, ns.
    #[serde(default)]
    pub setup_ns: u64,
}

impl WarmupStats {
    /// `count` warm-up ticks (`recorded` of them with their components), each thread's first
    /// `ticks_per_thread`, with their latency.
    pub fn new(
        ticks_per_thread: u64,
        count: u64,
        recorded: u64,
        latency: Option<LatencyStats>,
    ) -> Self {
        WarmupStats {
            ticks_per_thread,
            count,
            recorded,
            latency,
        }
    }
}

impl ComponentStats {
    /// `count` recorded spans with `latency`; no `self_time`, `wall` or `per_tick` (set them
    /// as needed).
    pub fn new(count: u64, latency: LatencyStats) -> Self {
        ComponentStats {
            count,
            latency,
            self_time: None,
            wall: None,
            per_tick: None,
            allocations: None,
            seen: None,
        }
    }
}

impl SamplingStats {
    /// What profiling cost the loop over a run of `ticks`, ns: the per-tick estimate for every
    /// tick, plus the one-off setup.
    pub fn cost_ns(&self, ticks: u64) -> f64 {
        self.cost_ns_per_tick * ticks as f64 + self.setup_ns as f64
    }

    /// What a schema 1 report did: every tick timed and recorded.
    pub fn every_tick(ticks: u64) -> Self {
        SamplingStats {
            mode: SamplingKind::Full,
            budget_fraction: None,
            one_in: None,
            ticks_timed: ticks,
            ticks_recorded: ticks,
            windows: 0,
            cost_ns_per_tick: 0.0,
            histograms_made: 0,
            setup_ns: 0,
        }
    }

    /// Whether `ticks.latency` covers every tick (its min, max and p99.9 are exact).
    pub fn timed_every_tick(&self, ticks: u64) -> bool {
        self.ticks_timed >= ticks
    }
}

/// The profiler's own cost, measured at `start_profiling` (see `overhead_calibration`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Overhead {
    /// What one recorded span adds to the user's loop, `Registry` and every layer included,
    /// against the same loop without the span (what the sampling budget counts). `0` when
    /// calibration is switched off. (Schema 1: what tickprof added over `registry()` with an
    /// empty layer.)
    pub per_span_ns: f64,
    /// The part of `per_span_ns` inside the busy time of the span a recorded span is created
    /// in: subtracted from a span's busy time once for each span recorded inside it; `null` in
    /// schema 1 or when calibration is off.
    #[serde(default)]
    pub nested_span_ns: Option<f64>,
    /// The same cost measured in the run itself (recorded ticks against timed ticks, see
    /// `in_run_compensation`), which replaced the calibrated one for the unattributed times
    /// and the components with spans inside; `null` when the run had too few of either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested_span_in_run_ns: Option<f64>,
    /// tickprof's own share per span over `registry()` with an empty layer; `null` in schema 1
    /// or when calibration is off.
    #[serde(default)]
    pub layer_ns_per_span: Option<f64>,
    /// Busy time an empty recorded span reads (clock reads and the work between them):
    /// subtracted once per entered interval.
    #[serde(default)]
    pub empty_span_busy_ns: f64,
    /// What every tick pays to be counted and sampled (its callsite's filter decision when
    /// the span is not created); `null` in schema 1 or when calibration is off.
    #[serde(default)]
    pub tick_check_ns: Option<f64>,
    /// Loop iterations timed per calibration measurement.
    #[serde(default)]
    pub calibration_ticks: u64,
    /// Where the calibration ran; `null` in schema 1.
    #[serde(default)]
    pub measured_on: Option<CalibrationSite>,
}

impl Overhead {
    /// Calibration switched off: nothing is measured or subtracted.
    pub fn not_measured() -> Self {
        Overhead {
            measured_on: Some(CalibrationSite::NotMeasured),
            ..Overhead::default()
        }
    }
}

/// Records that could not be taken exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Dropped {
    /// Values above the histogram bound: clamped to it and counted here.
    pub overflow: u64,
    /// Callbacks for spans the recorder had no state for, and odd span sequences (exit of a
    /// span never entered); skipped and counted here.
    pub missing_span_data: u64,
    /// Timed ticks left out because another thread opened or closed a recording window while
    /// they ran.
    #[serde(default)]
    pub straddled: u64,
    /// Compensations larger than the measured time (the net value is clamped to 0).
    #[serde(default)]
    pub clamped: u64,
    /// Components that ran inside no span tickprof times on their thread (a worker span with an
    /// explicit parent): they ran beside their parent, and their time is credited to no span.
    #[serde(default)]
    pub uncredited_children: u64,
}

/// The machine and build a report came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Environment {
    /// tickprof's version.
    pub crate_version: String,
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// Logical CPUs available to the process.
    pub logical_cores: usize,
    /// CPU model name, when the OS says (`/proc/cpuinfo` on Linux).
    pub cpu_model: Option<String>,
}

impl MeanMax {
    /// A mean and a maximum, each `None` where the run is too short for it.
    pub fn new(mean: Option<f64>, max: Option<f64>) -> Self {
        MeanMax { mean, max }
    }
}

impl MemoryStats {
    /// A mean and a peak of resident memory, in bytes.
    pub fn new(mean: f64, peak: u64) -> Self {
        MemoryStats { mean, peak }
    }
}

impl ResourceSample {
    /// One sample: `elapsed_ms` into the run, `cpu_percent` of one core since the previous
    /// sample, `rss_bytes` resident, `ticks` done so far.
    pub fn new(elapsed_ms: f64, cpu_percent: f64, rss_bytes: u64, ticks: u64) -> Self {
        ResourceSample {
            elapsed_ms,
            cpu_percent,
            rss_bytes,
            ticks,
        }
    }
}

impl Environment {
    /// Describes the machine this process runs on.
    pub fn current() -> Self {
        Environment {
            crate_version: env!("CARGO_PKG_VERSION").to_owned(),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: cpu_model(),
        }
    }
}

fn cpu_model() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// CPU and memory of the run, sampled by the ResourceProfiler. `Resources::default()` is a run
/// with no sample; set the fields to build one in code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Resources {
    /// The sampling period.
    pub sample_interval_ms: u64,
    /// Samples that produced a reading (the first refresh is a baseline, not a sample).
    pub samples_taken: u64,
    /// Refreshes that failed; skipped and counted.
    pub samples_failed: u64,
    /// CPU of the process in % of one core (100 = one core busy): the mean is
    /// `cpu_time_s / total_time_s` (the same window), the max the busiest sample.
    pub cpu_percent: MeanMax,
    /// The same in % of the whole machine (`cpu_percent / logical_cores`).
    pub cpu_percent_of_machine: MeanMax,
    /// CPU time (user + system, every thread) the process used during the run, in seconds:
    /// from the process CPU clock, read with the run's start and end (`total_time_s`).
    pub cpu_time_s: f64,
    /// Resident memory over the samples.
    pub memory_bytes: MemoryStats,
    /// The OS high-water mark of resident memory during this run (VmHWM, reset at start).
    pub peak_rss_bytes: u64,
    /// The sample series (decimated to a fixed maximum for long runs, keeping extremes).
    pub samples: Vec<ResourceSample>,
    /// How the per-thread scheduler reads went (see [`SlowTick::scheduler`]); `null` where
    /// they were not made (no `/proc`, a `ResourceProfiler` started alone, older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<ThreadSampling>,
}

/// The resource sampler's reads of each ticking thread's scheduler counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThreadSampling {
    /// Threads read at least once.
    pub threads_sampled: u64,
    /// Threads whose `/proc` entry vanished (they exited): not read again.
    pub threads_exited: u64,
    /// Reads that failed otherwise (skipped; the next window spans the gap).
    pub reads_failed: u64,
    /// Threads not followed: more than the sampler keeps (128).
    pub threads_untracked: u64,
}

/// Mean and maximum of CPU use; `null` ("n/a") where the run is too short for the figure to
/// mean anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MeanMax {
    /// Over the whole run (CPU time / wall time); `null` for a run under 10 ms, where the
    /// kernel's accounting of other threads' CPU time (at scheduler ticks) can miss most of it.
    pub mean: Option<f64>,
    /// The busiest sample of 10 ms or more; `null` with fewer than two samples (one sample is
    /// the mean) or none that long (shorter ones can read more than every core).
    pub max: Option<f64>,
}

/// Mean and peak of sampled resident memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemoryStats {
    /// Mean RSS over every sample.
    pub mean: f64,
    /// Largest sampled RSS (see `peak_rss_bytes` for the OS high-water mark).
    pub peak: u64,
}

/// One resource sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceSample {
    /// Time since `start_profiling`.
    pub elapsed_ms: f64,
    /// CPU since the previous sample, % of one core.
    pub cpu_percent: f64,
    /// Resident memory.
    pub rss_bytes: u64,
    /// Ticks completed so far in this run.
    pub ticks: u64,
}

/// Latency distribution of one span kind, in nanoseconds, with its full histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LatencyStats {
    /// Smallest value.
    pub min_ns: u64,
    /// Mean.
    pub mean_ns: f64,
    /// Standard deviation.
    pub stddev_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest value.
    pub max_ns: u64,
    /// Values in the histogram; `0` in schema 1 reports (read the histogram).
    #[serde(default)]
    pub samples: u64,
    /// The HdrHistogram, V2 + Deflate serialization, base64 (standard alphabet, padded).
    pub histogram: String,
}

impl LatencyStats {
    /// The figures of no value at all: zeros, and an empty histogram of tickprof's default
    /// bounds (1 ns … 1 h, 3 significant figures), which decodes like any other.
    pub fn empty() -> Self {
        let blob = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
            .ok()
            .and_then(|h| histogram_blob::encode(&h).ok())
            .unwrap_or_default();
        LatencyStats {
            min_ns: 0,
            mean_ns: 0.0,
            stddev_ns: 0.0,
            p50_ns: 0,
            p90_ns: 0,
            p95_ns: 0,
            p99_ns: 0,
            p999_ns: 0,
            max_ns: 0,
            samples: 0,
            histogram: blob,
        }
    }

    /// Summarizes `histogram`; `field` names it in errors.
    ///
    /// # Errors
    /// [`Error::Histogram`] if the histogram cannot be serialized.
    pub fn from_histogram(histogram: &Histogram<u64>, field: &str) -> Result<Self> {
        let blob = histogram_blob::encode(histogram).map_err(|e| Error::histogram(field, e))?;
        let empty = histogram.is_empty();
        let q = |quantile: f64| {
            if empty {
                0
            } else {
                histogram.value_at_quantile(quantile)
            }
        };
        Ok(LatencyStats {
            min_ns: if empty { 0 } else { histogram.min() },
            mean_ns: if empty { 0.0 } else { histogram.mean() },
            stddev_ns: if empty { 0.0 } else { histogram.stdev() },
            p50_ns: q(0.50),
            p90_ns: q(0.90),
            p95_ns: q(0.95),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            max_ns: if empty { 0 } else { histogram.max() },
            samples: histogram.len(),
            histogram: blob,
        })
    }

    /// Decodes the stored histogram; `field` names it in errors. Time and memory are bounded by
    /// the blob's size: a header that claims more than the blob holds, or more than the
    /// histogram's bounds can need, is an error before anything of that size is allocated.
    ///
    /// # Errors
    /// [`Error::Histogram`] if the blob is not base64 or not a V2 (or V2 + Deflate) histogram.
    pub fn decode_histogram(&self, field: &str) -> Result<Histogram<u64>> {
        histogram_blob::decode(&self.histogram).map_err(|e| Error::histogram(field, e))
    }
}

#[derive(Deserialize)]
struct VersionProbe {
    /// `None`: a JSON file that is not a report.
    #[serde(default)]
    schema_version: Option<u32>,
}

impl Report {
    /// A report of a run named `name` that measured nothing: schema [`SCHEMA_VERSION`], started
    /// at the Unix epoch, no ticks or components, empty latencies, nothing calibrated, this
    /// machine's [`Environment`], no resources. Set the fields to build a report in code (tests,
    /// tools that write reports of their own); the collector builds real ones.
    pub fn empty(name: impl Into<String>) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            name: name.into(),
            started_at: "1970-01-01T00:00:00Z".to_owned(),
            total_time_s: 0.0,
            ticks: TickStats {
                count: 0,
                throughput_per_s: 0.0,
                latency: LatencyStats::empty(),
                latency_raw: None,
                wall: None,
                warmup: None,
                recorded: None,
                allocations: None,
            },
            components: BTreeMap::new(),
            inside_ticks: None,
            outside_ticks: BTreeMap::new(),
            unattributed: LatencyStats::empty(),
            unattributed_mean_ns: None,
            sampling: None,
            overhead: Overhead::default(),
            dropped: Dropped::default(),
            environment: Environment::current(),
            resources: None,
            resources_unavailable: None,
            loop_comparison: None,
            slowest_ticks: None,
            part: None,
            checkpoints: None,
            interval_log: None,
        }
    }

    /// The ticks `ticks.latency` stands for: every tick but the warm-up ones (which are all
    /// measured and reported apart in `ticks.warmup`).
    pub fn ticks_after_warmup(&self) -> u64 {
        let warmup = self.ticks.warmup.as_ref().map_or(0, |w| w.count);
        self.ticks.count.saturating_sub(warmup)
    }

    /// Reads a report written by `save_json`. Unknown fields are ignored (reports from newer
    /// builds with the same schema stay readable); a newer `schema_version` is an error. What
    /// the report promises is checked here, once, so every later use can rely on it: each
    /// histogram blob decodes (in time and memory bounded by its size) and each number is
    /// finite and within its unit's range (no negative times, no 1e308 seconds).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read (or is empty, not a regular file, or larger
    /// than any report: 1 GiB; see [`input_file`](crate::input_file)), [`Error::Parse`] with line and column if it is not a report,
    /// [`Error::NotAReport`] for JSON without a `schema_version`,
    /// [`Error::UnsupportedSchema`] if it was written by a newer schema,
    /// [`Error::InvalidReport`] naming the field and the value that break the format.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::input_file::read_to_string(path, MAX_REPORT_BYTES, "report")?;
        if text.trim().is_empty() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "file is empty"),
            ));
        }
        Self::from_json_str(&text, path)
    }

    /// Parses report JSON; `origin` names the source in errors.
    ///
    /// # Errors
    /// As [`Report::load`], minus I/O.
    pub fn from_json_str(text: &str, origin: &Path) -> Result<Self> {
        let parse_error = |e: serde_json::Error| Error::parse(origin, e);
        let probe: VersionProbe = serde_json::from_str(text).map_err(parse_error)?;
        let Some(found) = probe.schema_version else {
            return Err(Error::NotAReport {
                path: origin.to_path_buf(),
            });
        };
        if found > SCHEMA_VERSION {
            return Err(Error::UnsupportedSchema {
                path: origin.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        // The field's path in the message: "field `ticks.count`: invalid type: string …".
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let report: Report = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let field = e.path().to_string();
            let mut error = parse_error(e.into_inner());
            if let Error::Parse { field: at, .. } = &mut error
                && field != "."
                && !field.is_empty()
            {
                *at = Some(field);
            }
            error
        })?;
        report.check().map_err(|invalid| Error::InvalidReport {
            path: origin.to_path_buf(),
            field: invalid.field,
            message: invalid.message,
        })?;
        Ok(report)
    }

    /// The share of the recorded ticks' time a component's own code took (its `self_time`
    /// mean × spans per recorded tick ÷ `ticks.recorded` mean): one basis for every component
    /// and for [`unattributed_share`](Self::unattributed_share), which add up to 1 (to the
    /// histograms' 0.1 %). `None` without recorded ticks, or for a report before schema 5.
    pub fn self_share(&self, component: &str) -> Option<f64> {
        let c = self.components.get(component)?;
        let total = self
            .ticks
            .recorded
            .as_ref()
            .filter(|r| r.samples > 0)?
            .mean_ns;
        let own = c.self_time.as_ref()?.mean_ns;
        let per_tick = c.per_tick?;
        (total > 0.0).then(|| own * per_tick / total)
    }

    /// The share of the recorded ticks' time in none of their components
    /// ([`unattributed_mean`](Self::unattributed_mean) ÷ `ticks.recorded` mean); see
    /// [`self_share`](Self::self_share).
    pub fn unattributed_share(&self) -> Option<f64> {
        let total = self
            .ticks
            .recorded
            .as_ref()
            .filter(|r| r.samples > 0)?
            .mean_ns;
        (total > 0.0).then(|| self.unattributed_mean() / total)
    }

    /// The smallest latency one span reading can resolve, in ns: twice the busy time an empty
    /// span reads (clock steps plus the layer's bookkeeping between its two clock reads), and at
    /// least 20 ns. Every output holds figures to it by one rule: the summary and the graphs
    /// mark a figure below it (`<0.080`), and the gates ([`gate`](crate::gate): `tickprof
    /// compare`, `check --baseline`) call no change between two figures both below it, so they
    /// never tell apart two figures the summary prints alike.
    pub fn latency_resolution_ns(&self) -> f64 {
        (2.0 * self.overhead.empty_span_busy_ns).max(20.0)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json_string(&self) -> String {
        // Serializing these plain structs cannot fail (string keys, no custom serializers).
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the report as JSON, atomically ([`atomic_file::write`]): a unique temporary
    /// file in the same directory, flushed to the disk, then a rename, so a reader never sees
    /// half a report (even with several threads saving to one path) and a failed write leaves
    /// the old file. Missing directories are created.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path that could not be created or written.
    pub fn save_json(&self, path: impl AsRef<Path>) -> Result<()> {
        atomic_file::write(path, self.to_json_string().as_bytes())
    }

    /// The seed's summary block plus a component table, as printed by [`Report::print_summary`].
    pub fn summary(&self) -> String {
        self.to_string()
    }

    /// Prints [`Report::summary`] to stdout.
    pub fn print_summary(&self) {
        println!("{self}");
    }
}

/// The largest report file read: far above any real report (a merge of a thousand shards with
/// all their samples is ~200 MB).
pub(crate) const MAX_REPORT_BYTES: u64 = 1 << 30;
