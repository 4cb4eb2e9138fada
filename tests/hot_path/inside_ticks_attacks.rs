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
#[cfg(target_os = "linux")]
use super::thread_cpu::{burn_cpu, own_cpu_ns};

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
/// and `worker` 0 ticks with 10 timed (0 µs) before the fix: the run's busy time was 50 times
/// too small. A timed tick's count now goes with its record (`ThreadTicks::moved`).
#[test]
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
    assert!(
        (pooled.busy_s - 1_010e-6).abs() < 1e-3 * 1_010e-6,
        "{pooled:?}"
    );
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
/// ticks of its records, at its 50 µs mean, before the fix: the warm-up ticks counted twice,
/// 1,250 µs.
#[test]
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
    assert!(
        (pooled.busy_s - 1_000e-6).abs() < 1e-3 * 1_000e-6,
        "{pooled:?}"
    );
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

/// A thread that exits before the stop (spawned, joined, then the stop: the usual backtest)
/// has all of its CPU time in the run, not what the sampler read before it exited: it reads
/// its own as it exits. It ticks once (read by the sampler, 500 ms apart), then burns 100 ms
/// and exits before the next read.
#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_exits_before_the_stop_has_its_whole_cpu_time() {
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
    let cpu = t.cpu_time_s.expect("its CPU time, read as it exited");
    let own_s = own_ns as f64 / 1e9;
    // Its exit reading comes after its own last one: a little more, never less.
    assert!(
        cpu >= own_s - 1e-3 && cpu <= own_s + 0.05,
        "{cpu} s of CPU for a thread that spent {own_s} s: {t:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Thread churn, many threads, runs and collectors.
// ---------------------------------------------------------------------------------------------

/// Threads one after another (each takes over the home the previous one left), with a
/// snapshot or an interval between some takeovers and none between others, warm-up 0 and
/// full sampling: each thread's ticks and busy time are exactly its own (mock clock), in the
/// final report and summed over the intervals.
#[test]
fn churn_with_harvests_between_takeovers_keeps_each_threads_ticks_exact() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = mock_collector(clock, 0);
    let dispatch = dispatch(&collector);
    collector.start_profiling("churn").unwrap();
    let mut intervals = Vec::new();
    for i in 0..12_u64 {
        // Thread i: i + 1 ticks of (i + 1) µs.
        on_thread(&format!("t{i}"), &dispatch, || {
            mock_ticks(&mock, i + 1, (i + 1) * 1_000);
        });
        match i % 4 {
            0 => assert_consistent(&collector.snapshot().unwrap(), "snapshot"),
            1 => intervals.push(collector.interval().unwrap()),
            _ => {} // two takeovers with no harvest between
        }
    }
    intervals.push(collector.interval().unwrap());
    let report = collector.stop_profiling().unwrap();
    assert_consistent(&report, "churn");
    for i in 0..12_u64 {
        let t = thread(&report, &format!("t{i}"));
        assert_eq!((t.ticks, t.timed), (i + 1, i + 1), "{t:?}");
        let expected_s = ((i + 1) * (i + 1) * 1_000) as f64 / 1e9;
        assert!(
            (t.busy_s - expected_s).abs() <= 1e-3 * expected_s,
            "{t:?}: {expected_s}"
        );
    }
    // Each interval is consistent; summed over them, each thread's ticks are the run's.
    for part in intervals.iter().filter(|p| p.ticks.count > 0) {
        assert_consistent(part, "interval");
    }
    let merged = Report::merge(&intervals, Shards::Sequential).unwrap();
    assert_eq!(merged.ticks.count, report.ticks.count);
    for i in 0..12_u64 {
        let name = format!("t{i}");
        let in_merged = thread(&merged, &name);
        assert_eq!(in_merged.run.as_deref(), Some("churn"));
        assert_eq!(in_merged.ticks, thread(&report, &name).ticks, "{name}");
    }
    let m = inside(&merged);
    let sum: f64 = m.threads.iter().map(|t| t.busy_s).sum();
    assert!((sum - m.busy_s).abs() <= 1e-9 * m.busy_s, "{m:?}");
}

