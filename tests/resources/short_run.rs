//! A run shorter than the CPU-time step (10 ms in /proc and sysinfo): the run's CPU comes from
//! the process CPU clock, so a 60 ms burn reads what the burning thread really got, not 0 % or
//! 150 %. (The machine is shared: the thread may get less than a whole core, so the expectation
//! is the thread's own CPU clock, not 100 %.)

use crate::sampler_support;

use std::time::{Duration, Instant};

use tickprof::ResourceProfiler;

#[test]
fn short_busy_run_reads_the_cpu_it_used() {
    let _turn = sampler_support::one_at_a_time();
    let (ticks, counter) = sampler_support::counter();
    let wall = Instant::now();
    let profiler = ResourceProfiler::start(Duration::from_millis(500), counter).unwrap();
    // This thread's CPU during the spin only: inside the profiler's window (on a loaded
    // machine the spin gets less than 60 ms of CPU, and `start`'s own reads would count).
    let thread_cpu = cpu_time::ThreadTime::now();
    sampler_support::spin(Duration::from_millis(60), &ticks);
    let burned = thread_cpu.elapsed().as_secs_f64();
    let resources = profiler.stop();
    let expected = 100.0 * burned / wall.elapsed().as_secs_f64();
    let mean = resources
        .cpu_percent
        .mean
        .expect("60 ms is long enough for a mean");
    // At least what this thread burned (the process holds more threads, and the profiler's
    // window is inside ours), plus at most the sampler's start-up.
    assert!(
        mean >= expected - 5.0 && mean <= expected + 30.0,
        "60 ms burn: profiler read {mean:.1} %, this thread used {expected:.1} % of the wall time"
    );
    assert!(
        resources.cpu_time_s >= burned * 0.95,
        "cpu_time_s {}",
        resources.cpu_time_s
    );
    assert_eq!(resources.samples_taken, 1);
    // The one sample covers the run: about the mean (its window ends a little later).
    assert!(
        (resources.samples[0].cpu_percent - mean).abs() <= 10.0,
        "sample {} %, mean {mean} %",
        resources.samples[0].cpu_percent
    );
    // One sample is no busiest sample.
    assert_eq!(resources.cpu_percent.max, None);
}
