//! A run shorter than the CPU-time step (10 ms in /proc and sysinfo): the run's CPU comes from
//! the process CPU clock, so a 60 ms burn reads ~100 %, not 0 % or 150 %.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sampler_support;

use std::time::Duration;

use tickprof::ResourceProfiler;

#[test]
fn short_busy_run_reads_about_one_core() {
    let (ticks, counter) = sampler_support::counter();
    let profiler = ResourceProfiler::start(Duration::from_millis(500), counter).unwrap();
    sampler_support::spin(Duration::from_millis(60), &ticks);
    let resources = profiler.stop();
    let mean = resources.cpu_percent.mean;
    assert!(
        (80.0..=130.0).contains(&mean),
        "60 ms of one busy thread read {mean:.1} %"
    );
    assert!(
        resources.cpu_time_s > 0.045,
        "cpu_time_s {}",
        resources.cpu_time_s
    );
    assert_eq!(resources.samples_taken, 1);
    assert_eq!(resources.samples[0].cpu_percent, mean);
    assert!(resources.cpu_percent.max >= mean);
}
