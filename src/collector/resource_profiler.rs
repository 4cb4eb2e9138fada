//! ResourceProfiler: CPU and memory of the process, sampled on a tokio interval during a run.
//!
//! The only code in tickprof that touches sysinfo or tokio.
//!
//! # Design
//! - **Own pid only**: each sample refreshes this process with
//!   `ProcessRefreshKind::nothing().with_cpu().with_memory().without_tasks()` (tens of µs),
//!   never the whole process table (milliseconds).
//! - **CPU from CPU-time deltas**: a sample's CPU is Δ`accumulated_cpu_time()` / Δwall, not
//!   sysinfo's `cpu_usage()`, which re-reads the machine's jiffies only every 200 ms and reads half
//!   the truth at a 100 ms period. The baseline refresh happens in [`ResourceProfiler::start`] and
//!   is not a sample (no fake 0 first sample); a closing refresh in [`ResourceProfiler::stop`] makes
//!   the totals cover the whole run, so `cpu_percent.mean` (= CPU time / wall time, time-weighted)
//!   agrees with the OS's own accounting for start → stop.
//! - **Always a dedicated thread** (`tickprof-sampler`) running a current-thread runtime, whatever
//!   runtime the caller is in: `stop` is synchronous, and awaiting a task spawned on the caller's
//!   runtime would mean blocking one of its workers (a deadlock on a one-worker runtime, a panic
//!   with `block_on`); a busy `current_thread` runtime or CPU-bound workers would starve the task
//!   (zero samples); and only an owned thread can be joined, so nothing runs after `stop`.
//!   Cost: one mostly-sleeping thread.
//! - **Tracing off**: the thread runs under [`tracing::subscriber::NoSubscriber`], so nothing the
//!   sampler (or its dependencies) might trace reaches the TickProfiler.
//! - **Bounded memory**: see [`series`]; at most [`MAX_SAMPLES`] samples are stored.
//! - **Each ticking thread's scheduler counters** (with a collector): at every sample, for each
//!   thread that registered a shard, `/proc/self/task/<tid>/schedstat` and `…/status` (see
//!   [`thread_windows`]), so a slow tick can say whether its thread was preempted or waited for
//!   a CPU around it, without a single read on the tick's own thread.

pub(crate) mod procfs;
mod series;
mod thread_windows;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;

use crate::error::{Error, SamplerError};
use crate::report::{MeanMax, Resources, SchedulerAround, SlowestTicks};
use crate::run_window::{ClosedWindow, RunWindow, process_cpu_ns};
use procfs::PeakSource;
use series::{Raw, Series};
use thread_windows::ThreadWindows;

/// Live count of ticks completed in the current run (the collector provides it).
///
/// Called once per sample on the sampler thread, so it must be cheap and must not block (an
/// atomic load, or a sum of a few). Values are clamped to be non-decreasing within a run.
pub type TickCounter = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Fills a list with the kernel ids of the threads to follow (the collector provides it: its
/// shards' owners). Called once per sample on the sampler thread: cheap, non-blocking.
pub(crate) type ThreadIds = Arc<dyn Fn(&mut Vec<u32>) + Send + Sync>;

/// The sampling period used when none is configured: 500 ms.
///
/// CPU time advances in 10 ms steps (`USER_HZ` = 100), so one sample's CPU % is accurate to
/// ±10 ms / period: ±10 pp at 100 ms, ±2 pp at 500 ms. The run's mean is exact at any period (it
/// is total CPU time / total wall time); the period decides how noisy the series and its `max`
/// are. 500 ms keeps `max` within ~2 pp and costs ≈ 0.06 % of one core (measured on a 2-vCPU VM:
/// ≈ 280 µs of thread CPU per sample, all in: wake-up, timer, a cold refresh of five `/proc`
/// files), and still stores 17 minutes of samples before the series is decimated. Pass 100 ms
/// (the seed's default) for finer graphs of short runs, at ≈ 0.25 % of one core.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_millis(500);

/// Most samples kept in [`Resources::samples`]; longer runs are decimated (peaks kept).
pub(crate) const MAX_SAMPLES: usize = 2048;

/// Name of the sampler thread (visible in `/proc/self/task/*/comm`, truncated to 15 bytes).
const THREAD_NAME: &str = "tickprof-sampler";

/// One successful reading of the process.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// CPU time (user + system, every thread) since process start, ns.
    cpu_ns: u64,
    /// Resident memory, bytes.
    rss_bytes: u64,
}

