//! A run's wall clock and the process CPU clock, read together, so that CPU figures cover
//! exactly the wall time a report states (`cpu_time_s / total_time_s`).

use std::time::{Duration, Instant};

/// The start of a window: the wall clock and the process CPU clock read together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunWindow {
    wall: Instant,
    cpu_ns: Option<u64>,
}

impl RunWindow {
    /// Opens a window now.
    pub(crate) fn open() -> Self {
        RunWindow {
            wall: Instant::now(),
            cpu_ns: process_cpu_ns(),
        }
    }

    /// The window from its opening to now (it stays open): its wall time and, where the
    /// platform has a process CPU clock (feature `sampler`), the CPU time used in it.
    pub(crate) fn close(&self) -> ClosedWindow {
        self.until(&RunWindow::open())
    }

    /// The window from its opening to the opening of `next`: consecutive windows that share
    /// their boundary tile the run, in wall and CPU time alike.
    pub(crate) fn until(&self, next: &RunWindow) -> ClosedWindow {
        let cpu_ns = self.cpu_ns.zip(next.cpu_ns);
        ClosedWindow {
            wall: next.wall.saturating_duration_since(self.wall),
            cpu: cpu_ns.map(|(start, end)| Duration::from_nanos(end.saturating_sub(start))),
        }
    }
}

/// A window's wall time and the CPU time the process used in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClosedWindow {
    pub(crate) wall: Duration,
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) cpu: Option<Duration>,
}

/// The process CPU clock (`CLOCK_PROCESS_CPUTIME_ID` on Unix), ns since the process started.
#[cfg(feature = "sampler")]
pub(crate) fn process_cpu_ns() -> Option<u64> {
    let time = cpu_time::ProcessTime::try_now().ok()?;
    u64::try_from(time.as_duration().as_nanos()).ok()
}

/// Without the `sampler` feature there is no CPU clock.
#[cfg(not(feature = "sampler"))]
pub(crate) fn process_cpu_ns() -> Option<u64> {
    None
}
