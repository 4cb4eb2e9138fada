//! `MetricsCollector`: owns profiling runs (start/stop) and joins what the layer and the
//! resource sampler recorded into one [`Report`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::error::{Error, Result};
use crate::overhead_calibration::{self, Calibration};
use crate::report::{Overhead, Report};
#[cfg(feature = "sampler")]
use crate::resource_profiler::ResourceProfiler;
use crate::run_window::RunWindow;
use crate::sampling::Sampling;
use crate::tick_profiler::records::RunRecords;
use crate::tick_profiler::shard::Harvest;
use crate::tick_profiler::shared::{Shared, lock};
use crate::tick_profiler::{TickProfiler, window};

mod run_report;

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
/// that starts and stops runs while the layer lives in the subscriber.
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
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    measure_overhead: bool,
    warmup_ticks: u64,
    /// The resource sampler's period (`None`: switched off). Without the `sampler` feature it
    /// is validated but nothing samples.
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    sample_interval: Option<Duration>,
    active: Mutex<Option<ActiveRun>>,
}

#[derive(Debug)]
struct ActiveRun {
    name: String,
    run: u64,
    started_at: SystemTime,
    /// The run's wall and CPU clocks, read together at start, so CPU figures cover exactly
    /// `total_time_s`.
    window: RunWindow,
    overhead: Overhead,
    #[cfg(feature = "sampler")]
    sampler: Option<ResourceProfiler>,
    resources_unavailable: Option<String>,
    /// What snapshots and intervals harvested from the threads so far: the whole run.
    so_far: RunRecords,
    /// What was harvested since the previous [`MetricsCollector::interval`] (or the start).
    interval: Interval,
    /// Kept alive for the run, see [`honest_rebuilds`].
    _second_dispatcher: tracing_core::Dispatch,
}

/// The part of a run since the previous interval report.
#[derive(Debug)]
struct Interval {
    records: RunRecords,
    started_at: SystemTime,
    window: RunWindow,
    /// The run's recording windows and their spending when the interval began.
    windows_before: u64,
    window_spent_before_ns: u64,
}

impl Interval {
    /// An interval beginning at `window`'s opening.
    fn begin(shared: &Shared, window: RunWindow) -> Self {
        Interval {
            records: RunRecords::new(&shared.template),
            started_at: SystemTime::now(),
            window,
            windows_before: shared.window.opened(),
            window_spent_before_ns: shared.budget.window_spent_ns(),
        }
    }
}

