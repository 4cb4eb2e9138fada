//! `MetricsCollector`: owns profiling runs (start/stop) and joins what the layer and the
//! resource sampler recorded into one [`Report`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::error::{Error, Result};
use crate::overhead_calibration::{self, Calibration};
use crate::report::{
    ComponentStats, DEFAULT_SLOWEST_TICKS, Dropped, Environment, LatencyStats, Overhead, Report,
    SCHEMA_VERSION, SamplingStats, TickStats, WarmupStats,
};
#[cfg(feature = "sampler")]
use crate::resource_profiler::{ResourceProfiler, RunWindow};
use crate::sampling::{Sampling, SamplingMode};
use crate::tick_profiler::records::RunRecords;
use crate::tick_profiler::shared::{Shared, lock};
use crate::tick_profiler::slow_ticks::ClockAnchor;
use crate::tick_profiler::{TickProfiler, in_run_compensation, window};

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
    /// The run's raw clock against the wall clock (slow ticks' start times).
    anchor: ClockAnchor,
    #[cfg(not(feature = "sampler"))]
    started: std::time::Instant,
    /// The run's wall and CPU clocks, read together at start (and at stop), so CPU figures
    /// cover exactly `total_time_s`.
    #[cfg(feature = "sampler")]
    window: RunWindow,
    overhead: Overhead,
    #[cfg(feature = "sampler")]
    sampler: Option<ResourceProfiler>,
    resources_unavailable: Option<String>,
    /// Kept alive for the run, see [`honest_rebuilds`].
    _second_dispatcher: tracing_core::Dispatch,
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
    slowest_ticks: usize,
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

    /// How many of the slowest ticks each report keeps in `slowest_ticks` (default
    /// [`DEFAULT_SLOWEST_TICKS`]; 0: none). Each comes with its ordinal, thread, start time and
    /// latency, and, when it was recorded with its components, its timeline. Warm-up ticks are
    /// left out. Cost: three more words per record on the hot path, one comparison per tick
    /// where records are drained (see `tick_profiler::slow_ticks`).
    pub fn slowest_ticks(mut self, n: usize) -> Self {
        self.slowest_ticks = n;
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
        )
        .with_slowest_ticks(self.slowest_ticks);
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
        let anchor = ClockAnchor {
            raw: shared.clock.raw(),
            unix_ns: SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        };
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
        *active = Some(ActiveRun {
            name: name.to_owned(),
            run,
            started_at: SystemTime::now(),
            anchor,
            #[cfg(not(feature = "sampler"))]
            started: std::time::Instant::now(),
            #[cfg(feature = "sampler")]
            window: RunWindow::open(),
            overhead: calibration.overhead,
            #[cfg(feature = "sampler")]
            sampler,
            resources_unavailable,
            _second_dispatcher: second_dispatcher,
        });
        Ok(())
    }

    /// Stops the run, stops and joins the resource sampler, and returns the report.
    ///
    /// The run is drained before anything else can start one (another handle's
    /// `start_profiling` waits), so every tick that closed before the stop is in the report.
    ///
    /// # Errors
    /// [`Error::NotProfiling`] if no run is active; [`Error::Histogram`] if a histogram could
    /// not be serialized.
    pub fn stop_profiling(&self) -> Result<Report> {
        let mut active = lock(&self.inner.active);
        let run = active.take().ok_or(Error::NotProfiling)?;
        let shared = &self.inner.shared;
        let windows = shared.window.opened();
        let window_spent_ns = shared.budget.window_spent_ns();
        shared.end_run();
        window::rebuild_interest();
        #[cfg(feature = "sampler")]
        let (total_time_s, resources) = {
            let window = run.window.close();
            let resources = run.sampler.map(|sampler| sampler.stop_over(window));
            (window.wall.as_secs_f64(), resources)
        };
        #[cfg(not(feature = "sampler"))]
        let (total_time_s, resources) = (run.started.elapsed().as_secs_f64(), None);
        let mut records = shared.drain(run.run);
        drop(active);
        let mut overhead = run.overhead;
        if let (Some(calibrated), Some(in_run)) = (
            overhead.nested_span_ns,
            in_run_compensation::nested_span_ns(&records, shared.sampling.is_full()),
        ) {
            in_run_compensation::apply(&mut records, calibrated, in_run);
            overhead.nested_span_in_run_ns = Some(in_run);
        }
        let count = records.ticks_counted;
        if count == 0 {
            // Not an error (a run may legitimately see no ticks), but almost always a setup
            // mistake that would otherwise show as a report full of zeros.
            if shared.installed() {
                eprintln!(
                    "[tickprof] run `{}` counted no `{}` spans: is the span named differently, \
                     or disabled by a filter on the whole subscriber (put EnvFilter on your fmt \
                     layer)?",
                    run.name,
                    shared.tick_name()
                );
            } else {
                eprintln!(
                    "[tickprof] run `{}` counted no ticks: the collector's layer is not installed \
                     in any subscriber (add `collector.layer()` to it)",
                    run.name
                );
            }
        }
        let sampling = sampling_stats(
            shared.sampling,
            &records,
            &overhead,
            windows,
            window_spent_ns,
        );
        let recorded = records.counters.ticks_recorded;
        let mut components = std::collections::BTreeMap::new();
        for (name, c) in &records.components {
            let (net, wall) = (&c.net, &c.wall);
            let stats = ComponentStats {
                count: net.len(),
                latency: LatencyStats::from_histogram(net, &format!("components.{name}.latency"))?,
                wall: wall
                    .as_ref()
                    .map(|w| LatencyStats::from_histogram(w, &format!("components.{name}.wall")))
                    .transpose()?,
                per_tick: (recorded > 0).then(|| net.len() as f64 / recorded as f64),
            };
            components.insert(name.clone(), stats);
        }
        let slowest_ticks = (shared.slowest_ticks > 0).then(|| {
            let mut slow = std::mem::take(&mut records.slow).into_report(
                self.inner.warmup_ticks,
                &shared.callsites.names(),
                &shared.clock,
                run.anchor,
            );
            if let Some(resources) = &resources {
                slow.attach_resources(resources);
            }
            slow
        });
        let counters = &records.counters;
        let unattributed_mean_ns = (recorded > 0 && !records.ticks_net.is_empty()).then(|| {
            let children: f64 = records
                .components
                .values()
                .map(|c| c.direct_net_ns as f64)
                .sum();
            (records.ticks_net.mean() - children / recorded as f64).max(0.0)
        });
        Ok(Report {
            schema_version: SCHEMA_VERSION,
            name: run.name,
            started_at: humantime::format_rfc3339_millis(run.started_at).to_string(),
            total_time_s,
            ticks: TickStats {
                count,
                throughput_per_s: if total_time_s > 0.0 {
                    count as f64 / total_time_s
                } else {
                    0.0
                },
                latency: LatencyStats::from_histogram(&records.ticks_net, "ticks.latency")?,
                latency_raw: Some(LatencyStats::from_histogram(
                    &records.ticks_raw,
                    "ticks.latency_raw",
                )?),
                wall: (!records.ticks_wall.is_empty())
                    .then(|| LatencyStats::from_histogram(&records.ticks_wall, "ticks.wall"))
                    .transpose()?,
                warmup: (self.inner.warmup_ticks > 0)
                    .then(|| -> Result<WarmupStats> {
                        Ok(WarmupStats {
                            ticks_per_thread: self.inner.warmup_ticks,
                            count: records.counters.warmup_ticks,
                            recorded: records.counters.warmup_recorded,
                            latency: (!records.warmup.is_empty())
                                .then(|| {
                                    LatencyStats::from_histogram(&records.warmup, "ticks.warmup")
                                })
                                .transpose()?,
                        })
                    })
                    .transpose()?,
            },
            components,
            unattributed: LatencyStats::from_histogram(&records.unattributed, "unattributed")?,
            unattributed_mean_ns,
            sampling: Some(sampling),
            overhead,
            dropped: Dropped {
                overflow: counters.overflow,
                missing_span_data: counters.missing_span_data,
                straddled: counters.straddled,
                clamped: counters.clamped,
                uncredited_children: counters.uncredited_children,
            },
            environment: Environment::current(),
            resources_unavailable: if resources.is_some() {
                None
            } else {
                run.resources_unavailable
            },
            resources,
            loop_comparison: None,
            slowest_ticks,
        })
    }
}

