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
//! per-tick part of the cost alone), `default` (the default budget, which adapts to valgrind's slowed clock:
//! not comparable between runs), `bare` (no subscriber).
//! A tick is a `tick` span with 8 component spans around a little deterministic work.

use std::hint::black_box;

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "default".to_owned());
    let ticks: u64 = args.next().map_or(Ok(100_000), |n| n.parse())?;
    let sampling = match mode.as_str() {
        // Deterministic under callgrind (the budget adapts to the clock, which valgrind slows).
        "one_in" => Sampling::one_in(50),
        "full" | "ticks_only" => Sampling::full(),
        _ => Sampling::default(),
    };
    let collector = MetricsCollector::builder()
        .sampling(sampling)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()?;
    if mode != "bare" {
        tracing_subscriber::registry()
            .with(collector.layer())
            .init();
        collector.start_profiling("tick_cost")?;
    }
    let mut x = 1;
    for _ in 0..ticks {
        x = if mode == "ticks_only" {
            let _tick = tracing::info_span!("tick").entered();
            work(x)
        } else {
            tick(x)
        };
    }
    if mode != "bare" {
        let report = collector.stop_profiling()?;
        let timed = report.sampling.map_or(0, |s| s.ticks_timed);
        println!("{} ticks counted, {timed} timed", report.ticks.count);
    }
    println!("{x}");
    Ok(())
}
