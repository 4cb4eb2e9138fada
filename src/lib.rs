#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod allocations;
pub mod atomic_file;
pub mod compare;
mod error;
pub mod gate;
#[cfg(feature = "plot")]
pub mod graphs;
pub mod input_file;
pub mod interval_log;
mod lock;
mod merge;
pub mod metric;
mod metrics_collector;
mod overhead_calibration;
mod periodic_writer;
#[cfg(feature = "prometheus")]
pub mod prometheus;
mod report;
#[cfg(feature = "sampler")]
mod resource_profiler;
mod run_window;
mod sample_interval;
mod sampling;
pub mod scaling;
#[cfg(test)]
mod test_support;
pub mod thresholds;
mod tick_profiler;

pub use allocations::CountingAllocator;
pub use error::{Error, Result};
pub use merge::{Shards, merge_reports};
pub use metrics_collector::{DEFAULT_WARMUP_TICKS, MetricsCollector, MetricsCollectorBuilder};
pub use report::{
    AllocationStats, ComponentStats, DEFAULT_SLOWEST_TICKS, Dominant, Dropped, Environment,
    FAR_OUTLIER_FACTOR, FarOutliers, InsideTicks, LatencyStats, LoopComparison, LoopTimes,
    MachineAround, MeanMax, MemoryStats, OutlierCause, Overhead, Report, ResourceSample, Resources,
    RunPart, SCHEMA_VERSION, SamplingStats, SchedulerAround, SlowTick, SlowestTicks,
    ThreadSampling, TickField, TickFieldValue, TickOutlier, TickOutliers, TickStats, TimelineSpan,
    WarmupStats, WriterStats, thousands,
};
#[cfg(feature = "sampler")]
pub use resource_profiler::{DEFAULT_SAMPLE_INTERVAL, ResourceProfiler, TickCounter};
pub use sample_interval::MAX_SAMPLE_INTERVAL;
pub use sampling::Sampling;
pub use tick_profiler::tick_fields::TickFieldCapture;
pub use tick_profiler::{TickGate, TickProfiler, TickRecorder};
