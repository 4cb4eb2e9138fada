//! `TickRecorder`: the layer half of [`TickProfiler`](crate::TickProfiler). Behind the gate it
//! sees only spans tickprof decided to record (ticks it times, and spans created while one of
//! its ticks is alive), and turns them into records.
//!
//! Per recorded span: one clock read on enter, one on exit, thread-local bookkeeping (a stack
//! of entered spans, a ring of created ones), a lock-free park slot between exit and close (so
//! another thread can take the span over if it moves, as futures do) and a lock-free record
//! ring at close. No global lock, channel or allocation per span.
//!
//! A span's state lives in one place at a time: the creating thread's ring of created spans
//! until it is first entered (no time yet: another thread entering it first rebuilds it from
//! the registry), the stack of the thread it is entered on, or, between two entered intervals,
//! a park slot of that thread's shard (or the shard's overflow map), where any thread can
//! claim it. A span entered on a second thread while it is entered on the first gets a copy on
//! the second; copies are parked marked as copies and merged when the span closes, so busy
//! time is the sum of every thread's intervals.
//!
//! A span can close while it is entered (its last handle dropped inside it, through
//! `Dispatch::enter` or a forgotten guard): the registry holds no reference for entered spans,
//! and a filtered layer never hears of the exit of a closed span. Its interval then ends at
//! the close, taken off the closing thread's stack. Known limit: what is entered on *another*
//! thread at that moment (the span's state or a copy) is lost, and its frame stays on that
//! thread's stack until the run ends: no callback reaches that thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tracing_core::span::{Attributes, Id};
use tracing_core::{Dispatch, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::callsites::{Role, key};
use super::record_ring::{Record, RecordKind};
use super::shard::EventCounters;
use super::shared::{Compensation, Shared};
use super::span_state::{Frame, SpanKind, SpanState, TickMode};
use super::thread_state::{ThreadState, take_refuse, with_thread_state};
use super::tick_fields::{TickFieldCapture, TickFields};

fn saturate_u16(value: u32) -> u16 {
    u16::try_from(value).unwrap_or(u16::MAX)
}

/// Marks a recorded tick in the registry (see `recorded_tick_at_or_above`).
#[derive(Debug, Clone, Copy)]
struct RecordedTick;

/// What a span created now is (see `TickRecorder::classify`).
#[derive(Debug, Clone, Copy)]
struct Classified {
    kind: SpanKind,
    /// Components: the parent their time is credited to. Ticks: their ordinal (see
    /// [`SpanState::link`]).
    link: u64,
    /// Ticks: the recording window's epoch.
    epoch: u64,
    /// Ticks: whether it opens a recording window.
    opens_window: bool,
}

impl Classified {
    /// A span that is not a tick.
    fn other(kind: SpanKind, parent: u64) -> Self {
        Classified {
            kind,
            link: parent,
            epoch: 0,
            opens_window: false,
        }
    }
}

/// The layer half of [`TickProfiler`](crate::TickProfiler): records the spans the
/// [`TickGate`](crate::TickGate) lets through.
#[derive(Debug, Clone)]
pub struct TickRecorder {
    shared: Arc<Shared>,
}

impl TickRecorder {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        TickRecorder { shared }
    }

    /// What a span created now is: its kind, the parent its time is credited to (components)
    /// or its ordinal (ticks), its window epoch (ticks) and whether it opens a window.
    fn classify<S>(
        &self,
        thread: &mut ThreadState,
        attrs: &Attributes<'_>,
        ctx: &Context<'_, S>,
    ) -> Option<Classified>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let shared = &*self.shared;
        let metadata = attrs.metadata();
        let key = key(metadata);
        let role = match thread.callsite(shared, key) {
            Some(info) => info.role,
            None => shared.callsites.entry(metadata).role,
        };
        match role {
            Role::Tick | Role::CalibrationTick => {
                let pending = thread.pending_tick.take().filter(|p| p.callsite == key);
                // Without a decision for this very callsite (its fields created other spans
                // between the decision and now), time it without its children.
                let (mode, epoch, ordinal) = pending
                    .map_or((TickMode::Timed, shared.window.epoch(), 0), |p| {
                        (p.mode, p.epoch, p.ordinal)
                    });
                let recorded = matches!(mode, TickMode::Recorded | TickMode::Opening);
                // A tick's parent is never credited: not looked up.
                Some(Classified {
                    kind: SpanKind::Tick { recorded },
                    link: ordinal,
                    epoch,
                    opens_window: mode == TickMode::Opening,
                })
            }
            Role::Named(slot) | Role::CalibrationSpan(slot) => {
                let parent = self.parent_of(thread, attrs, ctx);
                // (whether the parent has components below it, whether it is the tick)
                let below = parent.and_then(|p| match self.kind_of(thread, p) {
                    Some(kind) => Some((
                        kind.has_components_below(),
                        matches!(kind, SpanKind::Tick { .. }),
                    )),
                    // Entered or parked on another thread (a worker's child of the tick being
                    // processed): ask the registry.
                    None => {
                        let span = ctx.span(&Id::from_u64(p))?;
                        let recorded = self.recorded_tick_at_or_above(&span)?;
                        Some((recorded, span.name() == shared.tick_name()))
                    }
                });
                Some(match (below, parent) {
                    (Some((true, direct)), Some(parent)) => {
                        Classified::other(SpanKind::Component { slot, direct }, parent)
                    }
                    _ => Classified::other(SpanKind::Ignored, 0),
                })
            }
        }
    }

    /// The span's parent as the registry sees it: explicit, or the current span of this
    /// thread (skipping re-entries), or none for a root. After a span closed while entered
    /// here, the registry's stack may still hold it above this thread's frames (its exit never
    /// reaches the layer), so the registry is asked until this thread's stack empties.
    fn parent_of<S>(
        &self,
        thread: &ThreadState,
        attrs: &Attributes<'_>,
        ctx: &Context<'_, S>,
    ) -> Option<u64>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(parent) = attrs.parent() {
            Some(parent.into_u64())
        } else if !attrs.is_contextual() {
            None
        } else if thread.closed_inside {
            ctx.current_span().id().map(Id::into_u64)
        } else {
            thread.current().map(|frame| frame.id)
        }
    }

    /// The kind of a live span this thread has entered or parked (`None`: ask the registry).
    fn kind_of(&self, thread: &ThreadState, id: u64) -> Option<SpanKind> {
        thread.peek_kind(id)
    }

    /// The nearest tick at or above `span` in the registry (spans tickprof enabled): `Some`
    /// whether it is recorded, `None` if there is no tick. A recorded tick carries a
    /// [`RecordedTick`] mark in the registry when sampling (every tick is recorded otherwise).
    fn recorded_tick_at_or_above<S>(&self, span: &SpanRef<'_, S>) -> Option<bool>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let tick_name = self.shared.tick_name();
        let tick = span.scope().find(|s| s.name() == tick_name)?;
        Some(self.shared.budget.is_full() || tick.extensions().get::<RecordedTick>().is_some())
    }

    /// The kind and link (see [`SpanState::link`]) of a span entered without a known state
    /// (created on another thread, or entered on another thread at the same time): from the
    /// registry's view of it. A tick's ordinal is not known there (0).
    fn registry_kind<S>(&self, id: &Id, ctx: &Context<'_, S>) -> Option<(SpanKind, u64)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let span = ctx.span(id)?;
        let metadata: &Metadata<'_> = span.metadata();
        let parent = span.parent();
        let parent_id = parent.as_ref().map_or(0, |p| p.id().into_u64());
        if self.shared.is_tick_callsite(metadata) {
            let recorded = self.recorded_tick_at_or_above(&span).unwrap_or(false);
            return Some((SpanKind::Tick { recorded }, 0));
        }
        let in_tick = parent
            .as_ref()
            .and_then(|parent| self.recorded_tick_at_or_above(parent))
            .unwrap_or(false);
        Some(if in_tick {
            let kind = SpanKind::Component {
                slot: self.shared.callsites.intern(metadata.name()),
                direct: parent.is_some_and(|p| p.name() == self.shared.tick_name()),
            };
            (kind, parent_id)
        } else {
            (SpanKind::Ignored, 0)
        })
    }

    /// Takes span `id`'s parked state: this thread's, merged with every copy other threads
    /// parked (looked for only while copies exist, or when this thread has nothing).
    fn unpark(&self, thread: &ThreadState, id: u64) -> Option<SpanState> {
        let shared = &*self.shared;
        let own = thread.shard.unpark(id);
        let mut copies = u64::from(own.is_some_and(|s| s.copy));
        let mut state = own;
        if (own.is_none() || shared.foreign_copies.load(Ordering::Relaxed) > 0)
            && let Some((other, other_copies)) =
                shared.unpark_elsewhere(&thread.shard, thread.run(), id)
        {
            copies += other_copies;
            state = Some(match state {
                Some(own) => own.merge(other),
                None => other,
            });
        }
        if copies > 0 {
            shared.foreign_copies.fetch_sub(copies, Ordering::Relaxed);
        }
        state
    }

    /// The state of `frame`, just removed from this thread's stack, with its interval ended
    /// at `now` and credited to its parent.
    fn end_interval(&self, thread: &mut ThreadState, frame: &Frame, now: u64) -> SpanState {
        let mut state = frame.state;
        if state.kind != SpanKind::Ignored {
            let nested = u32::try_from(thread.spans_created.wrapping_sub(frame.created_before))
                .unwrap_or(u32::MAX);
            state.add_interval(frame.entered_raw, now, nested);
            // Credit the parent (by id, wherever it is on this thread's stack), not the frame
            // below: exits out of order and re-entries then credit the right span.
            if state.link != 0 && matches!(state.kind, SpanKind::Component { .. }) {
                let elapsed = now.saturating_sub(frame.entered_raw);
                match thread
                    .stack
                    .iter_mut()
                    .rev()
                    .find(|f| f.id == state.link && !f.reentry)
                {
                    Some(parent) => parent.state.add_child_interval(elapsed, nested),
                    None => {
                        EventCounters::bump(&thread.shard.events.uncredited_children, 1);
                    }
                }
            }
        }
        state
    }

    /// Takes span `id` off this thread's stack as it closes while entered here (its last handle
    /// was dropped inside it: the registry holds no reference for entered spans, and a
    /// filtered layer never hears of the exit of a closed span). Its interval ends now.
    fn take_entered(&self, thread: &mut ThreadState, id: u64) -> Option<SpanState> {
        let position = thread.stack.iter().position(|f| f.id == id && !f.reentry)?;
        let now = self.shared.clock.raw();
        let frame = thread.stack.remove(position);
        thread.stack.retain(|f| f.id != id);
        thread.closed_inside = !thread.stack.is_empty();
        (!frame.earlier_run).then(|| self.end_interval(thread, &frame, now))
    }

    /// The record of a closed span, its net time compensated; `None` for ignored spans and
    /// spans never entered.
    fn record(&self, thread: &ThreadState, id: u64, state: &SpanState) -> Option<Record> {
        if state.kind == SpanKind::Ignored || state.enters == 0 {
            return None;
        }
        let clock = &self.shared.clock;
        let Compensation { floor_ns, span_ns } = self.shared.compensation();
        let raw_ns = clock.delta_as_nanos(0, state.busy_raw);
        let inside = floor_ns.saturating_mul(u64::from(state.enters))
            + span_ns.saturating_mul(u64::from(state.nested));
        let net_ns = raw_ns.saturating_sub(inside);
        let mut clamped = u64::from(inside > raw_ns);
        let extra_ns = match state.kind {
            SpanKind::Tick { recorded: true } => {
                let children_ns = clock.delta_as_nanos(0, state.children_raw);
                let children_inside = floor_ns.saturating_mul(u64::from(state.children_enters))
                    + span_ns.saturating_mul(u64::from(state.children_nested));
                let children_net = children_ns.saturating_sub(children_inside);
                clamped += u64::from(children_net > net_ns);
                Some(net_ns.saturating_sub(children_net))
            }
            SpanKind::Tick { recorded: false } | SpanKind::Component { .. } | SpanKind::Ignored => {
                None
            }
        };
        let wall_ns = (state.enters > 1)
            .then(|| clock.delta_as_nanos(state.first_enter_raw, state.last_exit_raw));
        if clamped > 0 {
            EventCounters::bump(&thread.shard.events.clamped, clamped);
        }
        let kind = match state.kind {
            SpanKind::Tick { recorded: false } => RecordKind::TimedTick,
            SpanKind::Tick { recorded: true } => RecordKind::RecordedTick {
                // The calibration's ticks are measured by their latency.
                latency: self.shared.budget.is_full() || self.shared.budget.calibrating(),
                nested: saturate_u16(state.nested),
                direct: saturate_u16(state.nested.saturating_sub(state.children_nested)),
            },
            SpanKind::Component { slot, direct } => RecordKind::Component {
                slot,
                nested: saturate_u16(state.nested),
                direct,
            },
            SpanKind::Ignored => return None,
        };
        Some(Record {
            kind: kind.encode(),
            raw_ns,
            net_ns,
            extra_ns,
            wall_ns,
            start_raw: state.first_enter_raw,
            id,
            link: state.link,
        })
    }

    /// Classifies a span created now and keeps its state until it is entered; adds a tick to
    /// the live ticks.
    fn remember<S>(
        &self,
        thread: &mut ThreadState,
        attrs: &Attributes<'_>,
        id: &Id,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let shared = &self.shared;
        let Some(Classified {
            kind,
            link,
            epoch,
            opens_window,
        }) = self.classify(thread, attrs, ctx)
        else {
            return;
        };
        if kind == (SpanKind::Tick { recorded: true })
            && !shared.budget.is_full()
            && let Some(span) = ctx.span(id)
        {
            // For a child created on another thread while this tick is entered here (the
            // one case its state cannot be found): one allocation per recorded tick.
            span.extensions_mut().insert(RecordedTick);
        }
        if matches!(kind, SpanKind::Tick { .. }) {
            shared.live_ticks.fetch_add(1, Ordering::Relaxed);
            if shared.slowest_ticks > 0
                && shared.tick_fields != TickFieldCapture::Off
                && !attrs.metadata().fields().is_empty()
            {
                self.keep_fields(thread, attrs, id);
            }
        }
        let mut state = SpanState::new(kind, link, epoch);
        state.opens_window = opens_window;
        thread.remember_created(id.into_u64(), state);
    }

    /// Keeps a tick's first fields (see `tick_fields`) until it closes.
    fn keep_fields(&self, thread: &mut ThreadState, attrs: &Attributes<'_>, id: &Id) {
        let format = self.shared.tick_fields == TickFieldCapture::Formatted;
        let mut fields = TickFields::new(key(attrs.metadata()), format);
        attrs.record(&mut fields);
        thread.keep_tick_fields(id.into_u64(), fields);
    }

    /// Sends a closing tick's fields to the drain side, just before its record, if it may be
    /// among its thread's slowest (it reaches the threshold the drain side published). Warm-up ticks
    /// are never among them; a tick of unknown ordinal (0) is no warm-up tick (see
    /// `ThreadSlowTicks::record`).
    fn send_fields(
        &self,
        thread: &ThreadState,
        fields: &TickFields,
        state: &SpanState,
        net_ns: u64,
    ) {
        let recorded = state.kind == (SpanKind::Tick { recorded: true });
        if net_ns >= thread.shard.slow_threshold(recorded)
            && (state.link == 0 || state.link > self.shared.budget.warmup_ticks())
            && !fields.is_empty()
        {
            self.push_fields(thread, fields, state.link);
        }
    }

    /// Out of line: few ticks reach the threshold, and the record's push stays inlined in `close`.
    #[cold]
    #[inline(never)]
    fn push_fields(&self, thread: &ThreadState, fields: &TickFields, ordinal: u64) {
        thread
            .shard
            .push(fields.to_record(ordinal), &self.shared.template, false);
    }

    /// Records span `id` closing, from whatever state this run holds of it; `false` if it
    /// holds none. A tick found is taken off the live ticks.
    fn close(&self, thread: &mut ThreadState, id: &Id) -> bool {
        let shared = &self.shared;
        let key = id.into_u64();
        // Closed while entered here (see the module doc), or created here and never
        // entered: copies are all other threads can hold then, unless this one is a copy.
        let local = self
            .take_entered(thread, key)
            .or_else(|| thread.take_created(key));
        let state = match local {
            Some(local) if !local.copy && shared.foreign_copies.load(Ordering::Relaxed) == 0 => {
                Some(local)
            }
            Some(local) => Some(match self.unpark(thread, key) {
                Some(parked) => local.merge(parked),
                None => local,
            }),
            None => self.unpark(thread, key),
        };
        let Some(state) = state else {
            return false;
        };
        let is_tick = matches!(state.kind, SpanKind::Tick { .. });
        let fields = if is_tick {
            shared.live_ticks.fetch_sub(1, Ordering::Relaxed);
            thread.take_tick_fields(key)
        } else {
            None
        };
        let Some(record) = self.record(thread, key, &state) else {
            return true;
        };
        if is_tick && !self.close_tick(thread, &state, &record) {
            return true;
        }
        if let Some(fields) = &fields {
            self.send_fields(thread, fields, &state, record.net_ns);
        }
        thread.shard.push(record, &shared.template, is_tick);
        true
    }

    /// Opens a recording window for the tick about to be entered first (its children do not
    /// exist yet). If another thread is switching, the tick cannot be recorded whole: it is
    /// marked so that its close leaves it out, as a tick that straddled a switch.
    fn open_window(&self, thread: &mut ThreadState, state: &mut SpanState) {
        let shared = &*self.shared;
        let window = &shared.window;
        let started = shared.clock.raw();
        let opened = window.open(shared.budget.window_length());
        if opened {
            thread.sampler.switched(shared, started);
        }
        state.epoch = if (opened || window.is_open()) && window.claim() {
            window.epoch()
        } else {
            u64::MAX
        };
    }

    /// Closes the recording window when a recorded tick closes and the window has given out
    /// all its places (on a single-threaded loop, when its last tick closes).
    fn close_full_window(&self, thread: &mut ThreadState) {
        let shared = &*self.shared;
        let window = &shared.window;
        if window.is_full() {
            let started = shared.clock.raw();
            if window.close() {
                thread.sampler.switched(shared, started);
            }
        }
    }

    /// Books a closed tick with the budget; `false` (and counted) if it straddled a window
    /// switch made by another thread, so its record is left out.
    fn close_tick(&self, thread: &mut ThreadState, state: &SpanState, record: &Record) -> bool {
        let shared = &*self.shared;
        let spans = 1 + u64::from(state.nested);
        thread
            .sampler
            .tick_closed(spans.saturating_mul(shared.budget.span_ns()), record.net_ns);
        let straddled = !shared.budget.is_full() && shared.window.epoch() != state.epoch;
        if state.kind == (SpanKind::Tick { recorded: true }) {
            shared.budget.recorded_tick(spans);
            if !shared.budget.is_full() {
                self.close_full_window(thread);
            }
        }
        if straddled {
            EventCounters::bump(&thread.shard.events.straddled, 1);
        }
        !straddled
    }
}

