//! A recorded histogram as the gate reads it: its non-empty buckets with cumulative counts, and
//! the estimates taken from them (quantiles, the trimmed mean) with their sampling noise.

use hdrhistogram::Histogram;

use super::rng::SplitMix64;

/// The share trimmed off each end for the trimmed mean: the mean of the middle 90 % of values,
/// which one preempted tick (or a hundred, in a run of 10⁵) cannot move.
pub(crate) const TRIM: f64 = 0.05;

/// One non-empty bucket: the values it stands for and the count up to and including it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    low: u64,
    high: u64,
    cumulative: u64,
}

impl Bucket {
    /// The value the bucket stands for in sums: its middle (hdrhistogram's median equivalent).
    fn middle(&self) -> f64 {
        self.low as f64 + (self.high - self.low).div_ceil(2) as f64
    }
}

/// A histogram's non-empty buckets, in value order.
#[derive(Debug, Clone)]
pub(crate) struct Cdf {
    buckets: Vec<Bucket>,
    /// Values in the histogram (saturating: a corrupt blob's counts can sum past u64).
    pub(crate) total: u64,
}

impl Cdf {
    pub(crate) fn new(h: &Histogram<u64>) -> Self {
        let mut total = 0u64;
        let buckets = h
            .iter_recorded()
            .map(|v| {
                total = total.saturating_add(v.count_at_value());
                let at = v.value_iterated_to();
                Bucket {
                    low: h.lowest_equivalent(at),
                    high: h.highest_equivalent(at),
                    cumulative: total,
                }
            })
            .collect();
        Cdf { buckets, total }
    }

    /// The value of the smallest bucket holding rank `rank` (1-based), as hdrhistogram reports
    /// a quantile: the bucket's highest equivalent value.
    fn value_at_rank(&self, rank: u64) -> f64 {
        let i = self.buckets.partition_point(|b| b.cumulative < rank);
        self.buckets
            .get(i)
            .or(self.buckets.last())
            .map_or(0.0, |b| b.high as f64)
    }

    /// The `q` quantile of one bootstrap resample of the histogram's values, drawn exactly:
    /// the `k`-th smallest of `n` uniforms is `Beta(k, n − k + 1)`, mapped through the
    /// histogram's inverse CDF. O(log buckets) per draw, whatever the count.
    pub(crate) fn resampled_quantile(&self, q: f64, rng: &mut SplitMix64) -> f64 {
        let n = self.total;
        if n == 0 {
            return 0.0;
        }
        let k = ((q * n as f64).ceil() as u64).clamp(1, n);
        let u = rng.beta(k as f64, (n - k + 1) as f64);
        let rank = ((u * n as f64).ceil() as u64).clamp(1, n);
        self.value_at_rank(rank)
    }

    /// The standard error of the `q` quantile, in ns: the standard deviation of `resamples`
    /// bootstrap replicates.
    pub(crate) fn quantile_se(&self, q: f64, resamples: usize, rng: &mut SplitMix64) -> f64 {
        let draws: Vec<f64> = (0..resamples.max(2))
            .map(|_| self.resampled_quantile(q, rng))
            .collect();
        standard_deviation(&draws)
    }

    /// The mean of the values between the `TRIM` and `1 − TRIM` quantiles, and its standard
    /// error (Tukey–McLaughlin: the winsorized standard deviation over `(1 − 2·TRIM)·√n`), ns.
    /// `None` for an empty histogram.
    pub(crate) fn trimmed_mean(&self) -> Option<(f64, f64)> {
        let n = self.total as f64;
        if self.total == 0 {
            return None;
        }
        let (lo, hi) = (TRIM * n, (1.0 - TRIM) * n);
        // The winsorizing values: those at the two trimming ranks.
        let x_lo = self.middle_at_rank(((lo.ceil()) as u64).max(1));
        let x_hi = self.middle_at_rank(((hi.ceil()) as u64).max(1));
        let (mut sum, mut w_sum, mut w_sq) = (0.0, 0.0, 0.0);
        let mut before = 0.0_f64;
        for b in &self.buckets {
            let after = b.cumulative as f64;
            let x = b.middle();
            // The part of this bucket's count inside [lo, hi] is kept; below and above are
            // replaced by the winsorizing values.
            let kept = (after.min(hi) - before.max(lo)).max(0.0);
            let below = (after.min(lo) - before).max(0.0);
            let above = (after - before.max(hi)).max(0.0);
            sum += x * kept;
            for (value, count) in [(x, kept), (x_lo, below), (x_hi, above)] {
                w_sum += value * count;
                w_sq += value * value * count;
            }
            before = after;
        }
        let mean = sum / (hi - lo);
        let w_mean = w_sum / n;
        let w_var = if n > 1.0 {
            ((w_sq - n * w_mean * w_mean) / (n - 1.0)).max(0.0)
        } else {
            0.0
        };
        let se = w_var.sqrt() / ((1.0 - 2.0 * TRIM) * n.sqrt());
        Some((mean, se))
    }