/// Reads this process through sysinfo, refreshing nothing but our own pid; CPU time from the
/// process CPU clock (ns) where the platform has one, else from sysinfo (10 ms steps).
struct Probe {
    system: System,
    pid: Pid,
    kind: ProcessRefreshKind,
    /// Whether `cpu_time::ProcessTime` works here; decided once, so a run never mixes clocks.
    process_clock: bool,
}

impl Probe {
    fn new() -> Result<Self, SamplerError> {
        let pid = sysinfo::get_current_pid().map_err(|e| SamplerError::Pid(Box::new(e)))?;
        let system = System::new().map_err(|e| SamplerError::Processes(Box::new(e)))?;
        Ok(Probe {
            system,
            pid,
            kind: ProcessRefreshKind::nothing()
                .with_cpu()
                .with_memory()
                .without_tasks(),
            process_clock: process_cpu_ns().is_some(),
        })
    }

    /// One refresh; `None` when sysinfo could not update our process (counted by the caller).
    fn read(&mut self) -> Option<Reading> {
        let updated = self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            false,
            self.kind,
        );
        if updated == 0 {
            return None;
        }
        let process = self.system.process(self.pid)?;
        let cpu_ns = if self.process_clock {
            process_cpu_ns()?
        } else {
            process.accumulated_cpu_time().saturating_mul(1_000_000)
        };
        Some(Reading {
            cpu_ns,
            rss_bytes: process.memory(),
        })
    }
}

/// The sampler's state, owned by its thread.
struct Sampler {
    probe: Probe,
    ticks: TickCounter,
    /// When the baseline was read: `elapsed_ms` counts from here.
    start: Instant,
    /// The previous successful reading and when it was taken.
    last: (Instant, Reading),
    last_ticks: u64,
    series: Arc<Mutex<Feeds>>,
    threads: Option<ThreadReader>,
}

/// Reads the followed threads' scheduler counters into their windows.
struct ThreadReader {
    ids: ThreadIds,
    windows: Arc<Mutex<ThreadWindows>>,
    /// Reused buffers: no allocation per sample once warm.
    tids: Vec<u32>,
    readings: Vec<(
        u32,
        f64,
        f64,
        Result<procfs::SchedCounters, procfs::ThreadRead>,
    )>,
    /// When the sampler started, in `/proc` clock ticks since boot: a thread that began later
    /// counts its CPU time from zero, whether or not the listing at the start missed it.
    start_ticks: Option<u64>,
}

impl ThreadReader {
    /// Reads every thread of the process as the sampler starts (see [`ThreadWindows::start`]):
    /// the baseline of a thread that starts ticking after this.
    ///
    /// `/proc/self/task` is read by position: a thread that exits during the read can make it
    /// skip a live one. So it is read twice, the union kept, and the listing taken for all the
    /// threads there were (a thread missing from it began later) only when both reads agree.
    fn read_start(&mut self, start: Instant) {
        self.start_ticks = procfs::uptime_ticks();
        let mut again = Vec::new();
        let listed =
            procfs::thread_ids(&mut self.tids).is_ok() && procfs::thread_ids(&mut again).is_ok();
        self.tids.sort_unstable();
        again.sort_unstable();
        let agree = listed && self.tids == again;
        self.tids.extend(again);
        self.tids.sort_unstable();
        self.tids.dedup();
        let before = start.elapsed().as_secs_f64() * 1_000.0;
        let readings: Vec<_> = self
            .tids
            .iter()
            .take(thread_windows::MAX_THREADS)
            .map(|&tid| (tid, procfs::thread_sched(tid).ok()))
            .collect();
        let complete = agree && readings.len() == self.tids.len();
        crate::lock::lock(&self.windows).start(before, readings, complete);
    }

