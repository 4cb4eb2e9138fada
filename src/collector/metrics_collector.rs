//! `MetricsCollector`: owns profiling runs (start/stop) and joins what the layer and the
//! resource sampler recorded into one [`Report`].

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::error::{Error, Result};
use crate::interval_log::IntervalLog;
use crate::lock::lock;
use crate::overhead_calibration::{self, Calibration};
use crate::periodic_writer::{self, PeriodicConfig, PeriodicWriter, Written};
use crate::report::{DEFAULT_SLOWEST_TICKS, Report, RunPart, WriterStats};
#[cfg(feature = "sampler")]
use crate::resource_profiler::ResourceProfiler;
use crate::run_window::RunWindow;
use crate::sampling::Sampling;
use crate::tick_profiler::records::RunRecords;
use crate::tick_profiler::shared::Shared;
use crate::tick_profiler::slow_ticks::ClockAnchor;
use crate::tick_profiler::subscriber_internals::{all_dispatchers_rebuild, rebuild_interest};
use crate::tick_profiler::tick_fields::TickFieldCapture;
use crate::tick_profiler::{Harvest, TickProfiler};

mod active_run;
mod run_report;

use active_run::{ActiveRun, Cursor, IntervalCursor};
use run_report::{ReportParts, Span};

/// Default significant figures of every histogram: 0.1 % resolution.
const DEFAULT_SIGNIFICANT_FIGURES: u8 = 3;
/// Default warm-up: each thread's first 100 ticks of a run. Measured on the driver's loop: the
/// first ticks take 10–100× the steady tick (page faults, cold caches, lazy initialisation) and
/// 100 ticks are far past them, yet cost ~15 µs of timing.
pub const DEFAULT_WARMUP_TICKS: u64 = 100;
/// Default histogram bounds: 1 ns to 1 h. Values above are clamped and counted.
const DEFAULT_LOWEST: Duration = Duration::from_nanos(1);
const DEFAULT_HIGHEST: Duration = Duration::from_secs(3_600);

/// Collects one profiling run at a time from its [`TickProfiler`] layers (and, with feature
/// `sampler`, from a resource sampler) and turns it into a [`Report`].
///
/// Cheap to clone: clones are handles to the same collector, so one can stay with the code
/// that starts and stops runs while the layer lives in the subscriber. Dropping the last
/// handle mid-run abandons the run: the layer stops recording, and the sampler and the
/// background writers stop (the last checkpoint on disk stays a checkpoint).
///
/// ```
/// use tickprof::MetricsCollector;
/// use tracing_subscriber::prelude::*;
///
/// let collector = MetricsCollector::builder().tick_span("tick").build()?;
/// let subscriber = tracing_subscriber::registry().with(collector.layer());
/// tracing::subscriber::with_default(subscriber, || -> tickprof::Result<()> {
///     collector.start_profiling("doc_example")?;
///     for _ in 0..100 {
///         let _tick = tracing::info_span!("tick").entered();
///         let _parse = tracing::info_span!("parse").entered();
///     }
///     let report = collector.stop_profiling()?;
///     assert_eq!(report.ticks.count, 100); // every tick is counted
///     assert!(report.components["parse"].count > 0); // components of the recorded ticks
///     Ok(())
/// })?;
/// # Ok::<(), tickprof::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MetricsCollector {
    /// Shared by the user's handles only (`None` in the background writers' own): the last
    /// one dropped abandons the active run. Declared first, so it drops while `inner` lives.
    _user: Option<Arc<UserHandles>>,
    inner: Arc<Inner>,
}

/// What the user's handles share: when the last one is dropped, the active run can never be
/// stopped, so it is abandoned. The background writers hold the collector too, while they
/// write; two writers whose writes overlap (periods shorter than a write) kept it alive
/// between them forever, each writing on, with the sampler, into a run nobody could stop.
#[derive(Debug)]
struct UserHandles {
    inner: Weak<Inner>,
}

