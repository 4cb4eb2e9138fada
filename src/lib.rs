//! Per-tick latency, per-component latency, CPU and memory of tick loops (backtesting engines,
//! live trading engines, any loop over ticks, events or messages), from ordinary `tracing` spans.
//!
//! [`MetricsCollector`] owns profiling runs; its [`layer`](MetricsCollector::layer) is the
//! [`TickProfiler`], a `tracing_subscriber::Layer` that creates no span while no run is active and,
//! while profiling, counts every tick, times a random sample and records bursts of ticks with all
//! their components. [`stop_profiling`](MetricsCollector::stop_profiling) returns a [`Report`]:
//! JSON with whole HdrHistograms, a printed summary, graphs ([`graphs`]), a Chrome trace of the
//! slowest ticks, and the CI gate of the `tickprof` CLI ([`thresholds`], [`compare`], [`gate`]).
//!
//! ```
//! use tickprof::MetricsCollector;
//! use tracing_subscriber::prelude::*;
//!
//! let collector = MetricsCollector::builder().tick_span("tick").build()?;
//! let subscriber = tracing_subscriber::registry().with(collector.layer());
//! let report = tracing::subscriber::with_default(subscriber, || {
//!     collector.start_profiling("doc")?;
//!     for i in 0..1_000_u64 {
//!         let _tick = tracing::info_span!("tick").entered();
//!         let _parse = tracing::info_span!("parse").entered();
//!         std::hint::black_box(i);
//!     }
//!     collector.stop_profiling()
//! })?;
//! assert_eq!(report.ticks.count, 1_000);
//! # Ok::<(), tickprof::Error>(())
//! ```
//!
//! # The guide
//!
//! The README (install, a complete example, the two commands) and the user guide are Markdown
//! files in the crate's source, `docs/`:
//! sampling and what is measured (`docs/sampling.md`), the report format
//! (`docs/report-format.md`), CPU and memory (`docs/cpu-and-memory.md`), live engines and
//! Prometheus (`docs/live-and-prometheus.md`), slow ticks and traces (`docs/slow-ticks.md`), the
//! CI gate (`docs/ci-gate.md`), the CLI (`docs/cli.md`), the scalability driver
//! (`docs/scalability-driver.md`), the measurement model and its limits
//! (`docs/measurement-model.md`) and every measured figure (`docs/benchmarks.md`). Every Rust
//! example in them is compiled as a doctest of this crate.
//!
//! # Features
//!
//! | feature | default | gives |
//! |---|---|---|
//! | `sampler` | on | [`ResourceProfiler`]: CPU and memory in the report (tokio, sysinfo, cpu-time) |
//! | `plot` | on | [`graphs`]: PNG graphs (plotters, a bundled font; no system libraries) |
//! | `cli` | on | the `tickprof` binary (clap, anyhow, toml) |
//! | `prometheus` | off | `tickprof::prometheus`: a `/metrics` endpoint for the active run (prometheus-client, hyper) |
//!
//! With `default-features = false` the layer, the collector and the JSON reports still work.
//! MSRV: Rust 1.95. `#![forbid(unsafe_code)]`.
//!
//! # Stability
//!
//! The report types are `#[non_exhaustive]`: read and set their fields, build them with their
//! constructors. The public items are listed in `tests/public_api.txt`, which a test checks, so
//! a change to the surface is a visible diff. [`TickProfiler`] is a type alias of
//! `tracing_subscriber::filter::Filtered<TickRecorder, TickGate, S>`, not a newtype: per-layer
//! filtering needs `Layer::downcast_raw`, an `unsafe fn` a newtype would have to forward, which
//! `forbid(unsafe_code)` rules out. [`TickGate`] and [`TickRecorder`] are opaque: no public
//! fields, constructors or methods.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod allocations;
pub mod atomic_file;
mod collector;
mod error;
pub mod input_file;
mod lock;
mod report;
pub mod scaling;
#[cfg(test)]
mod test_support;
mod tick_profiler;
mod tools;

