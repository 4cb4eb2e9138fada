//! Allocations per tick and per component: the counting allocator a user installs, and the
//! per-thread counters the hot path reads where it reads the clock.
//!
//! The allocator itself is in the `tickprof-alloc` crate, re-exported at the crate root as
//! [`CountingAllocator`](crate::CountingAllocator): `GlobalAlloc` is an unsafe trait, and this
//! crate is `#![forbid(unsafe_code)]`. Without it installed every reading is zero, [`installed`] is
//! `false`, and reports carry no allocation figures (`ticks.allocations` and
//! `components.<name>.allocations` are absent), rather than zeros that would pass a gate.
//!
//! The counters are the calling thread's own, so what a span reads between its enter and its
//! exit is what its thread allocated meanwhile: allocations on other threads are never charged
//! to it.

/// What a thread allocated through a [`CountingAllocator`](crate::CountingAllocator): totals
/// since the thread started, or, with [`since`](Self::since), between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AllocCounts {
    /// Successful `alloc`, `alloc_zeroed` and `realloc` calls.
    pub(crate) allocations: u64,
    /// Bytes asked for: each allocation's size plus each `realloc`'s growth.
    pub(crate) bytes: u64,
    /// `dealloc` calls.
    pub(crate) frees: u64,
}

impl AllocCounts {
    /// What was counted between `earlier` and `self` (two readings of one thread's counters);
    /// saturating, so readings in the wrong order give 0, not a wrap.
    pub(crate) fn since(self, earlier: AllocCounts) -> AllocCounts {
        AllocCounts {
            allocations: self.allocations.saturating_sub(earlier.allocations),
            bytes: self.bytes.saturating_sub(earlier.bytes),
            frees: self.frees.saturating_sub(earlier.frees),
        }
    }

    /// Both added (saturating).
    pub(crate) fn plus(self, other: AllocCounts) -> AllocCounts {
        AllocCounts {
            allocations: self.allocations.saturating_add(other.allocations),
            bytes: self.bytes.saturating_add(other.bytes),
            frees: self.frees.saturating_add(other.frees),
        }
    }
}

/// The calling thread's totals (all zeros without a
/// [`CountingAllocator`](crate::CountingAllocator) installed). A
/// thread-local access and three loads: it never allocates, never panics, and works during
/// thread teardown.
#[inline]
pub(crate) fn thread_counts() -> AllocCounts {
    let c = tickprof_alloc::thread_counts();
    AllocCounts {
        allocations: c.allocations,
        bytes: c.bytes,
        frees: c.frees,
    }
}

/// Whether any allocation of this process went through a
/// [`CountingAllocator`](crate::CountingAllocator): without one,
/// a run measures no allocation and its report says nothing about them.
#[inline]
pub(crate) fn installed() -> bool {
    tickprof_alloc::installed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library's unit tests run without a counting allocator: nothing is counted, and it
    /// says so. (With one installed, `tests/allocations/` and `tickprof-alloc`'s own tests.)
    #[test]
    fn without_the_allocator_nothing_is_counted() {
        let before = thread_counts();
        drop(std::hint::black_box(vec![1u64; 100]));
        assert_eq!(thread_counts(), before);
        assert_eq!(before, AllocCounts::default());
        assert!(!installed());
    }

    #[test]
    fn since_subtracts_and_saturates() {
        let at = |allocations, bytes, frees| AllocCounts {
            allocations,
            bytes,
            frees,
        };
        assert_eq!(at(5, 100, 2).since(at(2, 40, 1)), at(3, 60, 1));
        assert_eq!(at(2, 40, 1).since(at(5, 100, 2)), AllocCounts::default());
    }
}