impl Drop for UserHandles {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.abandon();
        }
    }
}

#[derive(Debug)]
struct Inner {
    /// Registered for the collector's life (see `subscriber_internals::all_dispatchers_rebuild`).
    _all_dispatchers_rebuild: tracing_core::Dispatch,
    shared: Arc<Shared>,
    measure_overhead: bool,
    warmup_ticks: u64,
    /// The resource sampler's period (`None`: switched off). Without the `sampler` feature it
    /// is validated but nothing samples.
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    sample_interval: Option<Duration>,
    checkpoint: Option<PeriodicConfig>,
    interval_log: Option<PeriodicConfig>,
    active: Mutex<Option<ActiveRun>>,
    /// Held by `stop_profiling` from its start to its last write, and taken by
    /// `start_profiling` first: a run started by another handle while a stop finishes (its
    /// writers' last writes, the final report over the checkpoint) waits for it, so neither
    /// writes into the other's files when both runs have one name.
    finishing: Mutex<()>,
}

/// Configures a [`MetricsCollector`]; [`build`](Self::build) validates everything at once.
#[derive(Debug, Clone)]
#[must_use]
pub struct MetricsCollectorBuilder {
    tick_span: String,
    significant_figures: u8,
    lowest: Duration,
    highest: Duration,
    measure_overhead: bool,
    sample_interval: Option<Duration>,
    sampling: Sampling,
    warmup_ticks: u64,
    slowest_ticks: usize,
    tick_fields: TickFieldCapture,
    checkpoint: Option<(String, Duration)>,
    interval_log: Option<(String, Duration)>,
    clock: Option<quanta::Clock>,
}

impl Default for MetricsCollectorBuilder {
    fn default() -> Self {
        MetricsCollectorBuilder {
            tick_span: "tick".to_owned(),
            significant_figures: DEFAULT_SIGNIFICANT_FIGURES,
            lowest: DEFAULT_LOWEST,
            highest: DEFAULT_HIGHEST,
            measure_overhead: true,
            sample_interval: Some(default_sample_interval()),
            sampling: Sampling::default(),
            warmup_ticks: DEFAULT_WARMUP_TICKS,
            slowest_ticks: DEFAULT_SLOWEST_TICKS,
            tick_fields: TickFieldCapture::default(),
            checkpoint: None,
            interval_log: None,
            clock: None,
        }
    }
}

#[cfg(feature = "sampler")]
fn default_sample_interval() -> Duration {
    crate::resource_profiler::DEFAULT_SAMPLE_INTERVAL
}

#[cfg(not(feature = "sampler"))]
fn default_sample_interval() -> Duration {
    Duration::from_millis(250)
}

impl MetricsCollectorBuilder {
    /// The name of the span that marks one tick (default `"tick"`).
    pub fn tick_span(mut self, name: impl Into<String>) -> Self {
        self.tick_span = name.into();
        self
    }

    /// Histogram precision, 1..=5 significant figures (default 3: 0.1 % resolution).
    pub fn significant_figures(mut self, figures: u8) -> Self {
        self.significant_figures = figures;
        self
    }

    /// The range histograms cover (default 1 ns to 1 h). Longer spans are clamped to `highest`
    /// and counted in the report's `dropped.overflow`.
    pub fn histogram_bounds(mut self, lowest: Duration, highest: Duration) -> Self {
        self.lowest = lowest;
        self.highest = highest;
        self
    }

    /// Which ticks are timed and which are recorded with their components (default:
    /// [`Sampling::budget`] of 2 % of the loop's time). [`Sampling::full`] records every span
    /// of every tick.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// How many of each thread's first ticks in a run are warm-up (default
    /// [`DEFAULT_WARMUP_TICKS`]; 0: none). They are counted (in `ticks.count` and the
    /// throughput) and every one is measured (timed, or recorded with its components when a
    /// recording window takes it, as the first tick's does), but their latency is reported
    /// apart, in `ticks.warmup`: the first ticks of a loop pay for page faults, cold caches and
    /// lazy initialisation, and a few of them can pull the mean above the p99. Their
    /// components stay in `components` (with [`Sampling::full`], counts stay exact). A tick
    /// closed on another thread than the one that ran it counts toward the closing thread's
    /// warm-up.
    pub fn warmup_ticks(mut self, ticks: u64) -> Self {
        self.warmup_ticks = ticks;
        self
    }

