//! The statistics behind `tickprof check` and `tickprof compare`: when a change is a
//! regression, when it is noise, and when the runs cannot tell. Pure functions, no I/O.
//!
//! # What is compared
//! Latencies are compared through statistics of the HDR histograms every report stores, never
//! through a plain mean: one preempted 4 ms tick among 20,000 timed ones moves the mean by
//! 0.2 µs, a third of a 600 ns tick. The gates use the **trimmed mean** (the mean of the middle
//! 90 % of the values: it moves when the bulk of the distribution moves, and no handful of
//! outliers can move it) and **percentiles**. A run's statistic needs enough values to mean
//! anything: 20 for the means and the median, ten beyond the percentile for the others
//! (1,000 for p99, 10,000 for p99.9); with fewer, the answer is *inconclusive: too few
//! samples*.
//!
//! # Two kinds of noise
//! *Sampling noise*: a run estimates its p99 from its own ticks; a bootstrap from the
//! histogram (exact: the k-th of n resampled values is `Beta(k, n − k + 1)` through the
//! histogram's inverse CDF) gives each percentile's standard error, the winsorized variance
//! gives the trimmed mean's. *Run-to-run noise*: two processes running the same binary land
//! apart by more than that — on the 2-vCPU VM this crate is developed on, identical runs are
//! sometimes bimodal (tick p50 ~390 ns in some processes, ~600 ns in others). No single run
//! can see this noise. So:
//! - a side with **several runs** (reports of the same name, see the CLI) has as estimate the
//!   mean of its runs' statistics, and its noise is **measured** from their spread around it
//!   (never below their sampling noise). Welch's test combines the two sides, with Student's
//!   t on the Welch–Satterthwaite degrees of freedom: a handful of runs is honestly uncertain
//!   about its own noise, and a side whose few runs happen to agree does not vouch for the
//!   other side's;
//! - a side with **one run** cannot show its spread, so its noise is **assumed**:
//!   `run_noise_pct` (default 25 %) of the baseline's value. That is the size of the bimodal
//!   jumps above: a run 1.8× another (parse 220 vs 400 ns) stays below the critical value
//!   even of a check that tests one metric, so one run per side cannot fail on it; a component
//!   that grows fivefold still fails. The other side's spread is not borrowed: one candidate
//!   run on a busier machine than the baseline's runs lands further out than they did (3.7 %
//!   false alarms with ten quiet baseline runs against one run beside two CPU hogs, when it
//!   was borrowed).
//!
//! # The test
//! For a comparison with a baseline, the threshold is `max_regression_pct` of the baseline's
//! value, but never less than the **resolution floor**, for a latency: one step of the runs'
//! clock (read off the histograms: the most common gap between recorded values) plus any
//! difference between what the two runs subtracted for the instrumentation (an empty span's
//! reading); and, from a baseline figure below the reports' resolution
//! ([`Report::latency_resolution_ns`](crate::Report::latency_resolution_ns), the coarsest of
//! the runs'), the distance to it: the summary prints every figure below it alike (`<0.080`),
//! so a change that leaves both figures there is none, by the rule the summary marks figures
//! with. A change called one ends at (or starts from) a figure the summary states. The floor
//! applies to a baseline of 0 too, which is usually a value clamped at 0. A metric
//! **fails** when the data show, at the family's confidence, that it moved past the threshold
//! in the bad direction: the one-sided p-value of "the change is at the threshold", adjusted
//! by **Holm's method** over every metric the check tests, is at most `false_alarm_pct`
//! (default 1 %). Holm keeps the chance of *any* false alarm among all those metrics at that
//! level — twenty metrics tested at 1 % each would raise one in ~18 % of identical pairs. A
//! metric **passes** when its estimate is within the threshold (*below resolution* when only
//! the floor made it so). Otherwise — the estimate is past the threshold, but not by enough —
//! it is **inconclusive**: *run-to-run noise* when the runs' sampling noise alone would have
//! decided (so more runs would: the output says how many when it can measure the noise),
//! *sampling noise* when even that would not (run longer). An inconclusive metric is neither
//! an alarm nor a pass.
//!
//! An absolute limit (`max_p99_us = 40`) is a statement about the runs given: the estimate
//! against the limit with the runs' sampling noise, no run-to-run term (leave the margin the
//! machine needs). Single values (throughput, memory, CPU) have no sampling noise: against an
//! absolute limit they are compared exactly; against a baseline they get the run-to-run noise
//! like every other metric.
//!
//! Each interval shown is simultaneous for the family: both ends at `false_alarm_pct / k` for
//! `k` tests, so all of them hold together with at least `1 − 2 × false_alarm_pct`.
//!
//! # How many runs
//! With `n` runs per side and a run-to-run standard deviation `σ` (the output prints it,
//! `runs ±1.6%`, when it is measured), a change `Δ` past a threshold `T` is caught with ~90 %
//! probability once `Δ − T ≥ (t + 1.3) · σ · √(2/n)`, `t` the one-sided critical value at
//! `false_alarm_pct / k` for `k` tests and the Welch degrees of freedom (~3.1 for ten tests
//! and many runs, ~4.5 with five runs per side). A check that is inconclusive for run-to-run
//! noise says how many runs per side would decide the change it saw.
//! `examples/gate_rates` measures it on the scalability driver's engine (1M ticks, a 250 ns
//! tick, 30 runs per variant): with `T` = 5 %, a 10 % slowdown of the tick is caught by ≥ 90 %
//! of pairs from 8 runs per side on a quiet machine and from 12–15 beside two CPU hogs; a 20 %
//! one from 5 per side (86–100 %); never a false alarm in any of those pairs.

