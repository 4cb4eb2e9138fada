//! Two reports side by side, metric by metric, with a call on each: faster, slower or within
//! noise. Pure functions: no I/O, no printing.
//!
//! # The method
//! Latency rows (mean and percentiles of ticks, unattributed time and each component) are called
//! from the two **histograms**, not from the two printed numbers:
//!
//! 1. A 95% interval for `new − base` of the statistic. For a percentile it is a bootstrap
//!    interval: each replicate resamples both runs from their histograms' bucket distributions.
//!    Resampling `n` values and taking the `k`-th smallest is done exactly and in O(log buckets)
//!    per replicate: the `k`-th order statistic of `n` uniforms is `Beta(k, n − k + 1)`, mapped
//!    through the histogram's inverse CDF. A fixed-seed generator makes the output reproducible.
//!    For the mean the interval is the normal one, `±1.96·√(s₁²/n₁ + s₂²/n₂)`, which is what the
//!    bootstrap of a mean converges to at these sample sizes.
//! 2. The call: **slower** if the whole interval, as a % of the base value, lies above the
//!    noise floor; **faster** if it lies below its negative; otherwise **within noise**. The
//!    floor is `noise_pct`, or for a latency row the reports' resolution
//!    ([`Report::latency_resolution_ns`]) as a % of the base value if that is larger: a 56 ns
//!    component is not called on less than 40 ns (±71 %). A row says when the resolution set
//!    its floor ([`Row::resolution_floor`]), so outputs can show it.
//!
//! The interval accounts for sampling noise inside each run (decisive for tails: a 10,000-tick
//! run has ten values above its p99.9); the noise floor accounts for what one run cannot see, the
//! machine's run-to-run variation. Both must be cleared. Single-valued rows (throughput, memory,
//! CPU) have no distribution and are called by the noise floor alone.
//!
//! A distribution distance (Kolmogorov–Smirnov) was considered and not used for the call: with
//! 10⁵–10⁶ ticks per run it declares any two runs different, and its statistic is not in the
//! metric's units, so it cannot say by how much or in which direction.

use std::collections::BTreeSet;

use hdrhistogram::Histogram;

use crate::error::Result;
use crate::metric::{Bound, Metric, Stat, Unit};
use crate::report::{LatencyStats, Report};

/// How [`compare`] decides its calls.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CompareOptions {
    /// Changes smaller than this, in %, are within noise whatever the interval says.
    pub noise_pct: f64,
    /// Bootstrap replicates per percentile.
    pub resamples: usize,
    /// Seed of the bootstrap's generator.
    pub seed: u64,
}

impl Default for CompareOptions {
    /// 5% noise floor (shared CI runners vary by a few % between runs), 2,000 replicates.
    fn default() -> Self {
        CompareOptions {
            noise_pct: 5.0,
            resamples: 2_000,
            seed: 0x7469_636b_7072_6f66, // "tickprof"
        }
    }
}

impl CompareOptions {
    /// Sets the noise floor, in %.
    pub fn noise_pct(mut self, noise_pct: f64) -> Self {
        self.noise_pct = noise_pct;
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
    /// No change that clears both the interval and the noise floor.
    WithinNoise,
    /// One of the reports lacks the metric.
    Missing,
}

/// One metric of both reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Row {
    /// The metric's name (`ticks.p99_us`), as listed in [`metric`](crate::metric).
    pub metric: String,
    /// Unit of the values.
    pub unit: Unit,
    /// Which direction is better: `AtMost` = lower is better.
    pub better: Bound,
    /// The base report's value.
    pub base: Option<f64>,
    /// The new report's value.
    pub new: Option<f64>,
    /// 95% interval of `new − base`, in `unit`; `None` for single-valued metrics.
    pub interval: Option<(f64, f64)>,
    /// The call.
    pub call: Call,
    /// The reports' latency resolution, in `unit`, when it and not `noise_pct` set this row's
    /// noise floor (see [`Row::resolution_floor_pct`]): a latency row is never called on a
    /// change smaller than the larger of the two reports'
    /// [`Report::latency_resolution_ns`]. `None` for rows the percentage decided and for
    /// single-valued rows. Outputs show it, so "+50 % within noise" under a 5 % floor explains
    /// itself.
    pub resolution_floor: Option<f64>,
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