    /// How many of the slowest ticks each report keeps in `slowest_ticks` (default
    /// [`DEFAULT_SLOWEST_TICKS`]; 0: none). Each comes with its ordinal, thread, start time and
    /// latency, and, when it was recorded with its components, its timeline. Warm-up ticks are
    /// left out. Snapshots and intervals hold the slowest ticks of what they cover. Cost: three
    /// more words per record on the hot path, one comparison per tick where records are
    /// drained: about 1 instruction per timed tick (about 300 per tick of 8 recorded components
    /// over the release before slowest ticks, half of it outside tickprof), measured with
    /// callgrind (see the README's slowest-ticks section).
    pub fn slowest_ticks(mut self, n: usize) -> Self {
        self.slowest_ticks = n;
        self
    }

    /// Which fields of the tick span slow ticks are reported with, so a report names a tick
    /// the way the user does (`tick #904,211 seq=904211`): the first three fields declared
    /// (values in 32 bytes, text cut to fit), read when a timed tick is created and sent on
    /// only for a tick that may be among its thread's slowest. Default
    /// [`TickFieldCapture::Scalars`]; see [`TickFieldCapture`] for what each costs. Kept for
    /// ticks created and closed on the same thread.
    pub fn tick_fields(mut self, capture: TickFieldCapture) -> Self {
        self.tick_fields = capture;
        self
    }

    /// Whether `start_profiling` measures what profiling costs the loop (default on; about
    /// 20 ms at each start). Off: nothing is subtracted from busy times, the report's
    /// `overhead` figures are 0, and the sampling budget assumes 150 ns per recorded span.
    pub fn measure_overhead(mut self, enabled: bool) -> Self {
        self.measure_overhead = enabled;
        self
    }