/// More than 16 owners of one home between two harvests: the later ones add up in one entry,
/// `(other threads)`; counts stay exact.
#[test]
fn many_owners_of_one_home_between_harvests_add_up() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = mock_collector(clock, 0);
    let dispatch = dispatch(&collector);
    collector.start_profiling("owners").unwrap();
    for i in 0..40_u64 {
        on_thread(&format!("o{i}"), &dispatch, || mock_ticks(&mock, 3, 2_000));
    }
    let report = collector.stop_profiling().unwrap();
    assert_consistent(&report, "owners");
    let threads = &inside(&report).threads;
    assert_eq!(report.ticks.count, 120);
    assert!(threads.len() <= 18, "{}", threads.len());
    let others = thread(&report, "(other threads)");
    assert_eq!(others.tid, None);
    assert_eq!(others.ticks % 3, 0, "{others:?}");
    for t in threads {
        assert!(
            (t.busy_s - t.ticks as f64 * 2e-6).abs() <= 1e-3 * t.busy_s,
            "{t:?}"
        );
    }
}

/// 300 threads with a snapshot every 8 (so no home holds more than 8 owners between two
/// harvests): the first 256 threads are kept apart, the rest add up in `(other threads)`.
#[test]
fn more_than_256_threads_keep_256_apart_and_add_up_the_rest() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = mock_collector(clock, 0);
    let dispatch = dispatch(&collector);
    collector.start_profiling("many").unwrap();
    for i in 0..300_u64 {
        on_thread(&format!("m{i:03}"), &dispatch, || {
            mock_ticks(&mock, 2, 1_000)
        });
        if i % 8 == 7 {
            collector.snapshot().unwrap();
        }
    }
    let report = collector.stop_profiling().unwrap();
    assert_consistent(&report, "many");
    let threads = &inside(&report).threads;
    assert_eq!(threads.len(), 257, "256 kept apart and the others");
    assert_eq!(thread(&report, "(other threads)").ticks, 44 * 2);
    let summary = report.summary();
    assert!(summary.contains("257 ticking"), "{summary}");
    assert!(summary.contains("and 249 more threads"), "{summary}");
    // The JSON round trip keeps them all.
    let back =
        Report::from_json_str(&report.to_json_string(), std::path::Path::new("many.json")).unwrap();
    assert_eq!(back.inside_ticks, report.inside_ticks);
}

/// A thread that ticks in two runs of one collector: each report has that run's ticks only,
/// even with a tick open across the stop and closed in the next run.
#[test]
fn a_thread_in_two_runs_has_each_runs_ticks() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = mock_collector(clock, 0);
    let dispatch = dispatch(&collector);
    let name = std::thread::current().name().unwrap().to_owned();
    tracing::dispatcher::with_default(&dispatch, || {
        collector.start_profiling("first").unwrap();
        mock_ticks(&mock, 5, 3_000);
        let open = span!(Level::INFO, "tick").entered();
        advance(&mock, 1_000);
        let first = collector.stop_profiling().unwrap();
        collector.start_profiling("second").unwrap();
        advance(&mock, 1_000);
        drop(open);
        mock_ticks(&mock, 2, 5_000);
        let second = collector.stop_profiling().unwrap();
        assert_consistent(&first, "first");
        assert_consistent(&second, "second");
        assert_eq!(thread(&first, &name).ticks, first.ticks.count);
        assert_eq!(thread(&second, &name).ticks, 2);
        assert!((thread(&second, &name).busy_s - 10e-6).abs() < 1e-8);
    });
}

/// Two collectors (two tickprof layers) in one subscriber, three threads ticking at once:
/// each collector's report has each thread's exact ticks.
#[test]
fn two_collectors_in_one_subscriber_count_each_thread_apart() {
    let make = || {
        MetricsCollector::builder()
            .sampling(Sampling::one_in(5))
            .warmup_ticks(10)
            .measure_overhead(false)
            .without_resource_sampling()
            .build()
            .unwrap()
    };
    let (a, b) = (make(), make());
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(a.layer())
            .with(b.layer()),
    );
    a.start_profiling("a").unwrap();
    b.start_profiling("b").unwrap();
    std::thread::scope(|scope| {
        for (name, n) in [("x", 500_u64), ("y", 1_500), ("z", 7)] {
            let dispatch = dispatch.clone();
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn_scoped(scope, move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        for i in 0..n {
                            span!(Level::INFO, "tick").in_scope(|| std::hint::black_box(i));
                        }
                    })
                })
                .unwrap();
        }
    });
    // `a` snapshots once, `b` never: their harvests are their own.
    a.snapshot().unwrap();
    for report in [a.stop_profiling().unwrap(), b.stop_profiling().unwrap()] {
        assert_consistent(&report, &report.name);
        let mut counts: Vec<(&str, u64)> = inside(&report)
            .threads
            .iter()
            .map(|t| (t.thread.as_str(), t.ticks))
            .collect();
        counts.sort();
        assert_eq!(
            counts,
            [("x", 500), ("y", 1_500), ("z", 7)],
            "{}",
            report.name
        );
    }
}

