//! `TickProfiler`: the tracing layer, and the only tickprof code that runs in span callbacks.
//!
//! It is a per-layer filtered layer: a [`TickGate`] (the `Filter`) decides which spans exist
//! for tickprof, a [`TickRecorder`] (the `Layer`) records them. Module map:
//! - `gate`: callsite interest and per-span decisions (idle: nothing exists for tickprof);
//! - `callsites`: what each callsite is, and whether other layers want it (probing);
//! - `budget`: which ticks are timed and recorded (random countdowns, a cost budget);
//! - `window`: recording windows (interest rebuilds that switch component callsites on/off);
//! - `recorder`: span callbacks → records; `span_state`: a span's state between callbacks;
//! - `thread_state`, `shard`, `park_slot`, `record_ring`, `records`: per-thread storage, merged
//!   at `stop_profiling`; `slow_ticks`: each thread's slowest ticks (drain side); `shared`: the
//!   collector-wide part;
//! - `sync`: the atomics of the lock-free parts (loom's under `--cfg loom`, for model checks).

mod budget;
pub(crate) mod callsites;
mod gate;
pub(crate) mod in_run_compensation;
pub(crate) mod kernel_tid;
mod park_slot;
mod record_ring;
mod recorder;
pub(crate) mod records;
pub(crate) mod shard;
pub(crate) mod shared;
pub(crate) mod slow_ticks;
mod span_state;
mod sync;
mod thread_state;
pub(crate) mod tick_fields;
pub(crate) mod window;

use std::sync::Arc;

use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::Layer;

pub use self::gate::TickGate;
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
pub type TickProfiler<S> = Filtered<TickRecorder, TickGate, S>;

/// The layer for `shared`'s collector.
pub(crate) fn layer<S>(shared: &Arc<Shared>) -> TickProfiler<S>
where
    S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    TickRecorder::new(Arc::clone(shared)).with_filter(TickGate::new(Arc::clone(shared)))
}
