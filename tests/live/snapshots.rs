//! Snapshots and intervals of a run that goes on: while four threads tick, what they take
//! adds up exactly, and the final report is the whole run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tickprof::{Error, MetricsCollector, Report, Sampling};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

const THREADS: u64 = 4;
const TICKS_PER_THREAD: u64 = 25_000;

/// Latency samples of every tick a report measured: timed ticks plus warm-up ticks.
fn measured(report: &Report) -> u64 {
    report.ticks.latency.samples + report.ticks.warmup.as_ref().map_or(0, |w| w.count)
}

/// Four threads tick `TICKS_PER_THREAD` each (a `parse` and a `strategy` inside each tick)
/// while this thread calls `take` until they finish; returns what it took and the final report.
fn tick_while(collector: &MetricsCollector, take: impl Fn() -> Report) -> (Vec<Report>, Report) {
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("live").unwrap();
    let running = AtomicBool::new(true);
    let mut taken = Vec::new();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let dispatch = dispatch.clone();
                scope.spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        for i in 0..TICKS_PER_THREAD {
                            let _tick = tracing::info_span!("tick").entered();
                            {
                                let _parse = tracing::info_span!("parse").entered();
                                std::hint::black_box(i * t);
                            }
                            let _strategy = tracing::info_span!("strategy").entered();
                            std::hint::black_box(i + t);
                        }
                    });
                })
            })
            .collect();
        scope.spawn(|| {
            for worker in workers {
                worker.join().unwrap();
            }
            running.store(false, Ordering::Release);
        });
        while running.load(Ordering::Acquire) {
            taken.push(take());
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let last = take();
    taken.push(last);
    let report = collector.stop_profiling().unwrap();
    (taken, report)
}

fn full_sampling() -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

#[test]
fn intervals_taken_while_four_threads_tick_add_up_exactly() {
    let collector = full_sampling();
    let (intervals, report) = tick_while(&collector, || collector.interval().unwrap());
    let emitted = THREADS * TICKS_PER_THREAD;
    assert!(
        intervals.len() >= 3,
        "the threads ran long enough for several intervals ({})",
        intervals.len()
    );
    assert_eq!(
        report.ticks.count, emitted,
        "the final report is the whole run"
    );
    assert_eq!(
        measured(&report),
        emitted,
        "every tick measured (full sampling)"
    );
    let sum = |f: &dyn Fn(&Report) -> u64| intervals.iter().map(f).sum::<u64>();
    assert_eq!(sum(&|r| r.ticks.count), emitted);
    assert_eq!(sum(&measured), emitted);
    assert_eq!(sum(&|r| r.ticks.warmup.as_ref().unwrap().count), 4 * 100);
    for name in ["parse", "strategy"] {
        assert_eq!(report.components[name].count, emitted, "{name}");
        let in_intervals = sum(&|r| r.components.get(name).map_or(0, |c| c.count));
        assert_eq!(in_intervals, emitted, "{name} over the intervals");
    }
    assert_eq!(
        sum(&|r| r.unattributed.samples),
        report.unattributed.samples
    );
    // The intervals tile the run: the sum of their histograms is the run's histogram.
    let mut merged = intervals[0].ticks.latency.decode_histogram("t").unwrap();
    for interval in &intervals[1..] {
        merged
            .add(interval.ticks.latency.decode_histogram("t").unwrap())
            .unwrap();
    }
    let whole = report.ticks.latency.decode_histogram("t").unwrap();
    assert_eq!(merged.len(), whole.len());
    assert_eq!(merged.max(), whole.max());
    assert_eq!(
        merged.value_at_quantile(0.999),
        whole.value_at_quantile(0.999)
    );
    // The last interval, taken after every thread finished, holds nothing that was not
    // already in an earlier one, or it holds the rest: either way each tick is in exactly one.
    assert!(intervals.iter().all(|r| r.name == "live"));
    assert_eq!(report.dropped.missing_span_data, 0);
}

#[test]
fn snapshots_grow_with_the_run_and_end_at_the_final_report() {
    let collector = full_sampling();
    let (snapshots, report) = tick_while(&collector, || collector.snapshot().unwrap());
    let emitted = THREADS * TICKS_PER_THREAD;
    for pair in snapshots.windows(2) {
        assert!(
            pair[0].ticks.count <= pair[1].ticks.count,
            "counts never go back"
        );
        assert!(measured(&pair[0]) <= measured(&pair[1]));
        assert!(pair[0].total_time_s <= pair[1].total_time_s);
    }
    let last = snapshots.last().unwrap();
    assert_eq!(
        last.ticks.count, emitted,
        "taken after every thread finished"
    );
    assert_eq!(measured(last), emitted);
    assert_eq!(last.components["parse"].count, emitted);
    assert_eq!(report.ticks.count, emitted);
    assert_eq!(measured(&report), emitted);
    assert_eq!(
        last.ticks.latency.decode_histogram("t").unwrap(),
        report.ticks.latency.decode_histogram("t").unwrap(),
        "a snapshot after the last tick holds what the final report holds"
    );
    assert!(
        snapshots.first().unwrap().ticks.count < emitted,
        "the first snapshot was taken while the threads ticked"
    );
}

