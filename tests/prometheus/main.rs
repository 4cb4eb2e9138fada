//! The Prometheus exporter (feature `prometheus`): what a scrape answers over HTTP, an exporter
//! out of file descriptors (in a child process under `ulimit -n`), and a real Prometheus
//! server's queries against the run's report. One test binary, one module per behaviour:
//! `.ci/run` runs `cargo test --features prometheus --test prometheus`, and `server::` again in
//! a release build. The shutdown test counts the process's exporter threads, so it is a test
//! binary of its own (`tests/prometheus_shutdown.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod exporter;
#[cfg(target_os = "linux")]
mod out_of_fds;
mod server;
