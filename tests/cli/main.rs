//! The `tickprof` command line (feature `cli`): `check`, `compare`, `merge`, `plot`,
//! `summary`, `trace`, and the paths it refuses to read. Each test runs the built binary in a
//! directory of its own. One test binary, one module per command
//! (`cargo test --test cli check::` runs one module).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod check;
mod compare;
mod merge;
#[cfg(unix)]
mod non_regular_files;
mod plot;
mod summary;
mod trace;
