//! What the ResourceProfiler costs: one refresh (the body of every sample) against the
//! alternatives, then the sampler thread's own CPU over a real run.
//!
//! ```text
//! cargo bench --bench sampler                          # refresh costs + 10 s CPU run per period
//! TICKPROF_SAMPLER_CPU_SECS=60 cargo bench --bench sampler -- --sample-count 50
//! ```
//!
//! The CPU part reads the sampler thread's `sum_exec_runtime` (ns, first field of
//! `/proc/self/task/<tid>/schedstat`), far finer than the 10 ms steps of utime/stime.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
use tickprof::{DEFAULT_SAMPLE_INTERVAL, ResourceProfiler, TickCounter};

fn main() {
    divan::main();
    let secs: u64 = std::env::var("TICKPROF_SAMPLER_CPU_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    if secs > 0 {
        for period in [DEFAULT_SAMPLE_INTERVAL, Duration::from_millis(100)] {
            sampler_thread_cpu(period, Duration::from_secs(secs));
        }
    }
}

fn system_and_pid() -> (System, Pid) {
    (System::new().unwrap(), sysinfo::get_current_pid().unwrap())
}

/// What tickprof does per sample: refresh our pid (CPU time + memory, no task walk) and read it.
#[divan::bench(sample_count = 200)]
fn own_pid_without_tasks(bencher: divan::Bencher) {
    let (mut sys, pid) = system_and_pid();
    let kind = ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .without_tasks();
    bencher.bench_local(|| {
        sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
        let p = sys.process(pid).unwrap();
        (p.accumulated_cpu_time(), p.memory())
    });
}

/// The same with sysinfo's default task walk (`/proc/<pid>/task/*`, grows with threads).
#[divan::bench(sample_count = 200)]
fn own_pid_with_tasks(bencher: divan::Bencher) {
    let (mut sys, pid) = system_and_pid();
    let kind = ProcessRefreshKind::nothing().with_cpu().with_memory();
    bencher.bench_local(|| {
        sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
        sys.process(pid).map(|p| p.memory())
    });
}

/// What a naive sampler does: every process on the machine.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn all_processes(bencher: divan::Bencher) {
    let (mut sys, pid) = system_and_pid();
    let kind = ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .without_tasks();
    bencher.bench_local(|| {
        sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        sys.process(pid).map(|p| p.memory())
    });
}

/// Per profiled thread and sample, for slow ticks' `scheduler`: this thread's `schedstat`
/// (on-CPU and run-queue wait time), opened and read as the sampler does.
#[divan::bench(sample_count = 200)]
fn thread_schedstat_read() -> usize {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .unwrap()
        .len()
}

/// The same thread's `status` (its two context-switch counts).
#[divan::bench(sample_count = 200)]
fn thread_status_read() -> usize {
    std::fs::read_to_string("/proc/thread-self/status")
        .unwrap()
        .len()
}

/// Floor: one read of `/proc/self/stat`.
#[divan::bench(sample_count = 200)]
fn proc_self_stat_read() -> usize {
    std::fs::read_to_string("/proc/self/stat").unwrap().len()
}

/// CPU ns the thread named like the sampler has run, from its schedstat.
fn sampler_thread_ns() -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
        if comm.trim_end().starts_with("tickprof-sampl") {
            let stat = std::fs::read_to_string(dir.join("schedstat")).ok()?;
            return stat.split_whitespace().next()?.parse().ok();
        }
    }
    None
}

fn sampler_thread_cpu(period: Duration, run: Duration) {
    let ticks: TickCounter = Arc::new(|| 0);
    let profiler = ResourceProfiler::start(period, ticks).unwrap();
    let started = Instant::now();
    let at_start = sampler_thread_ns().unwrap();
    // Skip the first period (runtime start-up), then measure the steady state.
    std::thread::sleep(period);
    let (t1, ns1) = (Instant::now(), sampler_thread_ns().unwrap());
    std::thread::sleep(run);
    let (t2, ns2) = (Instant::now(), sampler_thread_ns().unwrap());
    let total_wall = started.elapsed();
    let resources = profiler.stop();
    let steady_pct = (ns2 - ns1) as f64 / (t2 - t1).as_nanos() as f64 * 100.0;
    let per_sample_us =
        (ns2 - ns1) as f64 / 1_000.0 / ((t2 - t1).as_secs_f64() / period.as_secs_f64());
    println!(
        "sampler thread at {period:?}: {steady_pct:.4}% of one core over {:.1} s \
         ({per_sample_us:.1} µs of thread CPU per sample, all in); \
         start-up {:.0} µs; {} samples over {:.1} s",
        (t2 - t1).as_secs_f64(),
        at_start as f64 / 1_000.0,
        resources.samples_taken,
        total_wall.as_secs_f64(),
    );
}
