//! The bucket layout of every exported latency histogram, and its counts computed exactly from
//! a report's HdrHistogram.
//!
//! Prometheus's `histogram_quantile` finds the bucket that holds the wanted rank and
//! interpolates linearly between its lower and upper bound. The true value lies in that same
//! bucket, so the estimate is off by at most the bucket's width: relative to the true value,
//! at most `ratio - 1` for geometric buckets of `ratio` between neighbours. Twenty-five buckets
//! per decade (ratio 10^(1/25) = 1.0965, bounds rounded to four significant figures: at most
//! 1.0976) keep every estimate from 1 µs to 1 s within 10 % of the report's percentile, for any
//! distribution. Outside that range five per decade (ratio 1.585) keep the series count down:
//! 10 ns to 1 µs and 1 s to 1000 s are rarer and need less precision. In all, 176 bounds and
//! `+Inf`.

use std::sync::LazyLock;

use hdrhistogram::Histogram;

/// Buckets per decade where the 10 % promise holds (1 µs to 1 s).
const FINE_PER_DECADE: u32 = 25;
/// Buckets per decade outside it (10 ns to 1 µs, 1 s to 1000 s).
const COARSE_PER_DECADE: u32 = 5;

/// The upper bounds in ns, ascending, without `+Inf`.
static BOUNDS_NS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut bounds = Vec::new();
    // (first decade exponent, last decade exponent, buckets per decade), in powers of ten ns.
    for (from, to, per_decade) in [
        (1, 3, COARSE_PER_DECADE),
        (3, 9, FINE_PER_DECADE),
        (9, 12, COARSE_PER_DECADE),
    ] {
        for step in 0..(to - from) * per_decade {
            let exponent = f64::from(from) + f64::from(step) / f64::from(per_decade);
            bounds.push(four_significant_figures(10f64.powf(exponent)));
        }
    }
    bounds.push(1_000_000_000_000);
    bounds.dedup();
    bounds
});

/// `ns` rounded to four significant figures (bounds read `1.096e-6`, not `1.0964781961e-6`).
fn four_significant_figures(ns: f64) -> u64 {
    let scale = 10f64.powi(ns.log10().floor() as i32 - 3);
    // Bounds lie between 10 and 1e12 ns: the cast neither truncates nor saturates.
    ((ns / scale).round() * scale).round() as u64
}

/// The upper bounds in ns, ascending, without `+Inf`.
pub(crate) fn bounds_ns() -> &'static [u64] {
    &BOUNDS_NS
}

/// One histogram as Prometheus reads it: `(upper bound in seconds, values in this bucket)`
/// pairs (not cumulative; the last bound is `+Inf`), the sum of the values in seconds, and
/// their count.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Buckets {
    pub(crate) buckets: Vec<(f64, u64)>,
    pub(crate) sum_s: f64,
    pub(crate) count: u64,
}

