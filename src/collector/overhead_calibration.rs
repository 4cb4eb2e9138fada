//! Measures, at `start_profiling`, what the profiler costs the loop it profiles, so that every
//! report says it and the recorder can subtract what it does not measure (see
//! `tick_profiler::costs`):
//! - **per recorded span** (`span_ns`, the report's `per_span_ns`): how much longer a loop gets
//!   when a span around its body is recorded, against the same loop without the span — the
//!   `Registry`, every layer and the recorder included, as the user's spans pay it (what the
//!   sampling budget charges);
//! - **floor** (`floor_ns`): the own time an empty recorded span reads (the ends of its enter
//!   and exit that lie inside its clock readings);
//! - **residue** (`residue_ns`, the report's `nested_span_ns`): the own time a parent reads per
//!   empty child (the end of the child's close and the start of the next span's filter
//!   decision, which lie between the parent's readings);
//! - **check** (`check_ns`, the report's `tick_check_ns`): what a refused span evaluation costs
//!   — what every tick pays to be counted;
//! - **layer share** (`layer_ns_per_span`): what tickprof adds per span over `registry()` with
//!   an empty layer, on private dispatchers.
//!
//! Floor and residue are medians over hundreds of calibration ticks, so one preempted tick
//! cannot move them. They are measured where the user's spans run: on the dispatcher tickprof is
//! installed in, with spans of tickprof's own target that no other layer is interested in (the
//! other layers are asked first; if one is interested, a private dispatcher is used instead and
//! the report says so). Nothing reaches the user's other layers.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tracing::Dispatch;
use tracing_subscriber::layer::{Identity, SubscriberExt};

use crate::report::{CalibrationSite, Overhead};
use crate::sampling::Sampling;
use crate::tick_profiler::costs::Costs;
use crate::tick_profiler::records::RunRecords;
use crate::tick_profiler::shared::Shared;
use crate::tick_profiler::subscriber_internals::rebuild_interest;
use crate::tick_profiler::{CALIBRATION_TARGET, CALIBRATION_TICK, Harvest, TickGate};

/// Loop iterations per round (one span each in the timed loop).
const ITERATIONS: u32 = 1_000;
/// Calibration ticks, and empty spans in each, for the floor and the residue.
const NESTED_TICKS: u32 = 400;
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
}

/// What calibration found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Calibration {
    pub(crate) overhead: Overhead,
    pub(crate) costs: Costs,
}

