//! The few `/proc` reads sysinfo does not offer: the RSS high-water mark and its reset, and a
//! thread's scheduler counters.
//!
//! `#![forbid(unsafe_code)]` rules out `getrusage`, so the peak comes from `VmHWM` in
//! `/proc/self/status` (equal to `ru_maxrss` on Linux). Elsewhere these return `None` / `Err` and
//! the caller falls back to the sampled maximum.

use std::io::Write;

/// Resets the process's RSS high-water mark to the current RSS (Linux ≥ 4.0: writing `5` to
/// `/proc/self/clear_refs`), so a run does not inherit the peak of an earlier, larger run.
///
/// The mark is per process: two profilers running at once in one process reset each other's.
pub(crate) fn reset_peak_rss() -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/clear_refs")?;
    file.write_all(b"5")
}

/// `VmHWM` (peak resident memory) of this process, in bytes.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_kib(&status, "VmHWM:").map(|kib| kib.saturating_mul(1024))
}

/// Parses a `Name:   1234 kB` line of `/proc/<pid>/status`.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let rest = status.lines().find_map(|line| line.strip_prefix(key))?;
    rest.split_whitespace().next()?.parse().ok()
}

/// What the kernel's scheduler has counted for one thread since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SchedCounters {
    /// Time on a CPU, ns (`schedstat` field 1).
    pub(crate) on_cpu_ns: u64,
    /// Time runnable but waiting for a CPU, ns (`schedstat` field 2, `run_delay`).
    pub(crate) wait_ns: u64,
    /// `voluntary_ctxt_switches`: it blocked, slept or yielded.
    pub(crate) voluntary: u64,
    /// `nonvoluntary_ctxt_switches`: it was preempted.
    pub(crate) involuntary: u64,
}

/// Why a thread's counters could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThreadRead {
    /// `/proc/self/task/<tid>` is gone: the thread exited.
    Exited,
    /// Present but unreadable or unparsable (a kernel without `CONFIG_SCHEDSTATS`' file).
    Unreadable,
}

/// Thread `tid`'s scheduler counters: `/proc/self/task/<tid>/schedstat` (run and run-queue
/// wait time) and the two context-switch counts of its `status`.
///
/// Both files, opened per read (no descriptor is held between samples: the program's file
/// limit is not ours to spend). `schedstat` alone would prove "not descheduled" (a preempted
/// thread is runnable, so its wait grows before it can finish the tick), but it cannot tell a
/// preemption from a wake-up after the tick blocked; `status` says which, at about 3× the cost.
pub(crate) fn thread_sched(tid: u32) -> Result<SchedCounters, ThreadRead> {
    let read = |file: &str| {
        std::fs::read_to_string(format!("/proc/self/task/{tid}/{file}")).map_err(|e| {
            match e.kind() {
                std::io::ErrorKind::NotFound => ThreadRead::Exited,
                // ESRCH: the task exited between open and read.
                _ if e.raw_os_error() == Some(3) => ThreadRead::Exited,
                _ => ThreadRead::Unreadable,
            }
        })
    };
    let (on_cpu_ns, wait_ns) =
        parse_schedstat(&read("schedstat")?).ok_or(ThreadRead::Unreadable)?;
    let status = read("status")?;
    let count = |key| status_count(&status, key).ok_or(ThreadRead::Unreadable);
    Ok(SchedCounters {
        on_cpu_ns,
        wait_ns,
        voluntary: count("voluntary_ctxt_switches:")?,
        involuntary: count("nonvoluntary_ctxt_switches:")?,
    })
}

/// Replaces `out` with the kernel ids of this process's threads (`/proc/self/task`).
pub(crate) fn thread_ids(out: &mut Vec<u32>) -> std::io::Result<()> {
    out.clear();
    for entry in std::fs::read_dir("/proc/self/task")? {
        if let Some(tid) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
            out.push(tid);
        }
    }
    Ok(())
}

/// The calling thread's time on a CPU so far, ns (`/proc/thread-self/schedstat`): read once
/// by a ticking thread as it exits, when the sampler can no longer read it.
pub(crate) fn own_on_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    parse_schedstat(&text).map(|(on_cpu_ns, _)| on_cpu_ns)
}

/// Clock ticks per second of `/proc`'s times (`USER_HZ`): 100 on every architecture Rust's
/// Linux targets use (`sysconf(_SC_CLK_TCK)` needs `unsafe`).
const USER_HZ: f64 = 100.0;

/// Time since boot, in `/proc` clock ticks (`/proc/uptime`).
pub(crate) fn uptime_ticks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let seconds: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some((seconds * USER_HZ) as u64)
}

/// When thread `tid` began, in clock ticks since boot (`stat` field 22, `starttime`).
pub(crate) fn thread_start_ticks(tid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    parse_start_ticks(&stat)
}

/// `starttime` of a `stat` line: the 20th field after the command's closing parenthesis (the
/// command may hold spaces and parentheses).
fn parse_start_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// `schedstat`: `<on-cpu ns> <run-queue wait ns> <timeslices>`.
fn parse_schedstat(text: &str) -> Option<(u64, u64)> {
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    Some((fields.next()?.ok()?, fields.next()?.ok()?))
}

