//! The graphs (feature `plot`), drawn from reports alone: valid PNGs of the documented size,
//! written atomically, finite axis ranges whatever a report holds, and the slow ticks'
//! timelines. One test binary, one module per behaviour
//! (`cargo test --test graphs slow_ticks::` runs one module).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod extreme_values;
mod from_reports;
mod slow_ticks;
