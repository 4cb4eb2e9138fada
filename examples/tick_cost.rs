//! Instruction counts of the hot path: run under callgrind at two tick counts and subtract, so
//! set-up and teardown cancel (the bench's wall-clock ratios are too noisy on a shared machine
//! to see a few ns).
//!
//! ```text
//! cargo build --release --example tick_cost
//! for n in 100000 200000; do
//!   valgrind --tool=callgrind --callgrind-out-file=cg.$n target/release/examples/tick_cost one_in $n
//! done
//! # instructions per tick = (total(200000) - total(100000)) / 100000
//! ```
//!
//! Modes: `one_in` (`Sampling::one_in(50)`: what callgrind can repeat), `full`
//! (`Sampling::full()`), `ticks_only` (full sampling, a tick span with no components: the
//! per-tick part of the cost alone), `ticks_seq` (the same with a `seq` field on the tick),
//! `ticks_seq_ts` (with `seq` and a `%`-formatted `ts` field, `TickFieldCapture::Formatted`),
//! `ticks_no_slow`,
//! `ticks_seq_no_slow` (those with `slowest_ticks(0)`: what keeping the slowest ticks and their
//! fields costs is the difference), `default` (the default budget, which adapts to valgrind's
//! slowed clock: not comparable between runs), `idle` (the layer installed, no run active: what
//! keeping it installed costs), `bare` (no subscriber).
//! A tick is a `tick` span with 8 component spans around a little deterministic work.

use std::hint::black_box;

use tickprof::{MetricsCollector, Sampling, TickFieldCapture};
use tracing_subscriber::prelude::*;

/// Built with `RUSTFLAGS="--cfg tickprof_counting_allocator"`, tickprof's counting allocator is
/// the global allocator and every run reads the allocation counters: the difference to a plain
/// build is what counting allocations costs.
#[cfg(tickprof_counting_allocator)]
#[global_allocator]
static ALLOC: tickprof::CountingAllocator = tickprof::CountingAllocator::system();

const COMPONENTS: [&str; 8] = [
    "parse",
    "book_update",
    "match_orders",
    "indicators",
    "strategy",
    "risk_check",
    "submit_order",
    "portfolio",
];

#[inline(never)]
fn work(seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..20 {
        x = black_box(
            x.wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        );
    }
    x
}

fn tick(mut x: u64) -> u64 {
    let _tick = tracing::info_span!("tick").entered();
    for name in COMPONENTS {
        // One callsite per component name, as real code has.
        x = match name {
            "parse" => {
                let _s = tracing::info_span!("parse").entered();
                work(x)
            }
            "book_update" => {
                let _s = tracing::info_span!("book_update").entered();
                work(x)
            }
            "match_orders" => {
                let _s = tracing::info_span!("match_orders").entered();
                work(x)
            }
            "indicators" => {
                let _s = tracing::info_span!("indicators").entered();
                work(x)
            }
            "strategy" => {
                let _s = tracing::info_span!("strategy").entered();
                work(x)
            }
            "risk_check" => {
                let _s = tracing::info_span!("risk_check").entered();
                work(x)
            }
            "submit_order" => {
                let _s = tracing::info_span!("submit_order").entered();
                work(x)
            }
            _ => {
                let _s = tracing::info_span!("portfolio").entered();
                work(x)
            }
        };
    }
    x
}

/// A market-data timestamp as users print them (`2025-03-14T14:30:07.102Z`).
struct Timestamp(u64);

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0;
        write!(
            f,
            "2025-03-14T{:02}:{:02}:{:02}.{:03}Z",
            ms / 3_600_000 % 24,
            ms / 60_000 % 60,
            ms / 1_000 % 60,
            ms % 1_000
        )
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "default".to_owned());
    let ticks: u64 = args.next().map_or(Ok(100_000), |n| n.parse())?;
    let sampling = match mode.as_str() {
        // Deterministic under callgrind (the budget adapts to the clock, which valgrind slows).
        "one_in" => Sampling::one_in(50),
        "full" | "ticks_only" | "ticks_seq" | "ticks_seq_ts" | "ticks_no_slow"
        | "ticks_seq_no_slow" => Sampling::full(),
        _ => Sampling::default(),
    };
    let slowest = if mode.ends_with("no_slow") { 0 } else { 10 };
    let collector = MetricsCollector::builder()
        .sampling(sampling)
        .slowest_ticks(slowest)
        .tick_fields(if mode == "ticks_seq_ts" {
            TickFieldCapture::Formatted
        } else {
            TickFieldCapture::Scalars
        })
        .measure_overhead(false)
        .without_resource_sampling()
        .build()?;
    if mode != "bare" {
        tracing_subscriber::registry()
            .with(collector.layer())
            .init();
        if mode != "idle" {
            collector.start_profiling("tick_cost")?;
        }
    }
    let mut x = 1;
    for seq in 0..ticks {
        x = match mode.as_str() {
            "ticks_only" | "ticks_no_slow" => {
                let _tick = tracing::info_span!("tick").entered();
                work(x)
            }
            "ticks_seq" | "ticks_seq_no_slow" => {
                let _tick = tracing::info_span!("tick", seq).entered();
                work(x)
            }
            "ticks_seq_ts" => {
                let ts = Timestamp(seq);
                let _tick = tracing::info_span!("tick", seq, ts = %ts).entered();
                work(x)
            }
            _ => tick(x),
        };
    }
    if mode != "bare" && mode != "idle" {
        let report = collector.stop_profiling()?;
        let timed = report.sampling.map_or(0, |s| s.ticks_timed);
        println!("{} ticks counted, {timed} timed", report.ticks.count);
    }
    println!("{x}");
    Ok(())
}
