//! The atomics of the lock-free parts (`park_slot`, `record_ring`): the standard library's, or
//! loom's when the crate's tests are built with `--cfg loom`, so that loom can check every
//! interleaving of them (`RUSTFLAGS="--cfg loom" cargo test --release --lib loom`).

#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
