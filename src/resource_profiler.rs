//! TEMPORARY stub until the sampler branch lands: reports resources as unavailable.
use std::sync::Arc;
use std::time::Duration;

use crate::report::Resources;

/// Live count of ticks completed in the current run.
pub type TickCounter = Arc<dyn Fn() -> u64 + Send + Sync>;
/// Default sampling period.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_millis(250);

/// Stub.
#[derive(Debug)]
pub struct ResourceProfiler;

impl ResourceProfiler {
    /// Stub.
    pub fn start(_interval: Duration, _ticks: TickCounter) -> Result<ResourceProfiler, String> {
        Err("resource sampler not built yet".into())
    }
    /// Stub.
    pub fn stop(self) -> Resources {
        Resources {
            sample_interval_ms: 0,
            samples_taken: 0,
            samples_failed: 0,
            cpu_percent: Default::default(),
            cpu_percent_of_machine: Default::default(),
            cpu_time_s: 0.0,
            memory_bytes: Default::default(),
            peak_rss_bytes: 0,
            samples: Vec::new(),
        }
    }
}
