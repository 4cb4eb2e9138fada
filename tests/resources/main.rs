//! The resource sampler (feature `sampler`): CPU against the OS's accounting and over the run's
//! own window, the resident set's peak, the series' bounds and order, sampling inside runtimes,
//! the sample interval's bounds, no thread left after a stop, and a slow tick's scheduler
//! figures. One test binary, one module per behaviour
//! (`cargo test --test resources cpu_agreement:: -- --nocapture` runs one module).
//!
//! Every figure here is the process's (its CPU time, its resident set's high-water mark, its
//! sampler threads), and every test moves them (spinning, allocating, starting a sampler): the
//! tests take turns ([`sampler_support::one_at_a_time`]), so each measures only itself. The
//! test that installs a global subscriber is a test binary of its own
//! (`tests/resource_no_self_tracing.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sampler_support;

mod cpu_agreement;
mod cpu_window;
mod decimation;
mod monotonic;
mod no_thread_after_stop;
mod peak_rss;
mod runtimes;
mod sample_interval_bounds;
mod short_run;
#[cfg(target_os = "linux")]
mod slow_tick_scheduler;
