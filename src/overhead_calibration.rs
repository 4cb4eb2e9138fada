//! Measures, at `start_profiling`, what the profiler costs the loop it profiles, so that every
//! report says it and the recorder can subtract it:
//! - **per recorded span** (`per_span_ns`): how much longer a loop gets when a span around its
//!   body is recorded, against the same loop without the span — the `Registry`, every layer
//!   and the recorder included, as the user's spans pay it (what the sampling budget counts).
//! - **per nested span** (`nested_span_ns`): the part of that which lies inside the busy time
//!   of the span it is created in, measured there (a calibration tick of empty spans: its busy
//!   time, less its floor and its loop, per span). Subtracted from a span's busy time once for
//!   every span created inside it. (Work done after a tick closes, such as moving buffered
//!   records into histograms, is in the first figure and not in this one.)
//! - **floor** (`floor_ns`): the busy time an empty recorded span reads (clock reads and the
//!   work between them). Subtracted once per entered interval.
//! - **tick check** (`tick_check_ns`): what the filter decision on a span callsite costs when
//!   the span is not created — what every tick pays to be counted.
//! - **layer share** (`layer_ns_per_span`): what tickprof adds per span over `registry()` with
//!   an empty layer, on private dispatchers.
//!
//! The first three are measured where the user's spans run: on the dispatcher tickprof is
//! installed in, with spans of tickprof's own target that no other layer is interested in (the
//! gate probes every layer first; if one is interested, a private dispatcher is used instead
//! and the report says so). Nothing reaches the user's other layers.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tracing::Dispatch;
use tracing_subscriber::layer::{Identity, SubscriberExt};

use crate::report::Overhead;
use crate::sampling::Sampling;
use crate::tick_profiler::callsites::{CALIBRATION_TARGET, CALIBRATION_TICK, Others};
use crate::tick_profiler::records::{ComponentHistograms, RunRecords};
use crate::tick_profiler::shared::{Compensation, Shared};
use crate::tick_profiler::{TickGate, window};

/// Loop iterations per round (one span each in the timed loop).
const ITERATIONS: u32 = 1_000;
/// Calibration ticks, and empty spans in each, for the nested-span cost.
const NESTED_TICKS: u32 = 300;
const SPANS_PER_NESTED_TICK: u32 = 8;
/// Alternating rounds; medians are reported, so a noisy round does not skew them.
const ROUNDS: usize = 7;
/// Ticks (1 tick + 3 spans) per configuration and round of the layer-share comparison.
const SHARE_TICKS: u64 = 1_000;
const SPANS_PER_SHARE_TICK: u64 = 4;
/// The calibration spans' names (besides [`CALIBRATION_TICK`]).
const SPAN: &str = "tickprof.calibration.span";
const REFUSED: &str = "tickprof.calibration.refused";

/// What the timed loops found, ns.
#[derive(Debug, Clone, Copy)]
struct Loops {
    /// A recorded span, against the loop without it.
    span: f64,
    /// A refused span evaluation (the tick check).
    check: f64,
    /// One iteration of the bare loop (subtracted from the calibration ticks' busy time).
    iteration: f64,
}

/// What calibration found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Calibration {
    pub(crate) overhead: Overhead,
    pub(crate) compensation: Compensation,
}

impl Calibration {
    /// No calibration: nothing is subtracted, and the report says so.
    pub(crate) fn off() -> Self {
        Calibration {
            overhead: Overhead::not_measured(),
            compensation: Compensation::default(),
        }
    }
}

fn calibration_tick() -> tracing::span::EnteredSpan {
    tracing::span!(target: "tickprof::calibration", tracing::Level::TRACE, "tickprof.calibration.tick")
        .entered()
}

#[inline]
fn calibration_span() -> tracing::span::EnteredSpan {
    tracing::span!(target: "tickprof::calibration", tracing::Level::TRACE, "tickprof.calibration.span")
        .entered()
}

