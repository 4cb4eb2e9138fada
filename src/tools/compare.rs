//! Two builds side by side, metric by metric, with a call on each: faster, slower, within
//! noise, or inconclusive. Pure functions: no I/O, no printing.
//!
//! # The method
//! Each side is one or more runs (reports) of one build. Every row is a test of the
//! [`gate`](crate::gate) module, with `noise_pct` as its threshold (criterion's noise
//! threshold: a change smaller than that is no change):
//!
//! - **slower** (or *higher*, for memory and CPU): the change is past `+noise_pct` (and past
//!   the resolution floor) at the family's confidence — the one-sided p-value, adjusted by
//!   Holm's method over every gated row, is at most `false_alarm_pct`;
//! - **faster**: the same test in the other direction (a family of its own);
//! - **within noise**: the change is within `±noise_pct` (or the resolution floor);
//! - **inconclusive**: past it, but not beyond the noise: *run-to-run noise* when one run per
//!   side cannot see how far apart runs of one build land (assumed `run_noise_pct`), or when the
//!   runs measured it large; *sampling noise* when the runs' own values are too few.
//!
//! Latency rows are estimated from the histograms: the trimmed mean (the middle 90 %) and
//! percentiles, each with its sampling noise (bootstrap from the histogram for percentiles,
//! the winsorized variance for the trimmed mean); a side's estimate is the mean of its runs'.
//!
//! `--fail-on-slower` fails on a *slower* **gated** row only: the trimmed mean and median of
//! the ticks and of every component, and peak memory, tested as one family, so the chance
//! that two identical builds fail is at most `false_alarm_pct` however many rows there are.
//! Every other row is shown with its call, marked *not gated* when it has one: the plain mean
//! (one preempted tick moves it), tail percentiles and the unattributed time (noisier across
//! runs than any interval of a few runs can promise), throughput and CPU (the other processes
//! on the machine move them). Gate those with `check` and explicit limits where the machine
//! allows.
//!
//! Allocations per tick and per component (rows only when either side counted them) are
//! compared exactly, without noise: a deterministic workload makes the same allocations in
//! every run. They are shown, not gated (an allocation more is not a slowdown): `check` with
//! `[ticks.allocations]` limits gates them.
//!
//! A distribution distance (Kolmogorov–Smirnov) was considered and not used for the call: with
//! 10⁵–10⁶ ticks per run it declares any two runs different, and its statistic is not in the
//! metric's units, so it cannot say by how much or in which direction.

use std::collections::BTreeSet;

use crate::error::Result;
use crate::gate::estimate::Run;
use crate::gate::judge::{Direction, Question, judge};
use crate::gate::{GateOptions, Judgement, Outcome, Prepared, Reason};
use crate::metric::{AllocStat, Bound, Metric, Stat, Unit};
use crate::report::Report;

/// How [`compare`] decides its calls.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CompareOptions {
    /// Changes within ±this, in % of the base value, are no change (the threshold of every
    /// row; latencies also have the resolution floor).
    pub noise_pct: f64,
    /// The tests' false-alarm rate, run-to-run noise, bootstrap replicates and seed.
    pub gate: GateOptions,
}

impl Default for CompareOptions {
    /// 5 % noise threshold, and the gate's defaults.
    fn default() -> Self {
        CompareOptions {
            noise_pct: 5.0,
            gate: GateOptions::default(),
        }
    }
}

impl CompareOptions {
    /// Sets the noise threshold, in %.
    pub fn noise_pct(mut self, noise_pct: f64) -> Self {
        self.noise_pct = noise_pct;
        self
    }

    /// Sets the family-wise false-alarm rate, in % (see [`GateOptions::false_alarm_pct`]).
    pub fn false_alarm_pct(mut self, pct: f64) -> Self {
        self.gate.false_alarm_pct = pct;
        self
    }

    /// Sets the run-to-run noise assumed with one run per side, in % (see
    /// [`GateOptions::run_noise_pct`]).
    pub fn run_noise_pct(mut self, pct: f64) -> Self {
        self.gate.run_noise_pct = pct;
        self
    }
}