    /// Reads every thread (with no lock held), then records the readings; times are ms since
    /// `start`, taken just before and just after each thread's reads.
    fn read(&mut self, start: Instant) {
        (self.ids)(&mut self.tids);
        self.tids.sort_unstable();
        self.tids.dedup();
        {
            let mut windows = crate::lock::lock(&self.windows);
            self.tids.retain(|&tid| windows.wants(tid));
            // A thread seen for the first time: did it begin after the start? (Its start
            // time is in whole clock ticks: one in the start's own tick is not taken as later.)
            if let Some(start_ticks) = self.start_ticks {
                for &tid in &self.tids {
                    if windows.unknown(tid)
                        && procfs::thread_start_ticks(tid).is_some_and(|t| t > start_ticks)
                    {
                        windows.began_after_start(tid);
                    }
                }
            }
        }
        let ms = |at: Instant| at.saturating_duration_since(start).as_secs_f64() * 1_000.0;
        self.readings.clear();
        for &tid in &self.tids {
            let before = Instant::now();
            let reading = procfs::thread_sched(tid);
            self.readings
                .push((tid, ms(before), ms(Instant::now()), reading));
        }
        let mut windows = crate::lock::lock(&self.windows);
        for &(tid, before_ms, after_ms, reading) in &self.readings {
            windows.record(tid, before_ms, after_ms, reading);
        }
    }
}

/// Where slow ticks find their threads' scheduler windows: the sampler's windows and the
/// instant their times count from.
#[derive(Debug, Clone)]
pub(crate) struct SchedulerSource {
    windows: Arc<Mutex<ThreadWindows>>,
    start: Instant,
}

impl SchedulerSource {
    /// Thread `tid`'s time on a CPU from the sampler's start to its last read of it (the
    /// closing one, after a stop), s; `None` for a thread it did not follow.
    pub(crate) fn cpu_time_s(&self, tid: u32) -> Option<f64> {
        let ns = crate::lock::lock(&self.windows).on_cpu_ns(tid)?;
        Some(ns as f64 / 1e9)
    }

    /// Thread `tid`'s time on a CPU over the run, s, from its own reading as it exited
    /// (`exit_ns`); `None` where its windows' start is unknown.
    pub(crate) fn cpu_time_at_exit_s(&self, tid: u32, exit_ns: u64) -> Option<f64> {
        let ns = crate::lock::lock(&self.windows).on_cpu_ns_at_exit(tid, exit_ns)?;
        Some(ns as f64 / 1e9)
    }

    /// Every followed thread's time on a CPU so far, ns (where an interval begins).
    pub(crate) fn cpu_ns_so_far(&self) -> std::collections::BTreeMap<u32, u64> {
        crate::lock::lock(&self.windows).all_on_cpu_ns()
    }

    /// Fills in `slow`'s `scheduler` figures. `run_start` is the instant the ticks' offsets
    /// count from; `margin_ms` how far the ticks' clock may disagree with `Instant`.
    pub(crate) fn attach(&self, slow: &mut SlowestTicks, run_start: Instant, margin_ms: f64) {
        // Sampler ms = run ms − shift.
        let shift_ms = match self.start.checked_duration_since(run_start) {
            Some(later) => later.as_secs_f64() * 1_000.0,
            None => -run_start.duration_since(self.start).as_secs_f64() * 1_000.0,
        };
        let windows = crate::lock::lock(&self.windows);
        slow.attach_scheduler(margin_ms, |tid, from_ms, to_ms| {
            let a = windows.around(tid, from_ms - shift_ms, to_ms - shift_ms)?;
            Some(SchedulerAround {
                from_ms: a.from_ms + shift_ms,
                to_ms: a.to_ms + shift_ms,
                involuntary_switches: u64::from(a.delta.involuntary),
                voluntary_switches: u64::from(a.delta.voluntary),
                run_queue_wait_ns: a.delta.wait_ns,
                on_cpu_ns: a.delta.on_cpu_ns,
            })
        });
    }
}

/// The sampler's output, shared with the profiler handle so a running profile can be read:
/// the run's series, and the series since the last interval was taken.
#[derive(Debug)]
struct Feeds {
    run: Series,
    interval: Series,
}

