//! A counting global allocator: every allocation, reallocation and free of a thread counted on
//! that thread's own counters, so a profiler can read how many allocations (and bytes) a piece of
//! code made on its thread by reading the counters before and after it.
//!
//! This is what [tickprof](https://crates.io/crates/tickprof) reads to report allocations per
//! tick and per component; tickprof re-exports [`CountingAllocator`], so a user of tickprof
//! writes one line and needs no other dependency:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: tickprof_alloc::CountingAllocator = tickprof_alloc::CountingAllocator::system();
//!
//! fn main() {
//!     let before = tickprof_alloc::thread_counts();
//!     let boxed = std::hint::black_box(Box::new([0u8; 24]));
//!     let counts = tickprof_alloc::thread_counts().since(before);
//!     assert_eq!((counts.allocations, counts.bytes), (1, 24));
//!     drop(boxed);
//!     assert_eq!(tickprof_alloc::thread_counts().since(before).frees, 1);
//! }
//! ```
//!
//! # Why a crate of its own
//!
//! [`GlobalAlloc`] is an unsafe trait and forwarding to the wrapped allocator takes `unsafe`
//! calls; tickprof is `#![forbid(unsafe_code)]`, which no module of it can lift. So the
//! allocator lives here, in the one crate of the project that has `unsafe`: four forwarding
//! calls, each with the caller's own arguments, each with its `SAFETY` note
//! (`clippy::undocumented_unsafe_blocks` is denied). Nothing else here is unsafe.
//!
//! # What is counted, and what it costs
//!
//! - **allocations**: `alloc`, `alloc_zeroed` and `realloc` calls that succeeded (a `realloc` is
//!   a call into the allocator as costly as an allocation, whether it grows or shrinks);
//! - **bytes**: the size of each allocation, and what each `realloc` grew by (a shrink adds 0):
//!   bytes asked of the allocator, not bytes live;
//! - **frees**: `dealloc` calls.
//!
//! The counters are per thread (three `Cell<u64>`s in one `const` thread-local): no atomic and
//! no cache line shared between threads on the allocation path, so threads allocating at once
//! do not slow each other down, and a thread's counts move only with its own allocations. The
//! thread-local has no destructor and a constant initializer, so on the targets with native
//! thread-locals (Linux, macOS, Windows) reading it never allocates (no recursion into the
//! allocator), never registers a destructor and works during thread teardown; it is read with
//! `try_with` all the same, so a target where it cannot be read loses counts, never panics.
//! Counters are shared by every `CountingAllocator` of the process (they are the thread's, not
//! the instance's), and wrap at 2⁶⁴ (centuries of allocations).
//!
//! What the counting adds to an allocation, against the plain `System` allocator
//! (`cargo bench -p tickprof-alloc --bench allocator`; figures in `benches/allocator.rs`): ten
//! instructions per allocation and free, under 2 ns (within the noise for small blocks).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// A global allocator that forwards to `A` (the system allocator by default) and counts each
/// allocation, reallocation and free on the calling thread's counters ([`thread_counts`]).
///
/// Install it in the binary (an application, a test or a bench), once:
///
/// ```
/// use tickprof_alloc::CountingAllocator;
///
/// #[global_allocator]
/// static ALLOC: CountingAllocator = CountingAllocator::system();
///
/// fn main() {
///     drop(std::hint::black_box(vec![1u8; 10]));
///     assert!(tickprof_alloc::installed());
/// }
/// ```
///
/// Wrapping another allocator (any `GlobalAlloc` with a `const` constructor):
///
/// ```
/// use std::alloc::System;
/// use tickprof_alloc::CountingAllocator;
///
/// static ALLOC: CountingAllocator<System> = CountingAllocator::new(System);
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator<A = System> {
    inner: A,
}

impl<A> CountingAllocator<A> {
    /// Counts the allocations of `inner`.
    pub const fn new(inner: A) -> Self {
        CountingAllocator { inner }
    }