    /// The noise floor this row was judged with, in % of the base value, when the resolution
    /// floor set it: `resolution_floor / base`.
    pub fn resolution_floor_pct(&self) -> Option<f64> {
        let base = self.base.filter(|b| *b > 0.0)?;
        Some(100.0 * self.resolution_floor? / base)
    }

    /// The call in words: `faster`/`slower` for latencies and throughput, `lower`/`higher`
    /// for resources, `within noise`, `missing`.
    pub fn call_word(&self) -> &'static str {
        let timing = matches!(self.unit, Unit::Micros | Unit::TicksPerSec);
        match (self.call, timing) {
            (Call::Better, true) => "faster",
            (Call::Worse, true) => "slower",
            (Call::Better, false) => "lower",
            (Call::Worse, false) => "higher",
            (Call::WithinNoise, _) => "within noise",
            (Call::Missing, _) => "missing",
        }
    }
}

/// Every row of a comparison, in a fixed order: ticks, unattributed, components, resources.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Comparison {
    /// The rows.
    pub rows: Vec<Row>,
}

impl Comparison {
    /// Whether any row is worse beyond noise.
    pub fn any_worse(&self) -> bool {
        self.rows.iter().any(|r| r.call == Call::Worse)
    }
}

/// Compares `new` against `base`; see the module docs for the method.
///
/// # Errors
/// [`Error::Histogram`](crate::Error::Histogram) if a histogram blob cannot be decoded.
pub fn compare(base: &Report, new: &Report, options: &CompareOptions) -> Result<Comparison> {
    let mut judge = Judge {
        options,
        resolution_ns: base
            .latency_resolution_ns()
            .max(new.latency_resolution_ns()),
        rng: SplitMix64(options.seed),
    };
    let mut rows = Vec::new();
    rows.push(single(Metric::Throughput, base, new, options));
    let ticks = |r: &Report| (r.ticks.count > 0).then(|| r.ticks.latency.clone());
    latency_rows(
        &mut rows,
        Metric::Tick,
        ticks(base),
        ticks(new),
        "ticks.latency",
        &mut judge,
    )?;
    let unattributed = |r: &Report| (r.ticks.count > 0).then(|| r.unattributed.clone());
    latency_rows(
        &mut rows,
        Metric::Unattributed,
        unattributed(base),
        unattributed(new),
        "unattributed",
        &mut judge,
    )?;
    let names: BTreeSet<&String> = base
        .components
        .keys()
        .chain(new.components.keys())
        .collect();
    for name in names {
        let get = |r: &Report| {
            r.components
                .get(name)
                .filter(|c| c.count > 0)
                .map(|c| c.latency.clone())
        };
        latency_rows(
            &mut rows,
            |s| Metric::Component(name.clone(), s),
            get(base),
            get(new),
            &format!("components.{name}.latency"),
            &mut judge,
        )?;
    }
    for metric in [
        Metric::PeakRssMb,
        Metric::CpuOfOneCore,
        Metric::CpuTimePerTick,
    ] {
        rows.push(single(metric, base, new, options));
    }
    Ok(Comparison { rows })
}

fn single(metric: Metric, base: &Report, new: &Report, options: &CompareOptions) -> Row {
    let (b, n) = (metric.value(base).ok(), metric.value(new).ok());
    let better = metric.bound();
    let call = match (b, n) {
        (Some(b), Some(n)) => call((n - b, n - b), b, better, options.noise_pct),
        _ => Call::Missing,
    };
    Row {
        unit: metric.unit(),
        metric: metric.to_string(),
        better,
        base: b,
        new: n,
        interval: None,
        call,
        resolution_floor: None,
    }
}

