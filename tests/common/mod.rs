//! Fixture reports built from known values, and a runner for the built `tickprof` binary.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod http;
pub mod process;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use hdrhistogram::Histogram;
use tickprof::{
    AllocationStats, ComponentStats, LatencyStats, MeanMax, MemoryStats, Report, Resources,
    SlowTick, TickField, TickFieldValue, TimelineSpan,
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
    AllocationStats::from_histograms(&count, &bytes).unwrap()
}

/// A run whose ticks took `tick_ns` back to back, with `components` inside them, no resources.
pub fn report(name: &str, tick_ns: &[u64], components: &[(&str, &[u64])]) -> Report {
    let total_time_s = tick_ns.iter().sum::<u64>() as f64 / 1e9;
    let count = tick_ns.len() as u64;
    let mut r = Report::empty(name);
    r.started_at = "2026-01-01T00:00:00Z".to_owned();
    r.total_time_s = total_time_s;
    r.ticks.count = count;
    r.ticks.throughput_per_s = if total_time_s > 0.0 {
        count as f64 / total_time_s
    } else {
        0.0
    };
    r.ticks.latency = latency(tick_ns);
    r.components = components
        .iter()
        .map(|(n, v)| {
            let stats = ComponentStats::new(v.len() as u64, latency(v));
            ((*n).to_owned(), stats)
        })
        .collect::<BTreeMap<_, _>>();
    r.unattributed = latency(&tick_ns.iter().map(|t| t / 10).collect::<Vec<_>>());
    r.overhead.per_span_ns = 50.0;
    r.overhead.empty_span_busy_ns = 20.0;
    r.overhead.calibration_ticks = 1000;
    r.environment.crate_version = "0.1.0".to_owned();
    r.environment.os = "linux".to_owned();
    r.environment.arch = "x86_64".to_owned();
    r.environment.logical_cores = 2;
    r.environment.cpu_model = None;
    r.resources_unavailable = Some("sampler off".to_owned());
    r
}

/// `report` with sampled resources: `peak_mb` MB peak, `cpu` % of one core on 2 cores.
pub fn with_resources(mut r: Report, peak_mb: f64, cpu: f64) -> Report {
    let mut res = Resources::default();
    res.sample_interval_ms = 100;
    res.samples_taken = 10;
    res.cpu_percent = MeanMax::new(Some(cpu), Some(cpu));
    res.cpu_percent_of_machine = MeanMax::new(Some(cpu / 2.0), Some(cpu / 2.0));
    res.cpu_time_s = r.total_time_s * cpu / 100.0;
    res.memory_bytes = MemoryStats::new(peak_mb * 1e6, (peak_mb * 1e6) as u64);
    res.peak_rss_bytes = (peak_mb * 1e6) as u64;
    r.resources = Some(res);
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
    let mut t = SlowTick::new(ordinal, thread, latency_ns);
    t.start_unix_ns = 1_700_000_000_000_000_000 + ordinal * 10_000;
    t.started_at = "2023-11-14T22:13:20.000000Z".to_owned();
    t.offset_s = ordinal as f64 * 1e-5;
    t.recorded = true;
    t.timeline = vec![TimelineSpan::new(
        "parse",
        latency_ns / 20,
        latency_ns / 10 * 9,
        latency_ns / 10 * 9,
        1,
        None,
    )];
    t.fields = vec![TickField::new("seq", TickFieldValue::U64(ordinal - 1))];
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

/// `1234567` as `1,234,567`, as the summary prints counts.
pub fn thousands(value: u64) -> String {
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