impl Feeds {
    fn new(interval_s: f64) -> Self {
        Feeds {
            run: Series::new(interval_s, MAX_SAMPLES),
            interval: Series::new(interval_s, MAX_SAMPLES),
        }
    }
}

impl Sampler {
    /// Reads the process and records a sample (or the closing reading), or counts a failure.
    fn sample(&mut self, closing: bool) {
        let now = Instant::now();
        let Some(reading) = self.probe.read() else {
            if let Some(threads) = &mut self.threads {
                threads.read(self.start);
            }
            let mut feeds = crate::lock::lock(&self.series);
            let Feeds { run, interval } = &mut *feeds;
            for series in [run, interval] {
                series.record_failure();
                if closing {
                    series.finish(None);
                }
            }
            return;
        };
        let (last_at, last) = self.last;
        // A failed refresh leaves `last` alone, so the next sample spans both periods correctly.
        let cpu_ns = reading.cpu_ns.saturating_sub(last.cpu_ns);
        let wall_s = now.saturating_duration_since(last_at).as_secs_f64();
        self.last_ticks = self.last_ticks.max((self.ticks)());
        let raw = Raw::new(
            now.saturating_duration_since(self.start).as_secs_f64() * 1_000.0,
            cpu_ns,
            wall_s,
            reading.rss_bytes,
            self.last_ticks,
        );
        self.last = (now, reading);
        if let Some(threads) = &mut self.threads {
            threads.read(self.start);
        }
        let mut feeds = crate::lock::lock(&self.series);
        let Feeds { run, interval } = &mut *feeds;
        for series in [run, interval] {
            if closing {
                series.finish(Some(raw));
            } else {
                series.push(raw);
            }
        }
    }
}

/// The interval loop: one sample per period until `stop` fires (or its sender is dropped), then
/// the closing sample.
async fn sample_loop(mut sampler: Sampler, interval: Duration, mut stop: oneshot::Receiver<()>) {
    // The baseline was read in `start`; the first sample is due one period later. `start`
    // bounds the period, so the addition cannot overflow; if it somehow did, a panic here would
    // lose the run's samples, so the closing reading alone is taken instead.
    let Some(first) = tokio::time::Instant::now().checked_add(interval) else {
        let _ = stop.await;
        sampler.sample(true);
        return;
    };
    let mut ticker = tokio::time::interval_at(first, interval);
    // After a stall (suspended VM, starved thread) resume one period later: no burst of
    // back-to-back samples with meaningless CPU %.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        // `select!` needs tokio's `macros` feature; two polls by hand do the same.
        let stopped = poll_fn(|cx| {
            if Pin::new(&mut stop).poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            ticker.poll_tick(cx).map(|_| false)
        })
        .await;
        if stopped {
            break;
        }
        sampler.sample(false);
    }
    sampler.sample(true);
}

/// Samples CPU and memory of this process on a dedicated thread between `start` and `stop`.
///
/// ```no_run
/// # use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
/// use tickprof::{DEFAULT_SAMPLE_INTERVAL, ResourceProfiler, TickCounter};
/// let ticks = Arc::new(AtomicU64::new(0));
/// let counter: TickCounter = { let t = ticks.clone(); Arc::new(move || t.load(Ordering::Relaxed)) };
/// let profiler = ResourceProfiler::start(DEFAULT_SAMPLE_INTERVAL, counter).expect("sampling");
/// // ... run the backtest, ticks.fetch_add(1, Ordering::Relaxed) per tick ...
/// let resources = profiler.stop();
/// println!("CPU {:?}% (busiest sample {:?}%)", resources.cpu_percent.mean, resources.cpu_percent.max);
/// ```
#[derive(Debug)]
pub struct ResourceProfiler {
    interval: Duration,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    series: Arc<Mutex<Feeds>>,
    /// The followed threads' scheduler windows (started by a collector), and when the
    /// sampler's clock started.
    threads: Option<Arc<Mutex<ThreadWindows>>>,
    start: Instant,
    peak: PeakSource,
    /// When sampling began, wall and CPU, read together: what [`stop`](Self::stop) measures
    /// the run's CPU against.
    window: RunWindow,
}