impl Calibration {
    /// No calibration: nothing is subtracted, and the report says so.
    pub(crate) fn off() -> Self {
        Calibration {
            overhead: Overhead::not_measured(),
            costs: Costs::UNMEASURED,
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

/// Per round: the bare loop, the loop with a recorded span, the loop with a refused span.
/// Medians over the rounds.
fn time_loops() -> Loops {
    let mut span_cost = Vec::with_capacity(ROUNDS);
    let mut check_cost = Vec::with_capacity(ROUNDS);
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
    }
    Loops {
        span: median(&mut span_cost).max(0.0),
        check: median(&mut check_cost).max(0.0),
    }
}

/// Calibration ticks of empty spans: their records give the floor and the residue.
fn nested_ticks() {
    for _ in 0..NESTED_TICKS {
        let _tick = calibration_tick();
        for i in 0..SPANS_PER_NESTED_TICK {
            let _span = calibration_span();
            black_box(i);
        }
    }
}

/// The floor (median own time of an empty span) and the residue (what a tick's own time
/// reads per empty child beyond its floor), ns.
fn floor_and_residue(records: &RunRecords) -> (f64, f64) {
    let floor = records
        .components
        .get(SPAN)
        .filter(|c| !c.self_time().is_empty())
        .map_or(0.0, |c| c.self_time().value_at_quantile(0.5) as f64);
    if records.unattributed.is_empty() {
        return (floor, 0.0);
    }
    let tick_own = records.unattributed.value_at_quantile(0.5) as f64;
    let residue = ((tick_own - floor) / f64::from(SPANS_PER_NESTED_TICK)).max(0.0);
    (floor, residue)
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
    residue: f64,
    place: CalibrationSite,
}

/// A calibration run of `shared` (no run may be active): the timed loops, then the nested
/// ticks, whose records alone give the floor and the residue. `on_dispatcher` runs what it is
/// given on the dispatcher to measure.
fn calibration_run(
    shared: &Shared,
    on_dispatcher: impl Fn(&mut dyn FnMut()),
) -> (Loops, RunRecords) {
    let run = shared.begin_run();
    shared.budget.set_calibrating(true);
    shared.set_costs(Costs {
        span_ns: Costs::UNMEASURED.span_ns,
        ..Costs::default()
    });
    rebuild_interest();
    let mut loops = Loops {
        span: 0.0,
        check: 0.0,
    };
    on_dispatcher(&mut || loops = time_loops());
    // The loops' records are not the nested ticks': taken apart, and dropped.
    let _ = shared.harvest(run, Harvest::DuringRun);
    on_dispatcher(&mut nested_ticks);
    shared.budget.set_calibrating(false);
    shared.end_run();
    rebuild_interest();
    (loops, shared.harvest(run, Harvest::Final))
}

/// Measures span costs, floor, residue and check cost for `shared` on the dispatcher its layer
/// is in (or a private one).
fn measure_where_users_run(shared: &Arc<Shared>) -> Measured {
    // Register the calibration callsites without creating a span anywhere: under a registered
    // no-op dispatcher (with only the global one, tracing registers a callsite with the current
    // dispatcher alone, and tickprof would not see it). Then ask the other layers about them.
    let nothing = Dispatch::new(tracing::subscriber::NoSubscriber::default());
    tracing::dispatcher::with_default(&nothing, || {
        drop(calibration_tick());
        drop(calibration_span());
        drop(refused_span());
    });
    shared.probe_unprobed();
    let others_never = [CALIBRATION_TICK, SPAN, REFUSED].iter().all(|name| {
        shared
            .callsites
            .find(CALIBRATION_TARGET, name)
            .is_some_and(|info| info.others.may_veto())
    });
    let current = tracing::dispatcher::get_default(|current| holds(current, shared));
    let installed = shared.dispatch();
    let (place, dispatch) = match (others_never, current, installed) {
        (true, true, _) => (CalibrationSite::InstalledDispatcher, None),
        (true, false, Some(dispatch)) => (
            CalibrationSite::InstalledDispatcherElsewhere,
            Some(dispatch),
        ),
        _ => return measure_private(shared),
    };
    let (loops, records) = calibration_run(shared, |measure| match &dispatch {
        None => measure(),
        Some(dispatch) => tracing::dispatcher::with_default(dispatch, measure),
    });
    // A filter on the whole subscriber can refuse the calibration spans before tickprof sees
    // them (no layer reports a veto then): nothing was recorded, so nothing was measured there.
    if records.counters.ticks_recorded == 0 {
        return measure_private(shared);
    }
    let (floor, residue) = floor_and_residue(&records);
    Measured {
        loops,
        floor,
        residue,
        place,
    }
}

/// The same measurements on a private `registry()` + tickprof dispatcher (another layer of the
/// user's subscriber would have seen the calibration spans, or tickprof is not installed).
fn measure_private(shared: &Arc<Shared>) -> Measured {
    let private = private_shared(shared, "tickprof.calibration.tick");
    let dispatch =
        Dispatch::new(tracing_subscriber::registry().with(crate::tick_profiler::layer(&private)));
    let (loops, records) = calibration_run(&private, |measure| {
        tracing::dispatcher::with_default(&dispatch, || {
            private.probe_unprobed();
            measure();
        });
    });
    let (floor, residue) = floor_and_residue(&records);
    Measured {
        loops,
        floor,
        residue,
        place: CalibrationSite::PrivateDispatcher,
    }
}

/// A private collector state like `shared`'s.
fn private_shared(shared: &Shared, tick_name: &str) -> Arc<Shared> {
    Arc::new(Shared::new(
        tick_name.to_owned(),
        Sampling::full(),
        Histogram::new_from(&shared.template),
        shared.clock.clone(),
    ))
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
    tracing::dispatcher::with_default(&profiled, rebuild_interest);
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
    rebuild_interest();
    let _ = private.harvest(run, Harvest::Final);
    median(&mut per_span).max(0.0)
}

/// Calibrates `shared`'s collector (no run may be active).
pub(crate) fn calibrate(shared: &Arc<Shared>) -> Calibration {
    let measured = measure_where_users_run(shared);
    let layer_ns = layer_share(shared);
    Calibration {
        overhead: Overhead {
            per_span_ns: measured.loops.span,
            nested_span_ns: Some(measured.residue),
            nested_span_in_run_ns: None,
            layer_ns_per_span: Some(layer_ns),
            empty_span_busy_ns: measured.floor,
            tick_check_ns: Some(measured.loops.check),
            calibration_ticks: u64::from(NESTED_TICKS),
            measured_on: Some(measured.place),
        },
        costs: Costs {
            floor_ns: measured.floor.round() as u64,
            residue_ns: measured.residue.round() as u64,
            check_ns: measured.loops.check.round() as u64,
            span_ns: (measured.loops.span.round() as u64).max(1),
        },
    }
}
