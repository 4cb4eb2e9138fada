//! Time inside ticks per thread: each ticking thread's tick count is exact, its busy time is
//! its own ticks' (a mock clock makes it exact), the run's figure is the threads' sum under any
//! sampling, and a thread's CPU time is its own over the run (none from before the start, all
//! of it from a thread that began after the start).

use std::sync::mpsc;
use std::time::Duration;

use tickprof::{MetricsCollector, Sampling};
use tracing::{Dispatch, Level, span};
use tracing_subscriber::prelude::*;

use super::mock_clock::{advance, collector};
#[cfg(target_os = "linux")]
use super::thread_cpu::{burn_cpu, next_clock_ticks, own_cpu_ns};

/// Runs `body` on a new thread named `name` under `dispatch`.
fn on_thread(name: &str, dispatch: &Dispatch, body: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn_scoped(scope, || tracing::dispatcher::with_default(dispatch, body))
            .unwrap()
            .join()
            .unwrap();
    });
}

#[test]
fn each_thread_has_its_own_ticks_and_busy_time_and_the_run_their_sum() {
    let (clock, mock) = quanta::Clock::mock();
    let collector = collector(clock);
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("by_thread").unwrap();
    // One after the other: the mock clock is shared, so each thread's ticks are exactly its own.
    let ticks = |n: u64, ns: u64| {
        for _ in 0..n {
            span!(Level::INFO, "tick").in_scope(|| advance(&mock, ns));
            advance(&mock, 10_000); // between ticks
        }
    };
    on_thread("quotes", &dispatch, || ticks(20, 1_000));
    // A snapshot between: harvests the home, and the run goes on.
    let snapshot = collector.snapshot().unwrap();
    let in_snapshot = &snapshot.inside_ticks.as_ref().unwrap().threads;
    assert_eq!(in_snapshot.len(), 1, "{in_snapshot:?}");
    assert_eq!(
        (in_snapshot[0].thread.as_str(), in_snapshot[0].ticks),
        ("quotes", 20)
    );
    on_thread("quotes", &dispatch, || ticks(10, 1_000));
    // Takes over the home the exited threads left, whose records hold theirs.
    on_thread("orders", &dispatch, || ticks(10, 5_000));
    let report = collector.stop_profiling().unwrap();
    let inside = report.inside_ticks.as_ref().unwrap();
    let threads: Vec<(&str, u64)> = inside
        .threads
        .iter()
        .map(|t| (t.thread.as_str(), t.ticks))
        .collect();
    // Busiest first: 10 × 5 µs, then 30 × 1 µs (to the histograms' 3 significant figures).
    // Two threads named `quotes` (one entry if the kernel gave the second the first's id).
    assert_eq!(threads[0], ("orders", 10), "busiest first: {threads:?}");
    assert!(threads[1..].iter().all(|(name, _)| *name == "quotes"));
    let quotes = &inside.threads[1..];
    assert_eq!(quotes.iter().map(|t| t.ticks).sum::<u64>(), 30);
    let quotes_s: f64 = quotes.iter().map(|t| t.busy_s).sum();
    // To the histograms' 3 significant figures.
    for (busy_s, expected_s) in [(inside.threads[0].busy_s, 50e-6), (quotes_s, 30e-6)] {
        assert!(
            (busy_s - expected_s).abs() <= 1e-3 * expected_s,
            "{inside:?}"
        );
    }
    let sum: f64 = inside.threads.iter().map(|t| t.busy_s).sum();
    assert!((inside.busy_s - sum).abs() < 1e-15, "{inside:?}");
    for t in &inside.threads {
        assert!(
            (t.wall_fraction - t.busy_s / report.total_time_s).abs() < 1e-12,
            "{t:?}"
        );
        assert_eq!(t.timed, t.ticks, "full sampling times every tick");
        assert_eq!(t.cpu_time_s, None, "no resource sampling");
        assert_eq!(t.run, None);
        #[cfg(target_os = "linux")]
        assert!(t.tid.is_some(), "{t:?}");
    }
    let summary = report.summary();
    assert!(summary.contains(" ticking threads; busy time"), "{summary}");
    for (name, busy) in [("orders", "50.0 µs"), ("quotes", "µs")] {
        let row = summary
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name}: {summary}"));
        assert!(row.contains(busy), "{row}");
    }
}

