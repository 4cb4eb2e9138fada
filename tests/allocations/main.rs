//! Allocations per tick and per component (issue 24): loops whose allocations are known exactly
//! (`known_loops`), and attacks on the figures and on the slow ticks' culprit path (`attacks`).
//! One test binary, one module per behaviour (`cargo test --test allocations attacks::`).
//!
//! This binary's allocator is tickprof's `CountingAllocator`, and no other test binary has it:
//! a global allocator is the whole process's (and `tests/hot_path/allocations_not_counted.rs`
//! needs a process without one). The counts are per thread, so these tests share the process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[global_allocator]
static ALLOC: tickprof::CountingAllocator = tickprof::CountingAllocator::system();

#[path = "../common/mod.rs"]
mod common;

mod attacks;
mod known_loops;
