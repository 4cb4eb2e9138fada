#![allow(missing_docs, clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! What watching a live run costs the loop: snapshots, intervals, checkpoints and the interval
//! log against a plain profiled run and no subscriber at all. Every configuration runs in its
//! own process under a global subscriber, repetitions interleaved, medians.
//!
//! ```text
//! cargo bench --bench live                      # 5 repetitions, ~2 minutes
//! TICKPROF_BENCH_REPS=3 cargo bench --bench live
//! cargo bench --bench live -- --child snapshots_10hz 3000000   # one process
//! ```
//!
//! The loop is `overhead.rs`'s small tick (~380 ns bare: a `tick` span around 8 components).
//! Each tick is also timed from outside, with two TSC reads, into a histogram of the loop's
//! own: a harvest that made a tick wait (a shard mutex held while the ring was full) shows in
//! its p99.9 and max, whatever the profiler recorded. Configurations:
//! - `bare`: no subscriber;
//! - `profiled` / `full`: registry + tickprof, default sampling / `Sampling::full()` (9
//!   records per tick: the ring fills fastest, so a harvest is most likely to be waited for);
//! - `snapshots_10hz` / `full_snapshots_10hz`: the same, with a thread calling `snapshot()`
//!   every 100 ms (its duration is the snapshot cost at 8 components);
//! - `intervals_10hz`: `interval()` every 100 ms;
//! - `checkpoint_log_1s`: `checkpoint` and `interval_log` every second, to a temporary dir;
//! - `exporter_10hz` (with `--features prometheus`): `prometheus::serve` on loopback, scraped
//!   over HTTP every 100 ms by a thread of the process (the scrape's duration is its cost).

mod workload;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use workload::{median, run_child, steps, tick};

const CONFIGS: &[&str] = &[
    "bare",
    "profiled",
    "snapshots_10hz",
    "intervals_10hz",
    "checkpoint_log_1s",
    #[cfg(feature = "prometheus")]
    "exporter_10hz",
    "full",
    "full_snapshots_10hz",
];

/// One scrape of `address`'s `/metrics` over HTTP/1.0 (the server closes the connection).
#[cfg(feature = "prometheus")]
fn scrape(address: std::net::SocketAddr) -> usize {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n")
        .unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    assert!(body.starts_with(b"HTTP/1.0 200") || body.starts_with(b"HTTP/1.1 200"));
    body.len()
}

