//! HdrHistogram interval logs (`.hlog`) of a long run: one tick histogram and one histogram per
//! component for each interval, in the format HdrHistogram's own tools read
//! (`HistogramLogProcessor`, HdrHistogramVisualizer, the `hdrhistogram` crates), so hours of a
//! run show latency over time and any window of it merges exactly.
//!
//! Written by the collector's background writer
//! ([`MetricsCollectorBuilder::interval_log`](crate::MetricsCollectorBuilder::interval_log)),
//! or by hand from [`MetricsCollector::interval`](crate::MetricsCollector::interval) reports
//! with [`IntervalLog::append`]. Read back with [`read_window`] (`tickprof hlog`), which takes
//! a log as untrusted input: bounded decoding, at most [`MAX_TAGS`] tags, an error naming the
//! file and line for what is not a log (see [`read_window`]).
//!
//! Values are nanoseconds, and so is the `Interval_Max` column. Tags: `tick` for the tick
//! latency after the warm-up (net busy time, as `ticks.latency`), and each component's span
//! name (its net busy time; characters a tag cannot hold, `,` and whitespace, become `_`).
//! Timestamps are seconds since the run's start (`BaseTime`).

mod window;

use std::fs::File;
use std::io::{LineWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use crate::error::{Error, Result};
use crate::report::{LatencyStats, Report, RunPart};

pub use window::{LeftOut, MAX_COUNTS, MAX_TAGS, Window, WindowHistogram, read_window};

/// The tag of the tick latency histograms.
pub const TICK_TAG: &str = "tick";
/// Name of the collector's writer thread.
pub(crate) const THREAD_NAME: &str = "tickprof-hlog";

/// An interval log being written: a file that interval reports are appended to, one line per
/// histogram, each line on disk as soon as it is written (a crash loses no whole line).
pub struct IntervalLog {
    path: PathBuf,
    file: LineWriter<File>,
    serializer: V2DeflateSerializer,
}

impl std::fmt::Debug for IntervalLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntervalLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl IntervalLog {
    /// Creates (or truncates) `path` and writes the log's header for run `name`, which
    /// started at `started_at`. Missing directories are created.
    ///
    /// # Errors
    /// [`Error::Io`] naming `path`.
    pub fn create(path: impl AsRef<Path>, name: &str, started_at: SystemTime) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(&path, e))?;
        }
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut log = IntervalLog {
            path,
            file: LineWriter::new(file),
            serializer: V2DeflateSerializer::new(),
        };
        let mut header = IntervalLogWriterBuilder::new();
        header
            .add_comment(&format!(
                "tickprof {} interval log of run `{name}`: values in nanoseconds; tags: `{TICK_TAG}` \
                 (tick latency after the warm-up) and one per component span name",
                env!("CARGO_PKG_VERSION")
            ))
            .with_start_time(started_at)
            .with_base_time(started_at);
        let io = |e| Error::io(&log.path, e);
        header
            .begin_log_with(&mut log.file, &mut log.serializer)
            .map_err(io)?;
        log.file
            .write_all(
                b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
            )
            .map_err(|e| Error::io(&log.path, e))?;
        Ok(log)
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an interval report (from [`MetricsCollector::interval`](crate::MetricsCollector::interval)):
    /// its tick histogram, then each component's, at its offset from the run's start.
    ///
    /// # Errors
    /// [`Error::Config`] for a report that is not an interval (it has no place in time);
    /// [`Error::Histogram`] for a histogram that does not decode; [`Error::Io`] naming the file.
    pub fn append(&mut self, report: &Report) -> Result<()> {
        let Some(RunPart::Interval { offset_s, .. }) = report.part else {
            return Err(Error::Config(format!(
                "{}: only interval reports (MetricsCollector::interval) can be appended to an \
                 interval log; `{}` is {}",
                self.path.display(),
                report.name,
                match &report.part {
                    None => "a whole run's report".to_owned(),
                    Some(part) => format!("a {part:?}").to_lowercase(),
                }
            )));
        };
        let start = Duration::from_secs_f64(offset_s.max(0.0));
        let length = Duration::from_secs_f64(report.total_time_s.max(0.0));
        self.write(TICK_TAG, &report.ticks.latency, start, length)?;
        for (name, component) in &report.components {
            self.write(&tag_for(name), &component.latency, start, length)?;
        }
        Ok(())
    }

    fn write(
        &mut self,
        tag: &str,
        stats: &LatencyStats,
        start: Duration,
        length: Duration,
    ) -> Result<()> {
        let histogram = stats.decode_histogram(tag)?;
        let mut writer = IntervalLogWriterBuilder::new()
            .begin_log_with(&mut self.file, &mut self.serializer)
            .map_err(|e| Error::io(&self.path, e))?;
        writer
            .write_histogram(&histogram, start, length, Tag::new(tag))
            .map_err(|e| {
                Error::io(
                    &self.path,
                    std::io::Error::other(format!("writing the `{tag}` histogram: {e}")),
                )
            })
    }
}

/// A span name as a tag: `,` and whitespace (which end a tag) become `_`.
pub fn tag_for(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == ',' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect()
}
