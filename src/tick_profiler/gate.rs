//! `TickGate`: the per-layer filter in front of the recorder. It decides which spans exist for
//! tickprof, so that tickprof pays only for what it records:
//! - idle (no run): interest `never` for every callsite and a level hint of `OFF`, so a span
//!   only tickprof could want is never created and costs the `span!` macro's level check (if
//!   another dispatcher of the process makes the callsite `sometimes`, the span is refused
//!   for the whole subscriber at its filter decision, unless another layer wants it);
//! - profiling: interest `sometimes` for tick callsites (each tick is counted and sampled at
//!   its filter decision) and, while a recording window is open, for every span callsite;
//!   `never` for events (tickprof records none);
//! - per span: a tick the sampler does not time, and any span evaluated while no tick of this
//!   collector is alive, is refused; when no other layer is interested in its callsite, the
//!   recorder's global `enabled` disables it for the whole subscriber (see `callsites`).

use std::sync::Arc;

use tracing_core::subscriber::Interest;
use tracing_core::{LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

use super::callsites::{Others, Role, key, others_from, probe, probing};
use super::shared::Shared;
use super::span_state::TickMode;
use super::thread_state::{PendingTick, set_refuse, with_thread, with_thread_state};
use super::window::switching;

/// The filter half of [`TickProfiler`](crate::TickProfiler): which spans tickprof records.
#[derive(Debug, Clone)]
pub struct TickGate {
    shared: Arc<Shared>,
}

impl TickGate {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        TickGate { shared }
    }

    /// Whether this gate belongs to the collector whose state is `shared`.
    pub(crate) fn is_of(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }

    /// A tick callsite's filter decision: counts the tick, decides what to measure of it.
    /// `others`: whether other layers want the callsite (`None`: look it up).
    fn tick(&self, run: u64, key: usize, others: Option<Others>) -> bool {
        let shared = &self.shared;
        let decided = with_thread_state(shared, run, |thread| {
            let ordinal = thread.count_tick();
            let mode = thread.sampler.decide(shared);
            if mode == TickMode::Untimed {
                let others =
                    others.or_else(|| thread.callsite(shared, key).map(|info| info.others));
                return Err(others);
            }
            thread.pending_tick = Some(PendingTick {
                callsite: key,
                mode,
                epoch: shared.window.epoch(),
                ordinal,
            });
            Ok(())
        });
        match decided {
            Some(Ok(())) => {
                set_refuse(false);
                true
            }
            Some(Err(others)) => self.refuse(others),
            None => false,
        }
    }

    /// The calibration tick is recorded only while calibrating.
    fn calibration_tick(&self, run: u64, key: usize) -> bool {
        let shared = &self.shared;
        if !shared.budget.calibrating() {
            return false;
        }
        with_thread_state(shared, run, |thread| {
            thread.pending_tick = Some(PendingTick {
                callsite: key,
                mode: TickMode::Recorded,
                epoch: shared.window.epoch(),
                ordinal: 0,
            });
        });
        set_refuse(false);
        true
    }

    /// A span tickprof does not record: disabled for the whole subscriber when no other layer
    /// is interested in its callsite (the filter returns `true` so that the recorder's global
    /// `enabled` is asked, and it says no), else only for tickprof.
    fn refuse(&self, others: Option<Others>) -> bool {
        if others == Some(Others::Never) {
            set_refuse(true);
            true
        } else {
            false
        }
    }

    /// Whether component callsites should be evaluated at all now.
    fn wants_components(&self) -> bool {
        let shared = &self.shared;
        shared.budget.is_full() || shared.window.wants_components()
    }
}

impl<S> Filter<S> for TickGate {
    fn enabled(&self, metadata: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        let shared = &self.shared;
        if !metadata.is_span() {
            return false;
        }
        let key = key(metadata);
        let run = shared.current_run();
        if run == 0 {
            // Idle: evaluated only because another dispatcher is interested in the callsite.
            let others = with_thread(shared, |thread| thread.callsite(shared, key)).flatten();
            return self.refuse(others.map(|info| info.others));
        }
        if let Some(others) = shared.callsites.tick(key) {
            return self.tick(run, key, Some(others));
        }
        if shared.callsites.is_calibration_tick(key) {
            return self.calibration_tick(run, key);
        }
        let in_tick = shared.live_ticks.load(std::sync::atomic::Ordering::Relaxed) > 0;
        if in_tick && !shared.callsites.has_unslotted_ticks() {
            set_refuse(false);
            return true;
        }
        let info = with_thread_state(shared, run, |thread| thread.callsite(shared, key)).flatten();
        match info.map(|info| info.role) {
            // More tick callsites than the fast check holds: a tick still gets its decision
            // (its count, sampling and ordinal) while another tick is alive.
            Some(Role::Tick) => self.tick(run, key, None),
            _ if in_tick => {
                set_refuse(false);
                true
            }
            _ => self.refuse(info.map(|info| info.others)),
        }
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        let shared = &self.shared;
        if probing() || !metadata.is_span() {
            return Interest::never();
        }
        let info = shared.callsites.entry(metadata);
        let ours = match info.role {
            _ if shared.current_run() == 0 => Interest::never(),
            Role::Tick => Interest::sometimes(),
            Role::CalibrationTick | Role::CalibrationSpan(_) if shared.budget.calibrating() => {
                Interest::sometimes()
            }
            Role::CalibrationTick | Role::CalibrationSpan(_) => Interest::never(),
            Role::Named(_) if self.wants_components() => Interest::sometimes(),
            Role::Named(_) => Interest::never(),
        };
        // tickprof's own window switches keep what was probed; any other registration (a new
        // callsite, a new dispatcher, a reloaded filter) asks the other layers again.
        if switching() && info.others != Others::Unknown {
            return ours;
        }
        let Some(dispatch) = shared.dispatch() else {
            return ours;
        };
        let others = probe(&dispatch, metadata);
        shared
            .callsites
            .set_others(key(metadata), others_from(&others));
        // Inside a registration pass, the probe consumed the interest that layers above
        // tickprof had added so far (it ran a whole pass of its own). Returning our interest
        // combined with the probe's puts their part back: the combination is idempotent, and
        // the probe's result already contains every other layer's interest.
        combine(&ours, &others)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        if self.shared.current_run() == 0 {
            Some(LevelFilter::OFF)
        } else {
            None
        }
    }
}

/// The sum of two interests, as the `Registry` sums per-layer filters' interests.
fn combine(a: &Interest, b: &Interest) -> Interest {
    if (a.is_never() && b.is_never()) || (a.is_always() && b.is_always()) {
        a.clone()
    } else {
        Interest::sometimes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_is_the_registry_sum() {
        let (n, s, a) = (Interest::never, Interest::sometimes, Interest::always);
        assert!(combine(&n(), &n()).is_never());
        assert!(combine(&a(), &a()).is_always());
        for (x, y) in [(n(), a()), (a(), n()), (s(), n()), (a(), s()), (s(), s())] {
            assert!(combine(&x, &y).is_sometimes());
        }
    }
}
