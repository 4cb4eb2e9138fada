//! Samples carry strictly increasing `elapsed_ms` and non-decreasing `ticks`, within the run.

use crate::sampler_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tickprof::ResourceProfiler;

#[test]
fn elapsed_increases_and_ticks_never_decrease() {
    let _turn = sampler_support::one_at_a_time();
    let (ticks, counter) = sampler_support::counter();
    let started = Instant::now();
    let profiler = ResourceProfiler::start(Duration::from_millis(20), counter).unwrap();
    let ticker = {
        let ticks = ticks.clone();
        std::thread::spawn(move || {
            for _ in 0..80 {
                ticks.fetch_add(7, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    ticker.join().unwrap();
    let resources = profiler.stop();
    let run_ms = started.elapsed().as_secs_f64() * 1_000.0;

    let samples = &resources.samples;
    assert!(samples.len() >= 5, "only {} samples", samples.len());
    assert!(samples[0].elapsed_ms > 0.0);
    assert!(samples[samples.len() - 1].elapsed_ms <= run_ms);
    for pair in samples.windows(2) {
        assert!(pair[0].elapsed_ms < pair[1].elapsed_ms, "{pair:?}");
        assert!(pair[0].ticks <= pair[1].ticks, "{pair:?}");
    }
    // The ticks went up during the run and the last sample (taken at stop) saw them all.
    assert!(samples[0].ticks < samples[samples.len() - 1].ticks);
    assert_eq!(
        samples[samples.len() - 1].ticks,
        ticks.load(Ordering::Relaxed)
    );
    assert!(samples.iter().all(|s| s.rss_bytes > 0));
}