/// The verdict on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Better beyond noise (faster, higher throughput, less memory or CPU).
    Better,
    /// Worse beyond noise.
    Worse,
    /// Within the noise threshold (or the resolution floor).
    WithinNoise,
    /// Past the noise threshold, but not beyond the noise: neither a change nor none.
    Inconclusive,
    /// One of the sides lacks the metric.
    Missing,
}

/// One metric of both sides.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Row {
    /// The metric's name (`ticks.p99_us`), as listed in [`metric`](crate::metric).
    pub metric: String,
    /// Unit of the values.
    pub unit: Unit,
    /// Which direction is better: `AtMost` = lower is better.
    pub better: Bound,
    /// The base side's estimate (the mean of its runs').
    pub base: Option<f64>,
    /// The new side's estimate.
    pub new: Option<f64>,
    /// Simultaneous interval of `new − base`, in `unit`; `None` for untested rows.
    pub interval: Option<(f64, f64)>,
    /// The call.
    pub call: Call,
    /// Whether `--fail-on-slower` counts this row (plain means do not).
    pub gated: bool,
    /// The test that decided the call: its threshold, resolution floor, p-value, noise and
    /// reason.
    pub judgement: Judgement,
}

impl Row {
    /// `new − base`.
    pub fn diff(&self) -> Option<f64> {
        Some(self.new? - self.base?)
    }

    /// `(new − base) / base` in %, when the base is not zero.
    pub fn diff_pct(&self) -> Option<f64> {
        let base = self.base?;
        let diff = self.diff()?;
        (base != 0.0).then(|| 100.0 * diff / base)
    }

    /// The resolution floor, in `unit`, when it and not `noise_pct` set this row's threshold.
    pub fn resolution_floor(&self) -> Option<f64> {
        self.judgement.floor
    }

    /// The call in words: `faster`/`slower` for latencies and throughput, `lower`/`higher`
    /// for resources, `within noise`, `inconclusive`, `missing`.
    pub fn call_word(&self) -> &'static str {
        let timing = matches!(self.unit, Unit::Micros | Unit::TicksPerSec);
        match (self.call, timing) {
            (Call::Better, true) => "faster",
            (Call::Worse, true) => "slower",
            (Call::Better, false) => "lower",
            (Call::Worse, false) => "higher",
            (Call::WithinNoise, _) => "within noise",
            (Call::Inconclusive, _) => "inconclusive",
            (Call::Missing, _) => "missing",
        }
    }
}

/// Every row of a comparison, in a fixed order: throughput, ticks, unattributed, components,
/// allocations (when counted), resources.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Comparison {
    /// The rows.
    pub rows: Vec<Row>,
    /// Runs on each side: (base, new).
    pub runs: (usize, usize),
    /// Gated rows tested for a slowdown: the size of the family Holm's method controls.
    pub tested: usize,
}

impl Comparison {
    /// Whether any gated row is worse beyond noise: what `--fail-on-slower` fails on.
    pub fn any_worse(&self) -> bool {
        self.rows.iter().any(|r| r.gated && r.call == Call::Worse)
    }

    /// The comparison as a gate: fail if a gated row is worse beyond noise, else inconclusive
    /// if a gated row moved past the noise threshold by less than the noise (a row with too
    /// few samples to judge at all does not count), else pass.
    pub fn outcome(&self) -> Outcome {
        if self.any_worse() {
            Outcome::Fail
        } else if self
            .rows
            .iter()
            .any(|r| r.gated && r.call == Call::Inconclusive && r.judgement.undecided())
        {
            Outcome::Inconclusive
        } else {
            Outcome::Pass
        }
    }
}

/// Compares `new` against `base`, one run each; see the module docs for the method.
///
/// # Errors
/// [`Error::Histogram`](crate::Error::Histogram) if a histogram blob cannot be decoded.
pub fn compare(base: &Report, new: &Report, options: &CompareOptions) -> Result<Comparison> {
    compare_runs(&[base], &[new], options)
}

