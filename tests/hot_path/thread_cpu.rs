//! The calling thread's own CPU time, read as the kernel counts it: what the tests of
//! per-thread CPU figures compare the report with (Linux).

/// This thread's time on a CPU so far (`/proc/thread-self/schedstat`), ns.
pub(crate) fn own_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// Spins until this thread has had `ns` more of CPU time (CPU time, not wall time: a loaded
/// machine makes it take longer, never count less).
pub(crate) fn burn_cpu(ns: u64) {
    let until = own_cpu_ns() + ns;
    while own_cpu_ns() < until {
        std::hint::black_box((0..1_000).sum::<u64>());
    }
}

/// Time since boot in the kernel's clock ticks (`/proc/uptime`, hundredths of a second): the
/// unit of a thread's start time.
fn uptime_ticks() -> u64 {
    let text = std::fs::read_to_string("/proc/uptime").unwrap();
    let seconds: f64 = text.split_whitespace().next().unwrap().parse().unwrap();
    (seconds * 100.0) as u64
}

/// Returns once the kernel's clock has passed two more of its ticks, so that a thread made now
/// has a start time later than anything before the call (start times are in 10 ms ticks).
pub(crate) fn next_clock_ticks() {
    let until = uptime_ticks() + 2;
    while uptime_ticks() < until {
        std::thread::yield_now();
    }
}
