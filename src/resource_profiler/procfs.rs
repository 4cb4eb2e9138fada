//! The few `/proc` reads sysinfo does not offer: the RSS high-water mark and its reset.
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
