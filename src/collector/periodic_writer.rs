//! A background thread that writes something every period while a run goes on (checkpoints,
//! interval logs), counts what failed instead of raising it, and can be stopped and joined so
//! that nothing it writes lands after what the caller writes next.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::lock::lock;
use crate::report::{Report, WriterStats};

/// The longest period accepted: a day.
const MAX_PERIOD: Duration = Duration::from_secs(86_400);

/// Where a writer writes (a path in which `{name}` stands for the run's name) and how often,
/// as configured on the builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeriodicConfig {
    template: String,
    every: Duration,
}

impl PeriodicConfig {
    /// Validates the settings of `what` (for the error message).
    pub(crate) fn new(what: &str, template: String, every: Duration) -> Result<Self> {
        if template.is_empty() {
            return Err(Error::Config(format!("{what} path must not be empty")));
        }
        if every.is_zero() || every > MAX_PERIOD {
            return Err(Error::Config(format!(
                "{what} period for {template} must be above 0 and at most {}, got {every:?}",
                humantime::format_duration(MAX_PERIOD)
            )));
        }
        Ok(PeriodicConfig { template, every })
    }

    /// The path as configured, `{name}` included.
    pub(crate) fn template(&self) -> &str {
        &self.template
    }

    /// The period.
    pub(crate) fn every(&self) -> Duration {
        self.every
    }

    /// The path for run `name`: `{name}` replaced by the name, with path separators and
    /// other characters a file name should not hold replaced by `_`.
    pub(crate) fn path_for(&self, name: &str) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        PathBuf::from(self.template.replace("{name}", &safe))
    }
}

/// What one write came to.
#[derive(Debug)]
pub(crate) enum Written {
    /// Written.
    Yes,
    /// Failed: counted, and the writer goes on.
    Failed(Error),
    /// The run (or its collector) is gone: the writer exits.
    RunGone,
}

/// A writer's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WriteCounts {
    pub(crate) written: u64,
    pub(crate) failed: u64,
    /// The last failure's message, naming the path.
    pub(crate) last_error: Option<String>,
}

impl WriteCounts {
    /// The report's account of a writer of period `every` writing to `path`.
    pub(crate) fn stats(self, every: Duration, path: &Path) -> WriterStats {
        WriterStats {
            path: path.display().to_string(),
            every_s: every.as_secs_f64(),
            written: self.written,
            failed: self.failed,
            last_error: self.last_error,
            final_written: false,
        }
    }
}

/// Counts a failed last write (the final report, the last interval) in `stats`.
pub(crate) fn last_write_failed(stats: &mut WriterStats, error: &Error) {
    stats.failed += 1;
    stats.last_error = Some(error.to_string());
    stats.final_written = false;
}

#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Counters {
    fn count(&self, written: &Written) {
        match written {
            Written::Yes => {
                self.written.fetch_add(1, Ordering::Relaxed);
            }
            Written::Failed(error) => self.record_failure(error),
            Written::RunGone => {}
        }
    }

    fn record_failure(&self, error: &Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(error.to_string());
    }
}

/// One run's background writer.
#[derive(Debug)]
pub(crate) struct PeriodicWriter {
    path: PathBuf,
    every: Duration,
    counters: Arc<Counters>,
    /// `Some(report)`: write it last, then exit; `None` or a dropped sender: exit.
    stop: Option<mpsc::Sender<Option<Report>>>,
    thread: Option<JoinHandle<()>>,
}

impl PeriodicWriter {
    /// Starts thread `name`, which calls `write(None)` every `every` until stopped, and
    /// `write(Some(last))` with what [`stop`](Self::stop) passes.
    ///
    /// Writes are due at fixed times, so the time a write takes does not stretch the period
    /// (what was written is at most `every` plus one write old); after a write longer than a
    /// period, the missed ones are skipped.
    pub(crate) fn start(
        name: &str,
        path: PathBuf,
        every: Duration,
        write: impl FnMut(Option<Report>) -> Written + Send + 'static,
    ) -> Result<Self> {
        let counters = Arc::new(Counters::default());
        let (stop_tx, stop_rx) = mpsc::channel::<Option<Report>>();
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // Nothing this thread does (serializing, writing) may reach a profiled run.
                tracing::subscriber::with_default(
                    tracing::subscriber::NoSubscriber::default(),
                    || write_loop(&stop_rx, every, &thread_counters, write),
                );
            })
            .map_err(|e| Error::io(&path, e))?;
        Ok(PeriodicWriter {
            path,
            every,
            counters,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The path written to.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The report's account of the writes so far (`final_written` false).
    pub(crate) fn stats(&self) -> WriterStats {
        self.counts().stats(self.every, &self.path)
    }

    fn counts(&self) -> WriteCounts {
        WriteCounts {
            written: self.counters.written.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            last_error: lock(&self.counters.last_error).clone(),
        }
    }

    /// Stops the thread, after it writes `last` if given, and waits for it: when this returns,
    /// nothing more is written. `final_written`: whether `last` was written. Never call it
    /// with the collector's run lock held (the thread may be waiting for it).
    pub(crate) fn stop(mut self, last: Option<Report>) -> WriterStats {
        let has_last = last.is_some();
        let before = self.counts().written;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(last);
        }
        if let Some(Err(_)) = self.thread.take().map(JoinHandle::join) {
            let error = Error::Config(format!(
                "the writer thread of {} panicked",
                self.path.display()
            ));
            self.counters.record_failure(&error);
        }
        let mut stats = self.stats();
        stats.final_written = has_last && stats.written > before;
        stats
    }
}

/// The writer thread: `write(None)` at each due time until a stop message (or a dropped
/// sender), then `write(Some(last))` if the message carries one.
fn write_loop(
    stop: &mpsc::Receiver<Option<Report>>,
    every: Duration,
    counters: &Counters,
    mut write: impl FnMut(Option<Report>) -> Written,
) {
    let mut due = Instant::now() + every;
    loop {
        let wait = due.saturating_duration_since(Instant::now());
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(last) => {
                if let Some(report) = last {
                    counters.count(&write(Some(report)));
                }
                return;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        while due <= now {
            due += every;
        }
        let written = write(None);
        counters.count(&written);
        if let Written::RunGone = written {
            // The run is stopping (or its collector is gone, and the sender with it): only
            // the last write, if any, is left.
            if let Ok(Some(report)) = stop.recv() {
                counters.count(&write(Some(report)));
            }
            return;
        }
    }
}

impl Drop for PeriodicWriter {
    /// Signals the thread without waiting: a collector dropped mid-run may be dropped on the
    /// writer thread itself (it holds the collector while writing), which cannot join itself.
    /// The thread exits at once when signalled.
    fn drop(&mut self) {
        self.stop.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_name_becomes_one_file_name() {
        let config = PeriodicConfig::new(
            "checkpoint",
            "reports/{name}.json".into(),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            config.path_for("btc/usd 1m"),
            PathBuf::from("reports/btc_usd_1m.json")
        );
        assert_eq!(
            config.path_for("run-1.a"),
            PathBuf::from("reports/run-1.a.json")
        );
    }

    #[test]
    fn periods_out_of_range_name_the_path() {
        for every in [Duration::ZERO, MAX_PERIOD + Duration::from_secs(1)] {
            let error =
                PeriodicConfig::new("checkpoint", "x/{name}.json".into(), every).unwrap_err();
            assert!(error.to_string().contains("x/{name}.json"), "{error}");
            assert!(error.to_string().contains("checkpoint period"), "{error}");
        }
        assert!(PeriodicConfig::new("checkpoint", String::new(), Duration::from_secs(1)).is_err());
    }
}
