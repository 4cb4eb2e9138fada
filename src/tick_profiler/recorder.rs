//! `TickRecorder`: the layer half of [`TickProfiler`](crate::TickProfiler). Behind the gate it
//! sees only the spans tickprof decided to record (the ticks it times, the spans inside the
//! ticks it records) and a few it let through to classify (see `gate`).
//!
//! Per recorded span, in the common order (created, entered, exited, closed on one thread):
//! - `on_new_span`: classifies it (tick, component, or untracked) and puts its [`SpanTiming`]
//!   in this thread's home (one lock);
//! - `on_enter`: pushes a [`Frame`] and reads the clock last (`B`): the instrumentation that
//!   began at the gate's reading (`A`) ends, and the span's interval begins;
//! - `on_exit`: reads the clock first (`C`), pops the frame and adds the interval to its
//!   `SpanTiming` (one lock);
//! - `on_close`: takes its `SpanTiming` out, credits its net time to its parent and records it
//!   (one lock), then reads the clock last (`D`): the instrumentation that began at `C` ends.
//!
//! A tick timed alone costs two clock reads (`B`, `C`): nothing around it is timed.
//!
//! Anything else (a span entered on a thread that did not create it, entered again while
//! entered, closed on another thread or while entered) takes the general path: the clock is
//! read at the start and at the end of the callback, and the span's timing is found in the
//! home of the thread that created it. No callback can panic; what cannot be made sense of is
//! counted (`dropped.missing_span_data`).

use std::sync::Arc;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::callsites::{Place, Role, key};
use super::home::Home;
use super::sampler::WindowGate;
use super::shared::Shared;
use super::subscriber_internals::take_veto;
use super::sync::Ordering;
use super::thread::{Expect, ThreadState, with_thread};
use super::tick_fields::{TickFieldCapture, TickFields};
use super::timing::{
    Class, Closed, Entry, Frame, Interval, LiveTick, SpanKind, SpanTiming, TickInfo,
};
use super::window::TickDone;

/// The layer half of [`TickProfiler`](crate::TickProfiler): records the spans the
/// [`TickGate`](crate::TickGate) lets through.
#[derive(Debug, Clone)]
pub struct TickRecorder {
    shared: Arc<Shared>,
}

/// What `on_new_span` found a span to be.
struct Created {
    kind: SpanKind,
    /// A tick's first fields.
    fields: Option<TickFields>,
    /// Where its creation began (`A`), if a timed span is entered here.
    started_raw: Option<u64>,
}

