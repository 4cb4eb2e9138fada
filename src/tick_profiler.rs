//! `TickProfiler`: the tracing layer, and the only tickprof code that runs in span callbacks.
//!
//! It is a per-layer filtered layer: a [`TickGate`] (the `Filter`) decides which spans exist
//! for tickprof, a [`TickRecorder`] (the `Layer`) records them. Who owns what:
//!
//! | state | owner |
//! |---|---|
//! | what a callsite is, and what other layers want of it | `callsites` (filled at registration; a per-thread cache) |
//! | the tick decision | the thread's `sampler::TickSampler`, paced by the collector's `sampler::Budget`; the decision waits in the thread's `thread::Pending` for `on_new_span` |
//! | a live span's timing (cumulative) | one `timing::SpanTiming` in the `home` of the thread that created it |
//! | the interval in progress, and whose own time runs now | the entering thread's `thread::ThreadState` (a stack of `timing::Frame`s, a cursor) |
//! | a thread's records (histograms, counters, slowest ticks) | its `home` |
//! | the calibrated costs | one `costs::Costs`, read by the recorder, the budget and the report |
//! | recording windows | `window` (the only caller of interest rebuilds besides start and stop) |
//! | every workaround for tracing-subscriber internals | `subscriber_internals` |
//!
//! One recorded tick with one child (`tick > parse`), in the order the callbacks come:
//! `TickGate::enabled` (counts the tick, `TickSampler::decide`) → `TickRecorder::on_new_span`
//! (`SpanTiming` into the home) → `on_enter` (`Frame`, clock) → `TickGate::enabled` for `parse`
//! (clock: the tick's own time stops) → `on_new_span` → `on_enter` (clock) → `on_exit` (clock,
//! interval into its `SpanTiming`) → `on_close` (`SpanTiming::close`, credited to the tick's
//! frame, `ThreadRecords::record_component`; clock: the tick's own time runs again) → the
//! tick's `on_exit` → `on_close` (`ThreadRecords::record_tick`, slowest ticks, budget).

pub(crate) mod allocation_records;
mod between_ticks;
mod callsites;
pub(crate) mod costs;
mod gate;
mod home;
pub(crate) mod kernel_tid;
mod recorder;
pub(crate) mod records;
mod sampler;
pub(crate) mod shared;
mod shortcut;
pub(crate) mod slow_ticks;
pub(crate) mod subscriber_internals;
mod sync;
mod thread;
pub(crate) mod thread_ticks;
pub(crate) mod tick_fields;
mod timing;
pub(crate) mod window;

use std::sync::Arc;

use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::Layer;

pub(crate) use self::callsites::{CALIBRATION_TARGET, CALIBRATION_TICK};
pub use self::gate::TickGate;
pub(crate) use self::home::Harvest;
pub use self::recorder::TickRecorder;
use self::shared::Shared;

/// The tracing layer that turns `tick` spans and the spans inside them into latency histograms:
/// a [`TickRecorder`] behind its own per-layer filter, the [`TickGate`].
///
/// Get one from [`MetricsCollector::layer`](crate::MetricsCollector::layer) and add it to your
/// subscriber. The filter is what makes tickprof cheap: while no run is active it tells tracing
/// that no callsite is of interest (a span only tickprof could want is never created); while
/// profiling it lets through only the ticks it times and the spans of the ticks it records,
/// and never disables a span another layer is interested in.
///
/// (A type alias rather than a struct of its own: tracing-subscriber recognises a per-layer
/// filtered layer through `Layer::downcast_raw`, an `unsafe fn` that a wrapper would have to
/// implement, and tickprof forbids unsafe code. The two parts have no public methods.)
pub type TickProfiler<S> = Filtered<TickRecorder, TickGate, S>;

/// The layer for `shared`'s collector.
pub(crate) fn layer<S>(shared: &Arc<Shared>) -> TickProfiler<S>
where
    S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    TickRecorder::new(Arc::clone(shared)).with_filter(TickGate::new(Arc::clone(shared)))
}
