//! `TickProfiler`: the tracing `Layer`, the only tickprof code that runs in span callbacks.
//!
//! Hot path per span: one clock read on enter, one on exit, thread-local bookkeeping, and an
//! uncontended per-thread mutex on exit (to park the span where another thread could find it if
//! the span moves, as futures do) and on close (to record it). No global lock, channel or
//! allocation per span; no string compares (callsites are classified once per thread).

mod park_slot;
mod record_ring;
mod shard;
pub(crate) mod shared;
mod span_state;
mod thread_state;

use std::sync::Arc;

use tracing_core::Subscriber;
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use self::record_ring::Record;
use self::shared::Shared;
use self::span_state::{Frame, SpanKind, SpanState};
use self::thread_state::{CallsiteKind, ThreadState, with_thread_state};

/// The tracing layer that turns `tick` spans and their descendants into latency histograms.
///
/// Get one from [`MetricsCollector::layer`](crate::MetricsCollector::layer) and add it to your
/// subscriber; it records only while the collector has a profiling run active and costs a
/// relaxed atomic load per callback otherwise.
#[derive(Debug, Clone)]
pub struct TickProfiler {
    shared: Arc<Shared>,
}

impl TickProfiler {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        TickProfiler { shared }
    }

    /// Whether a span in the registry has a tick span among its ancestors (slow path: spans
    /// created before the run or before this layer was attached).
    fn registry_kind<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Option<SpanKind>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let span = ctx.span(id)?;
        let tick_name = self.shared.tick_name.as_str();
        if span.name() == tick_name {
            return Some(SpanKind::Tick);
        }
        let in_tick = span
            .scope()
            .skip(1)
            .any(|ancestor| ancestor.name() == tick_name);
        Some(if in_tick {
            SpanKind::Component {
                slot: self.shared.intern(span.name()),
            }
        } else {
            SpanKind::Ignored
        })
    }

    /// Whether the span `parent` is a tick or a component.
    fn parent_in_tick<S>(&self, thread: &ThreadState, parent: &Id, ctx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let key = parent.into_u64();
        thread
            .kind_of(key)
            .or_else(|| self.shared.parked_kind_elsewhere(&thread.shard, key))
            .or_else(|| self.registry_kind(parent, ctx))
            .is_some_and(SpanKind::is_tick_or_component)
    }
}

impl<S> Layer<S> for TickProfiler
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let run = self.shared.current_run();
        if run == 0 {
            return;
        }
        let shared = &self.shared;
        with_thread_state(shared, run, |thread| {
            let kind = match thread.callsite_kind(shared, attrs.metadata()) {
                CallsiteKind::Tick => SpanKind::Tick,
                CallsiteKind::Named(slot) => {
                    let in_tick = if let Some(parent) = attrs.parent() {
                        self.parent_in_tick(thread, parent, &ctx)
                    } else if attrs.is_contextual() {
                        // Every span entered during the run is on this stack, so its top is
                        // the contextual parent (spans entered before the run are not).
                        thread
                            .stack
                            .last()
                            .is_some_and(|frame| frame.state.kind.is_tick_or_component())
                    } else {
                        false
                    };
                    if in_tick {
                        SpanKind::Component { slot }
                    } else {
                        SpanKind::Ignored
                    }
                }
            };
            thread.remember_created(id.into_u64(), SpanState::new(kind));
        });
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let run = self.shared.current_run();
        if run == 0 {
            return;
        }
        let shared = &self.shared;
        with_thread_state(shared, run, |thread| {
            let key = id.into_u64();
            let mut reentry = false;
            let state = match thread.take_created(key) {
                Some(state) => state,
                None => {
                    let parked = thread.shard.unpark(key);
                    match parked.or_else(|| shared.unpark_elsewhere(&thread.shard, key)) {
                        Some(state) => state,
                        None => {
                            if let Some(frame) = thread.stack.iter().rev().find(|f| f.id == key) {
                                reentry = true;
                                frame.state
                            } else if let Some(kind) = self.registry_kind(id, &ctx) {
                                SpanState::new(kind)
                            } else {
                                thread.count_missing();
                                return;
                            }
                        }
                    }
                }
            };
            let timed = !reentry && state.kind != SpanKind::Ignored;
            thread.stack.push(Frame {
                id: key,
                state,
                // Read the clock last, so the layer's own work is outside the interval.
                entered_raw: if timed { shared.clock.raw() } else { 0 },
                reentry,
            });
        });
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let run = self.shared.current_run();
        if run == 0 {
            return;
        }
        // Read the clock first, so the layer's own work is outside the interval.
        let now = self.shared.clock.raw();
        let shared = &self.shared;
        with_thread_state(shared, run, |thread| {
            let key = id.into_u64();
            let position = match thread.stack.last() {
                Some(top) if top.id == key => thread.stack.len() - 1,
                _ => match thread.stack.iter().rposition(|f| f.id == key) {
                    Some(position) => position,
                    None => {
                        thread.count_missing();
                        return;
                    }
                },
            };
            let frame = thread.stack.remove(position);
            if frame.reentry {
                return;
            }
            let mut state = frame.state;
            if state.kind != SpanKind::Ignored {
                let elapsed = now.saturating_sub(frame.entered_raw);
                state.busy_raw = state.busy_raw.saturating_add(elapsed);
                if state.enters == 0 {
                    state.first_enter_raw = frame.entered_raw;
                }
                state.enters = state.enters.saturating_add(1);
                state.last_exit_raw = now;
                if let Some(below) = position
                    .checked_sub(1)
                    .and_then(|i| thread.stack.get_mut(i))
                    && below.state.kind == SpanKind::Tick
                    && !below.reentry
                {
                    below.state.children_raw = below.state.children_raw.saturating_add(elapsed);
                }
            }
            thread.shard.park(key, &state);
        });
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let run = self.shared.current_run();
        if run == 0 {
            return;
        }
        let shared = &self.shared;
        with_thread_state(shared, run, |thread| {
            let key = id.into_u64();
            let state = match thread.shard.unpark(key) {
                Some(state) => state,
                None => {
                    // Created here but entered on other threads (a span handed to a worker),
                    // or parked by another thread (a future that moved), or unknown to the run.
                    thread.take_created(key);
                    // None: never entered anywhere (no busy time to record), or unknown.
                    let Some(state) = shared.unpark_elsewhere(&thread.shard, key) else {
                        return;
                    };
                    state
                }
            };
            if state.kind == SpanKind::Ignored || state.enters == 0 {
                return;
            }
            let clock = &shared.clock;
            let busy_ns = clock.delta_as_nanos(0, state.busy_raw);
            let children_ns = clock.delta_as_nanos(0, state.children_raw);
            let wall_ns = (state.enters > 1)
                .then(|| clock.delta_as_nanos(state.first_enter_raw, state.last_exit_raw));
            let record = Record {
                kind: park_slot::encode(state.kind),
                busy_ns,
                children_ns,
                wall_ns,
            };
            thread
                .shard
                .push(record, &shared.template, state.kind == SpanKind::Tick);
        });
    }
}