/// What the latency rows are judged with: the options, the reports' latency resolution and
/// the bootstrap's generator.
struct Judge<'a> {
    options: &'a CompareOptions,
    resolution_ns: f64,
    rng: SplitMix64,
}

fn latency_rows(
    rows: &mut Vec<Row>,
    metric: impl Fn(Stat) -> Metric,
    base: Option<LatencyStats>,
    new: Option<LatencyStats>,
    field: &str,
    judge: &mut Judge<'_>,
) -> Result<()> {
    let (options, resolution_ns) = (judge.options, judge.resolution_ns);
    let rng = &mut judge.rng;
    let decode = |l: &Option<LatencyStats>, which: &str| {
        l.as_ref()
            .map(|l| {
                l.decode_histogram(&format!("{field} of {which}"))
                    .map(|h| (l.clone(), Cdf::new(&h)))
            })
            .transpose()
    };
    let (b, n) = (decode(&base, "base")?, decode(&new, "new")?);
    for stat in Stat::ALL {
        let resolution_us = resolution_ns / 1_000.0;
        let m = metric(stat);
        let (unit, better, name) = (m.unit(), m.bound(), m.to_string());
        let row = match (&b, &n) {
            (Some((bl, bc)), Some((nl, nc))) => {
                let (bv, nv) = (stat.of(bl), stat.of(nl));
                let interval = match stat.quantile() {
                    None => mean_interval(bl, bc.total, nl, nc.total),
                    Some(q) => quantile_interval(bc, nc, q, options.resamples, rng),
                };
                let (floor_pct, resolution_floor) =
                    noise_floor(options.noise_pct, resolution_us, bv);
                Row {
                    metric: name,
                    unit,
                    better,
                    base: Some(bv),
                    new: Some(nv),
                    interval: Some(interval),
                    call: call(interval, bv, better, floor_pct),
                    resolution_floor,
                }
            }
            _ => Row {
                metric: name,
                unit,
                better,
                base: b.as_ref().map(|(l, _)| stat.of(l)),
                new: n.as_ref().map(|(l, _)| stat.of(l)),
                interval: None,
                call: Call::Missing,
                resolution_floor: None,
            },
        };
        rows.push(row);
    }
    Ok(())
}

/// The relative noise floor for a latency row, in %: `noise_pct`, or the reports' latency
/// resolution (see [`Report::latency_resolution_ns`]) relative to the base value if that is
/// larger, and then also the resolution (µs), so the row can say what set its floor.
fn noise_floor(noise_pct: f64, resolution_us: f64, base_us: f64) -> (f64, Option<f64>) {
    if base_us > 0.0 {
        let resolution_pct = 100.0 * resolution_us / base_us;
        if resolution_pct > noise_pct {
            return (resolution_pct, Some(resolution_us));
        }
    }
    (noise_pct, None)
}

/// The call from an interval of `new − base`: it must clear the noise floor entirely.
fn call((lo, hi): (f64, f64), base: f64, better: Bound, noise_pct: f64) -> Call {
    let (lo, hi, floor) = if base > 0.0 {
        (100.0 * lo / base, 100.0 * hi / base, noise_pct)
    } else {
        // No relative scale: any interval that excludes zero is a change.
        (lo, hi, 0.0)
    };
    let direction = if lo > floor {
        1
    } else if hi < -floor {
        -1
    } else {
        0
    };
    match (direction, better) {
        (0, _) => Call::WithinNoise,
        (1, Bound::AtMost) | (-1, Bound::AtLeast) => Call::Worse,
        _ => Call::Better,
    }
}

const Z_95: f64 = 1.959_963_984_540_054;

/// Normal 95% interval of the difference of two means, in µs.
fn mean_interval(base: &LatencyStats, nb: u64, new: &LatencyStats, nn: u64) -> (f64, f64) {
    let diff = (new.mean_ns - base.mean_ns) / 1_000.0;
    let var = |l: &LatencyStats, n: u64| (l.stddev_ns / 1_000.0).powi(2) / n.max(1) as f64;
    let half = Z_95 * (var(base, nb) + var(new, nn)).sqrt();
    (diff - half, diff + half)
}

