//! A run that goes on: snapshots and intervals, crash-safe checkpoints, the HdrHistogram
//! interval log (and logs from untrusted hands), and attacks on the live engines (restarts
//! during a stop, shared paths, handles dropped mid-run, full disks). One test binary, one
//! module per behaviour (`cargo test --test live checkpoints:: -- --nocapture` runs one module).
//!
//! The test that counts the process's writer threads (`attacks`) and the run that aborts
//! (`checkpoints`) run in child processes of their own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod attacks;
mod checkpoints;
mod interval_log;
mod interval_log_hostile;
mod snapshots;