// The architecture in folders: the hot path (`tick_profiler/`), the collector that owns a run
// (`collector/`), the report model (`report/`), and the tools that only read reports
// (`tools/`). Each module keeps its crate-root path.
#[cfg(feature = "sampler")]
use collector::resource_profiler;
use collector::{
    metrics_collector, overhead_calibration, periodic_writer, run_window, sample_interval, sampling,
};
#[cfg(feature = "plot")]
pub use tools::graphs;
use tools::merge;
#[cfg(feature = "prometheus")]
pub use tools::prometheus;
pub use tools::{compare, gate, interval_log, metric, thresholds};

#[cfg(feature = "sampler")]
pub use error::SamplerError;
pub use error::{Error, ParseCause, Result};
pub use merge::{Shards, merge_reports};
pub use metrics_collector::{DEFAULT_WARMUP_TICKS, MetricsCollector, MetricsCollectorBuilder};
pub(crate) use report::thousands;
pub use report::{
    AllocationStats, CalibrationSite, ComponentStats, DEFAULT_SLOWEST_TICKS, Dominant, Dropped,
    Environment, FAR_OUTLIER_FACTOR, FarOutliers, InsideTicks, LatencyStats, LoopComparison,
    LoopTimes, MachineAround, MeanMax, MemoryStats, OutlierCause, Overhead, Report, ResourceSample,
    Resources, RunPart, SCHEMA_VERSION, SamplingKind, SamplingStats, SchedulerAround, SlowTick,
    SlowestTicks, ThreadInsideTicks, ThreadSampling, TickField, TickFieldValue, TickOutlier,
    TickOutliers, TickStats, TimelineSpan, WarmupStats, WriterStats,
};
#[cfg(feature = "sampler")]
pub use resource_profiler::{DEFAULT_SAMPLE_INTERVAL, ResourceProfiler, TickCounter};
pub use sample_interval::MAX_SAMPLE_INTERVAL;
pub use sampling::Sampling;
pub use tick_profiler::tick_fields::TickFieldCapture;
pub use tick_profiler::{TickGate, TickProfiler, TickRecorder};
pub use tickprof_alloc::CountingAllocator;

/// The README's and the guide's examples, compiled and run as doctests (never built otherwise).
#[cfg(doctest)]
mod doc_tests {
    #[doc = include_str!("../README.md")]
    struct Readme;
    #[doc = include_str!("../docs/sampling.md")]
    struct Sampling;
    #[doc = include_str!("../docs/report-format.md")]
    struct ReportFormat;
    #[doc = include_str!("../docs/slow-ticks.md")]
    struct SlowTicks;
    #[doc = include_str!("../docs/ci-gate.md")]
    struct CiGate;
    #[doc = include_str!("../docs/cli.md")]
    struct Cli;
    #[doc = include_str!("../docs/scalability-driver.md")]
    struct ScalabilityDriver;
    #[doc = include_str!("../docs/measurement-model.md")]
    struct MeasurementModel;
    #[doc = include_str!("../docs/benchmarks.md")]
    struct Benchmarks;
    #[doc = include_str!("../docs/development.md")]
    struct Development;
}

/// The chapters whose examples need feature `sampler`.
#[cfg(all(doctest, feature = "sampler"))]
mod doc_tests_sampler {
    #[doc = include_str!("../docs/cpu-and-memory.md")]
    struct CpuAndMemory;
}

/// The chapters whose examples need feature `prometheus`: compiled only with it, never silently
/// left out of a build that has it (`.ci/run` runs `cargo test --doc --all-features`).
#[cfg(all(doctest, feature = "prometheus"))]
mod doc_tests_prometheus {
    #[doc = include_str!("../docs/live-and-prometheus.md")]
    struct LiveAndPrometheus;
}