/// Bootstrap 95% percentile interval of `new − base` for quantile `q`, in µs.
fn quantile_interval(
    base: &Cdf,
    new: &Cdf,
    q: f64,
    resamples: usize,
    rng: &mut SplitMix64,
) -> (f64, f64) {
    let mut diffs: Vec<f64> = (0..resamples.max(1))
        .map(|_| (new.resampled_quantile(q, rng) - base.resampled_quantile(q, rng)) / 1_000.0)
        .collect();
    diffs.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let i = ((diffs.len() - 1) as f64 * p).round() as usize;
        diffs.get(i).copied().unwrap_or(0.0)
    };
    (at(0.025), at(0.975))
}

/// A histogram's non-empty buckets: (highest equivalent value, cumulative count).
struct Cdf {
    buckets: Vec<(u64, u64)>,
    total: u64,
}

impl Cdf {
    fn new(h: &Histogram<u64>) -> Self {
        let mut total = 0u64;
        let buckets = h
            .iter_recorded()
            .map(|v| {
                // Saturating: a report's counts can sum past u64 (a corrupt blob still decodes).
                total = total.saturating_add(v.count_at_value());
                (h.highest_equivalent(v.value_iterated_to()), total)
            })
            .collect();
        Cdf { buckets, total }
    }

    /// Value of the smallest bucket holding rank `rank` (1-based).
    fn value_at_rank(&self, rank: u64) -> f64 {
        let i = self.buckets.partition_point(|&(_, cum)| cum < rank);
        self.buckets
            .get(i)
            .or(self.buckets.last())
            .map_or(0.0, |&(v, _)| v as f64)
    }

    /// The `q` quantile of one bootstrap resample of the histogram's values, drawn exactly:
    /// the `k`-th smallest of `n` uniforms is `Beta(k, n − k + 1)`.
    fn resampled_quantile(&self, q: f64, rng: &mut SplitMix64) -> f64 {
        let n = self.total;
        if n == 0 {
            return 0.0;
        }
        let k = ((q * n as f64).ceil() as u64).clamp(1, n);
        let u = rng.beta(k as f64, (n - k + 1) as f64);
        let rank = ((u * n as f64).ceil() as u64).clamp(1, n);
        self.value_at_rank(rank)
    }
}

