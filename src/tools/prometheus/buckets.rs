//! The bucket layouts of the exported latency histograms, and their counts computed exactly
//! from a report's HdrHistogram.
//!
//! Prometheus's `histogram_quantile` finds the bucket that holds the wanted rank and
//! interpolates linearly between its lower and upper bound. The true value lies in that same
//! bucket, so the estimate is off by at most the bucket's width: relative to the true value,
//! at most `ratio - 1` for geometric buckets of `ratio` between neighbours. Bounds are rounded
//! to four significant figures (they read `1.047e-07`, not `1.0471285480e-07`), which moves
//! each by at most 0.05 %.
//!
//! Two layouts, because the series count is paid per histogram and there is one tick histogram
//! but up to 65 component ones:
//!
//! - [`Layout::Tick`], for `tickprof_tick_duration_seconds`: 50 buckets per decade from 100 ns
//!   to 10 ms (ratio 10^(1/50) = 1.0471, at most 1.0482 after rounding: every estimate within
//!   5 % of the report's percentile, where ticks of backtesting engines live), 25 per decade
//!   from 10 ms to 1 s (within 10 %), 5 per decade from 10 ns to 100 ns and from 1 s to 1000 s.
//!   322 bounds and `+Inf` (one at 95.5 ns, so the bucket holding 100 ns is a fine one too).
//! - [`Layout::Component`], for `tickprof_component_duration_seconds`: 25 per decade from
//!   100 ns to 1 s (within 10 %), 5 per decade from 10 ns to 100 ns and from 1 s to 1000 s.
//!   197 bounds and `+Inf` (one at 91.2 ns).
//!
//! Bounds are held in picoseconds: four significant figures of 10 ns or more are whole
//! picoseconds, so a bound and the values compared with it are exact integers, and its label
//! (`ps / 1e12`, one correctly rounded division) prints as its four figures.

use std::sync::LazyLock;

use hdrhistogram::Histogram;

/// Where a histogram's bucket bounds lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The tick latency: 5 % resolution from 100 ns to 10 ms.
    Tick,
    /// A component's latency: 10 % resolution from 100 ns to 1 s.
    Component,
}

/// `(first decade, last decade, buckets per decade)`, decades as powers of ten nanoseconds.
type Ranges = &'static [(u32, u32, u32)];

const TICK_RANGES: Ranges = &[(1, 2, 5), (2, 7, 50), (7, 9, 25), (9, 12, 5)];
const COMPONENT_RANGES: Ranges = &[(1, 2, 5), (2, 9, 25), (9, 12, 5)];

static TICK_BOUNDS_PS: LazyLock<Vec<u64>> = LazyLock::new(|| bounds_ps(TICK_RANGES));
static COMPONENT_BOUNDS_PS: LazyLock<Vec<u64>> = LazyLock::new(|| bounds_ps(COMPONENT_RANGES));

/// The upper bounds of `ranges` in ps, ascending, without `+Inf`; the last is 1000 s.
///
/// A range finer than the one before it also sets the bound one of its own steps below its
/// start: the bucket that holds its first value (100 ns, the bucket up to 100 ns) is then of
/// its resolution too, not the coarser one's (63.1 to 100 ns read 100 ns as 81.5 ns).
fn bounds_ps(ranges: Ranges) -> Vec<u64> {
    let mut bounds = Vec::new();
    let mut coarser = u32::MAX;
    for &(from, to, per_decade) in ranges {
        if per_decade > coarser {
            let exponent = f64::from(from) - 1.0 / f64::from(per_decade);
            bounds.push(four_significant_figures(10f64.powf(exponent + 3.0)));
        }
        coarser = per_decade;
        for step in 0..(to - from) * per_decade {
            let exponent = f64::from(from) + f64::from(step) / f64::from(per_decade);
            bounds.push(four_significant_figures(10f64.powf(exponent + 3.0)));
        }
    }
    bounds.push(1_000_000_000_000_000);
    bounds.dedup();
    bounds
}

/// `ps` rounded to four significant figures.
fn four_significant_figures(ps: f64) -> u64 {
    let scale = 10f64.powi(ps.log10().floor() as i32 - 3);
    // Bounds lie between 1e4 and 1e15 ps: the cast neither truncates nor saturates.
    ((ps / scale).round() * scale).round() as u64
}

