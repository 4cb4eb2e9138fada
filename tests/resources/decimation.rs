//! A run with more samples than the series holds keeps at most 2,048 of them, spread over the
//! whole run, and keeps the CPU and RSS peaks that the accumulators saw.

use crate::sampler_support;

use std::time::Duration;

use tickprof::ResourceProfiler;

#[test]
fn long_run_is_bounded_and_keeps_peaks() {
    let _turn = sampler_support::one_at_a_time();
    let (_ticks, counter) = sampler_support::counter();
    // 1 ms period for 4 s: ~3,500+ samples, beyond the 2,048 the series keeps.
    let profiler = ResourceProfiler::start(Duration::from_millis(1), counter).unwrap();
    std::thread::sleep(Duration::from_secs(4));
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