    /// The clock spans are timed with (default `quanta::Clock::new()`: the TSC where it is
    /// invariant, else the OS's monotonic clock). A test passes `quanta::Clock::mock()` and
    /// advances it by hand: its figures are then exact on any machine, however loaded (time
    /// passes only where the test says, and tickprof's own work takes none).
    pub fn clock(mut self, clock: quanta::Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How often the resource sampler reads CPU and memory (feature `sampler`).
    pub fn sample_interval(mut self, interval: Duration) -> Self {
        self.sample_interval = Some(interval);
        self
    }

    /// Saves the run so far to `path` every `every`, atomically, from a background thread,
    /// while a run goes on; `stop_profiling` then saves the final report over the last
    /// checkpoint. A process that crashes, aborts or is killed mid-run leaves a loadable
    /// report of all but (at most) its last `every`, marked `part: {"kind": "checkpoint"}`.
    ///
    /// `{name}` in `path` stands for the run's name (characters a file name should not hold
    /// become `_`): `"reports/{name}.json"`. Missing directories are created. Each save costs
    /// the ticking threads what a [`snapshot`](MetricsCollector::snapshot) costs them, and the
    /// writer thread a report's serialization (about a millisecond for ten components).
    /// Failed saves (a full disk) are counted in the report's `checkpoints`, never raised.
    pub fn checkpoint(mut self, path: impl Into<String>, every: Duration) -> Self {
        self.checkpoint = Some((path.into(), every));
        self
    }

    /// Writes an HdrHistogram interval log (`.hlog`) of the run to `path`: every `every`, the
    /// tick latency and each component's latency of that interval, one line each, in the
    /// format HdrHistogram's own log tools read (see [`interval_log`](crate::interval_log)).
    /// Any window of a long run then merges exactly: `tickprof hlog FILE --from 60 --to 120`.
    ///
    /// `{name}` in `path` stands for the run's name; missing directories are created. The log
    /// takes its own intervals ([`MetricsCollector::interval`] is unaffected); the last one
    /// ends at `stop_profiling`. Failed writes are counted in the report's `interval_log`.
    pub fn interval_log(mut self, path: impl Into<String>, every: Duration) -> Self {
        self.interval_log = Some((path.into(), every));
        self
    }

    /// Switches resource sampling off: reports carry `resources: null`.
    pub fn without_resource_sampling(mut self) -> Self {
        self.sample_interval = None;
        self
    }

    /// Validates the settings and builds the collector.
    ///
    /// # Errors
    /// [`Error::Config`] for an empty tick span name, significant figures outside 1..=5, a
    /// bound of 0, bounds HdrHistogram rejects (highest < 2 × lowest), a sample interval of
    /// zero or above [`MAX_SAMPLE_INTERVAL`](crate::MAX_SAMPLE_INTERVAL), sampling
    /// parameters out of range, a checkpoint or interval log period of zero or above a day
    /// (naming the path), or a checkpoint and an interval log on one path.
    pub fn build(self) -> Result<MetricsCollector> {
        if self.tick_span.is_empty() {
            return Err(Error::Config("tick span name must not be empty".into()));
        }
        if !(1..=5).contains(&self.significant_figures) {
            return Err(Error::Config(format!(
                "significant figures must be 1..=5, got {}",
                self.significant_figures
            )));
        }
        let lowest = u64::try_from(self.lowest.as_nanos()).unwrap_or(u64::MAX);
        let highest = u64::try_from(self.highest.as_nanos()).unwrap_or(u64::MAX);
        if lowest == 0 || highest == 0 {
            return Err(Error::Config(format!(
                "histogram bounds must be at least 1 ns, got {:?} .. {:?}",
                self.lowest, self.highest
            )));
        }
        let template = Histogram::<u64>::new_with_bounds(lowest, highest, self.significant_figures)
            .map_err(|e| {
                Error::Config(format!(
                    "histogram bounds {:?} .. {:?} with {} significant figures: {e:?}",
                    self.lowest, self.highest, self.significant_figures
                ))
            })?;
        if let Some(interval) = self.sample_interval {
            crate::sample_interval::check(interval).map_err(Error::Config)?;
        }
        self.sampling.validate().map_err(Error::Config)?;
        let checkpoint = self
            .checkpoint
            .map(|(path, every)| PeriodicConfig::new("checkpoint", path, every))
            .transpose()?;
        let interval_log = self
            .interval_log
            .map(|(path, every)| PeriodicConfig::new("interval log", path, every))
            .transpose()?;
        if let (Some(checkpoint), Some(log)) = (&checkpoint, &interval_log)
            && checkpoint.template() == log.template()
        {
            return Err(same_path(checkpoint.template()));
        }
        let shared = Shared::new(
            self.tick_span,
            self.sampling,
            template,
            self.clock.clone().unwrap_or_default(),
        )
        .with_slowest_ticks(self.slowest_ticks)
        .with_tick_fields(self.tick_fields);
        let inner = Arc::new(Inner {
            _all_dispatchers_rebuild: all_dispatchers_rebuild(),
            shared: Arc::new(shared),
            measure_overhead: self.measure_overhead,
            warmup_ticks: self.warmup_ticks,
            sample_interval: self.sample_interval,
            checkpoint,
            interval_log,
            active: Mutex::new(None),
            finishing: Mutex::new(()),
        });
        Ok(MetricsCollector {
            _user: Some(Arc::new(UserHandles {
                inner: Arc::downgrade(&inner),
            })),
            inner,
        })
    }
}

impl MetricsCollector {
    /// A builder with the defaults: tick span `"tick"`, 3 significant figures, 1 ns .. 1 h.
    pub fn builder() -> MetricsCollectorBuilder {
        MetricsCollectorBuilder::default()
    }