impl TickRecorder {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        TickRecorder { shared }
    }

    /// What a span created now is, or `None` if tickprof does not track it.
    fn classify(
        &self,
        thread: &mut ThreadState,
        attrs: &Attributes<'_>,
        registry_current: impl FnOnce() -> Option<u64>,
    ) -> Option<Created> {
        let shared = &*self.shared;
        let key = key(attrs.metadata());
        let info = match thread.callsite(shared, key) {
            Some(info) => info,
            // Still registering on another thread (see the gate).
            None => shared.callsites.register(attrs.metadata(), false),
        };
        let role = info.role;
        let pending = thread.pending.take().filter(|p| p.callsite == key);
        let started_raw = pending.and_then(|p| p.started_raw);
        let created = match role {
            Role::Tick | Role::CalibrationTick => {
                let tick = match pending.and_then(|p| p.tick) {
                    Some(tick) => tick,
                    None if role == Role::Tick => match thread.take_displaced(key) {
                        // Its decision was displaced by a span created while its fields were
                        // evaluated.
                        Some(tick) => tick,
                        // Made without a filter decision (`Span::new`): counted now, timed.
                        None => TickInfo {
                            recorded: false,
                            warmup: false,
                            opens_window: false,
                            window: 0,
                            ordinal: thread.count_tick(),
                        },
                    },
                    None => return None,
                };
                // Kept even if every field is `Empty` yet: `span.record` may fill them.
                let fields = (shared.slowest_ticks > 0
                    && shared.tick_fields != TickFieldCapture::Off
                    && !attrs.metadata().fields().is_empty())
                .then(|| {
                    let format = shared.tick_fields == TickFieldCapture::Formatted;
                    let mut fields = TickFields::new(key, format);
                    attrs.record(&mut fields);
                    fields
                });
                Created {
                    kind: SpanKind::Tick(tick),
                    fields,
                    started_raw,
                }
            }
            Role::Span(slot) | Role::CalibrationSpan(slot) => {
                let contextual = thread.contextual_parent(registry_current);
                let parent = match attrs.parent() {
                    Some(parent) => Some(parent.into_u64()),
                    None if attrs.is_contextual() => contextual.map(|(id, _)| id),
                    None => None,
                };
                let inside = parent.and_then(|parent| {
                    if let Some((id, inside)) = contextual
                        && id == parent
                    {
                        return inside;
                    }
                    // An explicit parent, or one entered on another thread: inside a tick
                    // that is still open, or detached.
                    self.find(thread, parent)
                        .and_then(|(home, _)| {
                            home.data()
                                .spans
                                .get(&parent)
                                .map(|timing| (timing.kind.class(), timing.kind.tick(parent)))
                        })
                        .map(|(class, tick)| match class {
                            Class::Component if self.find(thread, tick).is_none() => {
                                (Class::Detached, tick)
                            }
                            class => (class, tick),
                        })
                });
                match (parent, inside) {
                    (
                        Some(parent),
                        Some((class @ (Class::RecordedTick | Class::Component), tick)),
                    ) => {
                        thread.recorded_spans += 1;
                        if info.place != Place::InsideTicks {
                            shared.callsites.learn_place(key, Place::InsideTicks);
                        }
                        Created {
                            kind: SpanKind::Component {
                                slot,
                                parent,
                                direct: class == Class::RecordedTick,
                                tick,
                            },
                            fields: None,
                            started_raw,
                        }
                    }
                    (_, Some((class @ (Class::TimedTick | Class::Detached), _))) => {
                        // A child of a timed tick (by an explicit parent, made between ticks):
                        // its callsite runs inside ticks.
                        if class == Class::TimedTick && info.place != Place::InsideTicks {
                            shared.callsites.learn_place(key, Place::InsideTicks);
                        }
                        return None;
                    }
                    // Outside every tick (no parent, an untracked one, or one outside ticks,
                    // and created outside every tick here), as the gate found it. One created
                    // inside a tick with no parent there (`parent: None`) is not tracked: its
                    // time is that of the span it runs in.
                    _ if matches!(role, Role::Span(_))
                        && pending.is_some_and(|p| p.outside)
                        && thread.outside_ticks() =>
                    {
                        if info.place == Place::Unknown {
                            shared.callsites.learn_place(key, Place::OutsideTicks);
                        }
                        // Seen as it is created, whether it is then entered or not, as the
                        // ones the gate samples out are.
                        thread
                            .home
                            .data()
                            .records
                            .outside_seen(slot, &shared.template);
                        Created {
                            kind: SpanKind::Outside {
                                slot,
                                holds_ticks: false,
                            },
                            fields: None,
                            started_raw,
                        }
                    }
                    _ => return None,
                }
            }
        };
        if created.started_raw.is_some() {
            thread.tally.creations += 1;
        }
        Some(created)
    }

    /// The home holding span `id`'s timing: this thread's, or another thread's (a span that
    /// moved); with whether it is this thread's.
    fn find(&self, thread: &ThreadState, id: u64) -> Option<(Arc<Home>, bool)> {
        if thread.home.data().spans.contains_key(&id) {
            return Some((Arc::clone(&thread.home), true));
        }
        self.shared
            .other_home(&thread.home, |data| data.spans.contains_key(&id))
            .map(|home| (home, false))
    }

    /// A recorded tick entered for the first time (on any thread) opens its window, before any
    /// of its children exists. If it cannot (another thread opened one first, or is switching),
    /// it takes a place in the open window, or else is timed alone. Returns what it is now.
    fn first_enter_of_opening_tick(&self, home: &Home, id: u64) -> Class {
        let shared = &*self.shared;
        // Taken under the lock: a tick entered on two threads at once opens one window.
        let opens = home
            .data()
            .spans
            .get_mut(&id)
            .is_some_and(|timing| match &mut timing.kind {
                SpanKind::Tick(tick) => std::mem::take(&mut tick.opens_window),
                SpanKind::Component { .. } | SpanKind::Outside { .. } => false,
            });
        if !opens {
            return home
                .data()
                .spans
                .get(&id)
                .map_or(Class::TimedTick, |timing| timing.kind.class());
        }
        let started = shared.clock.raw();
        let window = match shared.window.open(shared.budget.window_length()) {
            Some(window) => {
                shared
                    .budget
                    .switched(shared.clock.delta_as_nanos(started, shared.clock.raw()));
                Some(window)
            }
            None => shared.window.claim(),
        };
        let mut data = home.data();
        let Some(timing) = data.spans.get_mut(&id) else {
            return Class::TimedTick;
        };
        if let SpanKind::Tick(tick) = &mut timing.kind {
            tick.recorded = window.is_some();
            tick.window = window.unwrap_or(0);
        }
        if window.is_none() {
            timing.live = None;
        }
        timing.kind.class()
    }

    /// Takes span `id`'s timing out of whichever home holds it. A span still entered on
    /// another thread as it closes here (a raw enter, a forgotten guard) leaves a dead frame
    /// there: the threads that may hold one are told to check their stacks.
    fn take_timing(&self, thread: &ThreadState, id: u64) -> Option<SpanTiming> {
        // Its own home's lock is released before any other is taken (`other_home` takes the
        // list of homes, then each home: the order every thread keeps).
        let own = thread.home.data().spans.remove(&id);
        let timing = match own {
            Some(timing) => timing,
            None => {
                let (mut taken, mut maker) = (None, None);
                let home = self.shared.other_home(&thread.home, |data| {
                    taken = data.spans.remove(&id);
                    if matches!(
                        taken,
                        Some(SpanTiming {
                            kind: SpanKind::Tick(_),
                            ..
                        })
                    ) {
                        maker = data.owner().cloned();
                    }
                    taken.is_some()
                })?;
                // Its home's thread may have it entered.
                home.note_closed_elsewhere();
                // A tick's record is this thread's: its count comes here too.
                if let Some(maker) = maker {
                    thread.home.data().records.tick_moved_from(maker);
                }
                taken?
            }
        };
        if timing.open_elsewhere > 0 {
            self.shared.closed_early.fetch_add(1, Ordering::Relaxed);
        }
        Some(timing)
    }

    /// Whether tick `tick` is still open and past its thread's warm-up (a look in its home:
    /// only while some warm-up tick is open).
    fn tick_after_warmup(&self, thread: &ThreadState, tick: u64) -> bool {
        self.find(thread, tick).is_some_and(|(home, _)| {
            home.data()
                .spans
                .get(&tick)
                .is_some_and(|timing| matches!(&timing.kind, SpanKind::Tick(info) if !info.warmup))
        })
    }

    /// Records a closed span in this thread's home.
    fn record(&self, thread: &mut ThreadState, id: u64, closed: &Closed) {
        let shared = &*self.shared;
        match closed.kind {
            SpanKind::Component {
                slot,
                parent,
                direct,
                tick,
            } => {
                if !closed.nested {
                    // It ran inside no timed span of its thread (on another thread than its
                    // parent): its time is credited to no span.
                    thread.home.data().counters().uncredited_children += 1;
                }
                // Counted in ticks after the warm-up, as the tick's own figure is (the first
                // ticks allocate for the registry and for tickprof itself).
                let counted = (thread.counts_allocations()
                    && (shared.open_warmup_ticks.load(Ordering::Relaxed) == 0
                        || self.tick_after_warmup(thread, tick)))
                .then(|| ThreadState::allocations_of(closed));
                let mut data = thread.home.data();
                data.records
                    .record_component(closed, slot, direct, counted, &shared.template);
                data.slow.component(id, slot, parent, tick, closed);
            }
            SpanKind::Outside { slot, holds_ticks } => {
                // One holding ticks the sampler did not time is seen (at its creation), not
                // recorded: its own time would hold theirs.
                if !holds_ticks {
                    thread
                        .home
                        .data()
                        .records
                        .record_outside(closed, slot, &shared.template);
                }
            }
            SpanKind::Tick(tick) => {
                if tick.warmup {
                    shared.warmup_tick_closed();
                }
                let counted = thread
                    .counts_allocations()
                    .then(|| ThreadState::allocations_of(closed));
                let mut whole = true;
                let cold = tick.window != 0 && thread.cold_in_window(tick.window);
                if tick.window != 0 {
                    let spans = 1 + std::mem::take(&mut thread.recorded_spans);
                    shared.budget.recorded_tick(spans);
                    match shared.window.tick_done(tick.window) {
                        TickDone::InFlight => {}
                        TickDone::Last => self.close_window(),
                        TickDone::Outlived => {
                            // Spans it held after its window closed were not created: its
                            // unattributed time is not known.
                            whole = false;
                            thread.home.data().counters().straddled += 1;
                        }
                    }
                } else if shared.window.stall_check() {
                    self.close_window();
                }
                {
                    let mut data = thread.home.data();
                    let data = &mut *data;
                    data.records.record_tick(
                        closed,
                        &tick,
                        shared.budget.is_full(),
                        whole,
                        &shared.template,
                    );
                    if let Some(allocations) = counted {
                        data.records.record_tick_allocations(
                            &tick,
                            shared.budget.is_full(),
                            allocations,
                        );
                    }
                    let spans = &data.spans;
                    data.slow
                        .tick(id, &tick, closed, cold, |tick| spans.contains_key(&tick));
                }
                if !tick.recorded && !tick.warmup {
                    thread.sampler.tick_timed(closed.net_ns, &shared.budget);
                }
            }
        }
    }

    /// A tracked span closed without an interval of it ending anywhere: never entered, or
    /// entered on another thread that is still inside it (a raw `Dispatch::enter` whose span
    /// lost its last handle). A recorded tick's window place is given back; other threads
    /// check their stacks for the span (see `ThreadState::drop_dead_frames`).
    fn closed_unentered(&self, closed: &Closed) {
        let shared = &*self.shared;
        if let SpanKind::Tick(TickInfo { warmup: true, .. }) = closed.kind {
            shared.warmup_tick_closed();
        }
        if let SpanKind::Tick(tick) = closed.kind
            && tick.window != 0
            && shared.window.tick_done(tick.window) == TickDone::Last
        {
            self.close_window();
        }
        shared.closed_early.fetch_add(1, Ordering::Relaxed);
    }

    /// Closes the window whose last recorded tick just closed.
    fn close_window(&self) {
        let shared = &*self.shared;
        let started = shared.clock.raw();
        shared.window.close();
        shared
            .budget
            .switched(shared.clock.delta_as_nanos(started, shared.clock.raw()));
    }

    /// The frame for span `id` entered at `entered_raw` (the thread's instrumentation up to
    /// then already summed).
    fn push_timed(thread: &mut ThreadState, id: u64, mut interval: Interval, entered_raw: u64) {
        if interval.class == Class::Outside {
            // Ticks started inside it must take the whole decision (an untimed tick since its
            // creation may have armed the shortcut): see `ThreadState::untime_outside_frames`.
            thread.take_shortcut();
        }
        if thread.stack.len() == thread.stack.capacity() {
            // The stack grows (a nesting deeper than any before): tickprof's allocation.
            let before = thread.raw_allocations();
            thread.stack.reserve(1);
            thread.instrumentation_allocated(before);
        }
        interval.entered_raw = entered_raw;
        interval.tally_at_enter = thread.tally;
        interval.allocations_at_enter = thread.allocated();
        thread.stack.push(Frame {
            id,
            entry: Entry::Timed(interval),
        });
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
        !take_veto(self.shared.id)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let shared = &self.shared;
        let run = shared.current_run();
        if run == 0 {
            return;
        }
        with_thread(shared, |thread| {
            thread.enter_run(run, shared);
            let key = key(attrs.metadata());
            let pending = thread.pending.filter(|pending| pending.callsite == key);
            let allocations_at_start = pending.and_then(|pending| pending.allocations_at_start);
            self.new_span_on(thread, pending.and_then(|p| p.started_raw), attrs, id, ctx);
            thread.instrumentation_allocated(allocations_at_start);
            if allocations_at_start.is_some() {
                let now = thread.raw_allocations();
                if let Expect::Enter {
                    allocations_from, ..
                } = &mut thread.expect
                {
                    *allocations_from = now;
                }
            }
        });
    }

    /// A tick's fields recorded after its creation (`span.record("seq", n)`).
    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let shared = &self.shared;
        if shared.current_run() == 0 || shared.tick_fields == TickFieldCapture::Off {
            return;
        }
        with_thread(shared, |thread| {
            if let Some(SpanTiming {
                fields: Some(fields),
                ..
            }) = thread.home.data().spans.get_mut(&id.into_u64())
            {
                values.record(fields);
            }
        });
    }

    fn on_enter(&self, id: &Id, _ctx: Context<'_, S>) {
        let shared = &self.shared;
        let run = shared.current_run();
        if run == 0 {
            return;
        }
        with_thread(shared, |thread| {
            thread.enter_run(run, shared);
            let id = id.into_u64();
            match std::mem::replace(&mut thread.expect, Expect::Nothing) {
                Expect::Enter {
                    id: created,
                    class,
                    tick,
                    opens_window,
                    allocations_from,
                } if created == id => {
                    thread.instrumentation_allocated(allocations_from);
                    // Created here just now: what its creation found is known.
                    let class = if opens_window {
                        self.first_enter_of_opening_tick(&thread.home, id)
                    } else {
                        class
                    };
                    let interval = Interval::new(class, tick, None);
                    // Read the clock last, so the recorder's own work is outside the interval.
                    let entered = shared.clock.raw();
                    Self::push_timed(thread, id, interval, entered);
                }
                _ => self.enter_other(thread, id),
            }
        });
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let shared = &self.shared;
        let run = shared.current_run();
        if run == 0 {
            return;
        }
        // Read the clock first, so the recorder's own work is outside the interval.
        let exited = shared.clock.raw();
        with_thread(shared, |thread| {
            thread.enter_run(run, shared);
            let id = id.into_u64();
            thread.expect = Expect::Nothing;
            let Some(position) = thread.position(id) else {
                // Not entered here: odd if it is a span tickprof tracks (an exit without an
                // enter); else one it does not track, or one entered before this thread's part
                // of the run.
                if self.find(thread, id).is_some() {
                    thread.count_odd();
                }
                return;
            };
            let untracked = match thread.stack.get(position).map(|frame| &frame.entry) {
                Some(Entry::Untracked) => true,
                Some(Entry::OutsideInTick { home }) => {
                    // Counted as entered on another thread than its home's as it was entered.
                    if let Some(home) = home
                        && let Some(timing) = home.data().spans.get_mut(&id)
                    {
                        timing.open_elsewhere = timing.open_elsewhere.saturating_sub(1);
                    }
                    true
                }
                _ => false,
            };
            // The exit's own work is instrumentation of the span still entered here (if any).
            // Its close may come at once (a guard dropped) or much later (`in_scope`, then the
            // parent's own work, then the handle dropped), so it is timed by itself: what
            // lies between the two is the parent's.
            if (thread.end_interval(position, exited, &shared.clock) || untracked)
                && !thread.nothing_timed()
            {
                let now = shared.clock.raw();
                thread.instrumented(exited, now);
            }
        });
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let shared = &self.shared;
        let run = shared.current_run();
        if run == 0 {
            return;
        }
        with_thread(shared, |thread| {
            thread.enter_run(run, shared);
            // What closing allocates (records, lists) is instrumentation.
            let allocations_at_start = if thread.nothing_timed() {
                None
            } else {
                thread.raw_allocations()
            };
            self.close_on(thread, id);
            thread.instrumentation_allocated(allocations_at_start);
        });
    }
}

