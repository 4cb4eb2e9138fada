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