#[test]
fn with_sampling_the_run_is_still_the_threads_sum() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(7))
        .warmup_ticks(50)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("sampled_by_thread").unwrap();
    std::thread::scope(|scope| {
        for (name, n) in [("a", 3_000_u64), ("b", 7_000), ("c", 20)] {
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
    let report = collector.stop_profiling().unwrap();
    let inside = report.inside_ticks.as_ref().unwrap();
    let mut counts: Vec<(&str, u64)> = inside
        .threads
        .iter()
        .map(|t| (t.thread.as_str(), t.ticks))
        .collect();
    counts.sort();
    assert_eq!(counts, [("a", 3_000), ("b", 7_000), ("c", 20)]);
    let sum: f64 = inside.threads.iter().map(|t| t.busy_s).sum();
    assert!(
        (sum - inside.busy_s).abs() <= 1e-9 * inside.busy_s,
        "{sum} vs {inside:?}"
    );
    // `c` is all warm-up: nothing timed after it, its time is its warm-up ticks' measured time.
    let c = inside.threads.iter().find(|t| t.thread == "c").unwrap();
    assert_eq!(c.timed, 0);
    assert!(c.busy_s > 0.0);
}

/// A thread's CPU time counts from the start: 40 ms burned before it are left out, 40 ms
/// burned after it by a thread that began later are in, although neither had ticked yet.
#[cfg(target_os = "linux")]
#[test]
fn a_threads_cpu_time_is_its_own_over_the_run() {
    const BURN_NS: u64 = 40_000_000;
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .sample_interval(Duration::from_millis(10))
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (burned_tx, burned_rx) = mpsc::channel::<()>();
    let (stopped_tx, stopped_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<(&str, u64)>();
    let (ticked_tx, ticked_rx) = mpsc::channel::<()>();
    let tick_once = |dispatch: &Dispatch| {
        // 1 ms of CPU inside: never read as 0 ns.
        tracing::dispatcher::with_default(dispatch, || {
            span!(Level::INFO, "tick").in_scope(|| burn_cpu(1_000_000));
        });
    };
    std::thread::scope(|scope| {
        // Burns before the start, then ticks once after it.
        let (d, done, ticked) = (dispatch.clone(), done_tx.clone(), ticked_tx.clone());
        std::thread::Builder::new()
            .name("early".into())
            .spawn_scoped(scope, move || {
                burn_cpu(BURN_NS);
                burned_tx.send(()).unwrap();
                started_rx.recv().unwrap();
                let at_start = own_cpu_ns();
                tick_once(&d);
                ticked.send(()).unwrap();
                stopped_rx.recv().unwrap();
                done.send(("early", own_cpu_ns() - at_start)).unwrap();
            })
            .unwrap();
        burned_rx.recv().unwrap();
        collector.start_profiling("cpu_by_thread").unwrap();
        // `late` begins after the start, as its own start time (in 10 ms ticks) says.
        next_clock_ticks();
        // Begins after the start, burns, then ticks once.
        let (late_stopped_tx, late_stopped_rx) = mpsc::channel::<()>();
        let (d, done) = (dispatch.clone(), done_tx.clone());
        std::thread::Builder::new()
            .name("late".into())
            .spawn_scoped(scope, move || {
                burn_cpu(BURN_NS);
                tick_once(&d);
                ticked_tx.send(()).unwrap();
                late_stopped_rx.recv().unwrap();
                done.send(("late", own_cpu_ns())).unwrap();
            })
            .unwrap();
        started_tx.send(()).unwrap();
        // Both ticks closed before the stop.
        ticked_rx.recv().unwrap();
        ticked_rx.recv().unwrap();
        let report = collector.stop_profiling().unwrap();
        stopped_tx.send(()).unwrap();
        late_stopped_tx.send(()).unwrap();
        let mut after_stop: Vec<(&str, u64)> = (0..2).map(|_| done_rx.recv().unwrap()).collect();
        after_stop.sort();
        let inside = report.inside_ticks.as_ref().unwrap();
        let cpu = |name: &str| {
            let t = inside.threads.iter().find(|t| t.thread == name).unwrap();
            assert_eq!(t.ticks, 1, "{t:?}");
            (t.cpu_time_s.unwrap() * 1e9) as u64
        };
        let (early, late) = (cpu("early"), cpu("late"));
        // `early`: its CPU since the start, which the thread read itself (up to its read after
        // the stop); far below the 40 ms it burned before.
        let early_own = after_stop[0].1;
        assert!(early <= early_own + 1_000_000, "{early} vs {early_own}");
        assert!(early >= 1_000_000, "its tick's CPU time is in: {early}");
        assert!(early < BURN_NS / 2, "{early}");
        // `late`: everything it burned, since it began after the start.
        let late_own = after_stop[1].1;
        assert!(late >= BURN_NS, "{late}");
        assert!(late <= late_own, "{late} vs {late_own}");
    });
}
