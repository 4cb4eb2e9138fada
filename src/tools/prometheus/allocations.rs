//! The allocation histograms of a scrape, when the run counted allocations: per tick and per
//! component span, allocations and bytes, with buckets counted exactly from the report's
//! histograms.
//!
//! Values are whole counts, so a bucket `le="b"` holds exactly the spans with at most `b`
//! (HdrHistogram keeps every count up to 2,047 exact; above, a value is within 0.1 % and
//! compared by its bucket's highest value, as the latencies are). Bounds double (allocations)
//! or quadruple (bytes): enough to tell none from a few from many per tick, at 26 and 16
//! bounds, since every component has its own series.

use std::borrow::Cow;
use std::fmt;

use hdrhistogram::Histogram;
use prometheus_client::encoding::DescriptorEncoder;

use super::buckets::Buckets;
use super::metrics::{MAX_COMPONENTS, OTHER_COMPONENTS, component_label, histogram_family};
use crate::report::{AllocationStats, Report};

/// Upper bounds of the allocation buckets: 0, then 1, 2, 4, … 2²⁴.
fn allocation_bounds() -> impl Iterator<Item = u64> {
    std::iter::once(0).chain((0..=24).map(|k| 1u64 << k))
}

/// Upper bounds of the byte buckets: 0, then 16, 64, 256, … 4 GiB (2³²).
fn byte_bounds() -> impl Iterator<Item = u64> {
    std::iter::once(0).chain((2..=16).map(|k| 1u64 << (2 * k)))
}

/// Counts `histogram`'s values into the buckets `bounds` (ascending), plus `+Inf`.
fn buckets(histogram: &Histogram<u64>, bounds: impl Iterator<Item = u64>) -> Buckets {
    let bounds: Vec<u64> = bounds.collect();
    let mut counts = vec![0u64; bounds.len() + 1];
    let mut bucket = 0;
    for value in histogram.iter_recorded() {
        let v = value.value_iterated_to();
        while bounds.get(bucket).is_some_and(|&b| v > b) {
            bucket += 1;
        }
        if let Some(count) = counts.get_mut(bucket) {
            *count = count.saturating_add(value.count_at_value());
        }
    }
    let count = histogram.len();
    Buckets {
        buckets: bounds
            .iter()
            .map(|&b| b as f64)
            .chain(std::iter::once(f64::INFINITY))
            .zip(counts)
            .collect(),
        sum: if count == 0 {
            0.0
        } else {
            histogram.mean() * count as f64
        },
        count,
    }
}

/// The two histograms of a figure, `None` if its blobs do not decode (a report from `snapshot`
/// always decodes; the series is then left out rather than the scrape failed).
fn decoded(stats: &AllocationStats) -> Option<(Histogram<u64>, Histogram<u64>)> {
    stats.decode_histograms("allocations").ok()
}

type Series<'a> = Vec<(Option<Cow<'a, str>>, Option<Buckets>)>;

