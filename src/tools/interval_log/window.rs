//! Reading a window of an interval log back: every interval inside it, merged per tag, in time
//! and memory bounded by the file's size whatever it holds.
//!
//! A log is read as untrusted input (a file from another machine, a log cut by a crash, a file
//! that is not a log at all):
//! - Each histogram is decoded by the reports' bounded decoder
//!   ([`histogram_blob`](crate::report::histogram_blob)), which checks a blob's header against
//!   the bytes really there before allocating. hdrhistogram's own `Deserializer` allocates the
//!   payload its header claims: a 500-byte log claiming 4 GiB aborted `tickprof hlog`.
//! - At most [`MAX_TAGS`] tags, and histograms of at most [`MAX_COUNTS`] counts in all, are kept
//!   (the `tick` tag always has a place); the rest are counted in [`Window::left_out`], which
//!   `tickprof hlog` prints. A full histogram per tag let 8,000 tags in a 991 KB log take 2.1 GB.
//! - A last line without its newline that does not read is left out (a crash, a kill or a full
//!   disk cut it short while it was being written), but only after a whole line: a file without
//!   one (a single unterminated line) is no log whose end was cut, and is an error.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault};
use std::path::Path;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry, LogIteratorError};
use rustc_hash::FxHasher;

use super::TICK_TAG;
use crate::error::{Error, Result};
use crate::report::histogram_blob;

/// The most tags a window keeps (the `tick` tag and 255 others). A tickprof log has one tag per
/// component: the exporter keeps 64 components apart, a window four times that.
pub const MAX_TAGS: usize = 256;
/// The most counts the kept histograms may hold in all: 256 MiB of `u64`. A tickprof histogram
/// (1 ns to 1 h at 3 significant figures) has 33,792, so [`MAX_TAGS`] of them fit 30 times over;
/// this bounds logs whose histograms have wider bounds (up to ~6 million counts each).
pub const MAX_COUNTS: usize = 32 << 20;
/// Names of tags left out remembered (as 64-bit hashes, 8 MiB), so each is counted once; past
/// that, [`LeftOut::tags`] is a lower bound.
const MAX_LEFT_OUT_NAMES: usize = 1 << 20;
/// Names of tags left out listed in [`LeftOut::first`].
const LEFT_OUT_LISTED: usize = 5;
/// The largest interval log read, held in memory whole: a day of 1 s intervals of 20
/// components is ~300 MB.
const MAX_LOG_BYTES: u64 = 4 << 30;

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

/// A window of a log: the merged histogram of each tag kept, and what was left out.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Window {
    /// The tags kept, by name (an untagged interval's is `""`).
    pub tags: BTreeMap<String, WindowHistogram>,
    /// The tags past [`MAX_TAGS`] or [`MAX_COUNTS`], not merged.
    pub left_out: LeftOut,
}

/// Tags of a window left out to bound its memory, and their intervals inside the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeftOut {
    /// Distinct tags left out (a lower bound when `tags_exact` is false: past a million names,
    /// new ones cannot be told from ones seen).
    pub tags: u64,
    /// Whether `tags` is exact.
    pub tags_exact: bool,
    /// Intervals of those tags within the window.
    pub intervals: u64,
    /// The first few tags left out (at most 5), in the log's order.
    pub first: Vec<String>,
}

impl LeftOut {
    /// Whether anything was left out.
    pub fn is_empty(&self) -> bool {
        self.intervals == 0
    }
}

