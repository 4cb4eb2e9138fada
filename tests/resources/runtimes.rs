//! Sampling works with no runtime, inside a multi-thread runtime, and inside a runtime whose
//! only thread is busy: each gets at least the samples the period allows, minus one.
//!
//! Each run lasts at least `RUN` and until the sampler has taken those samples (at most
//! `SAMPLES_AT_MOST`): a loaded machine can wake the sampler late, which delays every later
//! sample; a sampler that a busy runtime starves never takes them.

use crate::sampler_support::{self, SAMPLES_AT_MOST};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tickprof::{ResourceProfiler, Resources};

const PERIOD: Duration = Duration::from_millis(100);
const RUN: Duration = Duration::from_millis(1_000);
/// The samples `RUN` allows at `PERIOD`, minus one.
const SAMPLES: u64 = 9;

fn assert_enough(resources: &Resources, wall: Duration) {
    eprintln!(
        "{} samples over {wall:?} (expected at least {SAMPLES})",
        resources.samples_taken
    );
    assert!(
        resources.samples_taken >= SAMPLES,
        "{} samples over {wall:?}, expected at least {SAMPLES}",
        resources.samples_taken
    );
    assert_eq!(resources.samples.len() as u64, resources.samples_taken);
}

/// A profiler at `PERIOD` counting `ticks`, when it started, and how many times its sampler
/// has read the counter.
fn start(ticks: &Arc<AtomicU64>) -> (ResourceProfiler, Instant, Arc<AtomicU64>) {
    let view = Arc::clone(ticks);
    let (reads, counter) = sampler_support::counted(Arc::new(move || view.load(Ordering::Relaxed)));
    let started = Instant::now();
    (
        ResourceProfiler::start(PERIOD, counter).unwrap(),
        started,
        reads,
    )
}

/// Whether the run can end: `RUN` has passed and the sampler has taken `SAMPLES` samples (its
/// reads of the counter, but the one in `start`), or it has had `SAMPLES_AT_MOST`.
fn done(started: Instant, reads: &AtomicU64) -> bool {
    let elapsed = started.elapsed();
    elapsed >= RUN && (reads.load(Ordering::Relaxed) > SAMPLES || elapsed >= SAMPLES_AT_MOST)
}

/// Spins on this thread, counting ticks, until [`done`].
fn spin_until_done(ticks: &AtomicU64, started: Instant, reads: &AtomicU64) {
    while !done(started, reads) {
        sampler_support::spin(Duration::from_millis(1), ticks);
    }
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
    let (profiler, started, reads) = start(&Arc::default());
    while !done(started, &reads) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let resources = profiler.stop();
    assert_enough(&resources, started.elapsed());
}

#[test]
fn multi_thread_runtime() {
    in_turn(
        tokio::runtime::Builder::new_multi_thread().worker_threads(2),
        async {
            let (profiler, started, reads) = start(&Arc::default());
            while !done(started, &reads) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
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
            let ticks = Arc::default();
            let (profiler, started, reads) = start(&ticks);
            spin_until_done(&ticks, started, &reads);
            let resources = profiler.stop();
            assert_enough(&resources, started.elapsed());
        },
    );
}

#[test]
fn busy_current_thread_runtime() {
    in_turn(&mut tokio::runtime::Builder::new_current_thread(), async {
        let ticks = Arc::default();
        let (profiler, started, reads) = start(&ticks);
        // The runtime's only thread ticks synchronously and never yields.
        spin_until_done(&ticks, started, &reads);
        let resources = profiler.stop();
        assert_enough(&resources, started.elapsed());
        assert!(resources.samples.last().unwrap().ticks > 0);
    });
}
