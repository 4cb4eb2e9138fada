//! The recording window: while it is open, component callsites have interest `sometimes` and the
//! ticks that claim its places are recorded with every span inside them; while it is closed,
//! component callsites have interest `never` and cost the loop nothing (one relaxed load in
//! the `span!` macro).
//!
//! Opening and closing rebuild tracing's callsite interest cache (process-wide, ~15 ns per
//! registered callsite per dispatcher), so windows are bursts of consecutive ticks whose length
//! keeps the two rebuilds a small part of the window's cost. A window opens when the tick
//! chosen to open it is first entered (before any child of it exists; a rebuild cannot run
//! inside the filter decision, which is part of a filter pass) and closes when the last tick
//! it recorded closes: no recorded tick ever straddles a switch.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::callsites::Generation;
use super::sampler::WindowGate;
use super::subscriber_internals::rebuild_interest;
use crate::lock::lock;

/// How long a full window may wait for its last recorded ticks before it is closed anyway (a
/// recorded tick span that never closes must not keep recording on): far longer than any tick
/// a window records, preempted or not.
const MAX_FULL_WAIT: Duration = Duration::from_secs(1);

/// The first recorded ticks of a window on each thread run cold: the interest rebuild that
/// opened it evicted the caches the loop ran warm in, and their time is mostly the
/// instrumentation's misses (unattributed 0.5–2 µs on a 0.3 µs tick, the 1M driver run). They
/// are recorded, but not listed among the slowest ticks, which they would lead, unless they
/// take longer than [`COLD_ALLOWANCE_NS`].
pub(crate) const COLD_TICKS: u64 = 4;

/// A cold tick this slow is listed all the same: five times the most the cold caches were seen
/// to cost, so a real stall in a window's first ticks is never hidden.
pub(crate) const COLD_ALLOWANCE_NS: u64 = 10_000;

/// Identifies one window of one run: a recorded tick carries the window it belongs to, so that
/// its close counts for that window only (0: none).
pub(crate) type WindowId = u64;

#[derive(Debug)]
pub(crate) struct Window {
    /// Whether a window is open or switching: what a tick's whole decision checks first.
    busy: AtomicBool,
    /// Bumped whenever `busy` changes: the untimed tick's shortcut, armed for one generation,
    /// then takes the whole decision (see `Generation`).
    generation: Generation,
    /// Whether component callsites should have interest `sometimes` (read in rebuilds): set
    /// before the rebuild that opens a window, cleared before the one that closes it.
    interest: AtomicBool,
    /// Windows opened in this run.
    opened: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The last window opened (or the reset that ended a run): every open and every reset
    /// makes a new one, so what a tick or an opening holds from before is recognised as stale.
    id: WindowId,
    open: bool,
    /// A rebuild is in progress (one at a time).
    switching: bool,
    /// Places given out, and the window's length.
    started: u64,
    length: u64,
    /// Recorded ticks of the window that have not closed.
    in_flight: u64,
    /// When its last place was given out.
    full_since: Option<Instant>,
}

/// What a recorded tick's close means for its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TickDone {
    /// Other ticks of the window are in flight, or places are left.
    InFlight,
    /// It was the last of a full window: the caller [`close`](Window::close)s it.
    Last,
    /// Its window closed before it did (it waited past [`MAX_FULL_WAIT`], or its run ended):
    /// the spans it held after that were not recorded.
    Outlived,
}

impl WindowGate for Window {
    fn claim(&self) -> Option<WindowId> {
        let mut state = lock(&self.state);
        if state.open && !state.switching && state.started < state.length {
            state.started += 1;
            state.in_flight += 1;
            if state.started == state.length {
                state.full_since = Some(Instant::now());
            }
            Some(state.id)
        } else {
            None
        }
    }

    #[inline]
    fn busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed)
    }
}

impl Window {
    pub(crate) fn new(generation: Generation) -> Self {
        Window {
            busy: AtomicBool::new(false),
            generation,
            interest: AtomicBool::new(false),
            opened: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }
    }

    /// Whether component callsites are wanted (read when interest is rebuilt).
    pub(crate) fn wants_components(&self) -> bool {
        self.interest.load(Ordering::Acquire)
    }

    /// Windows opened in this run.
    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Opens a window of `length` ticks whose first tick is the caller's, rebuilding the
    /// interest cache; `None` if one is open or switching (the caller may then claim a place),
    /// or if the run ended meanwhile (a reset during the rebuild wins: nothing is opened).
    pub(crate) fn open(&self, length: u64) -> Option<WindowId> {
        let before = {
            let mut state = lock(&self.state);
            if state.open || state.switching {
                return None;
            }
            state.switching = true;
            self.busy.store(true, Ordering::Relaxed);
            self.interest.store(true, Ordering::Release);
            self.generation.bump();
            state.id
        };
        rebuild_interest();
        let mut state = lock(&self.state);
        if state.id != before {
            // Reset meanwhile: the reset's rebuild (or the next window's) sets the interest.
            return None;
        }
        let id = before + 1;
        *state = State {
            id,
            open: true,
            switching: false,
            started: 1,
            length: length.max(1),
            in_flight: 1,
            full_since: (length <= 1).then(Instant::now),
        };
        self.opened.fetch_add(1, Ordering::Relaxed);
        Some(id)
    }