pub(crate) mod distribution;
pub(crate) mod estimate;
pub(crate) mod histogram;
mod holm;
pub(crate) mod judge;
pub(crate) mod rng;

pub use estimate::Prepared;

/// How the gate decides; the defaults suit a shared 2-vCPU VM.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GateOptions {
    /// The chance, in %, that any metric of one check fails for two runs of one build:
    /// the family-wise false-alarm rate (Holm's method over the metrics tested).
    pub false_alarm_pct: f64,
    /// The run-to-run noise assumed when it cannot be measured (one run per side, or three in
    /// all): one standard deviation, in % of the baseline's value.
    pub run_noise_pct: f64,
    /// Bootstrap replicates per percentile and run.
    pub resamples: usize,
    /// Seed of the bootstrap's generator: outputs are reproducible.
    pub seed: u64,
}

/// The default family-wise false-alarm rate, %.
pub const DEFAULT_FALSE_ALARM_PCT: f64 = 1.0;
/// The default assumed run-to-run noise, % of the baseline value.
pub const DEFAULT_RUN_NOISE_PCT: f64 = 25.0;

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            false_alarm_pct: DEFAULT_FALSE_ALARM_PCT,
            run_noise_pct: DEFAULT_RUN_NOISE_PCT,
            resamples: 400,
            seed: 0x7469_636b_7072_6f66, // "tickprof"
        }
    }
}

impl GateOptions {
    /// Sets the family-wise false-alarm rate, in %.
    pub fn false_alarm_pct(mut self, pct: f64) -> Self {
        self.false_alarm_pct = pct;
        self
    }

    /// Sets the run-to-run noise assumed with one run per side, in %.
    pub fn run_noise_pct(mut self, pct: f64) -> Self {
        self.run_noise_pct = pct;
        self
    }

    /// The false-alarm rate as a probability.
    pub(crate) fn alpha(&self) -> f64 {
        (self.false_alarm_pct / 100.0).clamp(1e-12, 0.5)
    }
}

/// What a metric's test concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Within the limit or threshold.
    Pass,
    /// Past it, beyond the noise; or the metric is missing.
    Fail,
    /// The runs cannot tell: neither an alarm nor a pass.
    Inconclusive,
}

/// Why a metric got its [`Outcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Pass: the estimate is within the limit or threshold.
    Within,
    /// Pass: the change is past the percentage but within the resolution floor.
    BelowResolution,
    /// Fail: past the limit or threshold at the family's confidence.
    Beyond,
    /// Inconclusive: past the threshold, within what runs of one build can differ by.
    RunToRunNoise {
        /// Runs per side that would decide a change this large, if the measured spread holds
        /// (`None` when the noise was assumed, or more than 100 would be needed).
        runs_needed: Option<usize>,
    },
    /// Inconclusive: past the limit or threshold, within the runs' own sampling noise.
    SamplingNoise,
    /// Inconclusive: a run holds too few values for this statistic.
    TooFewSamples {
        /// The fewest values in one run.
        samples: u64,
        /// The fewest the statistic needs.
        needed: u64,
    },
    /// Fail: a report lacks the metric (why).
    Missing(String),
}

/// Where the run-to-run noise of a test came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// None: an absolute limit, judged with the runs' sampling noise only.
    WithinRuns,
    /// Assumed (one run per side): this standard deviation per run, in the metric's unit.
    Assumed {
        /// Standard deviation of one run's estimate.
        sd: f64,
    },
    /// Measured from the runs' spread (each side's from its own runs).
    Measured {
        /// Standard deviation of one run's estimate.
        sd: f64,
        /// Its degrees of freedom (Welch–Satterthwaite).
        df: f64,
        /// Whether one side had a single run, whose noise was assumed (`run_noise_pct`).
        assumed_for_one_run: bool,
    },
}

