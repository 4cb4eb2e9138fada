//! The recording window: while it is open, component callsites have interest `sometimes` and
//! every tick that starts is recorded with its spans; while it is closed, component callsites
//! have interest `never` and cost the loop nothing (one relaxed load in the `span!` macro).
//!
//! Opening and closing rebuild tracing's callsite interest cache (process-wide, ~15 ns per
//! registered callsite per dispatcher), so windows are bursts of consecutive ticks whose length
//! keeps the two rebuilds a small part of the window's cost. A window is opened when the tick
//! chosen to open it is first entered (before any of its children exists) and closed when the
//! last tick it recorded closes, so on a single-threaded loop no tick straddles a switch; with
//! more threads, a tick that did is left out of the latency histograms and counted.
//!
//! Why not at the tick's filter decision: that runs inside a registration or filter pass of
//! the subscriber, and a rebuild there would nest another pass in it. (Rebuilds ask every
//! registered dispatcher, whatever the calling thread's default: a run keeps a second one
//! registered, see `metrics_collector`.)

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::shared::lock;

thread_local! {
    /// Set while this thread rebuilds the interest cache for a window switch: callsites
    /// tickprof has probed are not probed again (other layers did not change their minds).
    static SWITCHING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside tickprof's own interest rebuild.
pub(crate) fn switching() -> bool {
    SWITCHING.try_with(Cell::get).unwrap_or(false)
}

/// Rebuilds tracing's interest cache, marked as tickprof's own rebuild.
pub(crate) fn rebuild_interest() {
    let _ = SWITCHING.try_with(|s| s.set(true));
    tracing_core::callsite::rebuild_interest_cache();
    let _ = SWITCHING.try_with(|s| s.set(false));
}

#[derive(Debug, Default)]
pub(crate) struct Window {
    /// Odd while open; bumped at every switch (ticks remember it to detect a switch during
    /// them).
    epoch: AtomicU64,
    /// Ticks started in the current window.
    started: AtomicU64,
    /// Ticks the current window records.
    length: AtomicU64,
    /// Windows opened in this run.
    opened: AtomicU64,
    /// Whether component callsites should have interest `sometimes`: set before the rebuild
    /// that opens a window (so no tick is recorded before its children can be) and cleared
    /// after the epoch closes it.
    interest: AtomicBool,
    /// One switch at a time, so two rebuilds never interleave.
    switch: Mutex<()>,
}

impl Window {
    /// The current epoch (odd: open).
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        self.epoch() % 2 == 1
    }

    /// Whether component callsites are wanted (read when interest is rebuilt).
    pub(crate) fn wants_components(&self) -> bool {
        self.interest.load(Ordering::Acquire)
    }

    /// Windows opened in this run.
    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Whether the open window has given out all its places (its last tick closes it).
    pub(crate) fn is_full(&self) -> bool {
        self.is_open()
            && self.started.load(Ordering::Relaxed) >= self.length.load(Ordering::Relaxed)
    }

    /// Claims a place for one tick in the open window; `false` when the window is full.
    #[inline]
    pub(crate) fn claim(&self) -> bool {
        self.started.fetch_add(1, Ordering::Relaxed) < self.length.load(Ordering::Relaxed)
    }

    /// Opens a window of `length` ticks (the caller's tick is its first), rebuilding the
    /// interest cache; `false` if another thread is switching or it is already open.
    pub(crate) fn open(&self, length: u64) -> bool {
        let Ok(_switch) = self.switch.try_lock() else {
            return false;
        };
        if self.is_open() {
            return false;
        }
        self.interest.store(true, Ordering::Release);
        rebuild_interest();
        self.started.store(0, Ordering::Relaxed);
        self.length.store(length, Ordering::Relaxed);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.opened.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Closes the window, rebuilding the interest cache; `false` if another thread is
    /// switching or it is already closed.
    pub(crate) fn close(&self) -> bool {
        let Ok(_switch) = self.switch.try_lock() else {
            return false;
        };
        if !self.is_open() {
            return false;
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.interest.store(false, Ordering::Release);
        rebuild_interest();
        true
    }

    /// Closes the window without rebuilding (a run begins or ends; the caller rebuilds).
    pub(crate) fn reset(&self) {
        let _switch = lock(&self.switch);
        if self.is_open() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
        self.interest.store(false, Ordering::Release);
        self.opened.store(0, Ordering::Relaxed);
        self.started.store(0, Ordering::Relaxed);
    }
}