impl ResourceProfiler {
    /// Starts sampling every `interval`. An error when the platform or sysinfo cannot sample (a
    /// collector's report then carries `resources: null` and `resources_unavailable: reason`).
    ///
    /// The baseline refresh runs here, on the caller's thread, so a platform sysinfo cannot read
    /// fails now rather than after the run. Resets the process's RSS high-water mark (see
    /// [`Resources::peak_rss_bytes`]). Safe to call inside or outside any tokio runtime; it waits
    /// (synchronously, well under a millisecond) for the sampler thread to start.
    ///
    /// # Errors
    /// [`Error::Config`] for an `interval` of zero or above
    /// [`MAX_SAMPLE_INTERVAL`](crate::MAX_SAMPLE_INTERVAL) (naming it); [`Error::Sampler`] when
    /// sysinfo cannot read this process, or the sampler thread or its runtime could not be
    /// created.
    pub fn start(interval: Duration, ticks: TickCounter) -> crate::Result<ResourceProfiler> {
        Self::start_sampling(interval, ticks, None)
    }

    /// [`start`](Self::start), also reading the scheduler counters of the threads `threads`
    /// lists at each sample (the first reading, here, is their baseline); the error as the
    /// report's `resources_unavailable` states it.
    pub(crate) fn start_with_threads(
        interval: Duration,
        ticks: TickCounter,
        threads: Option<ThreadIds>,
    ) -> Result<ResourceProfiler, String> {
        Self::start_sampling(interval, ticks, threads).map_err(|e| match e {
            Error::Config(reason) => reason,
            e => e.to_string(),
        })
    }