/// One metric, tested.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Judgement {
    /// Pass, fail or inconclusive.
    pub outcome: Outcome,
    /// Why.
    pub reason: Reason,
    /// The estimate: the mean of the runs' statistics; `None` when missing.
    pub value: Option<f64>,
    /// The baseline's estimate, for a comparison.
    pub base: Option<f64>,
    /// Simultaneous interval of the change `value − base` (comparisons) or of `value`
    /// (absolute limits); `None` for exact comparisons and untested metrics.
    pub interval: Option<(f64, f64)>,
    /// The effective threshold: the largest acceptable change in the bad direction
    /// (comparisons, ≥ 0), or the limit (absolute); `None` when the metric was not tested.
    pub threshold: Option<f64>,
    /// The resolution floor, when it and not the percentage set `threshold`.
    pub floor: Option<f64>,
    /// The reports' latency resolution ([`Report::latency_resolution_ns`](crate::Report::latency_resolution_ns),
    /// the coarsest of the runs', in the metric's unit), when it set `floor`: the baseline's
    /// figure is below it, and a smaller change would leave the new one below it too. `None`
    /// when one step of the runs' clock set the floor, or no floor did.
    pub resolution: Option<f64>,
    /// The Holm-adjusted p-value; `None` for exact comparisons and untested metrics.
    pub p_value: Option<f64>,
    /// Where the run-to-run noise came from.
    pub noise: Noise,
    /// Runs of the baseline and of the new side.
    pub runs: (usize, usize),
    /// The fewest values one run's statistic was taken from; `None` for single values.
    pub samples: Option<u64>,
}

impl Judgement {
    /// Whether the runs could not decide a change they saw: inconclusive for run-to-run or
    /// sampling noise (not for too few samples, where nothing was judged).
    pub fn undecided(&self) -> bool {
        matches!(
            self.reason,
            Reason::RunToRunNoise { .. } | Reason::SamplingNoise
        )
    }

    pub(crate) fn missing(why: String, runs: (usize, usize)) -> Self {
        Judgement {
            outcome: Outcome::Fail,
            reason: Reason::Missing(why),
            value: None,
            base: None,
            interval: None,
            threshold: None,
            floor: None,
            resolution: None,
            p_value: None,
            noise: Noise::WithinRuns,
            runs,
            samples: None,
        }
    }

    /// The reason in words, for outputs: `within the limit`, `regressed beyond noise`, `inconclusive:
    /// run-to-run noise (…)`.
    pub fn explain(&self, false_alarm_pct: f64) -> String {
        let p = self
            .p_value
            .map(|p| format!(" ({}, Holm, ≤ {false_alarm_pct}%)", p_value_text(p)))
            .unwrap_or_default();
        let text = self.reason_text(&p);
        // What the runs' spread measured: the figure a user sets `run_noise_pct` from, and
        // sizes the number of runs with.
        match (self.noise, self.base) {
            (
                Noise::Measured {
                    sd,
                    assumed_for_one_run: false,
                    ..
                },
                Some(base),
            ) if base != 0.0 && self.value.is_some() => {
                format!("{text} (runs ±{:.1}%)", 100.0 * sd / base.abs())
            }
            _ => text,
        }
    }

    fn reason_text(&self, p: &str) -> String {
        match &self.reason {
            Reason::Within => "within".to_owned(),
            Reason::BelowResolution => "within: below resolution".to_owned(),
            Reason::Beyond => format!("beyond{p}"),
            Reason::RunToRunNoise { runs_needed } => {
                let advice = match (self.noise, runs_needed) {
                    (
                        Noise::Measured {
                            assumed_for_one_run: false,
                            ..
                        },
                        Some(n),
                    ) => format!("; ~{n} runs per side would decide a change this large"),
                    (
                        Noise::Measured {
                            assumed_for_one_run: false,
                            ..
                        },
                        None,
                    ) => "; more than 100 runs per side would be needed".to_owned(),
                    _ => "; run ≥ 3 per side to measure the noise".to_owned(),
                };
                format!("inconclusive: run-to-run noise{advice}")
            }
            Reason::SamplingNoise => {
                "inconclusive: sampling noise (too few values past the threshold; run longer)"
                    .to_owned()
            }
            Reason::TooFewSamples { samples, needed } => format!(
                "inconclusive: too few samples ({} in a run, {} needed)",
                crate::thousands(*samples),
                crate::thousands(*needed)
            ),
            Reason::Missing(why) => format!("missing ({why})"),
        }
    }
}

/// A p-value in few characters: `p = 0.003`, `p = 2e-7`, `p < 1e-12` (below that the
/// tails computed here are no longer exact, and no decision depends on the digits).
pub fn p_value_text(p: f64) -> String {
    if p >= 0.001 {
        format!("p = {p:.3}")
    } else if p >= 1e-12 {
        format!("p = {p:.0e}")
    } else {
        "p < 1e-12".to_owned()
    }
}
