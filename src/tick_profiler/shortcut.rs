//! The untimed tick's shortcut: what the filter decision of most ticks needs, in a few
//! thread-local `Cell`s, without looking up the thread's state (a `RefCell` borrow and a
//! search by collector).
//!
//! A whole decision that finds the sampler certain that the next ticks are untimed arms it,
//! for one collector, tick callsite and decision generation, lending it the sampler's
//! countdown. The generation moves whenever a run or a recording window begins or ends, or a
//! callsite's entry changes (see `callsites::Generation`): while it has not, a tick of that
//! callsite is counted (on the home's counter, which readers see at once) and refused here.
//! The thread's state takes back what is left of the countdown at its next whole decision;
//! what was used is the difference.

use std::cell::Cell;

use super::callsites::Veto;
use super::sync::AtomicU64;

/// What a shortcut is armed for: a tick decided by it must match all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArmedFor {
    pub(crate) collector: u64,
    /// The tick callsite.
    pub(crate) key: usize,
    /// The collector's decision generation.
    pub(crate) generation: u64,
}

impl ArmedFor {
    /// No collector's (collector ids start at 1).
    const NOTHING: ArmedFor = ArmedFor {
        collector: 0,
        key: 0,
        generation: 0,
    };
}

struct Shortcut {
    armed_for: Cell<ArmedFor>,
    /// Ticks it may still decide.
    quiet: Cell<u64>,
    /// What the collector's filter does with the ticks it refuses (see `Others::veto`).
    veto: Cell<Veto>,
    /// The tick counter of the thread's home (see `Home::tick_counter`).
    ticks: Cell<Option<&'static AtomicU64>>,
    /// The run it was armed in (for the take-back only: the generation moves with runs).
    run: Cell<u64>,
}

thread_local! {
    static SHORTCUT: Shortcut = const {
        Shortcut {
            armed_for: Cell::new(ArmedFor::NOTHING),
            quiet: Cell::new(0),
            veto: Cell::new(Veto::Never),
            ticks: Cell::new(None),
            run: Cell::new(0),
        }
    };
}

/// Decides a tick by the shortcut alone, if it is armed for `tick`: counted; what to do with
/// it (it is refused). `None`: take the whole decision.
#[inline]
pub(crate) fn decide(tick: ArmedFor) -> Option<Veto> {
    SHORTCUT
        .try_with(|shortcut| {
            let quiet = shortcut.quiet.get();
            if quiet == 0 || shortcut.armed_for.get() != tick {
                return None;
            }
            super::home::count(shortcut.ticks.get()?);
            shortcut.quiet.set(quiet - 1);
            Some(shortcut.veto.get())
        })
        .ok()
        .flatten()
}

/// Arms the shortcut in `run` with a countdown of `quiet` ticks; `false` (and nothing
/// changes) while another collector's is armed on this thread: one at a time, the other's
/// next whole decision takes it back.
pub(crate) fn arm(
    armed_for: ArmedFor,
    run: u64,
    quiet: u64,
    veto: Veto,
    ticks: &'static AtomicU64,
) -> bool {
    SHORTCUT
        .try_with(|shortcut| {
            let current = shortcut.armed_for.get().collector;
            if current != 0 && current != armed_for.collector {
                return false;
            }
            shortcut.armed_for.set(armed_for);
            shortcut.run.set(run);
            shortcut.quiet.set(quiet);
            shortcut.veto.set(veto);
            shortcut.ticks.set(Some(ticks));
            true
        })
        .unwrap_or(false)
}

/// Disarms `collector`'s shortcut: the run it was armed in and what is left of its
/// countdown; `None` if it was not armed for `collector`.
pub(crate) fn take(collector: u64) -> Option<(u64, u64)> {
    SHORTCUT
        .try_with(|shortcut| {
            if shortcut.armed_for.get().collector != collector {
                return None;
            }
            shortcut.armed_for.set(ArmedFor::NOTHING);
            shortcut.ticks.set(None);
            Some((shortcut.run.get(), shortcut.quiet.replace(0)))
        })
        .ok()
        .flatten()
}

/// Disarms the shortcut if it is armed for a collector that `alive` says was dropped.
pub(crate) fn forget_dropped(alive: impl Fn(u64) -> bool) {
    let _ = SHORTCUT.try_with(|shortcut| {
        let collector = shortcut.armed_for.get().collector;
        if collector != 0 && !alive(collector) {
            shortcut.armed_for.set(ArmedFor::NOTHING);
            shortcut.quiet.set(0);
            shortcut.ticks.set(None);
        }
    });
}