#[test]
fn sampled_runs_tile_too() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(7))
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let (intervals, report) = tick_while(&collector, || collector.interval().unwrap());
    let sum = |f: &dyn Fn(&Report) -> u64| intervals.iter().map(f).sum::<u64>();
    assert_eq!(sum(&|r| r.ticks.count), THREADS * TICKS_PER_THREAD);
    let sampling = report.sampling.as_ref().unwrap();
    assert!(sampling.ticks_timed > 0);
    assert_eq!(
        sum(&|r| r.sampling.as_ref().unwrap().ticks_timed),
        sampling.ticks_timed
    );
    assert_eq!(
        sum(&|r| r.sampling.as_ref().unwrap().ticks_recorded),
        sampling.ticks_recorded
    );
    assert_eq!(
        sum(&|r| r.sampling.as_ref().unwrap().windows),
        sampling.windows
    );
    assert_eq!(
        sum(&|r| r.ticks.latency.samples),
        report.ticks.latency.samples
    );
}

#[test]
fn snapshot_and_interval_need_an_active_run() {
    let collector = full_sampling();
    assert!(matches!(collector.snapshot(), Err(Error::NotProfiling)));
    assert!(matches!(collector.interval(), Err(Error::NotProfiling)));
    collector.start_profiling("empty").unwrap();
    let snapshot = collector.snapshot().unwrap();
    assert_eq!(snapshot.ticks.count, 0);
    collector.stop_profiling().unwrap();
    assert!(matches!(collector.snapshot(), Err(Error::NotProfiling)));
}

/// Sleeps `at_least`, then on until the run has taken `samples` resource samples in all (at
/// most 10 s more): the sampler's period is the OS's to keep, and a loaded machine wakes its
/// thread late.
fn wait_for_samples(collector: &MetricsCollector, at_least: Duration, samples: u64) {
    std::thread::sleep(at_least);
    let deadline = Instant::now() + Duration::from_secs(10);
    let taken = || {
        let so_far = collector.snapshot().unwrap();
        so_far.resources.as_ref().unwrap().samples_taken
    };
    while taken() < samples && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn an_interval_reports_its_own_time_and_resources() {
    let collector = MetricsCollector::builder()
        .sample_interval(Duration::from_millis(10))
        .measure_overhead(false)
        .build()
        .unwrap();
    collector.start_profiling("resources").unwrap();
    // At least 120 ms and 5 samples of 10 ms, then at least 60 ms and 2 more samples.
    wait_for_samples(&collector, Duration::from_millis(120), 5);
    let first = collector.interval().unwrap();
    let in_first = first.resources.as_ref().unwrap().samples_taken;
    wait_for_samples(&collector, Duration::from_millis(60), in_first + 2);
    let second = collector.interval().unwrap();
    let whole = collector.stop_profiling().unwrap();
    assert!(first.total_time_s >= 0.120 && first.total_time_s < whole.total_time_s);
    assert!(second.total_time_s >= 0.060);
    // Each interval's time is its own (the second does not hold the first's): the two fit in
    // the run. (Whether the second is the shorter, as its shorter wait makes likely, is the
    // machine's to say: a late wake-up can make it the longer.)
    assert!(whole.total_time_s >= first.total_time_s + second.total_time_s);
    let (r1, r2, rw) = (
        first.resources.as_ref().unwrap(),
        second.resources.as_ref().unwrap(),
        whole.resources.as_ref().unwrap(),
    );
    // Samples every 10 ms: each interval has its own, the run has them all.
    assert!(r1.samples_taken >= 5, "{}", r1.samples_taken);
    assert!(r2.samples_taken >= 2, "{}", r2.samples_taken);
    assert!(rw.samples_taken >= r1.samples_taken + r2.samples_taken);
    let last_of_first = r1.samples.last().unwrap().elapsed_ms;
    assert!(r2.samples.iter().all(|s| s.elapsed_ms > last_of_first));
    // CPU time: each window's own, from the same clock, so they add up within the run's.
    assert!(r1.cpu_time_s + r2.cpu_time_s <= rw.cpu_time_s + 1e-9);
    assert!(
        first.started_at < second.started_at,
        "RFC 3339 in ms: 120 ms apart"
    );
}
