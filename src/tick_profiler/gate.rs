//! `TickGate`: the per-layer filter in front of the recorder. It decides which spans exist for
//! tickprof, so that tickprof pays only for what it records:
//! - idle (no run): interest `never` for every callsite and a level hint of `OFF`: a span
//!   only tickprof could want is never created, and costs the `span!` macro's level check;
//! - profiling: interest `sometimes` for tick callsites (each tick is counted and sampled at its
//!   filter decision) and, while a recording window is open (always, with full sampling), for
//!   every span callsite; `never` for events (tickprof records none);
//! - per span: a tick the sampler does not time is refused; so is a span evaluated inside a
//!   timed tick. While a window is open, a span outside every tick is recorded as such (what
//!   the ticks leave out). A refused span no other
//!   layer wants is disabled for the whole subscriber (see `subscriber_internals`, 1).
//!
//! The decision for a span that is let through waits in the thread's state for the recorder's
//! `on_new_span`, with the clock reading where its creation began.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tracing_core::subscriber::Interest;
use tracing_core::{LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use super::callsites::{CallsiteInfo, Others, Place, Role, key};
use super::sampler::TickMode;
use super::shared::Shared;
use super::shortcut::{self, ArmedFor};
use super::subscriber_internals::{Probing, note_taken, probing, rebuilding, veto};
use super::thread::{Pending, ThreadState, with_thread};
use super::timing::{Class, TickInfo};

/// The filter half of [`TickProfiler`](crate::TickProfiler): which spans tickprof records.
#[derive(Debug, Clone)]
pub struct TickGate {
    shared: Arc<Shared>,
}

/// A decision for one span evaluation.
enum Verdict {
    /// Let through (the recorder will see the span created); what other layers want of the
    /// callsite.
    Take(Others),
    /// Refused; what other layers want of the callsite.
    Refuse(Others),
}

impl TickGate {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        TickGate { shared }
    }

    /// Whether this gate belongs to the collector whose state is `shared`.
    pub(crate) fn is_of(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }

    /// The interest tickprof has in a callsite now. Between windows a span callsite is wanted
    /// until it is seen inside a tick (where it runs is not known yet, or is outside ticks,
    /// where its spans are counted and sampled on their own): once known to run inside ticks
    /// it costs the loop nothing there.
    fn interest(&self, info: CallsiteInfo) -> Interest {
        let shared = &*self.shared;
        let calibrating = shared.budget.calibrating();
        match info.role {
            _ if shared.current_run() == 0 => Interest::never(),
            Role::Tick => Interest::sometimes(),
            Role::Span(_) if shared.recording() || info.place != Place::InsideTicks => {
                Interest::sometimes()
            }
            Role::Span(_) => Interest::never(),
            Role::CalibrationTick | Role::CalibrationSpan(_) if calibrating => {
                Interest::sometimes()
            }
            Role::CalibrationTick | Role::CalibrationSpan(_) => Interest::never(),
        }
    }

    /// A tick's filter decision: counts it and decides what to measure of it.
    fn tick(
        &self,
        thread: &mut ThreadState,
        tick: ArmedFor,
        others: Others,
        started_raw: Option<u64>,
    ) -> Verdict {
        let ArmedFor {
            key, generation, ..
        } = tick;
        let shared = &*self.shared;
        if !shared.budget.is_full() && !thread.nothing_timed() && thread.outside_ticks() {
            thread.untime_outside_frames();
        }
        let ordinal = thread.count_tick();
        let (mode, warmup) = thread.sampler.decide(&shared.budget, &shared.window);
        thread.between.tick_decided(mode != TickMode::Untimed);
        if mode == TickMode::Untimed {
            thread.refused_inside();
            if others != Others::Unknown && !warmup {
                // Armed for the generation read before this decision: a window or run that
                // switched since then disarms it at once.
                thread.arm_shortcut(key, generation, others.veto());
            }
            return Verdict::Refuse(others);
        }
        let started_raw = if thread.nothing_timed() {
            None
        } else {
            started_raw.or_else(|| Some(shared.clock.raw()))
        };
        thread.pending = Some(Pending {
            callsite: key,
            started_raw,
            allocations_at_start: started_raw.and_then(|_| thread.raw_allocations()),
            outside: false,
            tick: Some(TickInfo {
                recorded: matches!(mode, TickMode::Recorded(_) | TickMode::Opening),
                warmup,
                opens_window: mode == TickMode::Opening,
                window: match mode {
                    TickMode::Recorded(window) => window,
                    _ => 0,
                },
                ordinal,
            }),
        });
        Verdict::Take(others)
    }

    /// The calibration tick is recorded only while calibrating.
    fn calibration_tick(&self, thread: &mut ThreadState, key: usize, others: Others) -> Verdict {
        if !self.shared.budget.calibrating() {
            return Verdict::Refuse(others);
        }
        thread.pending = Some(Pending {
            callsite: key,
            started_raw: None,
            allocations_at_start: None,
            outside: false,
            tick: Some(TickInfo {
                recorded: true,
                warmup: false,
                opens_window: false,
                window: 0,
                ordinal: 0,
            }),
        });
        Verdict::Take(others)
    }

    /// Any other span: recorded inside a recorded tick on this thread; refused inside a timed
    /// tick. In no span tickprof times, a span outside every tick: recorded while recording,
    /// sampled on its own between windows (see `between_ticks`); or a child of a recorded tick
    /// by an explicit parent, let through while one is alive. A `calibration` span only ever
    /// inside a calibration tick.
    fn span(
        &self,
        thread: &mut ThreadState,
        key: usize,
        info: CallsiteInfo,
        started_raw: Option<u64>,
        current: impl FnOnce() -> Option<u64>,
    ) -> Verdict {
        let shared = &*self.shared;
        let others = info.others;
        let calibration = matches!(info.role, Role::CalibrationSpan(_));
        match thread
            .contextual_parent(current)
            .map(|(_, inside)| inside.map(|(class, _)| class))
        {
            Some(Some(class @ (Class::RecordedTick | Class::Component | Class::Outside))) => {
                let outside = class == Class::Outside;
                if outside && self.sampled_out(thread, info, started_raw) {
                    // Its time is its parent's own time.
                    return Verdict::Refuse(others);
                }
                thread.pending = Some(Pending {
                    callsite: key,
                    started_raw: started_raw.or_else(|| Some(shared.clock.raw())),
                    allocations_at_start: thread.raw_allocations(),
                    outside,
                    tick: None,
                });
                Verdict::Take(others)
            }
            Some(Some(class @ (Class::TimedTick | Class::Detached))) => {
                thread.refused_inside();
                if class == Class::TimedTick && info.place != Place::InsideTicks {
                    shared.callsites.learn_place(key, Place::InsideTicks);
                }
                Verdict::Refuse(others)
            }
            Some(None) | None if !calibration => {
                let outside = match info.place {
                    Place::OutsideTicks => true,
                    // First sights are taken: the recorder, which sees an explicit parent,
                    // learns where the callsite runs.
                    Place::Unknown => thread.between.certainly_between(),
                    // Seen inside ticks: here it may be inside one the sampler did not time.
                    Place::InsideTicks => false,
                };
                if outside && self.sampled_out(thread, info, started_raw) {
                    return Verdict::Refuse(others);
                }
                if !(outside || shared.live_recorded_ticks.load(Ordering::Relaxed) > 0) {
                    return Verdict::Refuse(others);
                }
                let started_raw = if thread.nothing_timed() {
                    None
                } else {
                    started_raw.or_else(|| Some(shared.clock.raw()))
                };
                thread.pending = Some(Pending {
                    callsite: key,
                    started_raw,
                    allocations_at_start: started_raw.and_then(|_| thread.raw_allocations()),
                    outside,
                    tick: None,
                });
                Verdict::Take(others)
            }
            Some(None) | None => Verdict::Refuse(others),
        }
    }

    /// Whether a span outside ticks of a callsite known to run there is left out between
    /// windows by the thread's own sampling (`BetweenTicks::sample`); one left out is seen
    /// all the same. A first sight (`Place::Unknown`) is never left out: it teaches where the
    /// callsite runs.
    fn sampled_out(
        &self,
        thread: &mut ThreadState,
        info: CallsiteInfo,
        started_raw: Option<u64>,
    ) -> bool {
        let shared = &*self.shared;
        if shared.recording() {
            return false;
        }
        let now = started_raw.unwrap_or_else(|| shared.clock.raw());
        if info.place == Place::Unknown {
            thread.between.recorded_at(now);
            return false;
        }
        if thread
            .between
            .sample(&shared.clock, now, shared.budget.outside_gap_ns())
        {
            return false;
        }
        if let Role::Span(slot) = info.role {
            thread
                .home
                .data()
                .records
                .outside_seen(slot, &shared.template);
        }
        true
    }

    /// A refused span: disabled for the whole subscriber when no other layer is interested in
    /// its callsite (the filter returns `true` so that the recorder's `enabled` is asked and
    /// says no), else only for tickprof. Other layers not asked yet about this callsite are
    /// asked now (once).
    fn refuse(&self, key: usize, others: Others) -> bool {
        veto(self.shared.id, key, self.known(key, others).veto())
    }

    /// What other layers want of callsite `key`, asking them now if it is not known.
    fn known(&self, key: usize, others: Others) -> Others {
        match others {
            Others::Unknown => self.shared.probe(key),
            known => known,
        }
    }
}

