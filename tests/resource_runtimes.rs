//! Sampling works with no runtime, inside a multi-thread runtime, and inside a `current_thread`
//! runtime whose only thread is busy: each gets at least the samples the period allows, minus one.
#![cfg(feature = "sampler")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sampler_support;

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

#[test]
fn no_runtime() {
    let (_ticks, counter) = sampler_support::counter();
    let (profiler, started) = start(counter);
    std::thread::sleep(RUN);
    let resources = profiler.stop();
    assert_enough(&resources, started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_runtime() {
    let (_ticks, counter) = sampler_support::counter();
    let (profiler, started) = start(counter);
    tokio::time::sleep(RUN).await;
    let resources = profiler.stop();
    assert_enough(&resources, started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn one_worker_runtime_hogged() {
    // Its only worker never yields while ticking: a task spawned there would starve, and a
    // synchronous stop awaiting it would deadlock.
    let (ticks, counter) = sampler_support::counter();
    let (profiler, started) = start(counter);
    sampler_support::spin(RUN, &ticks);
    let resources = profiler.stop();
    assert_enough(&resources, started.elapsed());
}

#[tokio::test(flavor = "current_thread")]
async fn busy_current_thread_runtime() {
    let (ticks, counter) = sampler_support::counter();
    let (profiler, started) = start(counter);
    // The runtime's only thread ticks synchronously and never yields.
    sampler_support::spin(RUN, &ticks);
    let resources = profiler.stop();
    assert_enough(&resources, started.elapsed());
    assert!(resources.samples.last().unwrap().ticks > 0);
}