/// Compares the runs `new` of one build against the runs `base` of another (or the same);
/// several runs per side measure the run-to-run noise and narrow the intervals.
///
/// # Errors
/// [`Error::Histogram`](crate::Error::Histogram) if a histogram blob cannot be decoded.
pub fn compare_runs(
    base: &[&Report],
    new: &[&Report],
    options: &CompareOptions,
) -> Result<Comparison> {
    for (side, reports) in [("base", base), ("new", new)] {
        for report in reports {
            check_histograms(report, side)?;
        }
    }
    let base: Vec<Prepared<'_>> = base.iter().map(|r| Prepared::new(r)).collect();
    let new: Vec<Prepared<'_>> = new.iter().map(|r| Prepared::new(r)).collect();
    Ok(compare_prepared(
        &base.iter().collect::<Vec<_>>(),
        &new.iter().collect::<Vec<_>>(),
        options,
    ))
}

/// [`compare_runs`] on prepared reports (for judging the same reports many times); their
/// histograms were decoded when they were prepared, so this cannot fail.
pub fn compare_prepared(
    base: &[&Prepared<'_>],
    new: &[&Prepared<'_>],
    options: &CompareOptions,
) -> Comparison {
    let base_runs: Vec<&Run<'_>> = base.iter().map(|p| &p.0).collect();
    let new_runs: Vec<&Run<'_>> = new.iter().map(|p| &p.0).collect();
    let base_reports: Vec<&Report> = base.iter().map(|p| p.report()).collect();
    let new_reports: Vec<&Report> = new.iter().map(|p| p.report()).collect();
    let metrics = rows(&base_reports, &new_reports);
    let question = |metric: &Metric, direction| Question::Relative {
        metric: metric.clone(),
        pct: options.noise_pct,
        direction,
    };
    // Two families per direction: the gated rows, and the rest (shown, not gated), so the
    // rest neither dilutes nor feeds the gate's false-alarm budget.
    let gated = is_gated;
    let mut judged: Vec<Option<(Judgement, Judgement)>> = vec![None; metrics.len()];
    let mut tested = 0;
    for family in [true, false] {
        let members: Vec<usize> = (0..metrics.len())
            .filter(|&i| gated(&metrics[i]) == family)
            .collect();
        let ask = |direction| -> Vec<Question> {
            members
                .iter()
                .map(|&i| question(&metrics[i], direction))
                .collect()
        };
        let worse = judge(&ask(Direction::Worse), &new_runs, &base_runs, &options.gate);
        let better = judge(
            &ask(Direction::Better),
            &new_runs,
            &base_runs,
            &options.gate,
        );
        if family {
            tested = worse.iter().filter(|j| j.p_value.is_some()).count();
        }
        for ((i, w), b) in members.into_iter().zip(worse).zip(better) {
            judged[i] = Some((w, b));
        }
    }
    let rows = metrics
        .iter()
        .zip(judged)
        .filter_map(|(metric, j)| {
            j.map(|(worse, better)| row(metric, worse, better, gated(metric)))
        })
        .collect();
    Comparison {
        rows,
        runs: (base.len(), new.len()),
        tested,
    }
}

/// Whether `--fail-on-slower` counts a row: the bulk (trimmed mean and median) of the ticks and
/// of every component, and peak memory. Shown but not gated: the plain mean (one preempted tick
/// moves it); the tail percentiles (across runs on a shared machine they are heavy-tailed: a
/// run that shared its CPU reads p99 +40 %, which no spread of a few runs predicts); the
/// unattributed time (the tick less its children, each net of a cost the profiler estimates per
/// run: identical runs differ by 100+ ns in today's reports); throughput, CPU % and CPU time per
/// tick (they move with the other processes on the machine: runs beside two CPU hogs took
/// several % more CPU time per tick than quiet runs of the same build, and eight runs per side
/// called that slower).
fn is_gated(metric: &Metric) -> bool {
    match metric {
        Metric::Tick(stat) | Metric::Component(_, stat) => {
            matches!(stat, Stat::TrimmedMean | Stat::P50)
        }
        Metric::PeakRssMb => true,
        _ => false,
    }
}

/// The metrics compared, in output order.
fn rows(base: &[&Report], new: &[&Report]) -> Vec<Metric> {
    let mut metrics = vec![Metric::Throughput];
    metrics.extend(Stat::ALL.map(Metric::Tick));
    metrics.extend(Stat::ALL.map(Metric::Unattributed));
    let names: BTreeSet<&String> = base
        .iter()
        .chain(new)
        .flat_map(|r| r.components.keys())
        .collect();
    for name in &names {
        metrics.extend(Stat::ALL.map(|s| Metric::Component((*name).clone(), s)));
    }
    // Allocations where either side counted them (a CountingAllocator installed): rows of
    // "missing" for every run without one would only hide the rest.
    let reports = || base.iter().chain(new);
    if reports().any(|r| r.ticks.allocations.is_some()) {
        metrics.extend(ALLOCATION_ROWS.map(Metric::TickAllocations));
    }
    for name in names {
        if reports().any(|r| {
            r.components
                .get(name)
                .is_some_and(|c| c.allocations.is_some())
        }) {
            metrics.extend(ALLOCATION_ROWS.map(|f| Metric::ComponentAllocations(name.clone(), f)));
        }
    }
    metrics.extend([
        Metric::PeakRssMb,
        Metric::CpuOfOneCore,
        Metric::CpuTimePerTick,
    ]);
    metrics
}

/// The allocation figures compared, per tick and per component: how many allocations and bytes
/// a span makes on average, the tail, and how many spans allocate at all.
const ALLOCATION_ROWS: [AllocStat; 4] = [
    AllocStat::Mean,
    AllocStat::P99,
    AllocStat::MeanBytes,
    AllocStat::ShareAllocatingPct,
];

fn row(metric: &Metric, worse: Judgement, better: Judgement, gated: bool) -> Row {
    let call = match (&worse.reason, worse.outcome, better.outcome) {
        (Reason::Missing(_), ..) => Call::Missing,
        (_, Outcome::Fail, _) => Call::Worse,
        (_, _, Outcome::Fail) => Call::Better,
        (_, Outcome::Pass, Outcome::Pass) => Call::WithinNoise,
        _ => Call::Inconclusive,
    };
    // The judgement that explains the call: the better direction's when it decided or when
    // it is the one past the threshold.
    let judgement =
        if call == Call::Better || (call == Call::Inconclusive && worse.outcome == Outcome::Pass) {
            better
        } else {
            worse
        };
    Row {
        metric: metric.to_string(),
        unit: metric.unit(),
        better: metric.bound(),
        base: judgement.base,
        new: judgement.value,
        interval: judgement.interval,
        call,
        gated,
        judgement,
    }
}

/// Fails on the first histogram that does not decode, naming it (reports from
/// [`Report::load`] have been checked already; hand-built ones may not be).
fn check_histograms(report: &Report, side: &str) -> Result<()> {
    report
        .ticks
        .latency
        .decode_histogram(&format!("ticks.latency of {side}"))?;
    report
        .unattributed
        .decode_histogram(&format!("unattributed of {side}"))?;
    for (name, c) in &report.components {
        c.latency
            .decode_histogram(&format!("components.{name}.latency of {side}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Noise;
    use crate::test_support::report;

    fn spread(center: u64, n: u64) -> Vec<u64> {
        (0..n).map(|i| center + (i * 7919) % (center / 5)).collect()
    }

    fn row<'a>(c: &'a Comparison, metric: &str) -> &'a Row {
        c.rows.iter().find(|r| r.metric == metric).unwrap()
    }

    #[test]
    fn same_run_is_within_noise() {
        let v = spread(10_000, 10_000);
        let a = report("a", &v, &[("strategy", &v)]);
        let c = compare(&a, &a, &CompareOptions::default()).unwrap();
        for r in &c.rows {
            assert!(matches!(r.call, Call::WithinNoise | Call::Missing), "{r:?}");
        }
        assert!(!c.any_worse());
    }

    /// One run per side: a 20 % slowdown of everything is past the 5 % threshold, but within
    /// what two runs of one build can differ by (25 % assumed): inconclusive, not an alarm.
    /// Five runs per side whose spread is small decide it.
    #[test]
    fn one_run_per_side_cannot_decide_what_several_can() {
        let v = spread(10_000, 5_000);
        let w: Vec<u64> = v.iter().map(|x| x * 12 / 10).collect();
        let (a, b) = (report("a", &v, &[]), report("b", &w, &[]));
        let c = compare(&a, &b, &CompareOptions::default()).unwrap();
        let tmean = row(&c, "ticks.trimmed_mean_us");
        assert_eq!(tmean.call, Call::Inconclusive, "{tmean:?}");
        assert!(matches!(
            tmean.judgement.reason,
            Reason::RunToRunNoise { runs_needed: None }
        ));
        assert!(!c.any_worse());
        assert!((row(&c, "ticks.mean_us").diff_pct().unwrap() - 20.0).abs() < 0.5);

        // Five runs per side, each a little apart (±1 %): measured noise, decided.
        let runs = |scale: u64| -> Vec<Report> {
            (0..5)
                .map(|i| {
                    let values: Vec<u64> =
                        v.iter().map(|x| x * (scale * 100 + i) / 10_000).collect();
                    report("r", &values, &[])
                })
                .collect()
        };
        let (base, new) = (runs(100), runs(120));
        let base: Vec<&Report> = base.iter().collect();
        let new: Vec<&Report> = new.iter().collect();
        let c = compare_runs(&base, &new, &CompareOptions::default()).unwrap();
        for m in ["ticks.trimmed_mean_us", "ticks.p50_us", "ticks.p99_us"] {
            assert_eq!(row(&c, m).call, Call::Worse, "{m}: {:?}", row(&c, m));
            assert!(matches!(row(&c, m).judgement.noise, Noise::Measured { .. }));
        }
        assert!(c.any_worse());
        let back = compare_runs(&new, &base, &CompareOptions::default()).unwrap();
        assert_eq!(row(&back, "ticks.p99_us").call_word(), "faster");
        assert!(!back.any_worse());
    }

    /// A 20 ns component growing fivefold is reported, whatever the run-to-run noise; one clock
    /// step on it is below resolution (both figures under the reports' 40 ns).
    #[test]
    fn a_tenfold_tiny_component_is_a_change_and_a_clock_step_is_not() {
        let ticks = spread(10_000, 5_000);
        let tens = |v: u64| -> Vec<u64> { (0..5_000).map(|i| v + 10 * (i % 3)).collect() };
        let a = report("a", &ticks, &[("risk", &tens(10))]);
        let b = report("b", &ticks, &[("risk", &tens(100))]);
        let c = compare(&a, &b, &CompareOptions::default()).unwrap();
        let risk = row(&c, "components.risk.trimmed_mean_us");
        assert_eq!(risk.call, Call::Worse, "{risk:?}");
        assert!(c.any_worse());
        let step = report("c", &ticks, &[("risk", &tens(20))]);
        let c = compare(&a, &step, &CompareOptions::default()).unwrap();
        let risk = row(&c, "components.risk.p50_us");
        assert_eq!(risk.call, Call::WithinNoise, "{risk:?}");
        assert_eq!(risk.judgement.reason, Reason::BelowResolution);
        // From 20 ns, a change must reach the 40 ns resolution: 20 ns, more than the 10 ns step.
        assert!(
            (risk.resolution_floor().unwrap() - 0.020).abs() < 1e-4,
            "{risk:?}"
        );
        assert_eq!(risk.judgement.resolution, Some(0.040));
    }

    /// One rule for the summary and compare: a change between two figures the summary marks
    /// below the resolution (`<0.040` here: an empty span reads 20 ns) is never called one,
    /// however sure the runs are of it; a change to a figure the summary states is judged, and
    /// so is a change between two stated figures smaller than the resolution. (With a floor of
    /// one clock step alone, 10 → 30 ns was "slower" while the summary printed `<0.040` twice.)
    #[test]
    fn compare_calls_no_change_between_figures_the_summary_marks_below_resolution() {
        let ticks = spread(10_000, 5_000);
        let tens = |v: u64| -> Vec<u64> { (0..5_000).map(|i| v + 10 * (i % 3)).collect() };
        // Four identical runs per side: the runs' noise is measured, and small.
        let side = |name: &str, tiny: u64| -> Vec<Report> {
            (0..4)
                .map(|_| report(name, &ticks, &[("tiny", &tens(tiny))]))
                .collect()
        };
        let call = |base: u64, new: u64, metric: &str| -> (Row, [String; 2]) {
            let (a, b) = (side("a", base), side("b", new));
            let (a, b): (Vec<&Report>, Vec<&Report>) = (a.iter().collect(), b.iter().collect());
            let c = compare_runs(&a, &b, &CompareOptions::default()).unwrap();
            // The figure the summary prints for the component's mean, on each side.
            let printed = [a[0], b[0]].map(|r| r.resolved(r.components["tiny"].latency.mean_ns));
            (row(&c, metric).clone(), printed.map(|p| p.micros(3)))
        };
        assert_eq!(report("r", &ticks, &[]).latency_resolution_ns(), 40.0);

        // 10 → 30 ns (values 0–20 → 20–40): both means below 40 ns, printed alike.
        let (r, printed) = call(0, 20, "components.tiny.mean_us");
        assert_eq!(printed, ["<0.040", "<0.040"]);
        assert_eq!(r.call, Call::WithinNoise, "{r:?}");
        assert_eq!(r.judgement.reason, Reason::BelowResolution);
        assert_eq!(r.judgement.resolution, Some(0.040));
        // The least change called one is the one that reaches the resolution: 40 − 10 ns.
        assert!(
            (r.resolution_floor().unwrap() - 0.030).abs() < 1e-4,
            "{r:?}"
        );

        // 10 → 50 ns: the new figure is stated (0.050), and the change is called.
        let (r, printed) = call(0, 40, "components.tiny.mean_us");
        assert_eq!(printed, ["<0.040", "0.050"]);
        assert_eq!(r.call, Call::Worse, "{r:?}");

        // 100 → 120 ns: both stated; a change smaller than the resolution is still one.
        let (r, printed) = call(90, 110, "components.tiny.mean_us");
        assert_eq!(printed, ["0.100", "0.120"]);
        assert_eq!(r.call, Call::Worse, "{r:?}");
        assert_eq!(r.judgement.resolution, None);

        // Faster, from a figure below the resolution: no change either.
        let (r, printed) = call(20, 0, "components.tiny.mean_us");
        assert_eq!(printed, ["<0.040", "<0.040"]);
        assert_eq!(r.call, Call::WithinNoise, "{r:?}");
    }

    /// A baseline of 0 (a clamped value) still gets the resolution floor: 0 → one clock step
    /// is no change.
    #[test]
    fn a_zero_baseline_has_a_floor() {
        let ticks = spread(10_000, 5_000);
        let zeros: Vec<u64> = (0..5_000)
            .map(|i| if i % 4 == 0 { 10 } else { 0 })
            .collect();
        let tens: Vec<u64> = (0..5_000)
            .map(|i| if i % 4 == 0 { 20 } else { 10 })
            .collect();
        let a = report("a", &ticks, &[("risk", &zeros)]);
        let b = report("b", &ticks, &[("risk", &tens)]);
        let c = compare(&a, &b, &CompareOptions::default()).unwrap();
        let p50 = row(&c, "components.risk.p50_us");
        assert_eq!(p50.base, Some(0.0));
        assert_eq!(p50.call, Call::WithinNoise, "{p50:?}");
        assert!(!c.any_worse());
    }

    /// A plain mean moved by outliers is shown but does not fail the comparison.
    #[test]
    fn a_mean_moved_by_outliers_is_not_gated() {
        let v = spread(10_000, 5_000);
        let mut w = v.clone();
        for x in w.iter_mut().take(20) {
            *x = 4_000_000;
        }
        let runs =
            |values: &[u64]| -> Vec<Report> { (0..4).map(|_| report("r", values, &[])).collect() };
        let (base, new) = (runs(&v), runs(&w));
        let base: Vec<&Report> = base.iter().collect();
        let new: Vec<&Report> = new.iter().collect();
        let c = compare_runs(&base, &new, &CompareOptions::default()).unwrap();
        let mean = row(&c, "ticks.mean_us");
        assert!(!mean.gated);
        assert!(row(&c, "ticks.trimmed_mean_us").gated);
        assert_eq!(row(&c, "ticks.trimmed_mean_us").call, Call::WithinNoise);
        // The outliers are real wall time: throughput fell, and says so. No latency row does.
        assert_eq!(row(&c, "ticks.throughput_per_s").call, Call::Worse);
        let worse: Vec<&Row> = c
            .rows
            .iter()
            .filter(|r| r.call == Call::Worse && r.unit == Unit::Micros && r.gated)
            .collect();
        assert!(worse.is_empty(), "{worse:#?}");
    }

    #[test]
    fn a_tail_of_few_values_is_inconclusive() {
        let v = spread(10_000, 100);
        let c = compare(
            &report("a", &v, &[]),
            &report("b", &v, &[]),
            &CompareOptions::default(),
        )
        .unwrap();
        let p999 = row(&c, "ticks.p999_us");
        assert_eq!(p999.call, Call::Inconclusive);
        assert_eq!(
            p999.judgement.reason,
            Reason::TooFewSamples {
                samples: 100,
                needed: 10_000
            }
        );
    }

    #[test]
    fn missing_component_is_missing() {
        let v = spread(10_000, 100);
        let a = report("a", &v, &[("risk", &v)]);
        let b = report("b", &v, &[]);
        let c = compare(&a, &b, &CompareOptions::default()).unwrap();
        assert_eq!(row(&c, "components.risk.p99_us").call, Call::Missing);
        assert_eq!(row(&c, "memory.peak_rss_mb").call, Call::Missing);
    }

    /// Allocation rows appear when either side counted allocations, compared exactly and not
    /// gated: a component that starts allocating reads "higher" whatever the noise; no rows
    /// when neither side counted.
    #[test]
    fn allocations_are_compared_exactly_when_counted() {
        use crate::test_support::allocations;
        let v = spread(10_000, 1_000);
        let a = report("a", &v, &[("parse", &v)]);
        let c = compare(&a, &a, &CompareOptions::default()).unwrap();
        assert!(!c.rows.iter().any(|r| r.metric.contains("allocations")));
        let with = |per_span: u64| {
            let mut r = a.clone();
            let figures = allocations(&vec![(per_span, 24 * per_span); 1_000]);
            r.ticks.allocations = Some(figures.clone());
            if let Some(c) = r.components.get_mut("parse") {
                c.allocations = Some(figures);
            }
            r
        };
        let c = compare(&with(0), &with(1), &CompareOptions::default()).unwrap();
        let mean = row(&c, "components.parse.allocations.mean");
        assert_eq!((mean.base, mean.new), (Some(0.0), Some(1.0)));
        assert_eq!(mean.call, Call::Worse, "{mean:?}");
        assert_eq!(mean.call_word(), "higher");
        assert_eq!(mean.unit, Unit::Allocations);
        assert!(!mean.gated);
        assert_eq!(row(&c, "ticks.allocations.mean_bytes").new, Some(24.0));
        assert_eq!(
            row(&c, "ticks.allocations.share_allocating_pct").new,
            Some(100.0)
        );
        assert!(!c.any_worse(), "allocation rows are not gated");
        let same = compare(&with(1), &with(1), &CompareOptions::default()).unwrap();
        assert_eq!(row(&same, "ticks.allocations.p99").call, Call::WithinNoise);
        // One side without: the rows say which is missing.
        let c = compare(&a, &with(1), &CompareOptions::default()).unwrap();
        assert_eq!(row(&c, "ticks.allocations.mean").call, Call::Missing);
    }

    #[test]
    fn output_is_reproducible() {
        let v = spread(10_000, 1_000);
        let w = spread(10_500, 1_000);
        let (a, b) = (report("a", &v, &[]), report("b", &w, &[]));
        let o = CompareOptions::default();
        assert_eq!(compare(&a, &b, &o).unwrap(), compare(&a, &b, &o).unwrap());
    }
}
