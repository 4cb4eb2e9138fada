//! What a report of a run that had not stopped says about itself: which part of the run it
//! covers, and the crash-safe checkpoints written during the run.

use serde::{Deserialize, Serialize};

/// Which part of a run a report covers when it is not the final report of a stopped run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunPart {
    /// [`MetricsCollector::snapshot`](crate::MetricsCollector::snapshot): the run from its
    /// start to the moment taken; the run went on.
    Snapshot,
    /// [`MetricsCollector::interval`](crate::MetricsCollector::interval): the run from the
    /// previous interval (or its start) to the moment taken; the run went on.
    Interval {
        /// 1 for the run's first interval, then 2, 3, …
        index: u64,
        /// Seconds from the run's start to the interval's start.
        offset_s: f64,
    },
    /// A checkpoint saved by the background writer (see
    /// [`MetricsCollectorBuilder::checkpoint`](crate::MetricsCollectorBuilder::checkpoint)):
    /// the run from its start to the moment saved. Found on disk, it means the run never
    /// stopped: the process crashed or was killed within `every` of `total_time_s`.
    Checkpoint,
}

impl RunPart {
    /// A line for the summary.
    pub(crate) fn describe(&self, total_time_s: f64) -> String {
        match self {
            RunPart::Snapshot => {
                format!("snapshot of a running run: its first {total_time_s:.3} s, the run went on")
            }
            RunPart::Interval { index, offset_s } => format!(
                "interval {index} of a running run: {offset_s:.3} s to {:.3} s after its start",
                offset_s + total_time_s
            ),
            RunPart::Checkpoint => format!(
                "checkpoint of a run that had not stopped: its first {total_time_s:.3} s \
                 (if this is what was left on disk, the run ended without stop_profiling)"
            ),
        }
    }
}

/// What a background writer (checkpoints, the interval log) wrote during the run, and how
/// many of its writes failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WriterStats {
    /// Where it wrote (checkpoints: the final report replaces the last one there).
    pub path: String,
    /// The period, in seconds.
    pub every_s: f64,
    /// Checkpoints saved, or intervals logged, during the run.
    pub written: u64,
    /// Writes that failed (a full disk, a directory removed): a failed checkpoint leaves the
    /// previous one in place; a failed interval is missing from the log.
    pub failed: u64,
    /// The last failure's message, naming the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Whether the last write at `stop_profiling` succeeded: the final report over the
    /// checkpoints, or the interval log's last interval. In a saved checkpoint: whether it is
    /// the final report. `false` while the run goes on.
    pub final_written: bool,
}