/// A `Name:\t1234` line of `status`.
fn status_count(status: &str, key: &str) -> Option<u64> {
    let rest = status.lines().find_map(|line| line.strip_prefix(key))?;
    rest.trim().parse().ok()
}

/// How the run's peak RSS was obtained, decided at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeakSource {
    /// The high-water mark was reset at start: `VmHWM` at stop is this run's peak.
    Reset,
    /// The reset failed; `VmHWM` was this at start (bytes). If it grew, the run set a new high
    /// and `VmHWM` is still exact; if not, the run's own peak is unknown and the sampled maximum
    /// is used (a lower bound that can miss a spike between samples).
    NotReset(Option<u64>),
}

impl PeakSource {
    /// Resets the mark and remembers how that went.
    pub(crate) fn at_start() -> Self {
        match reset_peak_rss() {
            Ok(()) => PeakSource::Reset,
            Err(_) => PeakSource::NotReset(peak_rss_bytes()),
        }
    }

    /// The run's peak RSS: the OS mark when it belongs to this run, never below the largest
    /// sampled RSS. The flag is `true` when only the sampled maximum could be used.
    pub(crate) fn at_stop(self, sampled_peak: u64) -> (u64, bool) {
        let now = peak_rss_bytes();
        match (self, now) {
            (PeakSource::Reset, Some(hwm)) => (hwm.max(sampled_peak), false),
            (PeakSource::NotReset(Some(before)), Some(hwm)) if hwm > before => {
                (hwm.max(sampled_peak), false)
            }
            _ => (sampled_peak, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    5120 kB\nVmRSS:\t 4000 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(5120));
        assert_eq!(status_kib(status, "VmSwap:"), None);
        assert_eq!(status_kib("VmHWM: lots kB", "VmHWM:"), None);
    }

    #[test]
    fn parses_scheduler_files() {
        assert_eq!(
            parse_schedstat("1235356143 2544394233 333\n"),
            Some((1235356143, 2544394233))
        );
        assert_eq!(parse_schedstat("12"), None);
        assert_eq!(parse_schedstat("x 1 2"), None);
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(status_count(status, "voluntary_ctxt_switches:"), Some(7));
        assert_eq!(status_count(status, "nonvoluntary_ctxt_switches:"), Some(3));
        assert_eq!(status_count("Name:\tx\n", "voluntary_ctxt_switches:"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_its_own_cpu_time() {
        let before = own_on_cpu_ns().unwrap();
        let mut x = 0_u64;
        for i in 0..1_000_000 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        assert!(own_on_cpu_ns().unwrap() > before);
    }

    #[test]
    fn parses_a_threads_start() {
        let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 2 0 \
                    987654 1000000 200 18446744073709551615";
        assert_eq!(parse_start_ticks(stat), Some(987_654));
        assert_eq!(parse_start_ticks("1234 (x) S 1"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_begun_now_starts_after_an_earlier_uptime() {
        let before = uptime_ticks().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let began = std::thread::spawn(|| {
            thread_start_ticks(crate::tick_profiler::kernel_tid::current().unwrap())
        })
        .join()
        .unwrap()
        .unwrap();
        assert!(began > before, "{began} ≤ {before}");
        assert!(began <= uptime_ticks().unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn lists_own_threads() {
        let own = crate::tick_profiler::kernel_tid::current().unwrap();
        // The directory is read by position: other tests' threads exiting meanwhile can make
        // one read skip a live thread (the caller reads twice for that reason). Three reads in
        // a row all skipping this one would take three exits at the wrong instant.
        let mut ids = vec![0];
        let listed = (0..3).any(|_| {
            thread_ids(&mut ids).unwrap();
            assert!(!ids.contains(&0), "{ids:?}");
            ids.contains(&own)
        });
        assert!(listed, "{ids:?} lacks {own}");
    }

    #[test]
    fn a_missing_thread_has_exited() {
        let tid = std::thread::spawn(crate::tick_profiler::kernel_tid::current)
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(thread_sched(tid), Err(ThreadRead::Exited));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_own_thread() {
        if !std::path::Path::new("/proc/thread-self/schedstat").exists() {
            eprintln!("skipped: this kernel has no /proc/thread-self/schedstat");
            return;
        }
        let tid = crate::tick_profiler::kernel_tid::current().unwrap();
        let before = thread_sched(tid).unwrap();
        let spin = std::time::Instant::now();
        while spin.elapsed() < std::time::Duration::from_millis(20) {}
        std::thread::sleep(std::time::Duration::from_millis(1));
        let after = thread_sched(tid).unwrap();
        assert!(after.on_cpu_ns > before.on_cpu_ns, "{before:?} → {after:?}");
        assert!(
            after.voluntary > before.voluntary,
            "the sleep blocked: {before:?} → {after:?}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_own_peak() {
        let hwm = peak_rss_bytes().unwrap();
        assert!(hwm > 1024 * 1024, "VmHWM {hwm}");
    }

    #[test]
    fn fallback_never_reports_below_the_samples() {
        let (peak, _) = PeakSource::NotReset(Some(u64::MAX)).at_stop(123);
        assert_eq!(peak, 123);
    }
}
