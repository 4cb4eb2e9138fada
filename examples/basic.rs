//! The smallest complete use of tickprof: a tick loop with two components, profiled under the
//! subscriber the program already has, summarized and saved.
//!
//! `cargo run --release --example basic`

use std::hint::black_box;

use tickprof::MetricsCollector;
use tracing_subscriber::prelude::*;

/// Optional: with tickprof's counting allocator installed, the report also has allocations per
/// tick and per component.
#[global_allocator]
static ALLOC: tickprof::CountingAllocator = tickprof::CountingAllocator::system();

#[tracing::instrument(level = "info", skip_all)]
fn strategy(price: f64, ema: &mut f64) -> bool {
    *ema += 0.1 * (price - *ema);
    price > *ema
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let collector = MetricsCollector::builder().tick_span("tick").build()?;
    tracing_subscriber::registry()
        .with(collector.layer())
        .init();

    collector.start_profiling("basic")?;
    let mut ema = 100.0;
    let mut signals = 0u64;
    for i in 0..200_000u64 {
        let _tick = tracing::info_span!("tick").entered();
        let line = format!("{i},ABC,{}", 100.0 + (i % 17) as f64 * 0.01);
        let price: f64 = {
            let _parse = tracing::info_span!("parse").entered();
            line.rsplit(',')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0.0)
        };
        if strategy(black_box(price), &mut ema) {
            signals += 1;
        }
    }
    let report = collector.stop_profiling()?;
    report.print_summary();
    println!("signals: {signals}");
    report.save_json("reports/basic.json")?;
    println!("wrote reports/basic.json");
    Ok(())
}