    /// A recorded tick of window `id` closed, or a place it claimed went unused.
    pub(crate) fn tick_done(&self, id: WindowId) -> TickDone {
        let mut state = lock(&self.state);
        if state.id != id || !state.open {
            return TickDone::Outlived;
        }
        state.in_flight = state.in_flight.saturating_sub(1);
        let last = state.in_flight == 0;
        if Self::take_close(&mut state, last) {
            TickDone::Last
        } else {
            TickDone::InFlight
        }
    }

    /// A place claimed in window `id` that no tick took (its span was never created): given
    /// back, without closing the window (that needs a rebuild, which cannot run in a filter
    /// decision; a later [`stall_check`](Self::stall_check) closes it).
    pub(crate) fn give_back(&self, id: WindowId) {
        let mut state = lock(&self.state);
        if state.id == id && state.open {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }

    /// Called as ticks close: `true` if a full window has no tick left in flight, or has
    /// waited too long for its last ones (a recorded tick span that never closes must not keep
    /// the window open); the caller then closes it.
    pub(crate) fn stall_check(&self) -> bool {
        if !self.busy() {
            return false;
        }
        let mut state = lock(&self.state);
        let overdue = state
            .full_since
            .is_some_and(|since| since.elapsed() > MAX_FULL_WAIT);
        let ready = state.in_flight == 0 || overdue;
        Self::take_close(&mut state, ready)
    }

    /// Marks a full window as closing when `ready`; whether it was.
    fn take_close(state: &mut State, ready: bool) -> bool {
        if ready && state.open && !state.switching && state.started >= state.length {
            state.open = false;
            state.switching = true;
            true
        } else {
            false
        }
    }

    /// Closes the window [`tick_done`](Self::tick_done) or
    /// [`stall_check`](Self::stall_check) marked, rebuilding the interest cache.
    pub(crate) fn close(&self) {
        let id = {
            let state = lock(&self.state);
            self.interest.store(false, Ordering::Release);
            state.id
        };
        rebuild_interest();
        let mut state = lock(&self.state);
        if state.id == id {
            state.switching = false;
            self.busy.store(false, Ordering::Relaxed);
            self.generation.bump();
        }
    }

    /// Ends the window without rebuilding (a run begins or ends; the caller rebuilds).
    pub(crate) fn reset(&self) {
        let mut state = lock(&self.state);
        *state = State {
            id: state.id + 1,
            ..State::default()
        };
        self.interest.store(false, Ordering::Release);
        self.busy.store(false, Ordering::Relaxed);
        self.opened.store(0, Ordering::Relaxed);
        self.generation.bump();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_window_closes_when_its_last_recorded_tick_closes() {
        let window = Window::new(Generation::default());
        assert_eq!(window.claim(), None);
        let id = window.open(3).unwrap();
        assert_eq!(window.open(3), None);
        assert_eq!((window.claim(), window.claim()), (Some(id), Some(id)));
        assert_eq!(window.claim(), None, "3 places: the opener's and two");
        assert_eq!(window.tick_done(id), TickDone::InFlight);
        assert_eq!(window.tick_done(id), TickDone::InFlight);
        assert_eq!(
            window.tick_done(id),
            TickDone::Last,
            "the last of a full window"
        );
        window.close();
        assert!(!window.busy());
        assert_eq!(window.opened(), 1);
        // The next window is another: a tick of the first one closing now outlived it.
        let next = window.open(2).unwrap();
        assert_ne!(next, id);
        assert_eq!(window.tick_done(id), TickDone::Outlived);
        assert_eq!(window.claim(), Some(next));
    }

    #[test]
    fn a_full_window_whose_ticks_never_close_is_closed_anyway() {
        let window = Window::new(Generation::default());
        let id = window.open(1).unwrap();
        assert!(!window.stall_check(), "its tick is in flight");
        lock(&window.state).full_since = Instant::now().checked_sub(2 * MAX_FULL_WAIT);
        assert!(window.stall_check(), "overdue");
        window.close();
        assert!(!window.busy());
        assert_eq!(
            window.tick_done(id),
            TickDone::Outlived,
            "closed before its tick"
        );
        // A place given back does not keep a full window open.
        let id = window.open(2).unwrap();
        assert_eq!(window.claim(), Some(id));
        window.give_back(id);
        assert_eq!(window.tick_done(id), TickDone::Last);
    }

    #[test]
    fn a_run_ending_ends_its_window() {
        let window = Window::new(Generation::default());
        let id = window.open(4).unwrap();
        window.reset();
        assert!(!window.busy() && !window.wants_components());
        assert_eq!(window.tick_done(id), TickDone::Outlived);
        let next = window.open(2).unwrap();
        assert_ne!(next, id);
        assert_eq!(window.claim(), Some(next));
    }
}
