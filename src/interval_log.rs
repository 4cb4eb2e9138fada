//! HdrHistogram interval logs (`.hlog`) of a long run: one tick histogram and one histogram per
//! component for each interval, in the format HdrHistogram's own tools read
//! (`HistogramLogProcessor`, HdrHistogramVisualizer, the `hdrhistogram` crates), so hours of a
//! run show latency over time and any window of it merges exactly.
//!
//! Written by the collector's background writer
//! ([`MetricsCollectorBuilder::interval_log`](crate::MetricsCollectorBuilder::interval_log)),
//! or by hand from [`MetricsCollector::interval`](crate::MetricsCollector::interval) reports
//! with [`IntervalLog::append`]. Read back with [`read_window`] (`tickprof hlog`).
//!
//! Values are nanoseconds, and so is the `Interval_Max` column. Tags: `tick` for the tick
//! latency after the warm-up (net busy time, as `ticks.latency`), and each component's span
//! name (its net busy time; characters a tag cannot hold, `,` and whitespace, become `_`).
//! Timestamps are seconds since the run's start (`BaseTime`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{LineWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, LogIteratorError, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use crate::error::{Error, Result};
use crate::report::{LatencyStats, Report, RunPart};

/// The tag of the tick latency histograms.
pub const TICK_TAG: &str = "tick";
/// The largest interval log read, held in memory whole: a day of 1 s intervals of 20
/// components is ~300 MB.
const MAX_LOG_BYTES: u64 = 4 << 30;
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

/// One tag's histograms over a window of a log, merged.
#[derive(Debug, Clone)]
pub struct WindowHistogram {
    /// The merged histogram (ns).
    pub histogram: Histogram<u64>,
    /// Intervals merged.
    pub intervals: u64,
    /// The first merged interval's start, seconds since the run's start.
    pub from_s: f64,
    /// The last merged interval's end.
    pub to_s: f64,
}

/// The histograms of every tag in `path` whose intervals lie entirely within `from_s ..= to_s`
/// (seconds since the run's start; `None`: open-ended), merged per tag.
///
/// A last line without its newline that does not read is left out: the line a crash, a kill
/// or a full disk cut short while it was being written (every line before it reads).
///
/// # Errors
/// [`Error::Io`] naming the file; [`Error::InvalidReport`] naming the file and the line of a
/// line that does not parse or a histogram that does not decode.
pub fn read_window(
    path: impl AsRef<Path>,
    from_s: Option<f64>,
    to_s: Option<f64>,
) -> Result<BTreeMap<String, WindowHistogram>> {
    let path = path.as_ref();
    let bytes = crate::input_file::read(path, MAX_LOG_BYTES, "interval log")?;
    let line_at = |offset: usize| {
        bytes[..offset.min(bytes.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };
    let invalid = |offset: usize, message: String| Error::InvalidReport {
        path: path.to_path_buf(),
        field: format!("line {}", line_at(offset)),
        message,
    };
    // Where the unterminated last line, if any, begins.
    let unterminated = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let cut_short = |offset: usize| offset >= unterminated && unterminated < bytes.len();
    let mut deserializer = Deserializer::new();
    let mut tags: BTreeMap<String, WindowHistogram> = BTreeMap::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let interval = match entry {
            Ok(LogEntry::Interval(interval)) => interval,
            Ok(_) => continue,
            Err(LogIteratorError::ParseError { offset }) if cut_short(offset) => break,
            Err(LogIteratorError::ParseError { offset }) => {
                return Err(invalid(offset, "not an interval log line".to_owned()));
            }
        };
        let start = interval.start_timestamp().as_secs_f64();
        let end = start + interval.duration().as_secs_f64();
        if from_s.is_some_and(|from| start < from) || to_s.is_some_and(|to| end > to) {
            continue;
        }
        let tag = interval
            .tag()
            .map_or(String::new(), |t| t.as_str().to_owned());
        let encoded = interval.encoded_histogram();
        let offset = encoded.as_ptr() as usize - bytes.as_ptr() as usize;
        let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
            .map_err(|e| format!("tag `{tag}`: not base64: {e}"))
            .and_then(|raw| {
                deserializer
                    .deserialize::<u64, _>(&mut raw.as_slice())
                    .map_err(|e| format!("tag `{tag}`: histogram does not decode: {e:?}"))
            });
        let mut histogram: Histogram<u64> = match decoded {
            Ok(histogram) => histogram,
            Err(_) if cut_short(offset) => break,
            Err(message) => return Err(invalid(offset, message)),
        };
        match tags.get_mut(&tag) {
            Some(window) => {
                window
                    .histogram
                    .add(&histogram)
                    .map_err(|e| invalid(offset, format!("tag `{tag}`: cannot merge: {e:?}")))?;
                window.intervals += 1;
                window.from_s = window.from_s.min(start);
                window.to_s = window.to_s.max(end);
            }
            None => {
                // Later intervals may have wider bounds (logs of two collectors appended to
                // one file): the merged histogram grows to take them.
                histogram.auto(true);
                tags.insert(
                    tag,
                    WindowHistogram {
                        histogram,
                        intervals: 1,
                        from_s: start,
                        to_s: end,
                    },
                );
            }
        }
    }
    Ok(tags)
}