/// A tick open across a snapshot (counted before it, timed after it) and a sampled run where
/// one thread times none: figures stay finite and consistent, `timed ≤ ticks`.
#[test]
fn a_tick_open_across_a_snapshot_and_a_thread_that_times_none() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(1_000))
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = dispatch(&collector);
    collector.start_profiling("open").unwrap();
    let (opened_tx, opened_rx) = mpsc::channel::<()>();
    let (snapped_tx, snapped_rx) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let d = dispatch.clone();
        std::thread::Builder::new()
            .name("busy".into())
            .spawn_scoped(scope, move || {
                tracing::dispatcher::with_default(&d, || {
                    for i in 0..20_000_u64 {
                        span!(Level::INFO, "tick").in_scope(|| std::hint::black_box(i));
                    }
                    let open = span!(Level::INFO, "tick").entered();
                    opened_tx.send(()).unwrap();
                    snapped_rx.recv().unwrap();
                    drop(open);
                })
            })
            .unwrap();
        opened_rx.recv().unwrap();
        let snapshot = collector.snapshot().unwrap();
        snapped_tx.send(()).unwrap();
        assert_consistent(&snapshot, "snapshot");
        assert_eq!(thread(&snapshot, "busy").ticks, 20_001);
    });
    on_thread("rare", &dispatch, || {
        for i in 0..3_u64 {
            span!(Level::INFO, "tick").in_scope(|| std::hint::black_box(i));
        }
    });
    let report = collector.stop_profiling().unwrap();
    assert_consistent(&report, "open");
    assert_eq!(thread(&report, "busy").ticks, 20_001);
    assert_eq!(thread(&report, "rare").ticks, 3);
}

// ---------------------------------------------------------------------------------------------
// Reports on disk: broken entries, old reports, merges.
// ---------------------------------------------------------------------------------------------

/// A report with two ticking threads, on the mock clock.
fn two_thread_report(name: &str) -> Report {
    let (clock, mock) = quanta::Clock::mock();
    let collector = mock_collector(clock, 0);
    let dispatch = dispatch(&collector);
    collector.start_profiling(name).unwrap();
    on_thread("feed", &dispatch, || mock_ticks(&mock, 10, 4_000));
    on_thread("engine", &dispatch, || mock_ticks(&mock, 30, 1_000));
    collector.stop_profiling().unwrap()
}

/// Broken `inside_ticks.threads` entries fail to load with an error naming the file, the
/// field and (where it is a number) the value.
#[test]
fn broken_thread_entries_fail_to_load_naming_file_and_field() {
    let report = two_thread_report("json");
    let good: serde_json::Value = serde_json::from_str(&report.to_json_string()).unwrap();
    let path = std::path::Path::new("runs/broken.json");
    let cases: [(&str, serde_json::Value, &[&str]); 6] = [
        (
            "missing thread",
            serde_json::json!({"ticks": 1}),
            &["thread"],
        ),
        ("negative ticks", serde_json::json!(-1), &["ticks"]),
        ("ticks as text", serde_json::json!("ten"), &["ticks"]),
        ("tid as text", serde_json::json!("7"), &["tid"]),
        (
            "busy below 0",
            serde_json::json!(-0.25),
            &["busy_s", "-0.25"],
        ),
        (
            "cpu below 0",
            serde_json::json!(-3.0),
            &["cpu_time_s", "-3"],
        ),
    ];
    for (what, value, wanted) in cases {
        let mut json = good.clone();
        let entry = &mut json["inside_ticks"]["threads"][1];
        match what {
            "missing thread" => *entry = value,
            "negative ticks" | "ticks as text" => entry["ticks"] = value,
            "tid as text" => entry["tid"] = value,
            "busy below 0" => entry["busy_s"] = value,
            _ => entry["cpu_time_s"] = value,
        }
        let err = Report::from_json_str(&json.to_string(), path)
            .map(|_| ())
            .expect_err(what)
            .to_string();
        assert!(err.contains("runs/broken.json"), "{what}: {err}");
        assert!(err.contains("inside_ticks.threads[1]"), "{what}: {err}");
        for w in wanted {
            assert!(err.contains(w), "{what}: {err}");
        }
    }
    // `threads` not a list.
    let mut json = good.clone();
    json["inside_ticks"]["threads"] = serde_json::json!({"main": 1});
    let err = Report::from_json_str(&json.to_string(), path)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("runs/broken.json") && err.contains("inside_ticks.threads"),
        "{err}"
    );
}