/// Writes the four allocation families of `report`, or nothing when it counted none.
pub(super) fn encode(encoder: &mut DescriptorEncoder, report: &Report) -> fmt::Result {
    let (mut counts, mut bytes): (Series<'_>, Series<'_>) = (Vec::new(), Vec::new());
    if let Some((c, b)) = report.ticks.allocations.as_ref().and_then(decoded) {
        counts.push((None, Some(buckets(&c, allocation_bounds()))));
        bytes.push((None, Some(buckets(&b, byte_bounds()))));
    }
    if !counts.is_empty() {
        histogram_family(
            encoder,
            "tickprof_tick_allocations",
            "Allocations per timed tick on the tick's thread (the report's ticks.allocations; a realloc counts as one).",
            &counts,
        )?;
        histogram_family(
            encoder,
            "tickprof_tick_allocated_bytes",
            "Bytes allocated per timed tick on the tick's thread: each allocation's size and each realloc's growth.",
            &bytes,
        )?;
    }
    let (mut counts, mut bytes): (Series<'_>, Series<'_>) = (Vec::new(), Vec::new());
    // Past the cap, merged into `_other` as the latency is (same bounds: adding cannot fail).
    let mut other: Option<(Histogram<u64>, Histogram<u64>)> = None;
    for (index, (name, stats)) in report.components.iter().enumerate() {
        let Some((c, b)) = stats.allocations.as_ref().and_then(decoded) else {
            continue;
        };
        if index < MAX_COMPONENTS {
            counts.push((
                Some(component_label(name)),
                Some(buckets(&c, allocation_bounds())),
            ));
            bytes.push((
                Some(component_label(name)),
                Some(buckets(&b, byte_bounds())),
            ));
            continue;
        }
        match other.as_mut() {
            Some((sum_c, sum_b)) => {
                let _ = sum_c.add(&c);
                let _ = sum_b.add(&b);
            }
            None => other = Some((c, b)),
        }
    }
    if let Some((c, b)) = &other {
        let label = Some(Cow::Borrowed(OTHER_COMPONENTS));
        counts.push((label.clone(), Some(buckets(c, allocation_bounds()))));
        bytes.push((label, Some(buckets(b, byte_bounds()))));
    }
    if counts.is_empty() {
        return Ok(());
    }
    histogram_family(
        encoder,
        "tickprof_component_allocations",
        "Allocations per component span on its thread, its children's excluded (the report's components.<name>.allocations).",
        &counts,
    )?;
    histogram_family(
        encoder,
        "tickprof_component_allocated_bytes",
        "Bytes allocated per component span on its thread, its children's excluded.",
        &bytes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: &[u64]) -> Histogram<u64> {
        let mut h = AllocationStats::new_histogram().unwrap();
        for &v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn bounds() {
        let a: Vec<u64> = allocation_bounds().collect();
        assert_eq!(a.len(), 26);
        assert_eq!(&a[..5], &[0, 1, 2, 4, 8]);
        assert_eq!(a.last(), Some(&(1 << 24)));
        let b: Vec<u64> = byte_bounds().collect();
        assert_eq!(b.len(), 16);
        assert_eq!(&b[..4], &[0, 16, 64, 256]);
        assert_eq!(b.last(), Some(&(1 << 32)));
    }

    /// Each value lands in the first bucket whose bound is at least the value.
    #[test]
    fn counts_are_exact() {
        let b = buckets(&histogram(&[0, 0, 0, 1, 3, 4, 5, 100]), allocation_bounds());
        let count_at = |bound: f64| {
            b.buckets
                .iter()
                .find(|(le, _)| *le == bound)
                .map(|(_, n)| *n)
        };
        assert_eq!(count_at(0.0), Some(3));
        assert_eq!(count_at(1.0), Some(1));
        assert_eq!(count_at(2.0), Some(0));
        assert_eq!(count_at(4.0), Some(2));
        assert_eq!(count_at(8.0), Some(1));
        assert_eq!(count_at(128.0), Some(1));
        assert_eq!(count_at(f64::INFINITY), Some(0));
        assert_eq!(b.count, 8);
        assert!((b.sum - 113.0).abs() < 1e-9, "{}", b.sum);
        // Past the last bound: +Inf.
        let b = buckets(&histogram(&[1 << 30]), allocation_bounds());
        assert_eq!(b.buckets.last(), Some(&(f64::INFINITY, 1)));
    }

    fn text(report: Report) -> String {
        use prometheus_client::registry::Registry;
        let mut registry = Registry::default();
        registry.register_collector(Box::new(super::super::metrics::ScrapeMetrics {
            report: Some(report),
            counts: super::super::metrics::ScrapeCounts::default(),
        }));
        let mut body = String::new();
        prometheus_client::encoding::text::encode(&mut body, &registry).unwrap();
        body
    }

    fn sample(body: &str, series: &str) -> Option<f64> {
        body.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(|value| value.parse().unwrap())
    }

    fn stats(spans: &[(u64, u64)]) -> AllocationStats {
        let count = histogram(&spans.iter().map(|s| s.0).collect::<Vec<_>>());
        let bytes = histogram(&spans.iter().map(|s| s.1).collect::<Vec<_>>());
        AllocationStats::from_histograms(&count, &bytes).unwrap()
    }

    /// A report with allocations exports them, exactly; one without exports no such family.
    #[test]
    fn a_report_s_allocations_are_exported_exactly() {
        let mut report = crate::test_support::report(
            "allocs",
            &[1_000; 4],
            &[("parse", &[500; 4]), ("risk", &[100; 4])],
        );
        let plain = text(report.clone());
        assert!(!plain.contains("allocat"), "{plain}");
        // Ticks: 3 allocation-free, one with 3 boxes of 32 bytes; parse makes them.
        report.ticks.allocations = Some(stats(&[(0, 0), (0, 0), (0, 0), (3, 96)]));
        if let Some(parse) = report.components.get_mut("parse") {
            parse.allocations = Some(stats(&[(0, 0), (0, 0), (0, 0), (3, 96)]));
        }
        if let Some(risk) = report.components.get_mut("risk") {
            risk.allocations = Some(stats(&[(0, 0); 4]));
        }
        let body = text(report);
        assert!(body.contains("# TYPE tickprof_tick_allocations histogram\n"));
        assert_eq!(sample(&body, "tickprof_tick_allocations_count"), Some(4.0));
        assert_eq!(sample(&body, "tickprof_tick_allocations_sum"), Some(3.0));
        assert_eq!(
            sample(&body, "tickprof_tick_allocations_bucket{le=\"0.0\"}"),
            Some(3.0),
            "{body}"
        );
        assert_eq!(
            sample(&body, "tickprof_tick_allocations_bucket{le=\"2.0\"}"),
            Some(3.0)
        );
        assert_eq!(
            sample(&body, "tickprof_tick_allocations_bucket{le=\"4.0\"}"),
            Some(4.0)
        );
        assert_eq!(
            sample(&body, "tickprof_tick_allocated_bytes_sum"),
            Some(96.0)
        );
        assert_eq!(
            sample(&body, "tickprof_tick_allocated_bytes_bucket{le=\"64.0\"}"),
            Some(3.0)
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_component_allocations_sum{component=\"parse\"}"
            ),
            Some(3.0)
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_component_allocations_sum{component=\"risk\"}"
            ),
            Some(0.0)
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_component_allocated_bytes_count{component=\"risk\"}"
            ),
            Some(4.0)
        );
    }
}
