//! A live engine that never stops: several tokio tasks tick continuously beside an exchange
//! task that runs outside every tick, profiled the whole time. Every few seconds it prints the last interval (`collector.interval()`), it saves a
//! crash-safe checkpoint of the run so far, appends the interval log (`.hlog`), and, built with
//! feature `prometheus`, serves `/metrics` for a Prometheus server to scrape.
//!
//! ```text
//! cargo run --release --features prometheus --example live -- --listen 127.0.0.1:9464 --seconds 30
//! cargo run --release --example live            # until Ctrl-C; no exporter without the feature
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use tickprof::{MetricsCollector, Report};
use tracing_subscriber::prelude::*;

/// A live engine, profiled continuously.
#[derive(Debug, Parser)]
struct Args {
    /// Serve Prometheus metrics on this address (needs feature `prometheus`).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
    /// Seconds between interval summaries.
    #[arg(long, default_value_t = 5)]
    every: u64,
    /// Market tasks ticking at once.
    #[arg(long, default_value_t = 3)]
    markets: usize,
    /// Where the checkpoint and the interval log go.
    #[arg(long, default_value = "reports")]
    dir: String,
}

/// One market's engine state: a moving average and a position.
struct Market {
    seed: u64,
    ema: f64,
    position: i64,
}

impl Market {
    /// One tick: parse a synthetic quote, update the average, decide, check risk, execute.
    fn tick(&mut self, seq: u64) {
        let _tick = tracing::info_span!("tick", seq).entered();
        let price = {
            let _parse = tracing::info_span!("parse").entered();
            self.seed = self
                .seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let line = format!("{seq},{}", 100.0 + (self.seed >> 54) as f64 * 0.01);
            line.rsplit(',')
                .next()
                .and_then(|p| p.parse::<f64>().ok())
                .unwrap_or(100.0)
        };
        let signal = {
            let _strategy = tracing::info_span!("strategy").entered();
            self.ema += 0.05 * (price - self.ema);
            (price > self.ema) as i64 - (price < self.ema) as i64
        };
        let allowed = {
            let _risk = tracing::info_span!("risk").entered();
            (self.position + signal).abs() <= 100
        };
        if allowed && signal != 0 {
            let _execute = tracing::info_span!("execute").entered();
            self.position += signal;
            black_box(self.position);
        }
    }
}

/// A market task: bursts of ticks every millisecond, as quotes arrive.
async fn market(seed: u64, running: Arc<AtomicBool>) -> u64 {
    let mut engine = Market {
        seed,
        ema: 100.0,
        position: 0,
    };
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    let mut seq = 0;
    while running.load(Ordering::Relaxed) {
        ticker.tick().await;
        for _ in 0..100 {
            seq += 1;
            engine.tick(seq);
        }
    }
    seq
}

/// The venue beside the engine: a task that matches resting orders every millisecond, in a
/// span outside every tick. The report lists it under "Outside ticks" (`outside_ticks.exchange`,
/// recorded while a recording window is open): what the ticks leave out of the engine's time.
async fn exchange(running: Arc<AtomicBool>) {
    let mut book: Vec<u64> = Vec::with_capacity(512);
    let mut seed = 7_u64;
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    while running.load(Ordering::Relaxed) {
        ticker.tick().await;
        let _exchange = tracing::info_span!("exchange").entered();
        for _ in 0..200 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            book.push(seed >> 20);
        }
        book.sort_unstable();
        book.truncate(256);
        black_box(&book);
    }
}

