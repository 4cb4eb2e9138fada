//! A run with more samples than the series holds keeps at most 2,048 of them, spread over the
//! whole run, and keeps the CPU and RSS peaks that the accumulators saw.

use crate::sampler_support::{self, SAMPLES_AT_MOST};

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tickprof::ResourceProfiler;

#[test]
fn long_run_is_bounded_and_keeps_peaks() {
    let _turn = sampler_support::one_at_a_time();
    let (_ticks, counter) = sampler_support::counter();
    let (reads, counter) = sampler_support::counted(counter);
    // 1 ms period for 4 s: ~3,500+ samples, beyond the 2,048 the series keeps. A loaded machine
    // wakes the sampler late (each late sample delays the next): the run goes on until the
    // sampler has taken more than 2,048 (its reads of the counter, but the one in `start`).
    let started = Instant::now();
    let profiler = ResourceProfiler::start(Duration::from_millis(1), counter).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    while reads.load(Ordering::Relaxed) <= 2_049 && started.elapsed() < SAMPLES_AT_MOST {
        std::thread::sleep(Duration::from_millis(10));
    }
    let r = profiler.stop();
    eprintln!(
        "{} samples taken, {} stored",
        r.samples_taken,
        r.samples.len()
    );

    assert!(
        r.samples_taken > 2_048,
        "only {} samples: not decimated",
        r.samples_taken
    );
    assert!(r.samples.len() <= 2_048);
    assert!(r.samples.len() >= 512);
    let max_rss = r.samples.iter().map(|s| s.rss_bytes).max().unwrap();
    // 1 ms samples are too short for a busiest-sample figure (the kernel accounts other
    // threads' CPU at scheduler ticks); only a sample a stalled sampler stretched to 10 ms or
    // more can be the max, and the stored series (each bucket's highest-CPU sample) keeps it.
    let max_cpu = r.samples.iter().map(|s| s.cpu_percent).fold(0.0, f64::max);
    if let Some(max) = r.cpu_percent.max {
        assert!(
            max <= max_cpu,
            "max {max} above every stored sample ({max_cpu})"
        );
    }
    assert_eq!(max_rss, r.memory_bytes.peak);
    for pair in r.samples.windows(2) {
        assert!(pair[0].elapsed_ms < pair[1].elapsed_ms);
        assert!(pair[0].ticks <= pair[1].ticks);
    }
    // Spread over the run, not just its start or end.
    assert!(r.samples[0].elapsed_ms < 500.0);
    assert!(r.samples[r.samples.len() - 1].elapsed_ms > 3_500.0);
}
