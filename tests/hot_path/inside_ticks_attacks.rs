//! Attacks on the time inside ticks per thread (issue 25): ticks made on one thread and closed
//! on another, thread churn between harvests, more threads than a run keeps apart, a thread in
//! two runs, two collectors in one subscriber, intervals and their merge, a thread that exits
//! before the stop, and broken `inside_ticks.threads` entries in JSON.
//!
//! The relations asserted hold on a loaded machine: per-thread ticks sum to `ticks.count`
//! (exact), per-thread busy time sums to `busy_s`, every figure is finite and non-negative, a
//! thread's `timed` is at most its `ticks`; on a mock clock, busy times are exact. CPU figures
//! are compared with the thread's own reading of its CPU time, with margins no preemption can
//! break.

use std::sync::mpsc;
use std::time::Duration;

use tickprof::{InsideTicks, MetricsCollector, Report, Sampling, Shards, ThreadInsideTicks};
use tracing::{Dispatch, Level, span};
use tracing_subscriber::prelude::*;

use super::mock_clock::{advance, collector};

/// A collector on `clock` with full sampling, `warmup` warm-up ticks, no resource sampling.
fn mock_collector(clock: quanta::Clock, warmup: u64) -> MetricsCollector {
    MetricsCollector::builder()
        .clock(clock)
        .sampling(Sampling::full())
        .warmup_ticks(warmup)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

fn dispatch(collector: &MetricsCollector) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(collector.layer()))
}

/// Runs `body` on a new thread named `name` under `dispatch`, and waits for it.
fn on_thread<R: Send>(name: &str, dispatch: &Dispatch, body: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn_scoped(scope, || tracing::dispatcher::with_default(dispatch, body))
            .unwrap()
            .join()
            .unwrap()
    })
}

/// `n` ticks of `ns` each on the mock clock, with time between them.
fn mock_ticks(mock: &quanta::Mock, n: u64, ns: u64) {
    for _ in 0..n {
        span!(Level::INFO, "tick").in_scope(|| advance(mock, ns));
        advance(mock, 7_000);
    }
}

fn inside(report: &Report) -> &InsideTicks {
    report
        .inside_ticks
        .as_ref()
        .unwrap_or_else(|| panic!("no inside_ticks in {}", report.summary()))
}

/// The relations every report's per-thread figures keep, whatever ran: finite, non-negative
/// figures; `timed ≤ ticks`; the threads' busy time is the run's (when every tick was on a
/// kept thread), and their ticks are the run's count.
fn assert_consistent(report: &Report, context: &str) {
    let inside = inside(report);
    let threads = &inside.threads;
    assert!(!threads.is_empty(), "{context}: no threads: {inside:?}");
    for t in threads {
        assert!(
            t.busy_s.is_finite() && t.busy_s >= 0.0,
            "{context}: busy of {t:?}"
        );
        assert!(
            t.wall_fraction.is_finite() && t.wall_fraction >= 0.0,
            "{context}: {t:?}"
        );
        assert!(
            t.timed <= t.ticks,
            "{context}: a thread timed more ticks than it counted: {t:?}"
        );
        if let Some(cpu) = t.cpu_time_s {
            assert!(cpu.is_finite() && cpu >= 0.0, "{context}: {t:?}");
        }
    }
    let ticks: u64 = threads.iter().map(|t| t.ticks).sum();
    assert_eq!(ticks, report.ticks.count, "{context}: {threads:?}");
    let busy: f64 = threads.iter().map(|t| t.busy_s).sum();
    assert!(
        (busy - inside.busy_s).abs() <= 1e-9 * inside.busy_s.max(1e-9),
        "{context}: threads' {busy} vs the run's {inside:?}"
    );
    assert!(inside.busy_s.is_finite() && inside.busy_s > 0.0);
}

fn thread<'a>(report: &'a Report, name: &str) -> &'a ThreadInsideTicks {
    inside(report)
        .threads
        .iter()
        .find(|t| t.thread == name)
        .unwrap_or_else(|| panic!("no thread {name}: {:?}", report.inside_ticks))
}

// ---------------------------------------------------------------------------------------------
// Ticks made on one thread and closed on another.
// ---------------------------------------------------------------------------------------------

/// A tick span is counted where it is made and timed where it closes: a tick made on `main`,
/// run and closed on `worker` (a span handed to a worker thread, a future `.instrument`ed on
/// one thread and polled to completion on another) must still count its own time in the run's
/// busy time. Here 10 ticks of 1 µs run on `main` and 10 ticks of 100 µs made on `main` run on
/// `worker`: 1,010 µs inside ticks, exact on the mock clock (the pooled estimate, 20 ticks ×
/// their 50.5 µs mean, says so). Per thread, `main` counts 20 ticks at its 1 µs mean (20 µs)
/// and `worker` 0 ticks with 10 timed (0 µs): the run's busy time is 50 times too small.
#[test]
#[ignore = "bug: a tick made on one thread and closed on another is counted on the first and \
            timed on the second; the per-thread estimate drops its time (busy_s 20 µs, not \
            1,010 µs)"]
