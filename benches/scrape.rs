#![allow(missing_docs, clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! What one Prometheus scrape costs the exporter: an active run with 20 components, scraped
//! over HTTP (`snapshot` + decoding each histogram + bucket counts + text encoding + HTTP on
//! loopback), against `snapshot` alone. Then the hot path: ns per tick of a profiled loop
//! (default sampling, 8 components) while a thread scrapes it 10 times a second, against the
//! same loop unscraped, repetitions interleaved, medians.
//!
//! ```text
//! cargo bench --features prometheus --bench scrape
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::LazyLock;

use divan::Bencher;
use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

const COMPONENTS: usize = 20;
const TICKS: u64 = 20_000;

struct Fixture {
    collector: MetricsCollector,
    exporter: tickprof::prometheus::Exporter,
}

/// A run left active after 20,000 ticks of 20 components each (every span recorded, so every
/// component histogram is full), served on a loopback port.
static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("scrape-bench").unwrap();
        let mut x = 1u64;
        for _ in 0..TICKS {
            let _tick = tracing::info_span!("tick").entered();
            // A span's name is its callsite's: 20 names need 20 callsites.
            macro_rules! components {
                ($($name:literal)*) => {$({
                    let _component = tracing::info_span!($name).entered();
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                })*};
            }
            components!("c00" "c01" "c02" "c03" "c04" "c05" "c06" "c07" "c08" "c09"
                        "c10" "c11" "c12" "c13" "c14" "c15" "c16" "c17" "c18" "c19");
        }
    });
    let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap();
    Fixture {
        collector,
        exporter,
    }
});

fn scrape(addr: SocketAddr) -> usize {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    assert!(body.starts_with(b"HTTP/1.0 200"));
    body.len()
}

#[divan::bench(sample_count = 50)]
fn http_scrape(bencher: Bencher) {
    let addr = FIXTURE.exporter.local_addr();
    bencher.bench(|| scrape(addr));
}

fn main() {
    let addr = FIXTURE.exporter.local_addr();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let components = text
        .lines()
        .filter(|l| l.starts_with("tickprof_component_duration_seconds_count{"))
        .count();
    let lines = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(components, COMPONENTS);
    println!(
        "one scrape: {} bytes, {lines} samples, {components} components",
        text.len()
    );
    divan::main();
    hot_path();
}

/// One tick of the hot-path comparison: 8 components of deterministic work.
#[inline(never)]
fn tick(x: &mut u64) {
    let _tick = tracing::info_span!("tick").entered();
    macro_rules! components {
        ($($name:literal)*) => {$({
            let _component = tracing::info_span!($name).entered();
            for _ in 0..30 {
                *x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        })*};
    }
    components!("parse" "book" "match" "indicators" "strategy" "risk" "submit" "portfolio");
}

/// ns per tick over `ticks` ticks of one run, scraped every 100 ms or not.
fn profiled_loop(ticks: u64, scraped: bool) -> f64 {
    let collector = MetricsCollector::builder().build().unwrap();
    let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap();
    let addr = exporter.local_addr();
    let done = std::sync::atomic::AtomicBool::new(false);
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    std::thread::scope(|s| {
        collector.start_profiling("hot-path").unwrap();
        if scraped {
            s.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    scrape(addr);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            });
        }
        let ns = tracing::subscriber::with_default(subscriber, || {
            let mut x = 1;
            let start = std::time::Instant::now();
            for _ in 0..ticks {
                tick(&mut x);
            }
            start.elapsed().as_nanos() as f64 / ticks as f64
        });
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        collector.stop_profiling().unwrap();
        ns
    })
}

fn hot_path() {
    let (ticks, reps) = (2_000_000, 5);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        off.push(profiled_loop(ticks, false));
        on.push(profiled_loop(ticks, true));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (off, on) = (median(off), median(on));
    println!(
        "hot path ({reps} interleaved runs of {ticks} ticks, medians): unscraped {off:.1} ns/tick, \
         scraped 10×/s {on:.1} ns/tick ({:+.1} %)",
        100.0 * (on / off - 1.0)
    );
}

/// `snapshot` alone, on a thread of its own as the exporter takes it (taken on the thread that
/// ticked, it measured 2-3× slower).
#[divan::bench(sample_count = 50)]
fn snapshot_alone(bencher: Bencher) {
    bencher.bench(|| {
        std::thread::scope(|s| {
            s.spawn(|| FIXTURE.collector.snapshot().unwrap())
                .join()
                .unwrap()
        })
    });
}