    /// A layer to add to your subscriber. Every layer of one collector feeds the same runs.
    ///
    /// Use a collector's layers in one subscriber at a time: span ids of two `Registry`s can
    /// collide, and the layer keys its per-thread state by span id; the layer also asks the
    /// subscriber it was installed in last which spans other layers want. Two subscribers that
    /// are profiled at once want two collectors.
    pub fn layer<S>(&self) -> TickProfiler<S>
    where
        S: tracing_core::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        crate::tick_profiler::layer(&self.inner.shared)
    }

    /// Whether a run is active.
    pub fn is_profiling(&self) -> bool {
        lock(&self.inner.active).is_some()
    }

    /// Ticks counted so far in the active run, over all threads (0 when no run is active): a
    /// progress hook for long runs. Reads per-thread counters with relaxed loads; it never
    /// blocks the threads that tick.
    pub fn ticks_so_far(&self) -> u64 {
        let run = lock(&self.inner.active).as_ref().map_or(0, |r| r.run);
        if run == 0 {
            return 0;
        }
        self.inner.shared.ticks_so_far(run)
    }

    /// Starts a run named `name` from empty histograms: measures what profiling costs (unless
    /// switched off), starts the resource sampler, then starts counting and sampling ticks.
    ///
    /// # Errors
    /// [`Error::AlreadyProfiling`] if a run is active; [`Error::Io`] naming the checkpoint
    /// path (see [`MetricsCollectorBuilder::checkpoint`]) if it cannot be written;
    /// [`Error::Config`] if the checkpoint and interval log paths are one file for `name`.
    pub fn start_profiling(&self, name: &str) -> Result<()> {
        // A stop still writing its last interval and final report finishes first.
        let _finishing = lock(&self.inner.finishing);
        let mut active = lock(&self.inner.active);
        if let Some(run) = active.as_ref() {
            return Err(Error::AlreadyProfiling(run.name.clone()));
        }
        // A checkpoint path that cannot be written is an error before anything starts; the
        // interval log is created now, for the same reason.
        if let Some(config) = &self.inner.checkpoint {
            let path = config.path_for(name);
            if let Some(log) = &self.inner.interval_log
                && log.path_for(name) == path
            {
                return Err(same_path(&path.display().to_string()));
            }
            crate::atomic_file::check_writable(&path)?;
        }
        let started_at = SystemTime::now();
        let log = self
            .inner
            .interval_log
            .as_ref()
            .map(|config| IntervalLog::create(config.path_for(name), name, started_at))
            .transpose()?;
        let shared = &self.inner.shared;
        // The calibration's own runs have no warm-up; the user's run does.
        shared.budget.set_warmup_ticks(0);
        let calibration = if self.inner.measure_overhead {
            overhead_calibration::calibrate(shared)
        } else {
            Calibration::off()
        };
        shared.set_costs(calibration.costs);
        shared.budget.begin_run(calibration.costs.span_ns);
        shared.budget.set_warmup_ticks(self.inner.warmup_ticks);
        let run = shared.begin_run();
        let writers = self.start_writers(name, run, log);
        let (checkpoints, interval_log) = match writers {
            Ok(writers) => writers,
            Err(error) => {
                shared.end_run();
                return Err(error);
            }
        };
        // Tick callsites (and, with full sampling, every span callsite) become `sometimes`, in
        // an exclusive rebuild after every registration in flight (see
        // `subscriber_internals`); what other layers want of the callsites known so far is
        // asked now.
        let second_dispatcher = all_dispatchers_rebuild();
        shared.probe_unprobed();
        // One instant for the run's start: its wall window (`total_time_s`) and its clock
        // anchor (slow ticks' `offset_s`) are read together, so no tick sits after the run;
        // the resource sampler starts after it, so its windows never begin before the run.
        let anchor = ClockAnchor::now(&shared.clock);
        let window = RunWindow::open();
        #[cfg(feature = "sampler")]
        let (sampler, resources_unavailable) = match self.inner.sample_interval {
            Some(interval) => {
                let counter_shared = Arc::clone(shared);
                let ticks: crate::resource_profiler::TickCounter =
                    Arc::new(move || counter_shared.ticks_so_far(run));
                let ids_shared = Arc::clone(shared);
                let threads: crate::resource_profiler::ThreadIds =
                    Arc::new(move |tids: &mut Vec<u32>| ids_shared.thread_ids(tids));
                match ResourceProfiler::start_with_threads(interval, ticks, Some(threads)) {
                    Ok(sampler) => (Some(sampler), None),
                    Err(reason) => (None, Some(reason)),
                }
            }
            None => (None, Some("resource sampling switched off".to_owned())),
        };
        #[cfg(not(feature = "sampler"))]
        let resources_unavailable = Some("built without the `sampler` feature".to_owned());
        *active = Some(ActiveRun {
            name: name.to_owned(),
            run,
            started_at,
            anchor,
            window,
            overhead: calibration.overhead,
            #[cfg(feature = "sampler")]
            sampler,
            resources_unavailable,
            so_far: RunRecords::new(&shared.template),
            user_intervals: IntervalCursor::new(shared, window),
            log_intervals: interval_log
                .is_some()
                .then(|| IntervalCursor::new(shared, window)),
            checkpoints,
            interval_log,
            _second_dispatcher: second_dispatcher,
        });
        Ok(())
    }

