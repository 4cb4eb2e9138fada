//! The layer on the hot path: what it counts, times and records of spans, ticks and components
//! (span orders, threads, sampling, warm-up, slow ticks and their fields), under every
//! subscriber setup a test can build with scoped dispatchers. One test binary, one module per
//! behaviour (`cargo test --test hot_path sampling::` runs one module).
//!
//! Tests here share the process: each installs its subscriber with a scoped dispatcher. A test
//! whose subject another test's collector could hide (a collector with full sampling wants
//! every callsite) or that measures the process itself (its resident set) runs in a child
//! process of its own ([`common::process::alone`]). This binary installs no global allocator
//! (`allocations_not_counted` depends on it) and no global subscriber; the tests that need
//! either are test binaries of their own (`tests/allocations/`,
//! `tests/global_subscriber_spans.rs`, `tests/calibration.rs`), and so are those that need
//! tracing-core's dispatcher list to themselves (`tests/one_scoped_dispatcher.rs`,
//! `tests/lost_ticks.rs`, `tests/subscriber_stacks.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod allocations_not_counted;
mod async_component;
mod attacks;
mod between_windows;
mod between_windows_attacks;
mod crediting_attacks;
mod cross_thread_spans;
mod exact_times;
mod inside_ticks_attacks;
mod inside_ticks_by_thread;
mod known_durations;
mod mock_clock;
mod other_layers_unchanged;
mod panic_in_tick;
mod runs_and_errors;
mod sampling;
mod setup_cost;
mod shard_reuse;
mod slow_tick_fields;
mod slow_tick_fields_attacks;
mod slow_ticks;
mod span_orders;
mod span_programs;
mod start_stop_races;
mod subscriber_setups;
#[cfg(target_os = "linux")]
mod thread_cpu;
mod threads_exact_counts;
mod warmup;
