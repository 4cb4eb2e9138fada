//! Measures what the profiler itself costs, on private dispatchers (never the user's
//! subscriber: no output reaches their fmt layer), so every report says how much of a
//! component's latency is the profiler.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tracing::Dispatch;
use tracing_subscriber::layer::{Identity, SubscriberExt};

use crate::report::Overhead;
use crate::tick_profiler::TickProfiler;
use crate::tick_profiler::shared::Shared;

/// Ticks of 1 tick span + 3 component spans per configuration and round.
pub(crate) const CALIBRATION_TICKS: u64 = 2_000;
/// Alternating rounds; the median is reported, so a noisy round does not skew it.
const ROUNDS: usize = 7;
const SPANS_PER_TICK: u64 = 4;

/// Times `ticks` ticks of the calibration shape on `dispatch`.
fn time_ticks(dispatch: &Dispatch, ticks: u64) -> Duration {
    tracing::dispatcher::with_default(dispatch, || {
        let start = Instant::now();
        for i in 0..ticks {
            let _tick = tracing::error_span!("tick").entered();
            for _ in 0..3 {
                let _component = tracing::error_span!("calibration_component").entered();
                black_box(i);
            }
        }
        start.elapsed()
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Measures the layer's cost per span over `registry()` + an empty layer, and the busy time
/// it reports for an empty span.
pub(crate) fn measure(template: &Histogram<u64>, clock: &quanta::Clock) -> Overhead {
    let shared = Arc::new(Shared::new(
        "tick".to_owned(),
        Histogram::new_from(template),
        clock.clone(),
    ));
    let baseline = Dispatch::new(tracing_subscriber::registry().with(Identity::new()));
    let profiled =
        Dispatch::new(tracing_subscriber::registry().with(TickProfiler::new(Arc::clone(&shared))));
    let run = shared.begin_run();
    // Warm-up: thread-local state, callsite caches, histogram allocation.
    time_ticks(&baseline, CALIBRATION_TICKS / 4);
    time_ticks(&profiled, CALIBRATION_TICKS / 4);
    let mut per_span = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let base = time_ticks(&baseline, CALIBRATION_TICKS);
        let prof = time_ticks(&profiled, CALIBRATION_TICKS);
        let extra_ns = prof.as_nanos() as f64 - base.as_nanos() as f64;
        per_span.push(extra_ns / (CALIBRATION_TICKS * SPANS_PER_TICK) as f64);
    }
    shared.end_run();
    let records = shared.drain(run);
    let empty_span_busy_ns = records
        .components
        .get("calibration_component")
        .map_or(0.0, |(busy, _)| busy.value_at_quantile(0.5) as f64);
    Overhead {
        per_span_ns: median(&mut per_span).max(0.0),
        empty_span_busy_ns,
        calibration_ticks: CALIBRATION_TICKS,
    }
}