impl TickRecorder {
    /// `on_new_span` on this thread, after its filter decision (`started`: when its creation began).
    fn new_span_on<S>(
        &self,
        thread: &mut ThreadState,
        started: Option<u64>,
        attrs: &Attributes<'_>,
        id: &Id,
        ctx: Context<'_, S>,
    ) where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    {
        let shared = &self.shared;
        {
            let current = || ctx.lookup_current().map(|span| span.id().into_u64());
            if thread.closed_on_stack {
                thread.drop_exited_closed(current());
            }
            let Some(created) = self.classify(thread, attrs, current) else {
                thread.expect = Expect::Nothing;
                // Untracked, created inside a timed span: its creation is instrumentation.
                if let Some(started) = started {
                    let now = shared.clock.raw();
                    thread.instrumented(started, now);
                }
                return;
            };
            let id = id.into_u64();
            if matches!(created.kind, SpanKind::Tick(TickInfo { warmup: true, .. })) {
                shared.open_warmup_ticks.fetch_add(1, Ordering::Relaxed);
            }
            let live = matches!(
                created.kind,
                SpanKind::Tick(TickInfo { recorded: true, .. })
            )
            .then(|| LiveTick::new(&shared.live_recorded_ticks));
            thread
                .home
                .data()
                .spans
                .insert(id, SpanTiming::new(created.kind, live, created.fields));
            // Its creation is instrumentation of the span entered here (if any), timed by
            // itself: it may be entered at once (a guard) or later (`.instrument`, a span made
            // ahead of its work), and what lies between is the parent's.
            if let Some(started) = created.started_raw {
                let now = shared.clock.raw();
                thread.instrumented(started, now);
            }
            thread.expect = Expect::Enter {
                id,
                class: created.kind.class(),
                tick: created.kind.tick(id),
                opens_window: matches!(
                    created.kind,
                    SpanKind::Tick(TickInfo {
                        opens_window: true,
                        ..
                    })
                ),
                allocations_from: None,
            };
        }
    }

