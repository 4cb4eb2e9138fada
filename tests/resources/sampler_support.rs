//! Helpers shared by the resource tests: their turn at the process, a tick counter the test
//! controls and the OS's own view of this process from `/proc` (no `unsafe`, so no getrusage).
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tickprof::TickCounter;

/// Every test of this binary measures or moves the process's figures (CPU time, resident set,
/// sampler threads): each holds its turn for its whole run, so it measures only itself.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// This test's turn at the process (a failed test's poisoned turn is passed on).
pub(crate) fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A counter the test bumps, and the `TickCounter` view of it for the profiler.
pub(crate) fn counter() -> (Arc<AtomicU64>, TickCounter) {
    let ticks = Arc::new(AtomicU64::new(0));
    let view = Arc::clone(&ticks);
    (ticks, Arc::new(move || view.load(Ordering::Relaxed)))
}

/// `counter`, and how many times the sampler has read it: once in `start`, then once per sample
/// (on its own thread).
pub(crate) fn counted(counter: TickCounter) -> (Arc<AtomicU64>, TickCounter) {
    let reads = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&reads);
    let view: TickCounter = Arc::new(move || {
        seen.fetch_add(1, Ordering::Relaxed);
        counter()
    });
    (reads, view)
}

/// How long a test waits at most for the samples it needs: the sampler's period is the OS's to
/// keep (a late wake-up delays every later sample), so tests wait for samples, not for time; a
/// sampler that cannot sample at all still fails them, after this.
pub(crate) const SAMPLES_AT_MOST: Duration = Duration::from_secs(30);

/// utime + stime of this process from `/proc/self/stat`, in seconds (USER_HZ = 100 on Linux).
pub(crate) fn os_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 3 (state) is fields[0], so utime (14) and stime (15) are fields[11] and fields[12].
    let utime: u64 = fields[11].parse().unwrap();
    let stime: u64 = fields[12].parse().unwrap();
    (utime + stime) as f64 / 100.0
}

/// Threads of this process whose name is the sampler's (`comm` is cut to 15 bytes).
pub(crate) fn sampler_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end().starts_with("tickprof-sampl"))
        .count()
}

/// Keeps one core busy for `duration`, counting ticks.
pub(crate) fn spin(duration: Duration, ticks: &AtomicU64) {
    let start = Instant::now();
    while start.elapsed() < duration {
        for _ in 0..1_000 {
            std::hint::black_box(ticks.fetch_add(1, Ordering::Relaxed));
        }
    }
}