#[inline]
fn refused_span() -> tracing::Span {
    tracing::span!(target: "tickprof::calibration", tracing::Level::TRACE, "tickprof.calibration.refused")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn per_iteration(elapsed: Duration, minus: Duration, n: u64) -> f64 {
    (elapsed.as_nanos() as f64 - minus.as_nanos() as f64) / n as f64
}

/// The loops: per round, the bare loop, the loop with a recorded span, the loop with a refused
/// span; then calibration ticks of empty spans, whose busy times the recorder keeps (for the
/// nested-span cost). Medians over the rounds.
fn time_loops() -> Loops {
    let mut span_cost = Vec::with_capacity(ROUNDS);
    let mut check_cost = Vec::with_capacity(ROUNDS);
    let mut iteration = Vec::with_capacity(ROUNDS);
    let n = u64::from(ITERATIONS);
    for _ in 0..ROUNDS {
        let tick = calibration_tick();
        let start = Instant::now();
        for i in 0..ITERATIONS {
            black_box(i);
        }
        let bare = start.elapsed();
        let start = Instant::now();
        for i in 0..ITERATIONS {
            let _span = calibration_span();
            black_box(i);
        }
        let spans = start.elapsed();
        drop(tick);
        // No tick alive now: the gate refuses the span and (no other layer wanting it) the
        // whole subscriber disables it.
        let start = Instant::now();
        for i in 0..ITERATIONS {
            let span = refused_span();
            black_box((i, &span));
        }
        let refused = start.elapsed();
        span_cost.push(per_iteration(spans, bare, n));
        check_cost.push(per_iteration(refused, bare, n));
        iteration.push(bare.as_nanos() as f64 / n as f64);
    }
    for _ in 0..NESTED_TICKS {
        let _tick = calibration_tick();
        for i in 0..SPANS_PER_NESTED_TICK {
            let _span = calibration_span();
            black_box(i);
        }
    }
    Loops {
        span: median(&mut span_cost).max(0.0),
        check: median(&mut check_cost).max(0.0),
        iteration: median(&mut iteration).max(0.0),
    }
}

/// What a span costs inside the busy time of the span it is created in: from the calibration
/// ticks of `SPANS_PER_NESTED_TICK` empty spans, `(tick busy − floor) / spans − loop`.
fn nested_span_ns(records: &RunRecords, floor: f64, iteration: f64) -> f64 {
    if records.ticks_raw.is_empty() {
        return 0.0;
    }
    let tick = records.ticks_raw.value_at_quantile(0.5) as f64;
    ((tick - floor) / f64::from(SPANS_PER_NESTED_TICK) - iteration).max(0.0)
}

/// Whether `dispatch` holds the layer of `shared`'s collector.
fn holds(dispatch: &Dispatch, shared: &Arc<Shared>) -> bool {
    dispatch
        .downcast_ref::<TickGate>()
        .is_some_and(|gate| gate.is_of(shared))
}

/// What was measured where the user's spans run.
struct Measured {
    loops: Loops,
    floor: f64,
    nested: f64,
    place: &'static str,
}

impl Measured {
    fn new(loops: Loops, records: &RunRecords, place: &'static str) -> Self {
        let floor = floor_of(&records.components);
        Measured {
            loops,
            floor,
            nested: nested_span_ns(records, floor, loops.iteration),
            place,
        }
    }
}

/// Measures span costs, floor and check cost for `shared` on the dispatcher its layer is in
/// (or a private one), during a calibration run of `shared`.
fn measure_where_users_run(shared: &Arc<Shared>) -> Measured {
    let run = shared.begin_run();
    shared.budget.set_calibrating(true);
    shared.set_compensation(Compensation::default());
    window::rebuild_interest();
    // Register (and so probe) the calibration callsites without creating a span anywhere: under
    // a registered no-op dispatcher (with only the global one, tracing registers a callsite
    // with the current dispatcher alone, and tickprof would not see it).
    let nothing = Dispatch::new(tracing::subscriber::NoSubscriber::default());
    tracing::dispatcher::with_default(&nothing, || {
        drop(calibration_tick());
        drop(calibration_span());
        drop(refused_span());
    });
    let others_never = [CALIBRATION_TICK, SPAN, REFUSED].iter().all(|name| {
        shared
            .callsites
            .find(CALIBRATION_TARGET, name)
            .is_some_and(|info| info.others == Others::Never)
    });
    let current = tracing::dispatcher::get_default(|current| holds(current, shared));
    let installed = shared.dispatch();
    let (loops, place) = match (others_never, current, installed) {
        (true, true, _) => (
            time_loops(),
            "the dispatcher tickprof is installed in (as the loop runs)",
        ),
        (true, false, Some(dispatch)) => (
            tracing::dispatcher::with_default(&dispatch, time_loops),
            "the dispatcher tickprof is installed in, scoped from another thread's default",
        ),
        _ => {
            shared.budget.set_calibrating(false);
            shared.end_run();
            window::rebuild_interest();
            let _ = shared.drain(run);
            return measure_private(shared);
        }
    };
    shared.budget.set_calibrating(false);
    shared.end_run();
    window::rebuild_interest();
    Measured::new(loops, &shared.drain(run), place)
}

/// The same measurements on a private `registry()` + tickprof dispatcher (another layer of the
/// user's subscriber would have seen the calibration spans, or tickprof is not installed).
fn measure_private(shared: &Arc<Shared>) -> Measured {
    let private = private_shared(shared, "tickprof.calibration.tick");
    let dispatch =
        Dispatch::new(tracing_subscriber::registry().with(crate::tick_profiler::layer(&private)));
    let run = private.begin_run();
    private.budget.set_calibrating(true);
    let loops = tracing::dispatcher::with_default(&dispatch, || {
        window::rebuild_interest();
        time_loops()
    });
    private.budget.set_calibrating(false);
    private.end_run();
    window::rebuild_interest();
    Measured::new(
        loops,
        &private.drain(run),
        "a private registry() + tickprof dispatcher (another layer wanted tickprof's calibration spans, or the layer is not installed)",
    )
}

/// A private collector state like `shared`'s, recording every span.
fn private_shared(shared: &Shared, tick_name: &str) -> Arc<Shared> {
    Arc::new(Shared::new(
        tick_name.to_owned(),
        Sampling::full(),
        Histogram::new_from(&shared.template),
        shared.clock.clone(),
    ))
}

/// The median busy time of the empty calibration span.
fn floor_of(components: &std::collections::BTreeMap<String, ComponentHistograms>) -> f64 {
    components
        .get(SPAN)
        .filter(|c| !c.net.is_empty())
        .map_or(0.0, |c| c.net.value_at_quantile(0.5) as f64)
}

/// Times `SHARE_TICKS` ticks of 1 tick + 3 spans on `dispatch`.
fn time_share_ticks(dispatch: &Dispatch) -> Duration {
    tracing::dispatcher::with_default(dispatch, || {
        let start = Instant::now();
        for i in 0..SHARE_TICKS {
            let _tick = tracing::error_span!("tick").entered();
            for _ in 0..3 {
                let _component = tracing::error_span!("calibration_component").entered();
                black_box(i);
            }
        }
        start.elapsed()
    })
}

/// tickprof's own cost per span over `registry()` + an empty layer, both on private scoped
/// dispatchers (the same dispatch path, so the difference is the layer's).
fn layer_share(shared: &Shared) -> f64 {
    let private = private_shared(shared, "tick");
    let baseline = Dispatch::new(tracing_subscriber::registry().with(Identity::new()));
    let profiled =
        Dispatch::new(tracing_subscriber::registry().with(crate::tick_profiler::layer(&private)));
    let run = private.begin_run();
    tracing::dispatcher::with_default(&profiled, window::rebuild_interest);
    time_share_ticks(&baseline);
    time_share_ticks(&profiled);
    let mut per_span = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let base = time_share_ticks(&baseline);
        let prof = time_share_ticks(&profiled);
        per_span.push(per_iteration(
            prof,
            base,
            SHARE_TICKS * SPANS_PER_SHARE_TICK,
        ));
    }
    private.end_run();
    window::rebuild_interest();
    let _ = private.drain(run);
    median(&mut per_span).max(0.0)
}

/// Calibrates `shared`'s collector (no run may be active).
pub(crate) fn calibrate(shared: &Arc<Shared>) -> Calibration {
    let measured = measure_where_users_run(shared);
    let layer_ns = layer_share(shared);
    Calibration {
        overhead: Overhead {
            per_span_ns: measured.loops.span,
            nested_span_ns: Some(measured.nested),
            nested_span_in_run_ns: None,
            layer_ns_per_span: Some(layer_ns),
            empty_span_busy_ns: measured.floor,
            tick_check_ns: Some(measured.loops.check),
            calibration_ticks: u64::from(ITERATIONS) * ROUNDS as u64,
            measured_on: Some(measured.place.to_owned()),
        },
        compensation: Compensation {
            floor_ns: measured.floor.round() as u64,
            span_ns: measured.nested.round() as u64,
        },
    }
}
