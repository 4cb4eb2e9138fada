//! The state of the active run: what was harvested from the threads so far, the interval
//! cursors, the resource sampler and the background writers.

use std::time::SystemTime;

use super::run_report::{ReportParts, Span, ThreadCpuBefore};
use crate::periodic_writer::PeriodicWriter;
use crate::report::{Overhead, RunPart};
#[cfg(feature = "sampler")]
use crate::resource_profiler::ResourceProfiler;
use crate::run_window::RunWindow;
use crate::tick_profiler::Harvest;
use crate::tick_profiler::records::RunRecords;
use crate::tick_profiler::shared::Shared;
use crate::tick_profiler::slow_ticks::ClockAnchor;

#[derive(Debug)]
pub(super) struct ActiveRun {
    pub(super) name: String,
    pub(super) run: u64,
    pub(super) started_at: SystemTime,
    /// The run's raw clock against the wall clock (slow ticks' start times).
    pub(super) anchor: ClockAnchor,
    /// The run's wall and CPU clocks, read together at start, so CPU figures cover exactly
    /// `total_time_s`.
    pub(super) window: RunWindow,
    pub(super) overhead: Overhead,
    #[cfg(feature = "sampler")]
    pub(super) sampler: Option<ResourceProfiler>,
    pub(super) resources_unavailable: Option<String>,
    /// What was harvested from the threads so far: the whole run.
    pub(super) so_far: RunRecords,
    /// The intervals of [`MetricsCollector::interval`](super::MetricsCollector::interval).
    pub(super) user_intervals: IntervalCursor,
    /// The interval log's own intervals, when it is on.
    pub(super) log_intervals: Option<IntervalCursor>,
    pub(super) checkpoints: Option<PeriodicWriter>,
    pub(super) interval_log: Option<PeriodicWriter>,
    /// Kept alive for the run, see `honest_rebuilds`.
    pub(super) _second_dispatcher: tracing_core::Dispatch,
}

/// Whose intervals: the user's or the interval log's (each takes its own, so neither steals
/// the other's records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cursor {
    User,
    Log,
}

/// Successive intervals of one consumer: what was harvested since its previous interval.
#[derive(Debug)]
pub(super) struct IntervalCursor {
    current: Interval,
    taken: u64,
}

/// The part of a run since the previous interval report.
#[derive(Debug)]
struct Interval {
    records: RunRecords,
    started_at: SystemTime,
    window: RunWindow,
    /// The run's recording windows and their spending when the interval began.
    windows_before: u64,
    switches_before_ns: u64,
    /// Each followed thread's CPU time when the interval began (`None`: at the run's start).
    thread_cpu_before: ThreadCpuBefore,
}

impl Interval {
    /// An interval beginning at `window`'s opening.
    fn begin(shared: &Shared, window: RunWindow, thread_cpu_before: ThreadCpuBefore) -> Self {
        Interval {
            records: RunRecords::new(&shared.template),
            started_at: SystemTime::now(),
            window,
            windows_before: shared.window.opened(),
            switches_before_ns: shared.budget.switches_ns(),
            thread_cpu_before,
        }
    }
}

impl IntervalCursor {
    /// A cursor whose first interval begins at `window`'s opening (the run's start).
    pub(super) fn new(shared: &Shared, window: RunWindow) -> Self {
        IntervalCursor {
            current: Interval::begin(shared, window, None),
            taken: 0,
        }
    }
}

impl ActiveRun {
    /// Takes what the threads recorded since the previous harvest into the run's totals and
    /// every cursor's current interval.
    pub(super) fn harvest(&mut self, shared: &Shared, harvest: Harvest) {
        let taken = shared.harvest(self.run, harvest);
        self.so_far.add(&taken, &shared.template);
        for cursor in std::iter::once(&mut self.user_intervals).chain(self.log_intervals.as_mut()) {
            cursor.current.records.add(&taken, &shared.template);
        }
    }