/// What the run sampled, and what that cost per tick.
fn sampling_stats(
    sampling: Sampling,
    records: &RunRecords,
    overhead: &Overhead,
    windows: u64,
    window_spent_ns: u64,
) -> SamplingStats {
    let counters = &records.counters;
    let count = records.ticks_counted;
    // With sampling, timed and recorded ticks are disjoint; with full sampling every tick is
    // recorded (its cost is in the windows' spending).
    let timed_only = if sampling.is_full() {
        0
    } else {
        counters.ticks_timed
    };
    let cost_ns = overhead.tick_check_ns.unwrap_or(0.0) * count as f64
        + overhead.per_span_ns
            * (timed_only + counters.warmup_ticks - counters.warmup_recorded) as f64
        + window_spent_ns as f64;
    let (budget_fraction, one_in) = match sampling.mode {
        SamplingMode::Budget(fraction) => (Some(fraction), None),
        SamplingMode::OneIn(n) => (None, Some(n)),
        SamplingMode::Full => (None, None),
    };
    SamplingStats {
        mode: sampling.name().to_owned(),
        budget_fraction,
        one_in,
        ticks_timed: counters.ticks_timed,
        ticks_recorded: counters.ticks_recorded,
        windows,
        cost_ns_per_tick: if count > 0 {
            cost_ns / count as f64
        } else {
            0.0
        },
    }
}
