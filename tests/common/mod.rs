//! Fixture reports built from known values, and a runner for the built `tickprof` binary.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod http;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use hdrhistogram::Histogram;
use tickprof::{
    AllocationStats, ComponentStats, Dropped, Environment, LatencyStats, MeanMax, MemoryStats,
    Overhead, Report, Resources, SCHEMA_VERSION, SlowTick, TickField, TickFieldValue, TickStats,
    TimelineSpan,
};

pub fn histogram(values_ns: &[u64]) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for &v in values_ns {
        h.record(v).unwrap();
    }
    h
}

pub fn latency(values_ns: &[u64]) -> LatencyStats {
    LatencyStats::from_histogram(&histogram(values_ns), "fixture").unwrap()
}

/// The allocation figures of spans that made `(allocations, bytes)` each, as a run's report
/// states them (histograms of 1 to 2⁴⁰ at 3 significant figures).
pub fn allocations(spans: &[(u64, u64)]) -> AllocationStats {
    let hist = |values: Vec<u64>| {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1 << 40, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    };
    let count = hist(spans.iter().map(|s| s.0).collect());
    let bytes = hist(spans.iter().map(|s| s.1).collect());
    let blob = |h: &Histogram<u64>| {
        LatencyStats::from_histogram(h, "fixture")
            .unwrap()
            .histogram
    };
    AllocationStats {
        samples: count.len(),
        share_allocating: (count.len() - count.count_at(0)) as f64 / count.len() as f64,
        mean: count.mean(),
        p50: count.value_at_quantile(0.5),
        p99: count.value_at_quantile(0.99),
        max: count.max(),
        mean_bytes: bytes.mean(),
        p50_bytes: bytes.value_at_quantile(0.5),
        p99_bytes: bytes.value_at_quantile(0.99),
        max_bytes: bytes.max(),
        histogram: blob(&count),
        bytes_histogram: blob(&bytes),
    }
}

/// A run whose ticks took `tick_ns` back to back, with `components` inside them, no resources.
pub fn report(name: &str, tick_ns: &[u64], components: &[(&str, &[u64])]) -> Report {
    let total_time_s = tick_ns.iter().sum::<u64>() as f64 / 1e9;
    let count = tick_ns.len() as u64;
    Report {
        schema_version: SCHEMA_VERSION,
        name: name.to_owned(),
        started_at: "2026-01-01T00:00:00Z".to_owned(),
        total_time_s,
        ticks: TickStats {
            count,
            throughput_per_s: if total_time_s > 0.0 {
                count as f64 / total_time_s
            } else {
                0.0
            },
            latency: latency(tick_ns),
            latency_raw: None,
            wall: None,
            warmup: None,
            recorded: None,
            allocations: None,
        },
        components: components
            .iter()
            .map(|(n, v)| {
                let stats = ComponentStats {
                    count: v.len() as u64,
                    latency: latency(v),
                    self_time: None,
                    wall: None,
                    per_tick: None,
                    allocations: None,
                };
                ((*n).to_owned(), stats)
            })
            .collect::<BTreeMap<_, _>>(),
        inside_ticks: None,
        outside_ticks: BTreeMap::new(),
        unattributed: latency(&tick_ns.iter().map(|t| t / 10).collect::<Vec<_>>()),
        unattributed_mean_ns: None,
        sampling: None,
        overhead: Overhead {
            per_span_ns: 50.0,
            empty_span_busy_ns: 20.0,
            calibration_ticks: 1000,
            ..Overhead::default()
        },
        dropped: Dropped::default(),
        environment: Environment {
            crate_version: "0.1.0".to_owned(),
            os: "linux".to_owned(),
            arch: "x86_64".to_owned(),
            logical_cores: 2,
            cpu_model: None,
        },
        resources: None,
        resources_unavailable: Some("sampler off".to_owned()),
        loop_comparison: None,
        slowest_ticks: None,
        part: None,
        checkpoints: None,
        interval_log: None,
    }
}