    /// The active run so far, while it goes on: everything [`stop_profiling`] would report if
    /// it were called now, without stopping anything.
    ///
    /// Threads keep ticking. Each thread's records are taken by swapping its histograms with
    /// emptied ones under its own mutex (which the thread takes only between ticks, about once
    /// per 64 spans), then merged with no lock held: no tick waits longer than a ring drain
    /// (at most 128 records). Nothing is lost or counted twice: successive snapshots, intervals
    /// and the final report take each record exactly once into the run's totals.
    ///
    /// [`stop_profiling`]: Self::stop_profiling
    ///
    /// # Errors
    /// [`Error::NotProfiling`] if no run is active; [`Error::Histogram`] if a histogram could
    /// not be serialized.
    pub fn snapshot(&self) -> Result<Report> {
        self.so_far(RunPart::Snapshot, None)
    }

    /// The active run so far, as `part`; with `run`, only if that run is the active one.
    fn so_far(&self, part: RunPart, run: Option<u64>) -> Result<Report> {
        self.report_during_run(run, |active_run, shared| {
            Some(active_run.so_far(shared, Some(part)))
        })
    }

    /// Ends `cursor`'s interval of the active run (with `run`: only if that run is the active
    /// one) and returns its report.
    fn take_interval(&self, cursor: Cursor, run: Option<u64>) -> Result<Report> {
        self.report_during_run(run, |active_run, shared| {
            active_run.take_interval(shared, cursor)
        })
    }

    /// Harvests the active run (with `run`: only if that run is the active one) and builds
    /// the report of the part `take` picks, with the run lock released for the building.
    fn report_during_run(
        &self,
        run: Option<u64>,
        take: impl FnOnce(&mut ActiveRun, &Shared) -> Option<(ReportParts, RunRecords)>,
    ) -> Result<Report> {
        let shared = &self.inner.shared;
        let mut active = lock(&self.inner.active);
        let active_run = active
            .as_mut()
            .filter(|active_run| run.is_none_or(|run| run == active_run.run))
            .ok_or(Error::NotProfiling)?;
        active_run.harvest(shared, Harvest::DuringRun);
        let (parts, records) = take(active_run, shared).ok_or(Error::NotProfiling)?;
        drop(active);
        run_report::build(parts, records, shared, self.inner.warmup_ticks)
    }