impl Layout {
    /// The upper bounds in ps, ascending, without `+Inf`.
    pub(crate) fn bounds_ps(self) -> &'static [u64] {
        match self {
            Layout::Tick => &TICK_BOUNDS_PS,
            Layout::Component => &COMPONENT_BOUNDS_PS,
        }
    }
}

/// One histogram as Prometheus reads it: `(upper bound, values in this bucket)` pairs (not
/// cumulative; the last bound is `+Inf`), the sum of the values, and their count; bounds and
/// sum in the family's unit (seconds for the latencies, built here; allocations or bytes for
/// the allocation families, built in `allocations`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Buckets {
    pub(crate) buckets: Vec<(f64, u64)>,
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

impl Buckets {
    /// Counts each bucket of `layout` exactly from `histogram` (in ns): a value is in the first
    /// bucket whose bound is at least the value (HdrHistogram's value for an entry is the
    /// highest of its equivalence range, within 0.1 % at 3 significant figures, and the
    /// report's percentiles are those same values).
    pub(crate) fn from_histogram(histogram: &Histogram<u64>, layout: Layout) -> Self {
        let bounds = layout.bounds_ps();
        let mut counts = vec![0u64; bounds.len() + 1];
        let mut bucket = 0;
        for value in histogram.iter_recorded() {
            let ps = u128::from(value.value_iterated_to()) * 1_000;
            while bucket < bounds.len() && bounds.get(bucket).is_some_and(|&b| ps > u128::from(b)) {
                bucket += 1;
            }
            if let Some(count) = counts.get_mut(bucket) {
                *count = count.saturating_add(value.count_at_value());
            }
        }
        let buckets = bounds
            .iter()
            .map(|&ps| ps as f64 / 1e12)
            .chain(std::iter::once(f64::INFINITY))
            .zip(counts)
            .collect();
        let count = histogram.len();
        let sum = if count == 0 {
            0.0
        } else {
            histogram.mean() * count as f64 / 1e9
        };
        Buckets {
            buckets,
            sum,
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

    /// The largest ratio between neighbouring bounds that both lie within `from_ns ..= to_ns`.
    fn largest_ratio(layout: Layout, from_ns: u64, to_ns: u64) -> f64 {
        layout
            .bounds_ps()
            .windows(2)
            .filter(|pair| pair[0] >= from_ns * 1_000 && pair[1] <= to_ns * 1_000)
            .map(|pair| pair[1] as f64 / pair[0] as f64)
            .fold(0.0, f64::max)
    }

    #[test]
    fn layouts_are_ascending_with_the_promised_ratios() {
        for (layout, len) in [(Layout::Tick, 322), (Layout::Component, 197)] {
            let bounds = layout.bounds_ps();
            assert_eq!(bounds.len(), len, "{layout:?}");
            assert_eq!(bounds[0], 10_000, "{layout:?}: 10 ns");
            for ns in [100, 1_000, 10_000_000, 1_000_000_000, 1_000_000_000_000] {
                assert!(bounds.contains(&(ns * 1_000)), "{layout:?}: {ns} ns");
            }
            assert_eq!(*bounds.last().unwrap(), 1_000_000_000_000_000);
            assert!(
                bounds.windows(2).all(|pair| pair[0] < pair[1]),
                "{layout:?}"
            );
            // Four significant figures, whole picoseconds.
            for &ps in bounds {
                let digits = ps.to_string();
                assert!(digits.trim_end_matches('0').len() <= 4, "{ps} ps");
            }
        }
        let tick = largest_ratio(Layout::Tick, 95, 10_000_000);
        assert!(tick <= 1.0482, "tick, 100 ns to 10 ms: ratio {tick}");
        let tick = largest_ratio(Layout::Tick, 10_000_000, 1_000_000_000);
        assert!(tick <= 1.0977, "tick, 10 ms to 1 s: ratio {tick}");
        let component = largest_ratio(Layout::Component, 91, 1_000_000_000);
        assert!(
            component <= 1.0977,
            "component, 100 ns to 1 s: ratio {component}"
        );
    }

    /// Labels print as their four significant figures (no binary noise such as
    /// `1.0470000000000001e-7`).
    #[test]
    fn bounds_in_seconds_print_as_their_figures() {
        let b = Buckets::from_histogram(&histogram([150]), Layout::Tick);
        let labels: Vec<String> = b.buckets.iter().map(|(s, _)| s.to_string()).collect();
        assert!(labels.contains(&"0.0000001047".to_owned()), "{labels:?}");
        for label in &labels[..labels.len() - 1] {
            let digits: String = label.chars().filter(char::is_ascii_digit).collect();
            assert!(
                digits.trim_start_matches('0').trim_end_matches('0').len() <= 4,
                "{label}"
            );
        }
    }

    #[test]
    fn counts_are_exact() {
        // 1 µs lands in the bucket whose bound is 1 µs; 1001 ns in the next one.
        let h = histogram([1_000, 1_000, 1_001, 5, 2_000_000_000_000]);
        for layout in [Layout::Tick, Layout::Component] {
            let b = Buckets::from_histogram(&h, layout);
            assert_eq!(b.count, 5);
            assert_eq!(b.buckets.iter().map(|(_, c)| c).sum::<u64>(), 5);
            let at = |seconds: f64| b.buckets.iter().find(|(s, _)| *s == seconds).unwrap().1;
            assert_eq!(at(1e-6), 2, "{layout:?}");
            let next = if layout == Layout::Tick {
                1.047e-6
            } else {
                1.096e-6
            };
            assert_eq!(at(next), 1, "{layout:?}");
            assert_eq!(b.buckets[0], (1e-8, 1)); // 5 ns
            assert_eq!(*b.buckets.last().unwrap(), (f64::INFINITY, 1)); // 2000 s
            assert!((b.sum - h.mean() * 5.0 / 1e9).abs() < 1e-12);
        }
    }

    /// The worst relative error of `histogram_quantile` against the report's p50, p90 and p99
    /// over point masses (the worst case of interpolation: every value at one end of a bucket)
    /// and spreads, from `from_ns` to `to_ns` (each ×1.013 the previous); fails past `limit`.
    fn worst_error(from_ns: f64, to_ns: f64, layout: Layout, limit: f64) -> f64 {
        let mut worst: f64 = 0.0;
        let mut ns = from_ns;
        while ns <= to_ns {
            for spread in [0.0, 0.01, 0.03, 0.5, 3.0] {
                // Values from ns to ns × (1 + spread), evenly.
                let values =
                    (0..1_000).map(|i| (ns * (1.0 + spread * f64::from(i) / 999.0)) as u64);
                let h = histogram(values);
                let b = Buckets::from_histogram(&h, layout);
                for q in [0.5, 0.9, 0.99] {
                    let report = h.value_at_quantile(q) as f64;
                    if report > to_ns {
                        continue;
                    }
                    let estimate = histogram_quantile(q, &b.buckets) * 1e9;
                    let error = (estimate - report).abs() / report;
                    assert!(
                        error <= limit,
                        "{layout:?}, {ns:.0} ns (+{spread}): p{} {report}, estimate {estimate:.1} ({:.2} %)",
                        q * 100.0,
                        100.0 * error
                    );
                    worst = worst.max(error);
                }
            }
            ns *= 1.013;
        }
        worst
    }

    /// The tick histogram: every estimate of p50, p90 and p99 within 5 % of the report's for
    /// ticks from 100 ns to 10 ms, whatever their distribution; within 10 % up to 1 s.
    #[test]
    fn tick_quantiles_within_five_percent_from_100ns_to_10ms() {
        let worst = worst_error(100.0, 1e7, Layout::Tick, 0.05);
        eprintln!(
            "tick layout, 100 ns to 10 ms: worst error {:.2} %",
            100.0 * worst
        );
        assert!(
            worst > 0.03,
            "the test reaches the bound's neighbourhood: {worst}"
        );
        worst_error(1e7, 1e9, Layout::Tick, 0.10);
    }

    /// A component's histogram: within 10 % from 100 ns to 1 s.
    #[test]
    fn component_quantiles_within_ten_percent_from_100ns_to_1s() {
        let worst = worst_error(100.0, 1e9, Layout::Component, 0.10);
        eprintln!(
            "component layout, 100 ns to 1 s: worst error {:.2} %",
            100.0 * worst
        );
        assert!(
            worst > 0.05,
            "the test reaches the bound's neighbourhood: {worst}"
        );
    }
}