    /// The run so far, for a report marked `part` (harvest first).
    pub(super) fn so_far(
        &self,
        shared: &Shared,
        part: Option<RunPart>,
    ) -> (ReportParts, RunRecords) {
        let window = self.window.close();
        #[cfg(feature = "sampler")]
        let resources = self.sampler.as_ref().map(|sampler| sampler.so_far(window));
        #[cfg(not(feature = "sampler"))]
        let resources = None;
        let parts = ReportParts {
            name: self.name.clone(),
            started_at: self.started_at,
            window,
            overhead: self.overhead.clone(),
            resources_unavailable: self.unavailable(resources.is_some()),
            resources,
            #[cfg(feature = "sampler")]
            scheduler: self
                .sampler
                .as_ref()
                .and_then(ResourceProfiler::scheduler_source),
            span: Span::whole_run(shared),
            anchor: self.anchor,
            part,
            checkpoints: self.checkpoints.as_ref().map(PeriodicWriter::stats),
            interval_log: self.interval_log.as_ref().map(PeriodicWriter::stats),
            thread_cpu_before: None,
        };
        (parts, self.so_far.clone())
    }

    /// Ends `cursor`'s current interval now and begins the next (harvest first); `None` if
    /// that cursor is off.
    pub(super) fn take_interval(
        &mut self,
        shared: &Shared,
        cursor: Cursor,
    ) -> Option<(ReportParts, RunRecords)> {
        let boundary = RunWindow::open();
        let run_window = self.window;
        // The resource sampler keeps one interval series: the user's intervals take it.
        let takes_resources = cursor == Cursor::User;
        let cursor = match cursor {
            Cursor::User => &mut self.user_intervals,
            Cursor::Log => self.log_intervals.as_mut()?,
        };
        #[cfg(feature = "sampler")]
        let thread_cpu_now = self
            .sampler
            .as_ref()
            .and_then(ResourceProfiler::scheduler_source)
            .map(|s| s.cpu_ns_so_far());
        #[cfg(not(feature = "sampler"))]
        let thread_cpu_now = None;
        let interval = std::mem::replace(
            &mut cursor.current,
            Interval::begin(shared, boundary, thread_cpu_now),
        );
        cursor.taken += 1;
        let index = cursor.taken;
        let window = interval.window.until(&boundary);
        #[cfg(feature = "sampler")]
        let resources = self
            .sampler
            .as_ref()
            .filter(|_| takes_resources)
            .map(|sampler| sampler.take_interval(window));
        #[cfg(not(feature = "sampler"))]
        let resources = {
            let _ = takes_resources;
            None
        };
        let parts = ReportParts {
            name: self.name.clone(),
            started_at: interval.started_at,
            window,
            overhead: self.overhead.clone(),
            resources_unavailable: self.unavailable(resources.is_some()),
            resources,
            #[cfg(feature = "sampler")]
            scheduler: self
                .sampler
                .as_ref()
                .and_then(ResourceProfiler::scheduler_source),
            span: Span {
                windows: shared
                    .window
                    .opened()
                    .saturating_sub(interval.windows_before),
                switches_ns: shared
                    .budget
                    .switches_ns()
                    .saturating_sub(interval.switches_before_ns),
            },
            anchor: self.anchor,
            part: Some(RunPart::Interval {
                index,
                offset_s: run_window.until(&interval.window).wall.as_secs_f64(),
            }),
            thread_cpu_before: interval.thread_cpu_before,
            checkpoints: self.checkpoints.as_ref().map(PeriodicWriter::stats),
            interval_log: self.interval_log.as_ref().map(PeriodicWriter::stats),
        };
        Some((parts, interval.records))
    }

    /// Why resources are missing, when they are.
    fn unavailable(&self, have_resources: bool) -> Option<String> {
        if have_resources {
            None
        } else {
            self.resources_unavailable.clone()
        }
    }
}