fn a_tick_closed_on_another_thread_keeps_its_time() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = collector(clock);
    let dispatch = dispatch(&collector);
    collector.start_profiling("moved").unwrap();
    let made: Vec<tracing::Span> = tracing::dispatcher::with_default(&dispatch, || {
        mock_ticks(&mock, 10, 1_000);
        (0..10).map(|_| span!(Level::INFO, "tick")).collect()
    });
    on_thread("worker", &dispatch, || {
        for tick in made {
            tick.in_scope(|| advance(&mock, 100_000));
            drop(tick);
            advance(&mock, 7_000);
        }
    });
    let report = collector.stop_profiling().unwrap();
    // The run's own figures: every tick counted and timed.
    assert_eq!(report.ticks.count, 20);
    assert_eq!(report.ticks.latency.samples, 20);
    let pooled = InsideTicks::estimate(&report, None).unwrap();
    assert!((pooled.busy_s - 1_010e-6).abs() < 1e-3 * 1_010e-6, "{pooled:?}");
    let inside = inside(&report);
    assert!(
        (inside.busy_s - 1_010e-6).abs() < 1e-3 * 1_010e-6,
        "busy {} s, not 1,010 µs: {inside:?}",
        inside.busy_s
    );
    assert_consistent(&report, "moved");
}

/// The same with warm-up ticks: 5 warm-up ticks made on `main` (its first 5) run 100 µs each
/// on `worker`, then `main` runs 10 ticks of 50 µs. The run spent 1,000 µs in ticks (the pooled
/// estimate: 500 µs of warm-up measured + 10 × 50 µs). Per thread, `worker` has the 5 warm-up
/// ticks' measured 500 µs (0 ticks counted) and `main` counts 15 ticks, none of them warm-up
/// ticks of its records, at its 50 µs mean: the warm-up ticks count twice, 1,250 µs.
#[test]
#[ignore = "bug: warm-up ticks made on one thread and closed on another count twice: measured \
            on the closing thread, and at the mean on the making thread (busy_s 1,250 µs, not \
            1,000 µs)"]
fn warm_up_ticks_closed_on_another_thread_count_once() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = mock_collector(clock, 5);
    let dispatch = dispatch(&collector);
    collector.start_profiling("moved_warmup").unwrap();
    let made: Vec<tracing::Span> = tracing::dispatcher::with_default(&dispatch, || {
        (0..5).map(|_| span!(Level::INFO, "tick")).collect()
    });
    on_thread("worker", &dispatch, || {
        for tick in made {
            tick.in_scope(|| advance(&mock, 100_000));
        }
    });
    tracing::dispatcher::with_default(&dispatch, || mock_ticks(&mock, 10, 50_000));
    let report = collector.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 15);
    assert_eq!(report.ticks.warmup.as_ref().map(|w| w.count), Some(5));
    assert_eq!(report.ticks.latency.samples, 10);
    let pooled = InsideTicks::estimate(&report, None).unwrap();
    assert!((pooled.busy_s - 1_000e-6).abs() < 1e-3 * 1_000e-6, "{pooled:?}");
    let inside = inside(&report);
    assert!(
        (inside.busy_s - 1_000e-6).abs() < 1e-3 * 1_000e-6,
        "busy {} s, not 1,000 µs: {inside:?}",
        inside.busy_s
    );
    assert_consistent(&report, "moved_warmup");
}

// ---------------------------------------------------------------------------------------------
// CPU time per thread: intervals, threads that exit.
// ---------------------------------------------------------------------------------------------

/// This thread's time on a CPU so far (`/proc/thread-self/schedstat`), ns.
#[cfg(target_os = "linux")]
fn own_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// Spins until this thread has had `ns` more of CPU time.
#[cfg(target_os = "linux")]
fn burn_cpu(ns: u64) {
    let until = own_cpu_ns() + ns;
    while own_cpu_ns() < until {
        std::hint::black_box((0..1_000).sum::<u64>());
    }
}

