//! One run of the workload in its own process: the scalability driver's engine, profiled by
//! tickprof as the driver profiles it, with or without an injected slowdown, saved as a report.

use std::path::Path;
use std::time::{Duration, Instant};

use tickprof::MetricsCollector;
use tracing_subscriber::layer::SubscriberExt;

use crate::engine::{self, Slowdown};

/// The seed of the market data: every run replays the same ticks.
pub const SEED: u64 = 42;

/// Profiles one run of `ticks` ticks with `slowdown` and saves the report as `path`, named
/// `name`.
///
/// # Errors
/// The collector's, the engine's or the save's error, as text.
pub fn run(ticks: u64, slowdown: Slowdown, name: &str, path: &Path) -> Result<(), String> {
    let collector = MetricsCollector::builder()
        .tick_span("tick")
        .sample_interval(Duration::from_millis(100))
        .build()
        .map_err(|e| e.to_string())?;
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(collector.layer()))
        .map_err(|e| e.to_string())?;
    collector.start_profiling(name).map_err(|e| e.to_string())?;
    let result = engine::run_with(ticks, SEED, slowdown, &mut |_| {});
    let report = collector.stop_profiling().map_err(|e| e.to_string())?;
    result.map_err(|e| e.to_string())?;
    report.save_json(path).map_err(|e| e.to_string())
}

/// Nanoseconds one step of [`engine::lcg_steps`] takes on this machine, in this process: the
/// median of 15 timings of a million steps (a preempted timing is one of the 15, not the answer).
pub fn ns_per_step() -> f64 {
    const STEPS: u32 = 1_000_000;
    let mut times: Vec<f64> = (0..15)
        .map(|i| {
            let start = Instant::now();
            std::hint::black_box(engine::lcg_steps(i, STEPS));
            start.elapsed().as_secs_f64() * 1e9 / f64::from(STEPS)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