    /// `on_close` on this thread.
    fn close_on(&self, thread: &mut ThreadState, id: Id) {
        let shared = &self.shared;
        {
            let id = id.into_u64();
            thread.expect = Expect::Nothing;
            let started = (!thread.nothing_timed()).then(|| shared.clock.raw());
            // Closed while entered here (its last handle dropped inside it): its interval
            // ends now, and it stays on the stack as closed (see `Entry::Closed`).
            let entered_here = thread.position(id).is_some();
            if let Some(mut position) = thread.position(id) {
                let now = shared.clock.raw();
                while let Some(found) = thread.position(id) {
                    thread.end_interval(found, now, &shared.clock);
                    position = found;
                }
                thread.closed_while_entered(position, id);
            }
            let closed = self
                .take_timing(thread, id)
                .map(|timing| timing.close(&shared.clock));
            if let Some(Closed {
                kind: SpanKind::Tick(_),
                ..
            }) = closed
            {
                // Spans of it still entered here (a guard forgotten) belong to no tick now.
                thread.detach_from(id);
            }
            match closed {
                // One that held ticks had its intervals dropped: it is counted all the same.
                Some(closed)
                    if closed.entered
                        || matches!(
                            closed.kind,
                            SpanKind::Outside {
                                holds_ticks: true,
                                ..
                            }
                        ) =>
                {
                    self.record(thread, id, &closed);
                }
                Some(closed) if !entered_here => self.closed_unentered(&closed),
                _ => {}
            }
            // Read the clock last: the close's work (and a window switch) is instrumentation
            // of whatever timed span is still entered here.
            if let Some(started) = started
                && !thread.nothing_timed()
            {
                let now = shared.clock.raw();
                thread.instrumented(started, now);
            }
        }
    }
}

