//! Locking that never turns into a panic in the user's program.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, ignoring poisoning: tickprof code never panics while holding a lock, and a
/// poisoned lock (a panic elsewhere while it was held) must not become a panic in user code.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