    /// Starts the background writers of run `name` (id `run`): checkpoints and the interval
    /// log (already created), each of which exits when the run (or the collector) is gone.
    fn start_writers(
        &self,
        name: &str,
        run: u64,
        log: Option<IntervalLog>,
    ) -> Result<(Option<PeriodicWriter>, Option<PeriodicWriter>)> {
        let weak = || -> Weak<Inner> { Arc::downgrade(&self.inner) };
        let checkpoints = match &self.inner.checkpoint {
            Some(config) => {
                let inner = weak();
                let path = config.path_for(name);
                let save_to = path.clone();
                Some(PeriodicWriter::start(
                    CHECKPOINT_THREAD,
                    path,
                    config.every(),
                    move |_| {
                        let Some(inner) = inner.upgrade() else {
                            return Written::RunGone;
                        };
                        let collector = MetricsCollector { _user: None, inner };
                        match collector.so_far(RunPart::Checkpoint, Some(run)) {
                            Ok(report) => written(report.save_json(&save_to)),
                            Err(Error::NotProfiling) => Written::RunGone,
                            Err(error) => Written::Failed(error),
                        }
                    },
                )?)
            }
            None => None,
        };
        let interval_log = match (&self.inner.interval_log, log) {
            (Some(config), Some(mut log)) => {
                let inner = weak();
                Some(PeriodicWriter::start(
                    crate::interval_log::THREAD_NAME,
                    log.path().to_path_buf(),
                    config.every(),
                    move |last| {
                        let report = match last {
                            Some(report) => report,
                            None => {
                                let Some(inner) = inner.upgrade() else {
                                    return Written::RunGone;
                                };
                                let collector = MetricsCollector { _user: None, inner };
                                match collector.take_interval(Cursor::Log, Some(run)) {
                                    Ok(report) => report,
                                    Err(Error::NotProfiling) => return Written::RunGone,
                                    Err(error) => return Written::Failed(error),
                                }
                            }
                        };
                        written(log.append(&report))
                    },
                )?)
            }
            _ => None,
        };
        Ok((checkpoints, interval_log))
    }

    /// What the active run recorded since the previous `interval` (or since it started), as a
    /// report of its own: successive intervals tile the run, and their counts and histograms
    /// add up to the run's (HdrHistogram's recorder/interval model). The run goes on; see
    /// [`snapshot`](Self::snapshot) for what taking it costs the ticking threads.
    ///
    /// The interval's `started_at` and `total_time_s` are its own, and `part` says where it
    /// lies in the run; its resources are the samples taken in it, its CPU mean over exactly
    /// its wall time, and its memory peak the largest sampled RSS (the OS high-water mark
    /// covers the whole run). The interval log, when on, takes intervals of its own.
    ///
    /// One exception to the histograms adding up: with the calibration on and sampled ticks,
    /// each report corrects the busy times of components that hold spans (and `unattributed`)
    /// by its own in-run cost of a nested span (`overhead.nested_span_in_run_ns`), so those
    /// components add up in counts, not in values; the tick latency and components without
    /// spans inside add up exactly.
    ///
    /// # Errors
    /// As [`snapshot`](Self::snapshot).
    pub fn interval(&self) -> Result<Report> {
        self.take_interval(Cursor::User, None)
    }