/// `report` with sampled resources: `peak_mb` MB peak, `cpu` % of one core on 2 cores.
pub fn with_resources(mut r: Report, peak_mb: f64, cpu: f64) -> Report {
    r.resources = Some(Resources {
        sample_interval_ms: 100,
        samples_taken: 10,
        samples_failed: 0,
        cpu_percent: MeanMax {
            mean: Some(cpu),
            max: Some(cpu),
        },
        cpu_percent_of_machine: MeanMax {
            mean: Some(cpu / 2.0),
            max: Some(cpu / 2.0),
        },
        cpu_time_s: r.total_time_s * cpu / 100.0,
        memory_bytes: MemoryStats {
            mean: peak_mb * 1e6,
            peak: (peak_mb * 1e6) as u64,
        },
        peak_rss_bytes: (peak_mb * 1e6) as u64,
        samples: Vec::new(),
        threads: None,
    });
    r.resources_unavailable = None;
    r
}

/// `n` tick durations around `center_ns` (a spread of ±10%), deterministic.
pub fn ticks(center_ns: u64, n: u64) -> Vec<u64> {
    (0..n)
        .map(|i| center_ns - center_ns / 10 + (i * 7919) % (center_ns / 5))
        .collect()
}

/// Runs the built binary in `dir` (so relative paths in the output stay deterministic).
pub fn tickprof(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickprof"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// A slow tick of `latency_ns` on `thread`, recorded with one `parse` span taking 90 % of it,
/// its tick span's field `seq` one below its ordinal.
pub fn slow_tick(ordinal: u64, thread: &str, latency_ns: u64) -> SlowTick {
    let mut t = SlowTick {
        ordinal,
        thread: thread.to_owned(),
        tid: None,
        run: None,
        start_unix_ns: 1_700_000_000_000_000_000 + ordinal * 10_000,
        started_at: "2023-11-14T22:13:20.000000Z".to_owned(),
        offset_s: ordinal as f64 * 1e-5,
        latency_ns,
        raw_ns: latency_ns,
        wall_ns: latency_ns,
        recorded: true,
        timeline: vec![TimelineSpan {
            name: "parse".to_owned(),
            offset_ns: latency_ns / 20,
            duration_ns: latency_ns / 10 * 9,
            busy_ns: latency_ns / 10 * 9,
            depth: 1,
            parent: None,
        }],
        timeline_dropped: 0,
        fields: vec![TickField {
            name: "seq".to_owned(),
            value: TickFieldValue::U64(ordinal - 1),
        }],
        dominant: None,
        machine: None,
        scheduler: None,
    };
    t.dominant = t.compute_dominant();
    t
}

/// [`tickprof`], killed and failed if it has not exited after `limit` (a hang is a failure,
/// not a stuck test run).
pub fn tickprof_within(dir: &Path, args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickprof"))
        .current_dir(dir)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tickprof {args:?} did not finish in {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs `f` on its own thread and returns its result, failing if it takes longer than `limit`
/// (the thread of a hung call is left behind; the test still fails).
pub fn within<T: Send + 'static>(
    limit: std::time::Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|e| panic!("{what} did not finish in {limit:?} ({e})"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Compares `actual` with `tests/expected/<name>`; `TICKPROF_BLESS=1` rewrites the file.
pub fn assert_expected(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name);
    if std::env::var_os("TICKPROF_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with TICKPROF_BLESS=1)", path.display()));
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

/// Busy-waits `d` (a slow tick that is slow on CPU, not asleep).
pub fn spin(d: std::time::Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// A collector for slow-tick tests: `sampling`, the `k` slowest ticks with `capture`d fields,
/// no warm-up, no calibration, no resource sampler.
pub fn slow_tick_builder(
    sampling: tickprof::Sampling,
    k: usize,
    capture: tickprof::TickFieldCapture,
) -> tickprof::MetricsCollectorBuilder {
    tickprof::MetricsCollector::builder()
        .tick_fields(capture)
        .sampling(sampling)
        .warmup_ticks(0)
        .slowest_ticks(k)
        .measure_overhead(false)
        .without_resource_sampling()
}
