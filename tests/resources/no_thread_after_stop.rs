//! After `stop` (or a drop without it) no sampler thread is left in the process.
//!
//! Counts threads by name across the process: it runs in its turn (no other test of the binary
//! has a sampler running then).

use crate::sampler_support;

use std::time::Duration;

use tickprof::ResourceProfiler;

#[test]
fn stop_and_drop_join_the_thread() {
    let _turn = sampler_support::one_at_a_time();
    assert_eq!(sampler_support::sampler_threads(), 0);
    let (_ticks, counter) = sampler_support::counter();

    let profiler = ResourceProfiler::start(Duration::from_millis(10), counter.clone()).unwrap();
    assert_eq!(sampler_support::sampler_threads(), 1);
    std::thread::sleep(Duration::from_millis(50));
    let resources = profiler.stop();
    assert!(resources.samples_taken > 0);
    assert_eq!(
        sampler_support::sampler_threads(),
        0,
        "a sampler thread survived stop"
    );

    let profiler = ResourceProfiler::start(Duration::from_millis(10), counter).unwrap();
    assert_eq!(sampler_support::sampler_threads(), 1);
    drop(profiler);
    assert_eq!(
        sampler_support::sampler_threads(),
        0,
        "a sampler thread survived drop"
    );

    assert!(ResourceProfiler::start(Duration::ZERO, sampler_support::counter().1).is_err());
    assert_eq!(sampler_support::sampler_threads(), 0);
}