/// Threads that claim more ticks than the run counted cannot come from tickprof (each
/// thread's ticks are part of the run's, merged or not): the loader refuses them, naming the
/// file, the field and both counts, as it refuses a negative busy time.
#[test]
fn threads_with_more_ticks_than_the_run_fail_to_load() {
    let report = two_thread_report("json");
    assert_eq!(report.ticks.count, 40);
    let mut json: serde_json::Value = serde_json::from_str(&report.to_json_string()).unwrap();
    // The busiest thread, `feed` (10 ticks of 4 µs), now claims 10⁹; `engine` has 30.
    json["inside_ticks"]["threads"][0]["ticks"] = serde_json::json!(1_000_000_000_u64);
    let loaded = Report::from_json_str(&json.to_string(), std::path::Path::new("inflated.json"));
    let err = loaded.map(|_| ()).expect_err("loaded").to_string();
    for wanted in ["inflated.json", "inside_ticks.threads", "1000000030", "40"] {
        assert!(err.contains(wanted), "{wanted}: {err}");
    }
    // Ticks that overflow when added up.
    json["inside_ticks"]["threads"][0]["ticks"] = serde_json::json!(u64::MAX);
    let loaded = Report::from_json_str(&json.to_string(), std::path::Path::new("inflated.json"));
    let err = loaded.map(|_| ()).expect_err("loaded").to_string();
    assert!(err.contains("inside_ticks.threads"), "{err}");
}

/// An old report (schema 6 `inside_ticks` without `threads`) loads, prints, and merges with
/// a new one: the merged threads are the new report's, labelled with its run, and the merged
/// busy time adds both.
#[test]
fn an_old_report_without_threads_loads_and_merges() {
    let new = two_thread_report("new");
    let mut json: serde_json::Value =
        serde_json::from_str(&two_thread_report("old").to_json_string()).unwrap();
    json["inside_ticks"]
        .as_object_mut()
        .unwrap()
        .remove("threads");
    let old = Report::from_json_str(&json.to_string(), std::path::Path::new("old.json")).unwrap();
    assert!(inside(&old).threads.is_empty());
    assert!(!old.summary().contains("per thread"), "{}", old.summary());
    let merged = Report::merge(&[old.clone(), new.clone()], Shards::Sequential).unwrap();
    let m = inside(&merged);
    assert!((m.busy_s - inside(&old).busy_s - inside(&new).busy_s).abs() < 1e-12);
    assert_eq!(m.threads.len(), 2, "{m:?}");
    assert!(m.threads.iter().all(|t| t.run.as_deref() == Some("new")));
    let summary = merged.summary();
    assert!(summary.contains("new/feed"), "{summary}");
}

/// Two runs merged side by side, each with threads named alike (`feed`, `engine`): four rows,
/// each labelled with its run, busy times and ticks each its own run's; merging the merged
/// report with a third run keeps the labels.
#[test]
fn merged_runs_keep_their_threads_apart_and_relabel_nothing() {
    let (a, b, c) = (
        two_thread_report("a"),
        two_thread_report("b"),
        two_thread_report("c"),
    );
    let ab = Report::merge(&[a.clone(), b.clone()], Shards::Parallel).unwrap();
    let m = inside(&ab);
    assert_eq!(m.threads.len(), 4, "{m:?}");
    for (run, report) in [("a", &a), ("b", &b)] {
        for name in ["feed", "engine"] {
            let t = m
                .threads
                .iter()
                .find(|t| t.run.as_deref() == Some(run) && t.thread == name)
                .unwrap_or_else(|| panic!("{run}/{name}: {m:?}"));
            let own = thread(report, name);
            assert_eq!((t.ticks, t.timed, t.tid), (own.ticks, own.timed, own.tid));
            assert!((t.busy_s - own.busy_s).abs() < 1e-15);
        }
    }
    let abc = Report::merge(&[ab, c], Shards::Parallel).unwrap();
    let runs: std::collections::BTreeSet<&str> = inside(&abc)
        .threads
        .iter()
        .map(|t| t.run.as_deref().unwrap())
        .collect();
    assert_eq!(runs.into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    let sum: u64 = inside(&abc).threads.iter().map(|t| t.ticks).sum();
    assert_eq!(sum, abc.ticks.count);
}
