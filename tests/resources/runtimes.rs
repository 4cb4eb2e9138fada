//! Sampling works with no runtime, inside a multi-thread runtime, and inside a `current_thread`
//! runtime whose only thread is busy: each gets at least the samples the period allows, minus one.

use crate::sampler_support;

use std::time::{Duration, Instant};

use tickprof::{ResourceProfiler, Resources, TickCounter};

const PERIOD: Duration = Duration::from_millis(100);
const RUN: Duration = Duration::from_millis(1_000);

fn assert_enough(resources: &Resources, wall: Duration) {
    let expected = (wall.as_secs_f64() / PERIOD.as_secs_f64()).floor() as u64;
    eprintln!(
        "{} samples over {wall:?} (expected {expected})",
        resources.samples_taken
    );
    assert!(
        resources.samples_taken + 1 >= expected,
        "{} samples over {wall:?}, expected {expected}",
        resources.samples_taken
    );
    assert_eq!(resources.samples.len() as u64, resources.samples_taken);
}

fn start(counter: TickCounter) -> (ResourceProfiler, Instant) {
    let started = Instant::now();
    (ResourceProfiler::start(PERIOD, counter).unwrap(), started)
}

/// Runs `test` on `runtime`, as `#[tokio::test]` does, in this test's turn at the process
/// (taken outside the runtime: no lock is held across an `.await`).
fn in_turn(runtime: &mut tokio::runtime::Builder, test: impl Future<Output = ()>) {
    let _turn = sampler_support::one_at_a_time();
    runtime.enable_all().build().unwrap().block_on(test);
}

#[test]
fn no_runtime() {
    let _turn = sampler_support::one_at_a_time();
    let (_ticks, counter) = sampler_support::counter();
    let (profiler, started) = start(counter);
    std::thread::sleep(RUN);
    let resources = profiler.stop();
    assert_enough(&resources, started.elapsed());
}

#[test]
fn multi_thread_runtime() {
    in_turn(
        tokio::runtime::Builder::new_multi_thread().worker_threads(2),
        async {
            let (_ticks, counter) = sampler_support::counter();
            let (profiler, started) = start(counter);
            tokio::time::sleep(RUN).await;
            let resources = profiler.stop();
            assert_enough(&resources, started.elapsed());
        },
    );
}

#[test]
fn one_worker_runtime_hogged() {
    in_turn(
        tokio::runtime::Builder::new_multi_thread().worker_threads(1),
        async {
            // Its only worker never yields while ticking: a task spawned there would starve,
            // and a synchronous stop awaiting it would deadlock.
            let (ticks, counter) = sampler_support::counter();
            let (profiler, started) = start(counter);
            sampler_support::spin(RUN, &ticks);
            let resources = profiler.stop();
            assert_enough(&resources, started.elapsed());
        },
    );
}

#[test]
fn busy_current_thread_runtime() {
    in_turn(&mut tokio::runtime::Builder::new_current_thread(), async {
        let (ticks, counter) = sampler_support::counter();
        let (profiler, started) = start(counter);
        // The runtime's only thread ticks synchronously and never yields.
        sampler_support::spin(RUN, &ticks);
        let resources = profiler.stop();
        assert_enough(&resources, started.elapsed());
        assert!(resources.samples.last().unwrap().ticks > 0);
    });
}
