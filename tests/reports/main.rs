//! Reports as files and formats: the JSON round trip, loading (validation, hostile blobs, a
//! fuzz of mutated reports), every schema's reports, concurrent saves, the Chrome trace, and
//! the crate's public API listing. One test binary, one module per behaviour
//! (`cargo test --test reports load_fuzz::` runs one module).
//!
//! The one test that measures the process (`histogram_blob_bounds`' peak resident set) runs
//! itself in a child process of its own ([`common::process::alone`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod chrome_trace;
#[cfg(feature = "plot")]
mod concurrent_save_load;
mod histogram_blob_bounds;
mod json;
#[cfg(feature = "cli")]
mod load_fuzz;
#[cfg(feature = "cli")]
mod load_validation;
mod public_api;
#[cfg(feature = "cli")]
mod schema;
mod schema_fixtures;