/// A no-op dispatcher registered for the length of a run (and its calibration).
///
/// While only one dispatcher is registered, tracing-core rebuilds callsite interest against
/// the *calling thread's* default dispatcher ("just one" mode). tickprof rebuilds interest when
/// a run starts or stops and when a recording window opens or closes, on whatever thread that
/// happens; a thread whose default is another (scoped) dispatcher, or none, would compute every
/// callsite's interest against it — `never` for the ticks of the run being profiled, or for the
/// spans another layer wants. With a second dispatcher registered, rebuilds ask every registered
/// dispatcher. Its cost: callsites that every layer always wants become `sometimes` (one
/// `enabled` walk per evaluation) while a run is active.
fn honest_rebuilds() -> tracing_core::Dispatch {
    tracing_core::Dispatch::new(tracing_core::subscriber::NoSubscriber::default())
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
    /// [`Sampling::budget`] of 3 % of the loop's time). [`Sampling::full`] records every span
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

    /// Whether `start_profiling` measures what profiling costs the loop (default on; about
    /// 20 ms at each start). Off: nothing is subtracted from busy times, the report's
    /// `overhead` figures are 0, and the sampling budget assumes 150 ns per recorded span.
    pub fn measure_overhead(mut self, enabled: bool) -> Self {
        self.measure_overhead = enabled;
        self
    }

    /// How often the resource sampler reads CPU and memory (feature `sampler`).
    pub fn sample_interval(mut self, interval: Duration) -> Self {
        self.sample_interval = Some(interval);
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
    /// zero or above [`MAX_SAMPLE_INTERVAL`](crate::MAX_SAMPLE_INTERVAL), or sampling
    /// parameters out of range.
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
        let shared = Shared::new(
            self.tick_span,
            self.sampling,
            template,
            quanta::Clock::new(),
        );
        Ok(MetricsCollector {
            inner: Arc::new(Inner {
                shared: Arc::new(shared),
                measure_overhead: self.measure_overhead,
                warmup_ticks: self.warmup_ticks,
                sample_interval: self.sample_interval,
                active: Mutex::new(None),
            }),
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
    /// [`Error::AlreadyProfiling`] if a run is active.
    pub fn start_profiling(&self, name: &str) -> Result<()> {
        let mut active = lock(&self.inner.active);
        if let Some(run) = active.as_ref() {
            return Err(Error::AlreadyProfiling(run.name.clone()));
        }
        let shared = &self.inner.shared;
        let second_dispatcher = honest_rebuilds();
        // The calibration's own runs have no warm-up; the user's run does.
        shared.budget.set_warmup_ticks(0);
        let calibration = if self.inner.measure_overhead {
            overhead_calibration::calibrate(shared)
        } else {
            Calibration::off()
        };
        shared.set_compensation(calibration.compensation);
        let span_ns = match calibration.compensation.span_ns {
            0 => 150,
            measured => measured,
        };
        shared.budget.begin_run(span_ns);
        shared.budget.set_warmup_ticks(self.inner.warmup_ticks);
        let run = shared.begin_run();
        // Tick callsites (and, with full sampling, every span callsite) become `sometimes`.
        window::rebuild_interest();
        #[cfg(feature = "sampler")]
        let (sampler, resources_unavailable) = match self.inner.sample_interval {
            Some(interval) => {
                let counter_shared = Arc::clone(shared);
                let ticks: crate::resource_profiler::TickCounter =
                    Arc::new(move || counter_shared.ticks_so_far(run));
                match ResourceProfiler::start(interval, ticks) {
                    Ok(sampler) => (Some(sampler), None),
                    Err(reason) => (None, Some(reason)),
                }
            }
            None => (None, Some("resource sampling switched off".to_owned())),
        };
        #[cfg(not(feature = "sampler"))]
        let resources_unavailable = Some("built without the `sampler` feature".to_owned());
        let window = RunWindow::open();
        *active = Some(ActiveRun {
            name: name.to_owned(),
            run,
            started_at: SystemTime::now(),
            window,
            overhead: calibration.overhead,
            #[cfg(feature = "sampler")]
            sampler,
            resources_unavailable,
            so_far: RunRecords::new(&shared.template),
            interval: Interval::begin(shared, window),
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
        let mut active = lock(&self.inner.active);
        let run = active.as_mut().ok_or(Error::NotProfiling)?;
        self.harvest(run, Harvest::DuringRun);
        let window = run.window.close();
        #[cfg(feature = "sampler")]
        let resources = run.sampler.as_ref().map(|sampler| sampler.so_far(window));
        #[cfg(not(feature = "sampler"))]
        let resources = None;
        let parts = ReportParts {
            name: run.name.clone(),
            started_at: run.started_at,
            window,
            overhead: run.overhead.clone(),
            resources_unavailable: resources
                .is_none()
                .then(|| run.resources_unavailable.clone())
                .flatten(),
            resources,
            span: Span::whole_run(&self.inner.shared),
        };
        let records = run.so_far.clone();
        drop(active);
        run_report::build(parts, records, &self.inner.shared, self.inner.warmup_ticks)
    }

    /// What the active run recorded since the previous `interval` (or since it started), as a
    /// report of its own: successive intervals tile the run, and their counts and histograms
    /// add up to the run's (HdrHistogram's recorder/interval model). The run goes on; see
    /// [`snapshot`](Self::snapshot) for what taking it costs the ticking threads.
    ///
    /// The interval's `started_at` and `total_time_s` are its own; its resources are the
    /// samples taken in it, its CPU mean over exactly its wall time, and its memory peak the
    /// largest sampled RSS (the OS high-water mark covers the whole run).
    ///
    /// # Errors
    /// As [`snapshot`](Self::snapshot).
    pub fn interval(&self) -> Result<Report> {
        let shared = &self.inner.shared;
        let mut active = lock(&self.inner.active);
        let run = active.as_mut().ok_or(Error::NotProfiling)?;
        self.harvest(run, Harvest::DuringRun);
        let boundary = RunWindow::open();
        let interval = std::mem::replace(&mut run.interval, Interval::begin(shared, boundary));
        let window = interval.window.until(&boundary);
        #[cfg(feature = "sampler")]
        let resources = run
            .sampler
            .as_ref()
            .map(|sampler| sampler.take_interval(window));
        #[cfg(not(feature = "sampler"))]
        let resources = None;
        let parts = ReportParts {
            name: run.name.clone(),
            started_at: interval.started_at,
            window,
            overhead: run.overhead.clone(),
            resources_unavailable: resources
                .is_none()
                .then(|| run.resources_unavailable.clone())
                .flatten(),
            resources,
            span: Span {
                windows: shared
                    .window
                    .opened()
                    .saturating_sub(interval.windows_before),
                window_spent_ns: shared
                    .budget
                    .window_spent_ns()
                    .saturating_sub(interval.window_spent_before_ns),
            },
        };
        drop(active);
        run_report::build(parts, interval.records, shared, self.inner.warmup_ticks)
    }

    /// Takes what the threads recorded since the previous harvest into the run's totals and
    /// the current interval.
    fn harvest(&self, run: &mut ActiveRun, harvest: Harvest) {
        let shared = &self.inner.shared;
        let taken = shared.harvest(run.run, harvest);
        run.so_far.add(&taken, &shared.template);
        run.interval.records.add(&taken, &shared.template);
    }

    /// Stops the run, stops and joins the resource sampler, and returns the report of the
    /// whole run (whatever snapshots or intervals were taken).
    ///
    /// The run is drained before anything else can start one (another handle's
    /// `start_profiling` waits), so every tick that closed before the stop is in the report.
    ///
    /// # Errors
    /// [`Error::NotProfiling`] if no run is active; [`Error::Histogram`] if a histogram could
    /// not be serialized.
    pub fn stop_profiling(&self) -> Result<Report> {
        let mut active = lock(&self.inner.active);
        let mut run = active.take().ok_or(Error::NotProfiling)?;
        let shared = &self.inner.shared;
        let span = Span::whole_run(shared);
        shared.end_run();
        window::rebuild_interest();
        let window = run.window.close();
        #[cfg(feature = "sampler")]
        let resources = run.sampler.take().map(|sampler| sampler.stop_over(window));
        #[cfg(not(feature = "sampler"))]
        let resources = None;
        self.harvest(&mut run, Harvest::Final);
        drop(active);
        if run.so_far.ticks_counted == 0 {
            warn_no_ticks(shared, &run.name);
        }
        let parts = ReportParts {
            name: run.name,
            started_at: run.started_at,
            window,
            overhead: run.overhead,
            resources_unavailable: if resources.is_some() {
                None
            } else {
                run.resources_unavailable
            },
            resources,
            span,
        };
        run_report::build(parts, run.so_far, shared, self.inner.warmup_ticks)
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