/// Takes snapshots until `done` says yes of one (the sampler read what the test waits for);
/// panics after 60 s.
#[cfg(target_os = "linux")]
fn snapshot_until(collector: &MetricsCollector, done: impl Fn(&Report) -> bool) -> Report {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let snapshot = collector.snapshot().unwrap();
        if done(&snapshot) {
            return snapshot;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sampler never read it: {:?}",
            snapshot.inside_ticks
        );
        // Waiting for the sampler thread's next read, not standing in for work.
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A thread's CPU time as a report states it (`None` if not listed or not read).
fn cpu_of(report: &Report, name: &str) -> Option<f64> {
    report
        .inside_ticks
        .as_ref()?
        .threads
        .iter()
        .find(|t| t.thread == name)?
        .cpu_time_s
}

/// An interval's figures are the interval's: a thread's CPU time in interval 2 is what it
/// spent in interval 2, not since the run's start. The thread burns 150 ms in a tick in
/// interval 1 (the sampler has read all of it before interval 1 ends), then ticks once in
/// interval 2: interval 2's CPU time for it is at most its own CPU time since that read.
/// Merged, the intervals' CPU times are at most the run's.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "bug: an interval's per-thread cpu_time_s is the thread's CPU since the run's start \
            (the sampler's windows, all of them), not the interval's: interval 2 says ≥ 150 ms \
            for a thread that spent about 1 ms in it, and merged intervals count it again"]
fn an_intervals_thread_cpu_time_is_the_intervals() {
    const BURN_NS: u64 = 150_000_000;
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .sample_interval(Duration::from_millis(10))
        .build()
        .unwrap();
    let dispatch = dispatch(&collector);
    collector.start_profiling("interval_cpu").unwrap();
    let name = std::thread::current().name().unwrap().to_owned();
    let (first, second, own_between_ns) = tracing::dispatcher::with_default(&dispatch, || {
        span!(Level::INFO, "tick").in_scope(|| burn_cpu(BURN_NS));
        // A read after the burn: every later window holds only what follows it.
        snapshot_until(&collector, |s| {
            cpu_of(s, &name).is_some_and(|cpu| cpu >= BURN_NS as f64 / 1e9)
        });
        let from = own_cpu_ns();
        let first = collector.interval().unwrap();
        span!(Level::INFO, "tick").in_scope(|| burn_cpu(1_000_000));
        let second = collector.interval().unwrap();
        (first, second, own_cpu_ns() - from)
    });
    let report = collector.stop_profiling().unwrap();
    for (part, context) in [(&first, "interval 1"), (&second, "interval 2")] {
        assert_eq!(part.ticks.count, 1, "{context}");
        assert_consistent(part, context);
    }
    let second_cpu = cpu_of(&second, &name).expect("interval 2 has the thread's CPU time");
    // What it spent since the read before interval 1 ended, and 5 ms for the sampler's reads.
    let bound_s = (own_between_ns as f64 + 5e6) / 1e9;
    assert!(
        second_cpu <= bound_s,
        "interval 2: {second_cpu} s of CPU for a thread that spent {} s in it",
        own_between_ns as f64 / 1e9
    );
    let merged = Report::merge(&[first, second], Shards::Sequential).unwrap();
    let merged_cpu = cpu_of(&merged, &name).unwrap();
    let run_cpu = cpu_of(&report, &name).unwrap();
    assert!(
        merged_cpu <= run_cpu + 5e-3,
        "merged intervals: {merged_cpu} s of CPU, the run: {run_cpu} s"
    );
}

/// A thread that exits before the stop: the docs say its CPU time is `-` (null), since the
/// sampler's closing read cannot read it. If a figure is given, it must be all of its CPU
/// time in the run, not what the sampler read before it exited: it ticks once (read by the
/// sampler, 500 ms apart), then burns 100 ms and exits before the next read.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "bug (docs or code): a thread that exits before the stop keeps the CPU time of its \
            last periodic read (docs/sampling.md says `-`): up to a sample interval of its CPU \
            is missing, its cpu_fraction overstated"]
fn a_thread_that_exits_before_the_stop_has_no_partial_cpu_time() {
    const BURN_NS: u64 = 100_000_000;
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .sample_interval(Duration::from_millis(500))
        .build()
        .unwrap();
    let dispatch = dispatch(&collector);
    collector.start_profiling("exits_early").unwrap();
    let (read_tx, read_rx) = mpsc::channel::<()>();
    let own_ns = std::thread::scope(|scope| {
        let d = dispatch.clone();
        let worker = std::thread::Builder::new()
            .name("short-lived".into())
            .spawn_scoped(scope, move || {
                tracing::dispatcher::with_default(&d, || {
                    span!(Level::INFO, "tick").in_scope(|| burn_cpu(1_000_000));
                });
                read_rx.recv().unwrap();
                burn_cpu(BURN_NS);
                // Began after the start: all its CPU time is the run's.
                own_cpu_ns()
            })
            .unwrap();
        snapshot_until(&collector, |s| cpu_of(s, "short-lived").is_some());
        read_tx.send(()).unwrap();
        worker.join().unwrap()
    });
    let report = collector.stop_profiling().unwrap();
    assert_consistent(&report, "exits_early");
    let t = thread(&report, "short-lived");
    assert_eq!(t.ticks, 1);
    if let Some(cpu) = t.cpu_time_s {
        let own_s = own_ns as f64 / 1e9;
        assert!(
            cpu >= own_s - 5e-3,
            "{cpu} s of CPU for a thread that spent {own_s} s: {t:?}"
        );
    }
}
