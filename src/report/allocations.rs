//! Allocations per tick and per component span (`ticks.allocations`,
//! `components.<name>.allocations`): how many allocations, and how many bytes, one span made on
//! its thread, counted by a [`CountingAllocator`](crate::CountingAllocator).
//!
//! Like a latency, each figure carries its whole histograms (V2 + Deflate, base64), so merges
//! and comparisons are exact, not averages of percentiles. Values are counts, so a histogram
//! with a lowest discernible value of 1 holds every count up to 2,047 exactly at 3 significant
//! figures: "0 allocations" is its own bucket, which the share of spans that allocated and a
//! gate of `max_p99 = 0` rely on.
//!
//! A report without a counting allocator installed has no allocation figures at all (the
//! fields are absent), never zeros: zeros would pass every gate on allocations.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::histogram_blob;
use crate::error::{Error, Result};

/// The largest count or byte total one span records: 2⁴⁰ (a tebibyte in one span). Larger
/// values are clamped to it (and counted in `dropped.overflow` by whoever records them).
pub(crate) const HISTOGRAM_HIGH: u64 = 1 << 40;

/// Allocations made inside one span (a tick, or a component exclusive of its children) on its
/// thread: the distribution over the spans measured, of the number of allocations and of the
/// bytes they asked for.
///
/// `samples` spans were measured: for `ticks.allocations` the ticks that `ticks.latency` holds
/// (timed ticks after the warm-up; every tick with full sampling), for a component the spans
/// recorded (as its `latency`). A `realloc` counts as an allocation, its growth as bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationStats {
    /// Spans measured.
    pub samples: u64,
    /// The share of those spans that made at least one allocation, 0 to 1.
    pub share_allocating: f64,
    /// Mean allocations per span.
    pub mean: f64,
    /// Median allocations per span.
    pub p50: u64,
    /// 99th percentile of allocations per span.
    pub p99: u64,
    /// Most allocations in one span.
    pub max: u64,
    /// Mean bytes allocated per span.
    pub mean_bytes: f64,
    /// Median bytes allocated per span.
    pub p50_bytes: u64,
    /// 99th percentile of bytes allocated per span.
    pub p99_bytes: u64,
    /// Most bytes allocated in one span.
    pub max_bytes: u64,
    /// Allocations per span: the HdrHistogram, V2 + Deflate serialization, base64.
    pub histogram: String,
    /// Bytes per span: the HdrHistogram, V2 + Deflate serialization, base64.
    pub bytes_histogram: String,
}

impl AllocationStats {
    /// The figures of `count` (allocations per span) and `bytes` (bytes per span), one value
    /// per span measured in each; `None` when no span was measured (`count` is empty).
    ///
    /// Serializing into memory cannot fail for histograms of these bounds (it writes to a
    /// `Vec`); should it, the figures are left out too (`None`) rather than a run's report lost.
    /// Two reports' figures merge when their histograms share bounds and precision: make them
    /// with [`new_histogram`](Self::new_histogram).
    pub fn from_histograms(
        count: &Histogram<u64>,
        bytes: &Histogram<u64>,
    ) -> Option<AllocationStats> {
        Self::encode(count, bytes, "allocations").ok().flatten()
    }

