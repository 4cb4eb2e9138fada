#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
mod metrics_collector;
mod report;
#[cfg(feature = "sampler")]
mod resource_profiler;
mod tick_profiler;

pub use error::{Error, Result};
pub use metrics_collector::{MetricsCollector, MetricsCollectorBuilder};
pub use report::{
    ComponentStats, Dropped, Environment, LatencyStats, MeanMax, MemoryStats, Overhead, Report,
    ResourceSample, Resources, SCHEMA_VERSION, TickStats,
};
#[cfg(feature = "sampler")]
pub use resource_profiler::{DEFAULT_SAMPLE_INTERVAL, ResourceProfiler, TickCounter};
pub use tick_profiler::TickProfiler;