    /// Stops the run, stops and joins the resource sampler and the background writers, and
    /// returns the report of the whole run (whatever snapshots or intervals were taken).
    ///
    /// The run is drained before anything else can start one (another handle's
    /// `start_profiling` waits until this returns), so every tick that closed before the stop
    /// is in the report, and a run started next under the same name writes its checkpoints
    /// and interval log after this run's last writes. With checkpoints on, the final report
    /// is saved over the last checkpoint; with the interval log on, its last interval ends
    /// now.
    ///
    /// # Errors
    /// [`Error::NotProfiling`] if no run is active; [`Error::Histogram`] if a histogram could
    /// not be serialized.
    pub fn stop_profiling(&self) -> Result<Report> {
        // Held to the end: no run starts before this one's files are final (see `finishing`).
        let _finishing = lock(&self.inner.finishing);
        let mut active = lock(&self.inner.active);
        let mut run = active.take().ok_or(Error::NotProfiling)?;
        let shared = &self.inner.shared;
        let span = Span::whole_run(shared);
        shared.end_run();
        rebuild_interest();
        let window = run.window.close();
        #[cfg(feature = "sampler")]
        let scheduler = run
            .sampler
            .as_ref()
            .and_then(ResourceProfiler::scheduler_source);
        #[cfg(feature = "sampler")]
        let resources = run.sampler.take().map(|sampler| sampler.stop_over(window));
        #[cfg(not(feature = "sampler"))]
        let resources = None;
        run.harvest(shared, Harvest::Final);
        drop(active);
        // With the run lock released: a writer may be waiting for it, to find the run gone.
        let last_interval = run
            .take_interval(shared, Cursor::Log)
            .and_then(|(parts, records)| {
                run_report::build(parts, records, shared, self.inner.warmup_ticks).ok()
            });
        let interval_log = run
            .interval_log
            .take()
            .map(|writer| writer.stop(last_interval));
        let checkpoints = run.checkpoints.take().map(|writer| {
            let path = writer.path().to_path_buf();
            (path, writer.stop(None))
        });
        if run.so_far.ticks_counted == 0 {
            warn_no_ticks(shared, &run.name);
        }
        let (mut parts, records) = run.so_far(shared, None);
        parts.window = window;
        parts.span = span;
        parts.resources_unavailable = if resources.is_some() {
            None
        } else {
            run.resources_unavailable.clone()
        };
        parts.resources = resources;
        #[cfg(feature = "sampler")]
        {
            parts.scheduler = scheduler;
        }
        parts.interval_log = interval_log;
        parts.checkpoints = checkpoints.as_ref().map(|(_, stats)| WriterStats {
            final_written: true,
            ..stats.clone()
        });
        let mut report = run_report::build(parts, records, shared, self.inner.warmup_ticks)?;
        if let Some((path, _)) = checkpoints
            && let Err(error) = report.save_json(&path)
        {
            // The report is still returned: only its copy on disk is missing.
            eprintln!("[tickprof] the final report could not replace the checkpoint: {error}");
            if let Some(stats) = report.checkpoints.as_mut() {
                periodic_writer::last_write_failed(stats, &error);
            }
        }
        Ok(report)
    }
}

/// Checkpoints replace their file at each save: an interval log on the same path would be
/// replaced by the first one, and go on writing into a file no longer there.
fn same_path(path: &str) -> Error {
    Error::Config(format!(
        "checkpoint and interval log must be written to different files, both are {path}"
    ))
}

impl Inner {
    /// Ends the active run, if any, without a report (every user handle is gone): the layer
    /// stops recording, the sampler is joined, and the writers, signalled, exit.
    fn abandon(&self) {
        let run = lock(&self.active).take();
        if let Some(run) = run {
            self.shared.end_run();
            rebuild_interest();
            drop(run);
        }
    }
}

/// Name of the checkpoint writer's thread.
const CHECKPOINT_THREAD: &str = "tickprof-checkpoint";

/// A write's result, as the writers count it.
fn written(result: Result<()>) -> Written {
    match result {
        Ok(()) => Written::Yes,
        Err(error) => Written::Failed(error),
    }
}

/// A run that counted no tick is not an error (a run may legitimately see none), but almost
/// always a setup mistake that would otherwise show as a report full of zeros.
fn warn_no_ticks(shared: &Shared, name: &str) {
    if shared.installed() {
        eprintln!(
            "[tickprof] run `{name}` counted no `{}` spans: is the span named differently, or \
             disabled by a filter on the whole subscriber (put EnvFilter on your fmt layer)?",
            shared.tick_name()
        );
    } else {
        eprintln!(
            "[tickprof] run `{name}` counted no ticks: the collector's layer is not installed \
             in any subscriber (add `collector.layer()` to it)"
        );
    }
}