/// Runs one configuration in this process and prints `key=value` results.
fn child(config: &str, ticks: u64) {
    let steps = steps("small");
    let dir = tempfile::tempdir().unwrap();
    let mut builder = MetricsCollector::builder().without_resource_sampling();
    if config.starts_with("full") {
        builder = builder.sampling(Sampling::full());
    }
    if config == "checkpoint_log_1s" {
        let path = |ext: &str| format!("{}/{{name}}.{ext}", dir.path().display());
        builder = builder
            .checkpoint(path("json"), Duration::from_secs(1))
            .interval_log(path("hlog"), Duration::from_secs(1));
    }
    let collector = builder.build().unwrap();
    if config != "bare" {
        tracing_subscriber::registry()
            .with(collector.layer())
            .init();
    }
    let clock = quanta::Clock::new();
    let mut loop_hist =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).unwrap();
    let mut acc = 0;
    for i in 0..ticks / 10 {
        acc ^= tick(i, &steps);
    }
    if config != "bare" {
        collector.start_profiling(config).unwrap();
    }
    #[cfg(feature = "prometheus")]
    let exporter = (config == "exporter_10hz")
        .then(|| tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap());
    #[cfg(feature = "prometheus")]
    let scraped = exporter
        .as_ref()
        .map(tickprof::prometheus::Exporter::local_addr);
    let running = Arc::new(AtomicBool::new(true));
    let watcher = {
        let running = Arc::clone(&running);
        let collector = collector.clone();
        let config = config.to_owned();
        std::thread::spawn(move || {
            let mut took = Vec::new();
            let take: Box<dyn Fn()> = match config.as_str() {
                "snapshots_10hz" | "full_snapshots_10hz" => Box::new(move || {
                    black_box(collector.snapshot().unwrap());
                }),
                "intervals_10hz" => Box::new(move || {
                    black_box(collector.interval().unwrap());
                }),
                #[cfg(feature = "prometheus")]
                "exporter_10hz" => Box::new(move || {
                    black_box(scrape(scraped.unwrap()));
                }),
                _ => return took,
            };
            while running.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(100));
                let start = Instant::now();
                take();
                took.push(start.elapsed().as_secs_f64() * 1e3);
            }
            took
        })
    };
    let start = Instant::now();
    for i in 0..ticks {
        let before = clock.raw();
        acc ^= tick(i, &steps);
        let after = clock.raw();
        loop_hist.saturating_record(clock.delta_as_nanos(before, after).max(1));
    }
    let elapsed = start.elapsed();
    running.store(false, Ordering::Release);
    let took = watcher.join().unwrap();
    #[cfg(feature = "prometheus")]
    drop(exporter);
    black_box(acc);
    println!(
        "ns_per_tick={:.3}",
        elapsed.as_nanos() as f64 / ticks as f64
    );
    println!("loop_p50_ns={}", loop_hist.value_at_quantile(0.5));
    println!("loop_p99_ns={}", loop_hist.value_at_quantile(0.99));
    println!("loop_p999_ns={}", loop_hist.value_at_quantile(0.999));
    println!("loop_max_ns={}", loop_hist.max());
    if !took.is_empty() {
        let mut sorted = took.clone();
        sorted.sort_by(f64::total_cmp);
        println!("takes={}", took.len());
        println!("take_ms_median={:.3}", sorted[sorted.len() / 2]);
        println!("take_ms_max={:.3}", sorted[sorted.len() - 1]);
    }
    if config != "bare" {
        let report = collector.stop_profiling().unwrap();
        println!("ticks_counted={}", report.ticks.count);
        for (key, stats) in [
            ("checkpoints", &report.checkpoints),
            ("log", &report.interval_log),
        ] {
            if let Some(stats) = stats {
                println!("{key}_written={}", stats.written);
                println!("{key}_failed={}", stats.failed);
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let get = |k: usize| args.get(i + k).cloned().unwrap();
        child(&get(1), get(2).parse().unwrap());
        return;
    }
    let reps: usize = std::env::var("TICKPROF_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let ticks = 3_000_000;
    let mut results: BTreeMap<&str, Vec<BTreeMap<String, f64>>> = BTreeMap::new();
    for _ in 0..reps {
        for &config in CONFIGS {
            results
                .entry(config)
                .or_default()
                .push(run_child(&[config, &ticks.to_string()]));
        }
    }
    let m = |config: &str, key: &str| {
        median(
            results
                .get(config)
                .map(|runs| runs.iter().filter_map(|r| r.get(key).copied()).collect())
                .unwrap_or_default(),
        )
    };
    println!("\n== small tick, {ticks} ticks per process, {reps} interleaved repetitions, medians");
    println!(
        "{:<22} {:>9} {:>8} {:>10} {:>10} {:>10} {:>12}  take (ms: median / max)",
        "configuration", "ns/tick", "× bare", "× profiled", "loop p99", "p99.9", "max (ns)",
    );
    let bare = m("bare", "ns_per_tick");
    for &config in CONFIGS {
        let ns = m(config, "ns_per_tick");
        let baseline = if config.starts_with("full") {
            m("full", "ns_per_tick")
        } else {
            m("profiled", "ns_per_tick")
        };
        let takes = if m(config, "takes").is_nan() {
            String::new()
        } else {
            format!(
                "{:.3} / {:.3} ({:.0} takes)",
                m(config, "take_ms_median"),
                m(config, "take_ms_max"),
                m(config, "takes")
            )
        };
        println!(
            "{config:<22} {ns:>9.1} {:>7.3}× {:>9.3}× {:>10.0} {:>10.0} {:>12.0}  {takes}",
            ns / bare,
            ns / baseline,
            m(config, "loop_p99_ns"),
            m(config, "loop_p999_ns"),
            m(config, "loop_max_ns"),
        );
    }
    println!(
        "checkpoint_log_1s: {:.0} checkpoints and {:.0} log intervals written, {:.0} + {:.0} failed",
        m("checkpoint_log_1s", "checkpoints_written"),
        m("checkpoint_log_1s", "log_written"),
        m("checkpoint_log_1s", "checkpoints_failed"),
        m("checkpoint_log_1s", "log_failed"),
    );
}
