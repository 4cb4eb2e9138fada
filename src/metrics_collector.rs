//! STUB (being written): MetricsCollector API with final signatures.
use std::time::Duration;

use crate::error::{Error, Result};
use crate::report::Report;
use crate::tick_profiler::TickProfiler;

/// Owns profiling runs.
#[derive(Clone, Debug)]
pub struct MetricsCollector {}

/// Builder.
#[derive(Debug)]
pub struct MetricsCollectorBuilder {}

impl MetricsCollector {
    /// Builder.
    pub fn builder() -> MetricsCollectorBuilder {
        MetricsCollectorBuilder {}
    }
    /// Layer.
    pub fn layer(&self) -> TickProfiler {
        TickProfiler {}
    }
    /// Start.
    pub fn start_profiling(&self, _name: &str) -> Result<()> {
        Err(Error::NotProfiling)
    }
    /// Stop.
    pub fn stop_profiling(&self) -> Result<Report> {
        Err(Error::NotProfiling)
    }
}

impl MetricsCollectorBuilder {
    /// Tick span name.
    pub fn tick_span(self, _name: &str) -> Self {
        self
    }
    /// Sample interval.
    pub fn sample_interval(self, _interval: Duration) -> Self {
        self
    }
    /// Build.
    pub fn build(self) -> Result<MetricsCollector> {
        Ok(MetricsCollector {})
    }
}
