//! `peak_rss_bytes` is this run's OS high-water mark: a 200 MB spike between samples is caught,
//! and the next run, without the spike, reports its own lower peak (the mark is reset at start).
//!
//! RSS is process-wide: it runs in its turn (no other test of the binary allocates meanwhile).

use crate::sampler_support;

use std::time::Duration;

use tickprof::ResourceProfiler;

const MIB: u64 = 1024 * 1024;

#[test]
fn peak_is_per_run_and_catches_spikes() {
    let _turn = sampler_support::one_at_a_time();
    let (_ticks, counter) = sampler_support::counter();

    // Run 1: allocate and touch 200 MiB, free it again, all well inside one 500 ms period.
    let profiler = ResourceProfiler::start(Duration::from_millis(500), counter.clone()).unwrap();
    let spike = vec![1u8; (200 * MIB) as usize];
    std::hint::black_box(&spike);
    drop(spike);
    let first = profiler.stop();
    eprintln!(
        "run 1: peak_rss {} MiB, sampled peak {} MiB",
        first.peak_rss_bytes / MIB,
        first.memory_bytes.peak / MIB
    );
    assert!(
        first.peak_rss_bytes >= 200 * MIB,
        "{}",
        first.peak_rss_bytes
    );

    // Run 2: nothing allocated; its peak is its own, far below run 1's.
    let profiler = ResourceProfiler::start(Duration::from_millis(100), counter).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = profiler.stop();
    eprintln!(
        "run 2: peak_rss {} MiB, sampled peak {} MiB",
        second.peak_rss_bytes / MIB,
        second.memory_bytes.peak / MIB
    );
    assert!(
        second.peak_rss_bytes + 150 * MIB < first.peak_rss_bytes,
        "run 2 inherited run 1's peak: {} vs {}",
        second.peak_rss_bytes,
        first.peak_rss_bytes
    );
    assert!(second.peak_rss_bytes >= second.memory_bytes.peak);
    assert!(second.memory_bytes.mean > 0.0);
}