    fn start_sampling(
        interval: Duration,
        ticks: TickCounter,
        threads: Option<ThreadIds>,
    ) -> crate::Result<ResourceProfiler> {
        crate::sample_interval::check(interval).map_err(Error::Config)?;
        let mut probe = Probe::new()?;
        let peak = PeakSource::at_start();
        let start = Instant::now();
        let baseline = probe.read().ok_or(SamplerError::FirstReading)?;
        let last_ticks = ticks();
        let series = Arc::new(Mutex::new(Feeds::new(interval.as_secs_f64())));
        let mut threads = threads.map(|ids| ThreadReader {
            ids,
            windows: Arc::new(Mutex::new(ThreadWindows::default())),
            tids: Vec::new(),
            readings: Vec::new(),
            start_ticks: None,
        });
        if let Some(threads) = &mut threads {
            threads.read_start(start);
            threads.read(start);
        }
        let windows = threads.as_ref().map(|t| Arc::clone(&t.windows));
        let sampler = Sampler {
            probe,
            ticks,
            start,
            last: (start, baseline),
            last_ticks,
            series: Arc::clone(&series),
            threads,
        };
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<(), SamplerError>>(1);
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                // Built here, not in `start`: a Runtime must not be dropped in async context,
                // and `start` may be called from one.
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build();
                let runtime = match runtime {
                    Ok(runtime) => {
                        let _ = ready_tx.send(Ok(()));
                        runtime
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(SamplerError::Runtime(e)));
                        return;
                    }
                };
                tracing::subscriber::with_default(
                    tracing::subscriber::NoSubscriber::default(),
                    || runtime.block_on(sample_loop(sampler, interval, stop_rx)),
                )
            })
            .map_err(SamplerError::Thread)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(ResourceProfiler {
                interval,
                stop: Some(stop_tx),
                thread: Some(thread),
                series,
                threads: windows,
                start,
                peak,
                window: RunWindow::open(),
            }),
            Ok(Err(reason)) => {
                let _ = thread.join();
                Err(reason.into())
            }
            Err(_) => {
                let _ = thread.join();
                Err(SamplerError::ThreadExited.into())
            }
        }
    }

    /// Where slow ticks find their threads' scheduler counters (`None` unless started with
    /// threads to follow).
    pub(crate) fn scheduler_source(&self) -> Option<SchedulerSource> {
        Some(SchedulerSource {
            windows: Arc::clone(self.threads.as_ref()?),
            start: self.start,
        })
    }

    /// Stops the task, joins its thread, returns the resources from the end of `start` to now.
    ///
    /// Always a dedicated thread here (see the module docs), so this joins it. Takes a closing
    /// sample first, so the figures cover start → stop. Blocks for one refresh plus a thread
    /// wake-up (≈ 0.1–0.3 ms); fine to call from async code (it never uses `block_on`). When it
    /// returns, the sampler thread has exited.
    pub fn stop(self) -> Resources {
        let window = self.window.close();
        self.stop_over(window)
    }

    /// [`stop`](Self::stop), with the run's CPU total and mean over `window` (the caller's run:
    /// its `total_time_s`), so that every CPU figure agrees with CPU time / wall time.
    pub(crate) fn stop_over(mut self, window: ClosedWindow) -> Resources {
        self.join();
        let series = crate::lock::lock(&self.series).run.clone();
        self.resources(&series, window, true)
    }

    /// The run so far, sampling going on: as [`stop_over`](Self::stop_over) with the samples
    /// taken until now.
    pub(crate) fn so_far(&self, window: ClosedWindow) -> Resources {
        let mut series = crate::lock::lock(&self.series).run.clone();
        series.finish(None);
        self.resources(&series, window, true)
    }

    /// The samples taken since the previous call (or the start), over `window`, which covers
    /// the same span; the next interval starts empty. Its memory peak is the largest sampled
    /// RSS: the OS high-water mark cannot be split into intervals.
    pub(crate) fn take_interval(&self, window: ClosedWindow) -> Resources {
        let mut series = {
            let mut feeds = crate::lock::lock(&self.series);
            let fresh = Series::new(self.interval.as_secs_f64(), MAX_SAMPLES);
            std::mem::replace(&mut feeds.interval, fresh)
        };
        series.finish(None);
        self.resources(&series, window, false)
    }

    /// The figures of `series`, whose CPU total and mean cover `window`. `whole_run`: the OS's
    /// RSS high-water mark applies (it covers the run since `start`).
    fn resources(&self, series: &Series, window: ClosedWindow, whole_run: bool) -> Resources {
        let summary = series.summary();
        let peak_rss_bytes = if whole_run {
            let (peak, sampled_only) = self.peak.at_stop(summary.memory_bytes.peak);
            if sampled_only {
                warn_once_peak_fallback();
            }
            peak
        } else {
            summary.memory_bytes.peak
        };
        let wall_s = window.wall.as_secs_f64();
        // Without a process CPU clock, the samples' total (10 ms steps) over their window.
        let (cpu_time_s, mean) = match window.cpu {
            Some(cpu) => {
                let cpu_s = cpu.as_secs_f64();
                let mean = (wall_s >= series::MIN_CPU_WINDOW_S).then(|| cpu_s / wall_s * 100.0);
                (cpu_s, mean)
            }
            None => (summary.cpu_time_s, summary.cpu_percent.mean),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let cpu_percent = MeanMax {
            mean,
            max: summary.cpu_percent.max,
        };
        Resources {
            sample_interval_ms: u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX),
            samples_taken: summary.samples_taken,
            samples_failed: summary.samples_failed,
            cpu_percent,
            cpu_percent_of_machine: MeanMax {
                mean: cpu_percent.mean.map(|m| m / cores),
                max: cpu_percent.max.map(|m| m / cores),
            },
            cpu_time_s,
            memory_bytes: summary.memory_bytes,
            peak_rss_bytes,
            samples: summary.samples,
            threads: self.threads.as_ref().map(|t| crate::lock::lock(t).stats()),
        }
    }

    /// Signals the thread and waits for it (a panic there is reported, never propagated: the
    /// samples taken before it are kept).
    fn join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(Err(_)) = self.thread.take().map(JoinHandle::join) {
            eprintln!("[tickprof] the resource sampler thread panicked; its last samples are lost");
        }
    }
}

impl Drop for ResourceProfiler {
    /// A profiler dropped without `stop` still stops and joins its thread.
    fn drop(&mut self) {
        self.join();
    }
}

/// Says once per process that `peak_rss_bytes` fell back to the sampled maximum.
fn warn_once_peak_fallback() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "[tickprof] cannot reset the RSS high-water mark (/proc/self/clear_refs); \
             peak_rss_bytes is the largest sampled RSS and may miss spikes between samples"
        );
    });
}
