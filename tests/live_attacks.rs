//! Adversarial checks of the live engines: runs restarted while the previous run's writers
//! finish, writers sharing a path, collectors dropped mid-run, full disks, and intervals taken
//! from several threads while threads tick, exit and are replaced.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tickprof::interval_log::{TICK_TAG, read_window};
use tickprof::{Error, MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

/// Tests here count the process's threads and share a tmpfs mount: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn tick() {
    let _tick = tracing::info_span!("tick").entered();
    let _parse = tracing::info_span!("parse").entered();
    // A span inside a component: the component's busy time is compensated for it.
    let _inner = tracing::info_span!("inner").entered();
    std::hint::black_box(0);
}

/// Ticks on a thread of its own under `dispatch` until the returned flag is set.
fn ticker(dispatch: &tracing::Dispatch) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let dispatch = dispatch.clone();
    let handle = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || {
            while !flag.load(Ordering::Relaxed) {
                tick();
            }
        });
    });
    (stop, handle)
}

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|comm| comm.starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}

/// Waits up to 2 s for no thread named `prefix` to be left.
fn no_thread_left(prefix: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if threads_named(prefix) == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    threads_named(prefix) == 0
}

/// A run started by another handle the moment `stop_profiling` releases the run must find its
/// interval log and checkpoint to itself: the previous run's last interval is not appended to
/// the new run's log (same path), and the previous run's final report does not land over the
/// new run's.
#[test]
fn a_run_restarted_during_a_stop_owns_its_files() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let template = |ext: &str| dir.path().join(format!("{{name}}.{ext}"));
    for round in 0..20 {
        let collector = MetricsCollector::builder()
            .sampling(Sampling::full())
            .warmup_ticks(0)
            .measure_overhead(false)
            .without_resource_sampling()
            .checkpoint(template("json").to_str().unwrap(), Duration::from_millis(1))
            .interval_log(template("hlog").to_str().unwrap(), Duration::from_millis(1))
            .build()
            .unwrap();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        let (stop, handle) = ticker(&dispatch);
        collector.start_profiling("same").unwrap();
        std::thread::sleep(Duration::from_millis(30));
        let other = collector.clone();
        let restarter = std::thread::spawn(move || {
            loop {
                match other.start_profiling("same") {
                    Ok(()) => return,
                    Err(Error::AlreadyProfiling(_)) => std::hint::spin_loop(),
                    Err(error) => panic!("{error}"),
                }
            }
        });
        let first = collector.stop_profiling().unwrap();
        restarter.join().unwrap();
        std::thread::sleep(Duration::from_millis(10));
        let second = collector.stop_profiling().unwrap();
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert!(first.ticks.count > 0 && second.ticks.count > 0);

        let log = dir.path().join("same.hlog");
        let window = read_window(&log, None, None)
            .unwrap_or_else(|e| panic!("round {round}: the second run's log: {e}"));
        assert_eq!(
            window[TICK_TAG].histogram.len(),
            second.ticks.latency.samples,
            "round {round}: the log holds the second run's ticks, and only them"
        );
        let saved = Report::load(dir.path().join("same.json")).unwrap();
        assert!(saved.part.is_none(), "round {round}: a final report");
        assert_eq!(
            saved.ticks.count, second.ticks.count,
            "round {round}: the second run's final report is the one on disk"
        );
    }
}

/// Checkpoints are renamed over their path: an interval log on the same path would be
/// replaced by the first checkpoint, and go on writing to a file no longer there.
#[test]
fn a_checkpoint_and_an_interval_log_on_one_path_is_a_config_error() {
    let error = MetricsCollector::builder()
        .checkpoint("out/{name}.dat", Duration::from_secs(1))
        .interval_log("out/{name}.dat", Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Config(m) if m.contains("out/{name}.dat")),
        "{error}"
    );
    // Two templates that are one file for this run's name.
    let dir = tempfile::tempdir().unwrap();
    let collector = MetricsCollector::builder()
        .measure_overhead(false)
        .without_resource_sampling()
        .checkpoint(
            dir.path().join("{name}.dat").to_str().unwrap(),
            Duration::from_secs(1),
        )
        .interval_log(
            dir.path().join("x.dat").to_str().unwrap(),
            Duration::from_secs(1),
        )
        .build()
        .unwrap();
    let error = collector.start_profiling("x").unwrap_err();
    assert!(
        matches!(&error, Error::Config(m) if m.contains("x.dat")),
        "{error}"
    );
    assert!(!collector.is_profiling());
    collector.start_profiling("y").unwrap();
    collector.stop_profiling().unwrap();
}

/// Dropping every handle of a collector mid-run, with both writers on a 1 ms period, stops
/// the writers (no thread left behind) and panics nowhere.
#[test]
fn dropping_every_handle_mid_run_stops_the_writers() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..20 {
        let collector = MetricsCollector::builder()
            .measure_overhead(false)
            .checkpoint(
                dir.path().join("{name}.json").to_str().unwrap(),
                Duration::from_millis(1),
            )
            .interval_log(
                dir.path().join("{name}.hlog").to_str().unwrap(),
                Duration::from_millis(1),
            )
            .build()
            .unwrap();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        let (stop, handle) = ticker(&dispatch);
        collector.start_profiling("dropped").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        drop(collector);
        std::thread::sleep(Duration::from_millis(2));
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
    }
    assert!(
        no_thread_left("tickprof-checkp"),
        "a checkpoint writer is left"
    );
    assert!(
        no_thread_left("tickprof-hlog"),
        "an interval log writer is left"
    );
    assert!(no_thread_left("tickprof-sampl"), "a sampler is left");
}

/// With the calibration on and sampled ticks, each report shifts the busy times of components
/// that hold spans by its own in-run estimate of a nested span's cost: the interval log's
/// `tick` and leaf components merge back to the final report exactly, a component holding
/// spans in counts only (what the README and `interval()` now say).
#[test]
fn a_sampled_calibrated_log_merges_back_in_ticks_leaves_and_counts() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(2))
        .warmup_ticks(0)
        .without_resource_sampling()
        .interval_log(
            dir.path().join("{name}.hlog").to_str().unwrap(),
            Duration::from_millis(50),
        )
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (stop, handle) = ticker(&dispatch);
    collector.start_profiling("calibrated").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let report = collector.stop_profiling().unwrap();
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    assert!(
        report.overhead.nested_span_in_run_ns.is_some(),
        "the shift applies"
    );
    let window = read_window(dir.path().join("calibrated.hlog"), None, None).unwrap();
    let decoded = |stats: &tickprof::LatencyStats| stats.decode_histogram("h").unwrap();
    assert!(window[TICK_TAG].histogram == decoded(&report.ticks.latency));
    assert!(window["inner"].histogram == decoded(&report.components["inner"].latency));
    assert_eq!(
        window["parse"].histogram.len(),
        report.components["parse"].count
    );
}