    /// The wrapped allocator.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

impl CountingAllocator<System> {
    /// Counts the allocations of the system allocator ([`System`]).
    pub const fn system() -> Self {
        CountingAllocator::new(System)
    }
}

/// What a thread allocated through a [`CountingAllocator`]: totals since the thread started,
/// or, with [`since`](Self::since), between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocCounts {
    /// Successful `alloc`, `alloc_zeroed` and `realloc` calls.
    pub allocations: u64,
    /// Bytes asked for: each allocation's size plus each `realloc`'s growth.
    pub bytes: u64,
    /// `dealloc` calls.
    pub frees: u64,
}

impl AllocCounts {
    /// What was counted between `earlier` and `self` (two readings of one thread's counters);
    /// saturating, so readings given in the wrong order (or of two threads) give 0, not a wrap.
    pub fn since(self, earlier: AllocCounts) -> AllocCounts {
        AllocCounts {
            allocations: self.allocations.saturating_sub(earlier.allocations),
            bytes: self.bytes.saturating_sub(earlier.bytes),
            frees: self.frees.saturating_sub(earlier.frees),
        }
    }
}

/// The calling thread's totals: what it allocated and freed through any [`CountingAllocator`]
/// since it started. All zeros when no `CountingAllocator` is installed (see [`installed`]).
///
/// Reading costs a thread-local access and three loads; it never allocates.
#[inline]
pub fn thread_counts() -> AllocCounts {
    COUNTERS
        .try_with(|c| AllocCounts {
            allocations: c.allocations.get(),
            bytes: c.bytes.get(),
            frees: c.frees.get(),
        })
        .unwrap_or_default()
}

/// Whether any allocation of this process went through a [`CountingAllocator`]: `false` means
/// none is installed (or none allocated yet), and every [`thread_counts`] reads zeros.
#[inline]
pub fn installed() -> bool {
    // Relaxed: a flag that only ever goes from false to true and guards no other data; a
    // reader that has not seen another thread's store yet has not seen its counts either.
    INSTALLED.load(Ordering::Relaxed)
}

/// One thread's counters, in one thread-local so that counting is one thread-local access.
struct Counters {
    allocations: Cell<u64>,
    bytes: Cell<u64>,
    frees: Cell<u64>,
}

thread_local! {
    /// `const`-initialized and without `Drop`: no lazy initialization (which could allocate,
    /// and so recurse into the allocator) and no destructor (readable until the thread's end).
    static COUNTERS: Counters = const {
        Counters {
            allocations: Cell::new(0),
            bytes: Cell::new(0),
            frees: Cell::new(0),
        }
    };
}

/// Set by the first allocation of each thread (see [`installed`]).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Counts an allocation of `bytes` on this thread.
#[inline(always)]
fn count_allocation(bytes: usize) {
    let _ = COUNTERS.try_with(|c| {
        let before = c.allocations.get();
        c.allocations.set(before.wrapping_add(1));
        // usize is at most 64 bits on every target Rust supports: lossless.
        c.bytes.set(c.bytes.get().wrapping_add(bytes as u64));
        // Once per thread (its first allocation), not per allocation: the flag's cache line is
        // written a few times in the process's life, and read by no allocation.
        if before == 0 {
            // Relaxed: see `installed`.
            INSTALLED.store(true, Ordering::Relaxed);
        }
    });
}

