//! The tools that only read reports: thresholds and the CI gate's statistics, comparisons,
//! merges, graphs, interval logs and the Prometheus exporter (which serves snapshot reports).
//! None of them touches live state or the hot path.
//!
//! The modules keep their crate-root paths (`tickprof::thresholds`, …): `lib.rs` re-exports
//! them, so this folder is where they live, not how they are named.

pub mod compare;
pub mod gate;
#[cfg(feature = "plot")]
pub mod graphs;
pub mod interval_log;
pub(crate) mod merge;
pub mod metric;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub mod thresholds;