/// The histograms of every tag in `path` whose intervals lie entirely within `from_s ..= to_s`
/// (seconds since the run's start; `None`: open-ended), merged per tag; at most [`MAX_TAGS`]
/// tags, in the order the log names them (see the module docs).
///
/// A last line without its newline that does not read is left out: the line a crash, a kill
/// or a full disk cut short while it was being written (every line before it reads). A file
/// with no whole line has no such last line: if it does not read, it is not a log.
///
/// # Errors
/// [`Error::Io`] naming the file (it cannot be read, is empty, is not a regular file, or is
/// larger than 4 GiB); [`Error::InvalidReport`] naming the file and the line of a line that
/// does not parse or a histogram that does not decode (saying why).
pub fn read_window(
    path: impl AsRef<Path>,
    from_s: Option<f64>,
    to_s: Option<f64>,
) -> Result<Window> {
    let path = path.as_ref();
    let bytes = crate::input_file::read(path, MAX_LOG_BYTES, "interval log")?;
    if bytes.is_empty() {
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "file is empty: an interval log begins with its header",
            ),
        ));
    }
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
    // Where the unterminated last line begins, if there is one after a whole line.
    let cut_from = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .filter(|&start| start < bytes.len());
    let cut_short = |offset: usize| cut_from.is_some_and(|start| offset >= start);
    let mut window = Kept::default();
    for entry in IntervalLogIterator::new(&bytes) {
        let interval = match entry {
            Ok(LogEntry::Interval(interval)) => interval,
            Ok(_) => continue,
            Err(LogIteratorError::ParseError { offset }) if cut_short(offset) => break,
            Err(LogIteratorError::ParseError { offset }) => {
                let message = if !bytes.contains(&b'\n') {
                    "not an interval log: no whole line (a log begins with its header)"
                } else {
                    "not an interval log line"
                };
                return Err(invalid(offset, message.to_owned()));
            }
        };
        let start = interval.start_timestamp().as_secs_f64();
        let end = start + interval.duration().as_secs_f64();
        if from_s.is_some_and(|from| start < from) || to_s.is_some_and(|to| end > to) {
            continue;
        }
        let tag = interval.tag().map_or("", |t| t.as_str());
        let encoded = interval.encoded_histogram();
        let offset = encoded.as_ptr() as usize - bytes.as_ptr() as usize;
        let histogram = match histogram_blob::decode(encoded) {
            Ok(histogram) => histogram,
            Err(_) if cut_short(offset) => break,
            Err(reason) => {
                return Err(invalid(
                    offset,
                    format!("tag `{tag}`: histogram does not decode: {reason}"),
                ));
            }
        };
        window
            .merge(tag, histogram, start, end)
            .map_err(|message| invalid(offset, message))?;
    }
    Ok(Window {
        tags: window.tags,
        left_out: LeftOut {
            tags_exact: !window.names_full,
            ..window.left_out
        },
    })
}

/// The tags kept so far, the counts they hold, and what was left out.
#[derive(Default)]
struct Kept {
    tags: BTreeMap<String, WindowHistogram>,
    counts: usize,
    left_out: LeftOut,
    left_out_names: HashSet<u64, BuildHasherDefault<FxHasher>>,
    /// A tag was left out when `left_out_names` was full: `left_out.tags` is a lower bound.
    names_full: bool,
}

impl Kept {
    /// Merges one interval's histogram into its tag's, or counts it left out. The error is the
    /// message for a histogram that cannot be merged.
    fn merge(
        &mut self,
        tag: &str,
        mut histogram: Histogram<u64>,
        start: f64,
        end: f64,
    ) -> std::result::Result<(), String> {
        let hash = self.left_out_names.hasher().hash_one(tag);
        if self.left_out_names.contains(&hash) {
            self.left_out.intervals += 1;
            return Ok(());
        }
        let Some(window) = self.tags.get_mut(tag) else {
            // The `tick` tag always has a place, so others fill one fewer until it comes.
            let places = if tag == TICK_TAG || self.tags.contains_key(TICK_TAG) {
                MAX_TAGS
            } else {
                MAX_TAGS - 1
            };
            let counts = histogram.distinct_values();
            if self.tags.len() >= places || self.counts.saturating_add(counts) > MAX_COUNTS {
                self.leave_out(tag, hash, 1);
                return Ok(());
            }
            self.counts += counts;
            // Later intervals may have wider bounds (logs of two collectors appended to one
            // file): the merged histogram grows to take them, within MAX_COUNTS.
            histogram.auto(true);
            self.tags.insert(
                tag.to_owned(),
                WindowHistogram {
                    histogram,
                    intervals: 1,
                    from_s: start,
                    to_s: end,
                },
            );
            return Ok(());
        };
        let before = window.histogram.distinct_values();
        window
            .histogram
            .add(&histogram)
            .map_err(|e| format!("tag `{tag}`: cannot merge: {e:?}"))?;
        window.intervals += 1;
        window.from_s = window.from_s.min(start);
        window.to_s = window.to_s.max(end);
        let after = window.histogram.distinct_values();
        self.counts = self.counts - before + after;
        if self.counts > MAX_COUNTS {
            // Grown past the budget: the whole tag goes, not a part of its intervals.
            let intervals = window.intervals;
            self.tags.remove(tag);
            self.counts -= after;
            self.leave_out(tag, hash, intervals);
        }
        Ok(())
    }

    fn leave_out(&mut self, tag: &str, hash: u64, intervals: u64) {
        self.left_out.intervals += intervals;
        // A name not remembered may be one left out before: only remembered ones count.
        if self.left_out_names.len() < MAX_LEFT_OUT_NAMES {
            self.left_out_names.insert(hash);
            self.left_out.tags += 1;
        } else {
            self.names_full = true;
        }
        if self.left_out.first.len() < LEFT_OUT_LISTED {
            self.left_out.first.push(tag.to_owned());
        }
    }
}
