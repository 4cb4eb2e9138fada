//! Maxima far above the rest of a distribution.
//!
//! Busy time is everything between a span's enter and exit: when the thread is descheduled, or
//! takes a page fault or an interrupt inside a span, that span's time includes it. A component
//! whose spans take 30 ns can then show a maximum of 4 ms, which says nothing about the code.
//! Such values are flagged rather than removed (they did happen), with the rule that found
//! them, so that nobody reads them as the code's own speed.

use hdrhistogram::Histogram;

use super::{LatencyStats, Result};

/// How far above the reference percentile a value must be to be flagged: two orders of
/// magnitude, far beyond any spread of the same code's own run times.
pub const FAR_OUTLIER_FACTOR: u64 = 100;

/// Values of a latency distribution more than [`FAR_OUTLIER_FACTOR`] × its p99.9 (p99 with
/// fewer than 1,000 samples, where the p99.9 is the maximum itself; none are judged below 100).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FarOutliers {
    /// The reference percentile's name (`"p99.9"` or `"p99"`).
    pub reference: &'static str,
    /// Its value.
    pub reference_ns: u64,
    /// How many values lie above `FAR_OUTLIER_FACTOR × reference_ns`.
    pub count: u64,
    /// The largest of them (the distribution's maximum).
    pub max_ns: u64,
}

impl FarOutliers {
    /// "max 4,163.1 µs: 1 value above 100 × p99.9 (2.49 µs), likely the thread was
    /// descheduled or faulted, not the code"
    pub fn describe(&self) -> String {
        format!(
            "max {:.1} µs: {} value{} above {FAR_OUTLIER_FACTOR} × {} ({:.2} µs), likely the \
             thread was descheduled or faulted, not the code",
            self.max_ns as f64 / 1e3,
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.reference,
            self.reference_ns as f64 / 1e3,
        )
    }
}

impl LatencyStats {
    /// The values far above the rest (see [`FarOutliers`]), or `None` when there are none or
    /// too few samples to judge.
    ///
    /// # Errors
    /// [`Error::Histogram`](crate::Error::Histogram) naming `field` if the histogram blob
    /// does not decode.
    pub fn far_outliers(&self, field: &str) -> Result<Option<FarOutliers>> {
        // Schema 1 has no sample count: the histogram's is the measured count there.
        let histogram = if self.samples == 0 {
            Some(self.decode_histogram(field)?)
        } else {
            None
        };
        let samples = histogram.as_ref().map_or(self.samples, Histogram::len);
        let (reference, reference_ns) = match samples {
            n if n >= 1_000 => ("p99.9", self.p999_ns),
            n if n >= 100 => ("p99", self.p99_ns),
            _ => return Ok(None),
        };
        // A reference of 0 (mostly zeros: busy times clamped at 0) gives no scale to judge by.
        let threshold = reference_ns.saturating_mul(FAR_OUTLIER_FACTOR);
        if reference_ns == 0 || self.max_ns <= threshold {
            return Ok(None);
        }
        let histogram = match histogram {
            Some(histogram) => histogram,
            None => self.decode_histogram(field)?,
        };
        // Values are stored to the histogram's precision: count those whose bucket lies wholly
        // above the threshold.
        let weighted: u64 = histogram
            .iter_recorded()
            .filter(|v| histogram.lowest_equivalent(v.value_iterated_to()) > threshold)
            .map(|v| v.count_at_value())
            .sum();
        // A merge of sampled reports weighs each value by the ticks it stands for: count
        // measured values, not weights.
        let count = if histogram.len() > samples && !histogram.is_empty() {
            let measured =
                (weighted as f64 * samples as f64 / histogram.len() as f64).round() as u64;
            measured.max(u64::from(weighted > 0))
        } else {
            weighted
        };
        Ok((count > 0).then_some(FarOutliers {
            reference,
            reference_ns,
            count,
            max_ns: self.max_ns,
        }))
    }
}

#[cfg(test)]
mod tests {
    use hdrhistogram::Histogram;

    use super::*;

    fn stats(values: impl IntoIterator<Item = (u64, u64)>) -> LatencyStats {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for (value, count) in values {
            h.record_n(value, count).unwrap();
        }
        LatencyStats::from_histogram(&h, "test").unwrap()
    }

    #[test]
    fn a_descheduled_span_is_flagged_with_its_rule() {
        // 5,000 spans of 30–60 ns and one of 4.1 ms.
        let s = stats([(30, 2_000), (45, 2_000), (60, 1_000), (4_100_000, 1)]);
        let o = s.far_outliers("c").unwrap().unwrap();
        assert_eq!((o.reference, o.count), ("p99.9", 1));
        assert_eq!(o.reference_ns, 60);
        assert!((4_095_000..=4_105_000).contains(&o.max_ns));
        assert!(o.describe().contains("1 value above 100 × p99.9 (0.06 µs)"));
    }

    #[test]
    fn a_wide_but_honest_distribution_is_not() {
        // Ticks from 1 µs to 80 µs: a long tail, every value within 100 × p99.9.
        let s = stats((1..=80).map(|us| (us * 1_000, 50)));
        assert_eq!(s.far_outliers("t").unwrap(), None);
    }

    /// A merged report weighs each sampled value (here 50 ticks each): the count is of
    /// measured values (it said 2,222 values for a histogram of 704 samples).
    #[test]
    fn weighted_histograms_count_measured_values() {
        let mut s = stats([(30, 5_000 * 50), (4_100_000, 50)]);
        s.samples = 5_001;
        let o = s.far_outliers("merged").unwrap().unwrap();
        assert_eq!(o.count, 1);
    }

    #[test]
    fn mostly_zeros_give_no_scale_and_schema_1_counts_its_histogram() {
        // Busy times clamped at 0: a 101 ns span is not "descheduled".
        let s = stats([(0, 5_000), (101, 1)]);
        assert_eq!(s.far_outliers("z").unwrap(), None);
        // Schema 1 wrote no sample count.
        let mut s = stats([(2_000, 3_000), (20_000_000, 1)]);
        s.samples = 0;
        assert_eq!(s.far_outliers("v1").unwrap().unwrap().count, 1);
    }

    #[test]
    fn few_samples_use_p99_and_very_few_are_not_judged() {
        let s = stats([(100, 150), (1_000_000, 1)]);
        let o = s.far_outliers("t").unwrap().unwrap();
        assert_eq!((o.reference, o.count), ("p99", 1));
        let s = stats([(100, 50), (1_000_000, 1)]);
        assert_eq!(s.far_outliers("t").unwrap(), None);
    }
}