impl TickRecorder {
    /// Enters span `id` that was not created here just now: created on another thread, or
    /// entered before (a future polled again), or entered again while entered (recursion), or
    /// one tickprof does not track. The clock is read at the start and at the end.
    fn enter_other(&self, thread: &mut ThreadState, id: u64) {
        let shared = &*self.shared;
        let started = (!thread.nothing_timed()).then(|| shared.clock.raw());
        let entry = if thread.position(id).is_some() {
            Some(Entry::Reentry)
        } else {
            let found = self.find(thread, id).and_then(|(home, own)| {
                let kind = home.data().spans.get_mut(&id).map(|timing| {
                    // Entered on a thread that is not its home's (counted down as it exits).
                    timing.open_elsewhere += u32::from(!own);
                    timing.kind
                })?;
                Some((kind, home, own))
            });
            match found {
                // A span outside ticks entered inside a tick (made ahead of its work): this
                // interval is the tick's time, as an untracked span's is.
                Some((SpanKind::Outside { .. }, home, own)) if !thread.outside_ticks() => {
                    Some(Entry::OutsideInTick {
                        home: (!own).then_some(home),
                    })
                }
                Some((kind, home, own)) => {
                    let class = match kind {
                        SpanKind::Tick(TickInfo {
                            opens_window: true, ..
                        }) => self.first_enter_of_opening_tick(&home, id),
                        _ => kind.class(),
                    };
                    let interval = Interval::new(class, kind.tick(id), (!own).then_some(home));
                    let entered = shared.clock.raw();
                    if let Some(started) = started {
                        thread.instrumented(started, entered);
                    }
                    Self::push_timed(thread, id, interval, entered);
                    return;
                }
                // Untracked: on the stack all the same, as the registry has it (the parent of
                // the next contextual span); inside a timed span its enter and exit are
                // instrumentation.
                None => Some(Entry::Untracked),
            }
        };
        if let Some(entry) = entry {
            thread.stack.push(Frame { id, entry });
        }
        if let Some(started) = started {
            let now = shared.clock.raw();
            thread.instrumented(started, now);
        }
    }
}