/// One line per interval: what a live dashboard would show.
fn interval_line(report: &Report) -> String {
    let offset = match report.part {
        Some(tickprof::RunPart::Interval { offset_s, .. }) => offset_s + report.total_time_s,
        _ => report.total_time_s,
    };
    let t = &report.ticks.latency;
    let resources = report.resources.as_ref().map_or(String::new(), |r| {
        format!(
            " | CPU {} | RSS {:.1} MB",
            r.cpu_percent
                .mean
                .map_or("n/a".to_owned(), |c| format!("{c:.0} %")),
            r.memory_bytes.peak as f64 / 1e6
        )
    });
    format!(
        "[{offset:7.1} s] {} ticks ({}/s) p50 {:.2} µs p99 {:.2} µs p99.9 {:.2} µs max {:.2} µs{resources}",
        thousands(report.ticks.count),
        thousands(report.ticks.throughput_per_s.round() as u64),
        t.p50_ns as f64 / 1e3,
        t.p99_ns as f64 / 1e3,
        t.p999_ns as f64 / 1e3,
        t.max_ns as f64 / 1e3,
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let collector = MetricsCollector::builder()
        .sample_interval(Duration::from_millis(250))
        .checkpoint(
            format!("{}/{{name}}.json", args.dir),
            Duration::from_secs(args.every),
        )
        .interval_log(
            format!("{}/{{name}}.hlog", args.dir),
            Duration::from_secs(1),
        )
        .build()?;
    tracing_subscriber::registry()
        .with(collector.layer())
        .init();

    #[cfg(feature = "prometheus")]
    let exporter = match args.listen {
        Some(addr) => {
            let exporter = tickprof::prometheus::serve(&collector, &addr.to_string())?;
            println!("serving http://{}/metrics", exporter.local_addr());
            Some(exporter)
        }
        None => None,
    };
    #[cfg(not(feature = "prometheus"))]
    if let Some(addr) = args.listen {
        return Err(format!(
            "--listen {addr}: this build has no exporter; add `--features prometheus`"
        )
        .into());
    }

    collector.start_profiling("live")?;
    println!(
        "profiling `live`: checkpoints to {dir}/live.json every {every} s, interval log {dir}/live.hlog; {}",
        args.seconds.map_or("Ctrl-C stops".to_owned(), |s| format!(
            "stopping after {s} s"
        )),
        dir = args.dir,
        every = args.every,
    );
    let running = Arc::new(AtomicBool::new(true));
    let tasks: Vec<_> = (0..args.markets)
        .map(|m| tokio::spawn(market(m as u64 + 1, Arc::clone(&running))))
        .collect();
    let venue = tokio::spawn(exchange(Arc::clone(&running)));

    let started = Instant::now();
    let deadline = args.seconds.map(|s| started + Duration::from_secs(s));
    let mut summaries = tokio::time::interval(Duration::from_secs(args.every));
    summaries.tick().await; // the first tick is immediate
    loop {
        let next = match deadline {
            Some(deadline) if deadline <= Instant::now() => break,
            Some(deadline) => tokio::time::Instant::from_std(deadline),
            None => tokio::time::Instant::now() + Duration::from_secs(3_600 * 24 * 365),
        };
        tokio::select! {
            _ = summaries.tick() => println!("{}", interval_line(&collector.interval()?)),
            _ = tokio::time::sleep_until(next) => break,
            _ = tokio::signal::ctrl_c() => {
                println!("Ctrl-C: stopping");
                break;
            }
        }
    }
    running.store(false, Ordering::Relaxed);
    let mut ticks = 0;
    for task in tasks {
        ticks += task.await?;
    }
    venue.await?;
    let report = collector.stop_profiling()?;
    #[cfg(feature = "prometheus")]
    drop(exporter);
    report.print_summary();
    println!(
        "{} ticks emitted, {} counted; final report saved over the checkpoint: {}/live.json",
        thousands(ticks),
        thousands(report.ticks.count),
        args.dir
    );
    // The second half of the run, as a window (every interval that lies within it).
    let ran_s = started.elapsed().as_secs().max(2);
    println!(
        "any window of the run: cargo run --release --bin tickprof -- hlog {}/live.hlog --from {} --to {}",
        args.dir,
        ran_s / 2,
        ran_s + 1
    );
    Ok(())
}

/// `1234567` as `1,234,567`, as the summary prints counts.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
