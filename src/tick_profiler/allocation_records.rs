//! What spans allocated, as two histograms (allocations per span, bytes per span) with the
//! bounds every report uses (`AllocationStats::new_histogram`), so that runs merge exactly.

use hdrhistogram::Histogram;

use crate::allocations::AllocCounts;
use crate::report::AllocationStats;

#[derive(Debug, Clone)]
pub(crate) struct AllocationHistograms {
    pub(crate) allocations: Histogram<u64>,
    pub(crate) bytes: Histogram<u64>,
    /// Spans that allocated nothing, not yet in the histograms: the common case of a hot path
    /// that does not allocate costs an increment, not two histogram records.
    zeros: u64,
}

impl AllocationHistograms {
    /// Empty histograms; `None` only if hdrhistogram refused the fixed bounds (it does not).
    fn new() -> Option<Self> {
        Some(AllocationHistograms {
            allocations: AllocationStats::new_histogram().ok()?,
            bytes: AllocationStats::new_histogram().ok()?,
            zeros: 0,
        })
    }

    /// Records one span's counts into `histograms` (made on first use), clamped to their
    /// bound; returns how many values had to be clamped.
    #[inline]
    pub(crate) fn record(histograms: &mut Option<Self>, counts: AllocCounts) -> u64 {
        if counts.allocations == 0
            && counts.bytes == 0
            && let Some(h) = histograms.as_mut()
        {
            h.zeros += 1;
            return 0;
        }
        Self::record_slow(histograms, counts)
    }

    #[inline(never)]
    fn record_slow(histograms: &mut Option<Self>, counts: AllocCounts) -> u64 {
        if histograms.is_none() {
            *histograms = Self::new();
        }
        let Some(h) = histograms.as_mut() else {
            return 0;
        };
        if counts.allocations == 0 && counts.bytes == 0 {
            h.zeros += 1;
            return 0;
        }
        let mut clamped = 0;
        for (histogram, value) in [
            (&mut h.allocations, counts.allocations),
            (&mut h.bytes, counts.bytes),
        ] {
            let high = histogram.high();
            histogram.saturating_record(value.min(high));
            clamped += u64::from(value > high);
        }
        clamped
    }

    /// Adds `other` into `sum` (made on first use). Same bounds everywhere: `add` cannot fail.
    pub(crate) fn add(sum: &mut Option<Self>, other: &Option<Self>) {
        let Some(other) = other
            .as_ref()
            .filter(|o| o.zeros > 0 || !o.allocations.is_empty())
        else {
            return;
        };
        match sum {
            Some(sum) => {
                let _ = sum.allocations.add(&other.allocations);
                let _ = sum.bytes.add(&other.bytes);
                sum.zeros = sum.zeros.saturating_add(other.zeros);
            }
            None => *sum = Some(other.clone()),
        }
    }

    /// Empties them, keeping the allocations.
    pub(crate) fn reset(histograms: &mut Option<Self>) {
        if let Some(h) = histograms.as_mut() {
            h.allocations.reset();
            h.bytes.reset();
            h.zeros = 0;
        }
    }

    /// The report's figures (`None` without a span measured).
    pub(crate) fn stats(histograms: &Option<Self>) -> Option<AllocationStats> {
        let h = histograms.as_ref()?;
        if h.zeros == 0 {
            return AllocationStats::from_histograms(&h.allocations, &h.bytes);
        }
        let (mut allocations, mut bytes) = (h.allocations.clone(), h.bytes.clone());
        let _ = allocations.record_n(0, h.zeros);
        let _ = bytes.record_n(0, h.zeros);
        AllocationStats::from_histograms(&allocations, &bytes)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn counts(allocations: u64, bytes: u64) -> AllocCounts {
        AllocCounts {
            allocations,
            bytes,
            frees: 0,
        }
    }

    /// Spans that allocated nothing take the counter, not the histograms; every figure and
    /// every merge counts them as the zeros they are.
    #[test]
    fn spans_that_allocate_nothing_are_counted_as_zeros_everywhere() {
        let mut a = None;
        for _ in 0..3 {
            AllocationHistograms::record(&mut a, counts(0, 0));
        }
        AllocationHistograms::record(&mut a, counts(2, 64));
        let stats = AllocationHistograms::stats(&a).unwrap();
        assert_eq!((stats.samples, stats.p50, stats.max), (4, 0, 2));
        assert_eq!(stats.share_allocating, 0.25);
        assert_eq!(stats.mean_bytes, 16.0);

        // Only zeros: still a figure (the gate's "no allocation at all"), and it merges.
        let mut b = None;
        AllocationHistograms::record(&mut b, counts(0, 0));
        assert_eq!(AllocationHistograms::stats(&b).unwrap().samples, 1);
        let mut sum = None;
        AllocationHistograms::add(&mut sum, &b);
        AllocationHistograms::add(&mut sum, &a);
        let merged = AllocationHistograms::stats(&sum).unwrap();
        assert_eq!((merged.samples, merged.max), (5, 2));
        assert_eq!(merged.share_allocating, 0.2);

        AllocationHistograms::reset(&mut sum);
        assert_eq!(AllocationHistograms::stats(&sum), None);
    }
}