    /// [`from_histograms`](Self::from_histograms), naming `field` in the error of a histogram
    /// that cannot be serialized.
    pub(crate) fn encode(
        count: &Histogram<u64>,
        bytes: &Histogram<u64>,
        field: &str,
    ) -> Result<Option<AllocationStats>> {
        if count.is_empty() {
            return Ok(None);
        }
        let blob = |h: &Histogram<u64>, name: &str| {
            histogram_blob::encode(h).map_err(|e| Error::histogram(format!("{field}.{name}"), e))
        };
        let spans = count.len();
        let allocating = spans.saturating_sub(count.count_at(0));
        let q = |h: &Histogram<u64>, quantile: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(quantile)
            }
        };
        let (mean_bytes, max_bytes) = if bytes.is_empty() {
            (0.0, 0)
        } else {
            (bytes.mean(), bytes.max())
        };
        Ok(Some(AllocationStats {
            samples: spans,
            share_allocating: allocating as f64 / spans as f64,
            mean: count.mean(),
            p50: q(count, 0.50),
            p99: q(count, 0.99),
            max: count.max(),
            mean_bytes,
            p50_bytes: q(bytes, 0.50),
            p99_bytes: q(bytes, 0.99),
            max_bytes,
            histogram: blob(count, "histogram")?,
            bytes_histogram: blob(bytes, "bytes_histogram")?,
        }))
    }

    /// An empty histogram for allocations or bytes per span: 1 to 2⁴⁰ at 3 significant
    /// figures (every count up to 2,047 exact, larger ones within 0.1 %, 0 in a bucket of its
    /// own), the same for every run so that reports merge.
    ///
    /// # Errors
    /// [`Error::Histogram`] if hdrhistogram refuses the bounds (it accepts these).
    pub fn new_histogram() -> Result<Histogram<u64>> {
        Histogram::new_with_bounds(1, HISTOGRAM_HIGH, 3)
            .map_err(|e| Error::histogram("allocations", format!("{e:?}")))
    }

    /// Decodes the two stored histograms (allocations, bytes); `field` names the figure in
    /// errors (`ticks.allocations`). Bounded by the blobs' sizes, as every report histogram.
    ///
    /// # Errors
    /// [`Error::Histogram`] naming `field.histogram` or `field.bytes_histogram` if a blob is
    /// not base64 or not a V2 (or V2 + Deflate) histogram.
    pub fn decode_histograms(&self, field: &str) -> Result<(Histogram<u64>, Histogram<u64>)> {
        let decode = |blob: &str, name: &str| {
            histogram_blob::decode(blob).map_err(|e| Error::histogram(format!("{field}.{name}"), e))
        };
        Ok((
            decode(&self.histogram, "histogram")?,
            decode(&self.bytes_histogram, "bytes_histogram")?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(allocations, bytes)` per span into the two histograms.
    pub(crate) fn histograms(spans: &[(u64, u64)]) -> (Histogram<u64>, Histogram<u64>) {
        let mut count = AllocationStats::new_histogram().unwrap();
        let mut bytes = AllocationStats::new_histogram().unwrap();
        for &(n, b) in spans {
            count.record(n).unwrap();
            bytes.record(b).unwrap();
        }
        (count, bytes)
    }

    #[test]
    fn figures_of_known_spans() {
        // 100 spans: 97 allocation-free, 2 with 3 boxes of 32 bytes, 1 with 40 allocations.
        let mut spans = vec![(0, 0); 97];
        spans.extend([(3, 96), (3, 96), (40, 5_000)]);
        let (count, bytes) = histograms(&spans);
        let s = AllocationStats::from_histograms(&count, &bytes).unwrap();
        assert_eq!(s.samples, 100);
        assert!((s.share_allocating - 0.03).abs() < 1e-12, "{s:?}");
        assert!((s.mean - 0.46).abs() < 1e-12, "{s:?}");
        assert_eq!((s.p50, s.p99, s.max), (0, 3, 40));
        // (2 × 96 + 5,000) / 100, the 5,000 kept to 3 significant figures.
        assert!((s.mean_bytes - 51.92).abs() < 0.05, "{s:?}");
        assert_eq!((s.p50_bytes, s.p99_bytes), (0, 96));
        // 5,000 is kept to 3 significant figures: the highest value of its bucket.
        assert!((5_000..5_004).contains(&s.max_bytes), "{}", s.max_bytes);
        let (c, b) = s.decode_histograms("ticks.allocations").unwrap();
        assert_eq!((c, b), (count, bytes));
    }

    #[test]
    fn no_span_is_no_figure() {
        let (count, bytes) = histograms(&[]);
        assert_eq!(AllocationStats::from_histograms(&count, &bytes), None);
    }

    #[test]
    fn every_span_allocation_free_reads_zeros() {
        let (count, bytes) = histograms(&[(0, 0); 10]);
        let s = AllocationStats::from_histograms(&count, &bytes).unwrap();
        assert_eq!(s.share_allocating, 0.0);
        assert_eq!((s.mean, s.p99, s.max, s.max_bytes), (0.0, 0, 0, 0));
    }

    #[test]
    fn a_broken_blob_names_its_field() {
        let (count, bytes) = histograms(&[(1, 8)]);
        let mut s = AllocationStats::from_histograms(&count, &bytes).unwrap();
        s.bytes_histogram = "!!!!".to_owned();
        let err = s
            .decode_histograms("components.parse.allocations")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("components.parse.allocations.bytes_histogram"),
            "{err}"
        );
    }
}