    fn middle_at_rank(&self, rank: u64) -> f64 {
        let i = self.buckets.partition_point(|b| b.cumulative < rank);
        self.buckets
            .get(i)
            .or(self.buckets.last())
            .map_or(0.0, Bucket::middle)
    }

    /// The step the values come in, ns: the most common gap between neighbouring recorded
    /// values where the histogram records every ns exactly (a clock that ticks in 10 ns steps
    /// gives 10). 1 ns when the histogram says nothing (fewer than two such values).
    pub(crate) fn quantum_ns(&self) -> f64 {
        let exact: Vec<u64> = self
            .buckets
            .iter()
            .filter(|b| b.low == b.high)
            .map(|b| b.low)
            .collect();
        let mut gaps: Vec<u64> = exact.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let mut best = (0usize, 1u64);
        let mut i = 0;
        while i < gaps.len() {
            let j = gaps[i..].partition_point(|g| *g == gaps[i]) + i;
            if j - i > best.0 {
                best = (j - i, gaps[i]);
            }
            i = j;
        }
        best.1 as f64
    }
}

fn standard_deviation(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::hist;

    /// Bucket counts that sum past `u64::MAX` (each fits; a blob can carry them) saturate
    /// instead of overflowing the cumulative count (a panic in a debug build).
    #[test]
    fn counts_summing_past_u64_do_not_overflow() {
        let mut h = hist(&[]);
        for v in [1_000, 2_000, 3_000] {
            h.record_n(v, u64::MAX / 2).unwrap();
        }
        assert_eq!(Cdf::new(&h).total, u64::MAX);
    }

    #[test]
    fn resampled_quantiles_centre_on_the_histogram() {
        let cdf = Cdf::new(&hist(&(1..=10_000).collect::<Vec<_>>()));
        let mut rng = SplitMix64(1);
        let draws: Vec<f64> = (0..2_000)
            .map(|_| cdf.resampled_quantile(0.5, &mut rng))
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 5_000.0).abs() < 20.0, "{mean}");
        // The median of n uniforms on 1..=N has SD ≈ N / (2√n) = 50.
        let se = cdf.quantile_se(0.5, 2_000, &mut rng);
        assert!((se - 50.0).abs() < 5.0, "{se}");
    }

    /// The trimmed mean leaves out what one far outlier adds to the mean, and its standard
    /// error is the textbook one for values without outliers (σ/√n × a small factor).
    #[test]
    fn the_trimmed_mean_ignores_outliers() {
        let mut values: Vec<u64> = (0..1_000).map(|i| 1_000 + (i % 100)).collect();
        let clean = Cdf::new(&hist(&values)).trimmed_mean().unwrap();
        values[0] = 4_000_000;
        let h = hist(&values);
        let (mean, se) = Cdf::new(&h).trimmed_mean().unwrap();
        assert!((mean - 1_049.5).abs() < 1.0, "{mean}");
        assert!((mean - clean.0).abs() < 0.2, "{mean} vs {}", clean.0);
        assert!(
            h.mean() > 5_000.0,
            "the plain mean moved by 4 µs: {}",
            h.mean()
        );
        // 100 values, 10 of each: the winsorized SD is 28.5 (the clipped ends keep their mass
        // at the clipping values), and 28.5 / (0.9 × √1000) = 1.0.
        assert!((se - 1.0).abs() < 0.03, "{se}");
    }

    #[test]
    fn the_quantum_is_the_clock_step() {
        let tens: Vec<u64> = (0..500).map(|i| 200 + 10 * (i % 30)).collect();
        assert_eq!(Cdf::new(&hist(&tens)).quantum_ns(), 10.0);
        let ones: Vec<u64> = (0..500).map(|i| 200 + (i % 300)).collect();
        assert_eq!(Cdf::new(&hist(&ones)).quantum_ns(), 1.0);
        assert_eq!(Cdf::new(&hist(&[56; 10])).quantum_ns(), 1.0);
        assert!(Cdf::new(&hist(&[])).trimmed_mean().is_none());
    }
}