/// SplitMix64: small, fast, good enough for resampling, and seeded so output is reproducible.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1), never exactly 0 or 1.
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Gamma(shape, 1) for shape ≥ 1 (Marsaglia–Tsang).
    fn gamma(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b) for a, b ≥ 1.
    fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::LatencyStats;
    use crate::test_support::{hist, report};

    fn spread(center: u64, n: u64) -> Vec<u64> {
        (0..n).map(|i| center + (i * 7919) % (center / 5)).collect()
    }

    fn row<'a>(c: &'a Comparison, metric: &str) -> &'a Row {
        c.rows.iter().find(|r| r.metric == metric).unwrap()
    }

    /// Bucket counts that sum past `u64::MAX` (each fits; a blob can carry them) saturate
    /// instead of overflowing the cumulative count (a panic in a debug build).
    #[test]
    fn counts_summing_past_u64_do_not_overflow() {
        let mut h = hist(&[]);
        for v in [1_000, 2_000, 3_000] {
            h.record_n(v, u64::MAX / 2).unwrap();
        }
        let mut a = report("a", &[1_000], &[]);
        a.ticks.latency = LatencyStats::from_histogram(&h, "t").unwrap();
        let options = CompareOptions {
            resamples: 20,
            ..CompareOptions::default()
        };
        let c = compare(&a, &a, &options).unwrap();
        assert!(!c.any_worse());
        assert_eq!(Cdf::new(&h).total, u64::MAX);
    }

    #[test]
    fn same_run_is_within_noise() {
        let v = spread(10_000, 5_000);
        let a = report("a", &v, &[("strategy", &v)]);
        let c = compare(&a, &a, &CompareOptions::default()).unwrap();
        for r in &c.rows {
            assert!(matches!(r.call, Call::WithinNoise | Call::Missing), "{r:?}");
        }
        assert!(!c.any_worse());
    }

    #[test]
    fn one_clock_step_on_a_tiny_component_is_noise_but_a_real_step_is_not() {
        // A 30 ns component read 10 ns slower (one TSC step on the project's VM): +33 %, but
        // below the reports' resolution (twice the empty-span floor of 20 ns).
        let ticks = spread(10_000, 5_000);
        let fast = vec![30u64; 5_000];
        let slow = vec![40u64; 5_000];
        let mut a = report("a", &ticks, &[("indicators", &fast)]);
        let mut b = report("b", &ticks, &[("indicators", &slow)]);
        a.overhead.empty_span_busy_ns = 20.0;
        b.overhead.empty_span_busy_ns = 20.0;
        let c = compare(&a, &b, &CompareOptions::default()).unwrap();
        let tiny = row(&c, "components.indicators.p50_us");
        assert_eq!(tiny.call, Call::WithinNoise);
        // The row records that the resolution, not the 5 % floor, decided: 40 ns of 30 ns.
        assert_eq!(tiny.resolution_floor, Some(0.040));
        let pct = tiny.resolution_floor_pct().unwrap();
        assert!((pct - 133.3).abs() < 0.1, "{pct}");
        // A 10 µs tick is judged by the 5 % floor (500 ns > 40 ns): nothing to explain.
        assert_eq!(row(&c, "ticks.p50_us").resolution_floor, None);
        assert_eq!(row(&c, "ticks.throughput_per_s").resolution_floor, None);
        // 30 -> 90 ns is beyond the 40 ns resolution: slower.
        let slower = report("c", &ticks, &[("indicators", &vec![90u64; 5_000])]);
        let c = compare(&a, &slower, &CompareOptions::default()).unwrap();
        assert_eq!(row(&c, "components.indicators.p50_us").call, Call::Worse);
    }

    #[test]
    fn twenty_percent_slower_is_slower() {
        let v = spread(10_000, 5_000);
        let w: Vec<u64> = v.iter().map(|x| x * 12 / 10).collect();
        let (a, b) = (report("a", &v, &[]), report("b", &w, &[]));
        let c = compare(&a, &b, &CompareOptions::default()).unwrap();
        for m in [
            "ticks.mean_us",
            "ticks.p50_us",
            "ticks.p99_us",
            "ticks.throughput_per_s",
        ] {
            assert_eq!(row(&c, m).call, Call::Worse, "{m}");
            assert_eq!(row(&c, m).call_word(), "slower", "{m}");
        }
        let back = compare(&b, &a, &CompareOptions::default()).unwrap();
        assert_eq!(row(&back, "ticks.p99_us").call_word(), "faster");
        assert!((row(&c, "ticks.mean_us").diff_pct().unwrap() - 20.0).abs() < 0.5);
    }

    #[test]
    fn a_tail_of_few_values_is_not_a_call() {
        // 100 ticks: p99.9 rests on one value; a 10% shift of it cannot be told from chance.
        let mut v = spread(10_000, 100);
        let mut w = v.clone();
        *v.last_mut().unwrap() = 50_000;
        *w.last_mut().unwrap() = 40_000;
        w[0] = 60_000;
        let c = compare(
            &report("a", &v, &[]),
            &report("b", &w, &[]),
            &CompareOptions::default(),
        )
        .unwrap();
        assert_eq!(row(&c, "ticks.p999_us").call, Call::WithinNoise);
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

    #[test]
    fn resampled_quantiles_centre_on_the_histogram() {
        let h = hist(&(1..=10_000).collect::<Vec<_>>());
        let cdf = Cdf::new(&h);
        let mut rng = SplitMix64(1);
        let draws: Vec<f64> = (0..2_000)
            .map(|_| cdf.resampled_quantile(0.5, &mut rng))
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 5_000.0).abs() < 20.0, "{mean}");
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
