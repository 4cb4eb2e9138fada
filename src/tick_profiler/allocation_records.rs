//! What spans allocated, as two histograms (allocations per span, bytes per span) with the
//! bounds every report uses (`AllocationStats::new_histogram`), so that runs merge exactly.
//! Made only once a span allocates: a component that never does (the hot path tickprof helps
//! keep clean) costs a counter, not two histograms of 254 KB.

use hdrhistogram::Histogram;

use crate::allocations::AllocCounts;
use crate::report::AllocationStats;

#[derive(Debug, Clone, Default)]
pub(crate) struct AllocationHistograms {
    /// Spans that allocated nothing, not in the histograms: the common case of a hot path that
    /// does not allocate costs an increment, not two histogram records.
    zeros: u64,
    /// The spans that allocated: allocations and bytes per span. `None` until one does.
    allocating: Option<Box<Allocating>>,
}

#[derive(Debug, Clone)]
struct Allocating {
    allocations: Histogram<u64>,
    bytes: Histogram<u64>,
}

impl Allocating {
    /// Empty histograms; `None` only if hdrhistogram refused the fixed bounds (it does not).
    fn new() -> Option<Box<Self>> {
        Some(Box::new(Allocating {
            allocations: AllocationStats::new_histogram().ok()?,
            bytes: AllocationStats::new_histogram().ok()?,
        }))
    }
}

impl AllocationHistograms {
    /// Records one span's counts into `histograms` (made on first use), clamped to their
    /// bound; returns how many values had to be clamped.
    #[inline]
    pub(crate) fn record(histograms: &mut Option<Self>, counts: AllocCounts) -> u64 {
        let h = histograms.get_or_insert_with(Self::default);
        if counts.allocations == 0 && counts.bytes == 0 {
            h.zeros += 1;
            return 0;
        }
        h.record_allocating(counts)
    }

    #[inline(never)]
    fn record_allocating(&mut self, counts: AllocCounts) -> u64 {
        if self.allocating.is_none() {
            self.allocating = Allocating::new();
        }
        let Some(a) = self.allocating.as_mut() else {
            return 0;
        };
        let mut clamped = 0;
        for (histogram, value) in [
            (&mut a.allocations, counts.allocations),
            (&mut a.bytes, counts.bytes),
        ] {
            let high = histogram.high();
            histogram.saturating_record(value.min(high));
            clamped += u64::from(value > high);
        }
        clamped
    }

    /// Whether any span was measured.
    fn is_empty(&self) -> bool {
        self.zeros == 0
            && self
                .allocating
                .as_ref()
                .is_none_or(|a| a.allocations.is_empty())
    }

    /// Adds `other` into `sum` (made on first use). Same bounds everywhere: `add` cannot fail.
    pub(crate) fn add(sum: &mut Option<Self>, other: &Option<Self>) {
        let Some(other) = other.as_ref().filter(|o| !o.is_empty()) else {
            return;
        };
        let sum = sum.get_or_insert_with(Self::default);
        sum.zeros = sum.zeros.saturating_add(other.zeros);
        if let Some(theirs) = other
            .allocating
            .as_ref()
            .filter(|a| !a.allocations.is_empty())
        {
            match sum.allocating.as_mut() {
                Some(ours) => {
                    let _ = ours.allocations.add(&theirs.allocations);
                    let _ = ours.bytes.add(&theirs.bytes);
                }
                None => sum.allocating = Some(theirs.clone()),
            }
        }
    }

    /// Empties them, keeping the histograms' memory.
    pub(crate) fn reset(histograms: &mut Option<Self>) {
        if let Some(h) = histograms.as_mut() {
            h.zeros = 0;
            if let Some(a) = h.allocating.as_mut() {
                a.allocations.reset();
                a.bytes.reset();
            }
        }
    }

    /// The report's figures (`None` without a span measured).
    pub(crate) fn stats(histograms: &Option<Self>) -> Option<AllocationStats> {
        let h = histograms.as_ref().filter(|h| !h.is_empty())?;
        let (mut allocations, mut bytes) = match h.allocating.as_deref() {
            Some(a) => (a.allocations.clone(), a.bytes.clone()),
            None => (
                AllocationStats::new_histogram().ok()?,
                AllocationStats::new_histogram().ok()?,
            ),
        };
        if h.zeros > 0 {
            let _ = allocations.record_n(0, h.zeros);
            let _ = bytes.record_n(0, h.zeros);
        }
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