/// Counts a free on this thread.
#[inline(always)]
fn count_free() {
    let _ = COUNTERS.try_with(|c| c.frees.set(c.frees.get().wrapping_add(1)));
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged and returns
// what `inner` returned, so each of `GlobalAlloc`'s guarantees is `A`'s own. The counting
// around the calls touches only this thread's `Cell`s: it never allocates, never unwinds and
// never reads or writes the memory being allocated or freed.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout` (a non-zero size), which is
        // passed on unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            count_allocation(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`: the caller's `layout`, unchanged.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count_allocation(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` was allocated by this allocator (so by `inner`,
        // which made every block this allocator returned) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        count_free();
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` is a block of `inner`'s (see `dealloc`) with
        // `layout`, and that `new_size` is non-zero and valid for `layout`'s alignment.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count_allocation(new_size.saturating_sub(layout.size()));
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use std::hint::black_box;
    use std::sync::{Arc, Barrier};

    use super::*;

    // This test binary's allocations all go through a counting allocator.
    #[global_allocator]
    static GLOBAL: CountingAllocator = CountingAllocator::system();

    /// The counts of `f` on this thread. Only `f` runs between the two readings: the test
    /// harness allocates on this thread only when a test prints or fails.
    fn counts_of(f: impl FnOnce()) -> AllocCounts {
        let before = thread_counts();
        f();
        thread_counts().since(before)
    }

    fn counts(allocations: u64, bytes: u64, frees: u64) -> AllocCounts {
        AllocCounts {
            allocations,
            bytes,
            frees,
        }
    }

    #[test]
    fn a_box_is_one_allocation_of_its_size_and_one_free() {
        let mut kept = None;
        let made = counts_of(|| kept = Some(black_box(Box::new([7u64; 3]))));
        assert_eq!(made, counts(1, 24, 0));
        let freed = counts_of(|| drop(black_box(kept.take())));
        assert_eq!(freed, counts(0, 0, 1));
        assert!(installed());
    }

    #[test]
    fn zeroed_allocations_count() {
        let made = counts_of(|| drop(black_box(vec![0u8; 100])));
        assert_eq!(made, counts(1, 100, 1));
    }

    /// A `realloc` is an allocation; its bytes are what it grew by, a shrink adds none.
    #[test]
    fn reallocations_count_their_growth() {
        let made = counts_of(|| {
            let mut v: Vec<u8> = Vec::with_capacity(10);
            v.reserve_exact(30); // realloc 10 → 30: 20 bytes more
            v.shrink_to(5); // realloc 30 → 5: none
            black_box(&v);
        });
        assert_eq!(made, counts(3, 10 + 20, 1));
        // Through the trait directly: a grow and a shrink, on this thread's counters (they are
        // the thread's, whatever the instance).
        let direct = CountingAllocator::system();
        let made = counts_of(|| {
            let layout = Layout::from_size_align(64, 8).unwrap();
            // SAFETY: a non-zero layout; each block is freed with the layout it has.
            unsafe {
                let p = direct.alloc(layout);
                assert!(!p.is_null());
                let p = direct.realloc(p, layout, 200);
                assert!(!p.is_null());
                let grown = Layout::from_size_align(200, 8).unwrap();
                let p = direct.realloc(p, grown, 100);
                assert!(!p.is_null());
                direct.dealloc(p, Layout::from_size_align(100, 8).unwrap());
            }
        });
        assert_eq!(made, counts(3, 64 + 136, 1));
    }

    /// Another thread's allocations, made while this thread waits, do not move this thread's
    /// counts; that thread's own counts are exactly what it made.
    #[test]
    fn another_threads_allocations_do_not_show() {
        let (start, done) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let worker = {
            let (start, done) = (Arc::clone(&start), Arc::clone(&done));
            std::thread::spawn(move || {
                start.wait();
                let made = counts_of(|| {
                    let boxes: Vec<Box<u64>> = (0..1_000u64).map(Box::new).collect();
                    black_box(&boxes);
                });
                done.wait();
                made
            })
        };
        // Barrier waits park on a futex: they do not allocate.
        let here = counts_of(|| {
            start.wait();
            done.wait();
        });
        let there = worker.join().unwrap();
        assert_eq!(here, AllocCounts::default());
        // 1,000 boxes of 8 bytes and their vector of 1,000 pointers, then all freed.
        assert_eq!(there, counts(1_001, 8_000 + 8_000, 1_001));
    }

    #[test]
    fn since_saturates() {
        let later = counts(5, 100, 2);
        assert_eq!(later.since(counts(2, 40, 2)), counts(3, 60, 0));
        assert_eq!(counts(2, 40, 2).since(later), AllocCounts::default());
    }
}
