//! Sampling: every tick is counted exactly; a random sample is timed and short bursts are
//! recorded with their components; the report says exactly what was sampled. (Full sampling's
//! exact per-component counts are tested in `threads_exact_counts`, `known_durations` and
//! others.)

use std::time::{Duration, Instant};

use tickprof::{MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn run(sampling: Sampling, ticks: u64, tick: impl Fn(u64)) -> Report {
    let collector = MetricsCollector::builder()
        .sampling(sampling)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("sampling").unwrap();
        for i in 0..ticks {
            let _tick = tracing::info_span!("tick").entered();
            tick(i);
        }
        collector.stop_profiling().unwrap()
    })
}

fn two_components(i: u64) {
    {
        let _parse = tracing::info_span!("parse").entered();
        std::hint::black_box(i);
    }
    let _strategy = tracing::info_span!("strategy").entered();
    std::hint::black_box(i);
}

#[test]
fn the_default_counts_every_tick_and_samples_the_rest() {
    let report = run(Sampling::default(), 100_000, two_components);
    let s = report.sampling.as_ref().unwrap();
    assert_eq!(report.ticks.count, 100_000, "counts are exact");
    assert_eq!(s.mode, tickprof::SamplingKind::Budget);
    assert_eq!(s.budget_fraction, Some(0.02));
    assert!(s.ticks_timed > 0 && s.ticks_timed < 100_000, "{s:?}");
    assert!(s.ticks_recorded > 0 && s.windows >= 1, "{s:?}");
    // The latency histogram holds exactly the timed ticks; every recorded tick had one span
    // of each component.
    assert_eq!(report.ticks.latency.samples, s.ticks_timed);
    assert_eq!(report.components["parse"].count, s.ticks_recorded);
    assert_eq!(report.components["strategy"].count, s.ticks_recorded);
    assert_eq!(report.components["parse"].per_tick, Some(1.0));
    assert_eq!(report.unattributed.samples, s.ticks_recorded);
    assert!(!s.timed_every_tick(report.ticks.count));
    assert_eq!(
        report.dropped.straddled, 0,
        "one thread: no tick straddles a switch"
    );
    assert_eq!(report.dropped.missing_span_data, 0);
}

#[test]
fn one_in_n_times_and_records_about_one_tick_in_n() {
    let n = 10;
    let ticks = 200_000;
    let report = run(Sampling::one_in(n), ticks, two_components);
    let s = report.sampling.as_ref().unwrap();
    assert_eq!(report.ticks.count, ticks);
    assert_eq!(s.one_in, Some(n));
    // A tenth of the ticks is recorded (in windows); of the others, one in ten is timed.
    let recorded = s.ticks_recorded as f64 / ticks as f64;
    let timed = s.ticks_timed as f64 / ticks as f64;
    assert!((0.05..0.2).contains(&recorded), "recorded {recorded}");
    assert!((0.07..0.11).contains(&timed), "timed {timed}");
}

/// A workload whose every tenth tick is slow: a sampler with a fixed period of ten would see
/// all slow ticks or none. Random sampling sees them at their true share.
#[test]
fn sampling_does_not_lock_onto_a_periodic_workload() {
    let report = run(Sampling::one_in(10), 60_000, |i| {
        if i % 10 == 0 {
            spin(Duration::from_micros(30));
        }
    });
    let s = report.sampling.as_ref().unwrap();
    let h = report.ticks.latency.decode_histogram("ticks").unwrap();
    let slow = h.count_between(20_000, u64::MAX) as f64 / h.len() as f64;
    assert!(
        (0.06..0.14).contains(&slow),
        "slow ticks are 10 % of all; {:.1} % of {} timed ticks",
        100.0 * slow,
        s.ticks_timed
    );
}

#[test]
fn a_short_run_is_recorded_whole() {
    // Three ticks: the first window covers them (short runs get every detail).
    let report = run(Sampling::default(), 3, two_components);
    let s = report.sampling.as_ref().unwrap();
    assert_eq!(report.ticks.count, 3);
    assert_eq!(s.ticks_recorded, 3);
    assert_eq!(report.components["parse"].count, 3);
}

#[test]
fn bad_sampling_parameters_are_rejected_at_build() {
    for (sampling, needle) in [
        (Sampling::budget(0.0), "got 0"),
        (Sampling::budget(0.9), "got 0.9"),
        (Sampling::one_in(0), "got 0"),
    ] {
        let err = MetricsCollector::builder()
            .sampling(sampling)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// Four threads tick at once: every tick is counted, windows are shared, and a tick during
/// which another thread switched a window is left out and counted, not half-recorded.
#[test]
fn four_threads_count_exactly_and_record_whole_ticks() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(20))
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("threads").unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..50_000 {
                        let _tick = tracing::info_span!("tick").entered();
                        two_components(i);
                    }
                })
            });
        }
    });
    let report = collector.stop_profiling().unwrap();
    let s = report.sampling.as_ref().unwrap();
    assert_eq!(report.ticks.count, 200_000);
    assert!(s.ticks_recorded > 0 && s.ticks_timed > 0, "{s:?}");
    // Every recorded tick that was kept had both components; a straddling one may have had
    // one or none recorded, so the components are at least the kept ticks and at most those
    // plus the straddlers.
    let parse = report.components["parse"].count;
    assert!(
        parse >= s.ticks_recorded && parse <= s.ticks_recorded + report.dropped.straddled,
        "parse {parse}, recorded {}, straddled {}",
        s.ticks_recorded,
        report.dropped.straddled
    );
    assert_eq!(report.dropped.missing_span_data, 0);
}
