//! The untimed tick's shortcut: what the filter decision of most ticks needs, in a few
//! thread-local `Cell`s, without looking up the thread's state (a `RefCell` borrow and a
//! search by collector).
//!
//! A whole decision that finds the sampler certain that the next ticks are untimed arms it,
//! for one collector, run, tick callsite and callsite-table generation, lending it the
//! sampler's countdown. While armed, a tick of that callsite is counted (on the home's
//! counter, which readers see at once) and refused here. The thread's state takes back what
//! is left of the countdown at its next whole decision; what was used is the difference.

use std::cell::Cell;

use super::sync::AtomicU64;

/// What a shortcut is armed for: a tick decided by it must match all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArmedFor {
    pub(crate) collector: u64,
    pub(crate) run: u64,
    /// The tick callsite.
    pub(crate) key: usize,
    /// The callsite table's generation (what other layers want of the callsite).
    pub(crate) generation: u64,
}

impl ArmedFor {
    /// No collector's (collector ids start at 1).
    const NOTHING: ArmedFor = ArmedFor {
        collector: 0,
        run: 0,
        key: 0,
        generation: 0,
    };
}

struct Shortcut {
    armed_for: Cell<ArmedFor>,
    /// Ticks it may still decide.
    quiet: Cell<u64>,
    /// Whether the collector's filter decides alone whether its refused ticks exist (see
    /// `Others::may_veto`).
    may_veto: Cell<bool>,
    /// The tick counter of the thread's home (see `Home::tick_counter`).
    ticks: Cell<Option<&'static AtomicU64>>,
}

thread_local! {
    static SHORTCUT: Shortcut = const {
        Shortcut {
            armed_for: Cell::new(ArmedFor::NOTHING),
            quiet: Cell::new(0),
            may_veto: Cell::new(false),
            ticks: Cell::new(None),
        }
    };
}

/// Decides a tick by the shortcut alone, if it is armed for `tick` and no window is open or
/// switching (where a tick may claim a place): counted; `Some(no other layer wants it)`.
/// `None`: take the whole decision.
#[inline]
pub(crate) fn decide(tick: ArmedFor, window_busy: bool) -> Option<bool> {
    SHORTCUT
        .try_with(|shortcut| {
            let quiet = shortcut.quiet.get();
            if quiet == 0 || window_busy || shortcut.armed_for.get() != tick {
                return None;
            }
            super::home::count(shortcut.ticks.get()?);
            shortcut.quiet.set(quiet - 1);
            Some(shortcut.may_veto.get())
        })
        .ok()
        .flatten()
}

/// Arms the shortcut with a countdown of `quiet` ticks; `false` (and nothing changes) while
/// another collector's is armed on this thread: one at a time, the other's next whole decision
/// takes it back.
pub(crate) fn arm(
    armed_for: ArmedFor,
    quiet: u64,
    may_veto: bool,
    ticks: &'static AtomicU64,
) -> bool {
    SHORTCUT
        .try_with(|shortcut| {
            let current = shortcut.armed_for.get().collector;
            if current != 0 && current != armed_for.collector {
                return false;
            }
            shortcut.armed_for.set(armed_for);
            shortcut.quiet.set(quiet);
            shortcut.may_veto.set(may_veto);
            shortcut.ticks.set(Some(ticks));
            true
        })
        .unwrap_or(false)
}

/// Disarms `collector`'s shortcut: the run it was armed for and what is left of its
/// countdown; `None` if it was not armed for `collector`.
pub(crate) fn take(collector: u64) -> Option<(u64, u64)> {
    SHORTCUT
        .try_with(|shortcut| {
            let armed_for = shortcut.armed_for.get();
            if armed_for.collector != collector {
                return None;
            }
            shortcut.armed_for.set(ArmedFor::NOTHING);
            shortcut.ticks.set(None);
            Some((armed_for.run, shortcut.quiet.replace(0)))
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
