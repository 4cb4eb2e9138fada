//! The synchronisation primitives of the per-thread [`Home`](super::home::Home): the standard
//! library's, or loom's when the crate's tests are built with `--cfg loom`, so that loom can
//! check every interleaving of the handoff of a span between threads and of a harvest
//! (`RUSTFLAGS="--cfg loom" cargo test --release --lib loom`).

#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(all(loom, test))]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning (see [`crate::lock::lock`]).
#[cfg(not(all(loom, test)))]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    crate::lock::lock(mutex)
}

/// Locks `mutex` (loom's mutex does not poison).
#[cfg(all(loom, test))]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