impl Buckets {
    /// Counts each bucket exactly from `histogram` (in ns): a value is in the first bucket whose
    /// bound is at least the value (HdrHistogram's value for an entry is the highest of its
    /// equivalence range, within 0.1 % at 3 significant figures).
    pub(crate) fn from_histogram(histogram: &Histogram<u64>) -> Self {
        let bounds = bounds_ns();
        let mut counts = vec![0u64; bounds.len() + 1];
        let mut bucket = 0;
        for value in histogram.iter_recorded() {
            let ns = value.value_iterated_to();
            while bucket < bounds.len() && bounds.get(bucket).is_some_and(|&b| ns > b) {
                bucket += 1;
            }
            if let Some(count) = counts.get_mut(bucket) {
                *count = count.saturating_add(value.count_at_value());
            }
        }
        let buckets = bounds
            .iter()
            .map(|&ns| ns as f64 / 1e9)
            .chain(std::iter::once(f64::INFINITY))
            .zip(counts)
            .collect();
        let count = histogram.len();
        let sum_s = if count == 0 {
            0.0
        } else {
            histogram.mean() * count as f64 / 1e9
        };
        Buckets {
            buckets,
            sum_s,
            count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prometheus's `histogram_quantile` on cumulative buckets (promql/quantile.go, Prometheus
    /// 2.42): linear interpolation inside the bucket holding the rank; the first bucket starts
    /// at 0; a rank in `+Inf` answers the highest finite bound.
    pub(crate) fn histogram_quantile(q: f64, buckets: &[(f64, u64)]) -> f64 {
        let mut cumulative = Vec::with_capacity(buckets.len());
        let mut total = 0u64;
        for &(bound, count) in buckets {
            total += count;
            cumulative.push((bound, total as f64));
        }
        let observations = total as f64;
        let rank = q * observations;
        let b = cumulative
            .iter()
            .position(|&(_, c)| c >= rank)
            .unwrap_or(cumulative.len() - 1);
        if b == cumulative.len() - 1 {
            return cumulative[cumulative.len() - 2].0;
        }
        if b == 0 && cumulative[0].0 <= 0.0 {
            return cumulative[0].0;
        }
        let (bucket_start, count_start) = if b == 0 {
            (0.0, 0.0)
        } else {
            cumulative[b - 1]
        };
        let (bucket_end, count_end) = cumulative[b];
        bucket_start
            + (bucket_end - bucket_start) * ((rank - count_start) / (count_end - count_start))
    }

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn layout_is_ascending_with_the_promised_ratios() {
        let bounds = bounds_ns();
        assert_eq!(bounds.len(), 176);
        assert_eq!(bounds[0], 10);
        assert!(bounds.contains(&1_000) && bounds.contains(&1_000_000_000));
        assert_eq!(*bounds.last().unwrap(), 1_000_000_000_000);
        for pair in bounds.windows(2) {
            let ratio = pair[1] as f64 / pair[0] as f64;
            assert!(ratio > 1.0, "{pair:?}");
            if pair[0] >= 1_000 && pair[1] <= 1_000_000_000 {
                assert!(ratio <= 1.0977, "{pair:?}: ratio {ratio}");
            }
        }
    }

    #[test]
    fn counts_are_exact() {
        // 1 µs lands in the bucket whose bound is 1 µs; 1001 ns in the next one.
        let h = histogram([1_000, 1_000, 1_001, 5, 2_000_000_000_000]);
        let b = Buckets::from_histogram(&h);
        assert_eq!(b.count, 5);
        assert_eq!(b.buckets.iter().map(|(_, c)| c).sum::<u64>(), 5);
        let at = |seconds: f64| b.buckets.iter().find(|(s, _)| *s == seconds).unwrap().1;
        assert_eq!(at(1e-6), 2);
        assert_eq!(at(1.096e-6), 1);
        assert_eq!(b.buckets[0], (1e-8, 1)); // 5 ns
        assert_eq!(*b.buckets.last().unwrap(), (f64::INFINITY, 1)); // 2000 s
        assert!((b.sum_s - h.mean() * 5.0 / 1e9).abs() < 1e-12);
    }

    /// Point masses are the worst case of interpolation (every value at one end of a bucket):
    /// still within 10 % of the report's p99 everywhere from 1 µs to 1 s.
    #[test]
    fn quantiles_within_ten_percent_from_1us_to_1s() {
        let mut worst: f64 = 0.0;
        let mut ns = 1_000.0_f64;
        while ns <= 1e9 {
            for spread in [0.0, 0.03, 0.5] {
                // Values from ns to ns × (1 + spread), evenly.
                let values =
                    (0..1_000).map(|i| (ns * (1.0 + spread * f64::from(i) / 999.0)) as u64);
                let h = histogram(values);
                let p99 = h.value_at_quantile(0.99) as f64;
                if p99 > 1e9 {
                    continue;
                }
                let estimate = histogram_quantile(0.99, &Buckets::from_histogram(&h).buckets) * 1e9;
                let error = (estimate - p99).abs() / p99;
                worst = worst.max(error);
                assert!(
                    error <= 0.10,
                    "{ns} ns (+{spread}): p99 {p99}, estimate {estimate}"
                );
            }
            ns *= 1.013;
        }
        eprintln!(
            "worst relative error of the p99 estimate: {:.2} %",
            100.0 * worst
        );
        assert!(
            worst > 0.05,
            "the test reaches the bound's neighbourhood: {worst}"
        );
    }
}