impl<S> Filter<S> for TickGate
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if !metadata.is_span() {
            return false;
        }
        let shared = &self.shared;
        let key = key(metadata);
        // Most ticks: untimed, by the shortcut alone.
        let tick = ArmedFor {
            collector: shared.id,
            key,
            generation: shared.callsites.generation(),
        };
        if let Some(refused) = shortcut::decide(tick) {
            return veto(shared.id, key, refused);
        }
        let run = shared.current_run();
        // While a recorded tick is alive, this may be a span created inside one: the clock is
        // read first, so that the gate's own work is part of the span's measured creation,
        // not of its parent's time.
        let started_raw =
            (shared.live_recorded_ticks.load(Ordering::Relaxed) > 0).then(|| shared.clock.raw());
        let verdict = with_thread(shared, |thread| {
            thread.take_shortcut();
            // Not registered with this collector yet: another thread is registering the
            // callsite right now (tracing-core lets its spans be evaluated meanwhile). What it
            // is follows from its metadata: a tick is counted all the same.
            let info = thread
                .callsite(shared, key)
                .unwrap_or_else(|| CallsiteInfo::new(shared.callsites.role_of(metadata)));
            if run == 0 {
                // Idle: evaluated only because another dispatcher is interested in it.
                return Verdict::Refuse(info.others);
            }
            thread.enter_run(run, shared);
            thread.discard_stale_pending(shared);
            match info.role {
                Role::Tick => self.tick(thread, tick, info.others, started_raw),
                Role::CalibrationTick => self.calibration_tick(thread, key, info.others),
                Role::Span(_) | Role::CalibrationSpan(_) => {
                    self.span(thread, key, info, started_raw, || {
                        cx.lookup_current().map(|span| span.id().into_u64())
                    })
                }
            }
        });
        match verdict {
            Some(Verdict::Take(others)) => {
                note_taken(key, self.known(key, others));
                true
            }
            Some(Verdict::Refuse(others)) => self.refuse(key, others),
            None => {
                // No thread state (this thread is being torn down): a tick is still counted.
                if run != 0 && shared.is_tick_callsite(metadata) {
                    shared.count_orphan_tick(run);
                }
                false
            }
        }
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        let shared = &self.shared;
        if !metadata.is_span() {
            return Interest::never();
        }
        match probing(shared.id) {
            // Another collector asks what the layers that are not tickprof's want (and notes
            // that this one was asked, and when): tickprof answers `never`, and changes nothing.
            Probing::Itself | Probing::Another => Interest::never(),
            Probing::No => self.interest(shared.callsites.register(metadata, rebuilding())),
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        if self.shared.current_run() == 0 {
            Some(LevelFilter::OFF)
        } else {
            None
        }
    }
}
