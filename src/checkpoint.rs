//! Crash-safe partial reports: while a run goes on, a background thread saves the run so far
//! every period, atomically, so a process that crashes or is killed leaves a loadable report
//! at most one period old. `stop_profiling` stops the thread, then saves the final report over
//! the last checkpoint.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::report::CheckpointStats;
use crate::tick_profiler::shared::lock;

/// The longest checkpoint period accepted: a day.
const MAX_PERIOD: Duration = Duration::from_secs(86_400);
/// Name of the writer thread.
const THREAD_NAME: &str = "tickprof-checkpoint";

/// Where and how often to save checkpoints, as configured on the builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckpointConfig {
    /// The path, in which `{name}` stands for the run's name.
    template: String,
    every: Duration,
}

impl CheckpointConfig {
    /// Validates the period.
    pub(crate) fn new(template: String, every: Duration) -> Result<Self> {
        if template.is_empty() {
            return Err(Error::Config("checkpoint path must not be empty".into()));
        }
        if every.is_zero() || every > MAX_PERIOD {
            return Err(Error::Config(format!(
                "checkpoint period for {template} must be above 0 and at most {}, got {every:?}",
                humantime::format_duration(MAX_PERIOD)
            )));
        }
        Ok(CheckpointConfig { template, every })
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

/// What the writer counts, shared with the collector so every report can state it.
#[derive(Debug, Default)]
struct Counters {
    written: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// What saving one checkpoint came to.
#[derive(Debug)]
pub(crate) enum Saved {
    /// Saved.
    Yes,
    /// Failed: counted, and the writer goes on.
    Failed(Error),
    /// The run (or its collector) is gone: the writer exits.
    RunGone,
}

/// The background writer of one run.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    path: PathBuf,
    every: Duration,
    counters: Arc<Counters>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Checks that `path` can be written (so a path that cannot work is an error now, naming
    /// it), then starts a thread that calls `save` every `every` until stopped.
    pub(crate) fn start(
        path: PathBuf,
        every: Duration,
        save: impl Fn(&Path) -> Saved + Send + 'static,
    ) -> Result<Self> {
        crate::atomic_file::check_writable(&path)?;
        let counters = Arc::new(Counters::default());
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread_counters = Arc::clone(&counters);
        let thread_path = path.clone();
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                // Nothing this thread does (saving, serializing) may reach a profiled run.
                tracing::subscriber::with_default(
                    tracing::subscriber::NoSubscriber::default(),
                    || save_loop(&stop_rx, every, &thread_path, &thread_counters, save),
                );
            })
            .map_err(|e| Error::io(&path, e))?;
        Ok(Checkpointer {
            path,
            every,
            counters,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The counts so far (`final_saved` false).
    pub(crate) fn stats(&self) -> CheckpointStats {
        CheckpointStats {
            path: self.path.display().to_string(),
            every_s: self.every.as_secs_f64(),
            written: self.counters.written.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            last_error: lock(&self.counters.last_error).clone(),
            final_saved: false,
        }
    }

    /// The path checkpoints go to.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the thread and waits for it: when this returns, no checkpoint can be saved over
    /// what the caller saves next. Never call it with the collector's run lock held (the
    /// thread may be waiting for it).
    pub(crate) fn stop(mut self) -> CheckpointStats {
        self.signal();
        if let Some(Err(_)) = self.thread.take().map(JoinHandle::join) {
            self.counters.record_failure(&Error::Config(
                "the checkpoint writer thread panicked".to_owned(),
            ));
        }
        self.stats()
    }

    fn signal(&mut self) {
        self.stop.take();
    }
}

impl Drop for Checkpointer {
    /// Signals the thread without waiting: a collector dropped mid-run may be dropped on the
    /// writer thread itself (it holds the collector while saving), which cannot join itself.
    /// The thread exits at its next wake-up, at once when signalled.
    fn drop(&mut self) {
        self.signal();
    }
}

/// Saves every `every` until `stop` is signalled (or dropped) or the run is gone.
///
/// Saves are due at fixed times, so the time a save takes does not stretch the period (a
/// checkpoint is at most `every` plus one save old); after a save longer than a period, the
/// missed ones are skipped.
fn save_loop(
    stop: &mpsc::Receiver<()>,
    every: Duration,
    path: &Path,
    counters: &Counters,
    save: impl Fn(&Path) -> Saved,
) {
    let mut due = Instant::now() + every;
    loop {
        let wait = due.saturating_duration_since(Instant::now());
        if let Ok(()) | Err(RecvTimeoutError::Disconnected) = stop.recv_timeout(wait) {
            return;
        }
        let now = Instant::now();
        while due <= now {
            due += every;
        }
        match save(path) {
            Saved::Yes => {
                counters.written.fetch_add(1, Ordering::Relaxed);
            }
            Saved::Failed(error) => counters.record_failure(&error),
            Saved::RunGone => return,
        }
    }
}

impl Counters {
    fn record_failure(&self, error: &Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(error.to_string());
    }
}

/// Counts a failed save of the final report in `stats`.
pub(crate) fn final_save_failed(stats: &mut CheckpointStats, error: &Error) {
    stats.failed += 1;
    stats.last_error = Some(error.to_string());
    stats.final_saved = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_name_becomes_one_file_name() {
        let config =
            CheckpointConfig::new("reports/{name}.json".into(), Duration::from_secs(1)).unwrap();
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
            let error = CheckpointConfig::new("x/{name}.json".into(), every).unwrap_err();
            assert!(error.to_string().contains("x/{name}.json"), "{error}");
        }
        assert!(CheckpointConfig::new(String::new(), Duration::from_secs(1)).is_err());
    }
}