impl<S> Layer<S> for TickRecorder
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        self.shared.set_dispatch(dispatch);
    }

    /// Global: `false` only for spans the gate refused that no other layer is interested in.
    fn enabled(&self, _metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        !take_refuse()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let shared = &self.shared;
        let run = shared.current_run();
        let recorded = (run != 0).then(|| {
            with_thread_state(shared, run, |thread| self.remember(thread, attrs, id, &ctx))
        });
        // The run ended since the filter let this tick through (or this thread is being torn
        // down): it is alive all the same, and its close will take it off.
        if recorded.flatten().is_none() && shared.is_tick_callsite(attrs.metadata()) {
            shared.live_ticks.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A tick's fields recorded after its creation (`span.record("seq", n)`).
    fn on_record(&self, id: &Id, values: &tracing_core::span::Record<'_>, _ctx: Context<'_, S>) {
        let run = self.shared.current_run();
        if run == 0 {
            return;
        }
        with_thread_state(&self.shared, run, |thread| {
            if let Some(fields) = thread.tick_fields_mut(id.into_u64()) {
                values.record(fields);
            }
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
            let state = if let Some(frame) = thread.stack.iter().rev().find(|f| f.id == key) {
                // Entered again while entered here (recursion): not timed twice.
                reentry = true;
                frame.state
            } else if let Some(state) = thread.take_created(key) {
                state
            } else if let Some(state) = self.unpark(thread, key) {
                // Exited before (here, or on another thread: a future that moved).
                state
            } else if let Some((kind, link)) = self.registry_kind(id, &ctx) {
                // Created on another thread and first entered here, or entered on another
                // thread right now: what it is comes from the registry, and this thread's share
                // is a copy, merged with the others when the span closes. A recorded tick whose
                // decision (and recording window) this thread cannot know is left out of the
                // latency histograms, as a tick that straddled a switch.
                let epoch = match kind {
                    SpanKind::Tick { recorded: true } => u64::MAX,
                    _ => shared.window.epoch(),
                };
                let mut state = SpanState::new(kind, link, epoch);
                state.copy = true;
                state
            } else {
                thread.count_missing();
                return;
            };
            let mut state = state;
            if state.opens_window {
                state.opens_window = false;
                self.open_window(thread, &mut state);
            }
            let timed = !reentry && state.kind != SpanKind::Ignored;
            thread.stack.push(Frame {
                id: key,
                state,
                created_before: thread.spans_created,
                reentry,
                earlier_run: false,
                // Read the clock last, so the recorder's own work is outside the interval.
                entered_raw: if timed { shared.clock.raw() } else { 0 },
            });
        });
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let run = self.shared.current_run();
        if run == 0 {
            return;
        }
        // Read the clock first, so the recorder's own work is outside the interval.
        let now = self.shared.clock.raw();
        let shared = &self.shared;
        with_thread_state(shared, run, |thread| {
            let key = id.into_u64();
            let Some(position) = thread.stack.iter().rposition(|f| f.id == key) else {
                // An exit without an enter on this thread: odd if the span belongs to this run
                // (its state is parked). A span entered before this thread's part of the run
                // began (in an earlier run, or while no run was active) is simply not this
                // run's.
                if thread.peek(key).is_some()
                    || shared.held_elsewhere(&thread.shard, thread.run(), key)
                {
                    thread.count_missing();
                }
                return;
            };
            let frame = thread.stack.remove(position);
            if thread.stack.is_empty() {
                thread.closed_inside = false;
            }
            if frame.reentry || frame.earlier_run {
                return;
            }
            let state = self.end_interval(thread, &frame, now);
            if state.copy {
                shared.foreign_copies.fetch_add(1, Ordering::Relaxed);
            }
            thread.shard.park(key, &state);
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let shared = &self.shared;
        let run = shared.current_run();
        let found = run != 0
            && with_thread_state(shared, run, |thread| self.close(thread, &id)).unwrap_or(false);
        // No state (never entered, and created on another thread or forgotten by its ring;
        // made in an earlier run; or closing while no run is active): a tick tickprof enabled
        // was alive until now all the same.
        if !found
            && ctx
                .span(&id)
                .is_some_and(|span| shared.is_tick_callsite(span.metadata()))
        {
            shared.live_ticks.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
