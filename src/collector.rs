//! The collector: what owns a profiling run around the hot path (`crate::tick_profiler`). It
//! starts and stops runs, calibrates the profiler's own cost, samples CPU and memory, writes
//! checkpoints and interval logs, and joins it all into a `Report`.
//!
//! The modules keep their crate-root paths (`crate::metrics_collector`, …): `lib.rs` re-exports
//! them, so this folder is where they live, not how they are named.

pub(crate) mod metrics_collector;
pub(crate) mod overhead_calibration;
pub(crate) mod periodic_writer;
#[cfg(feature = "sampler")]
pub(crate) mod resource_profiler;
pub(crate) mod run_window;
pub(crate) mod sample_interval;
pub(crate) mod sampling;
