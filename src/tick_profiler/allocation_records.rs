//! What spans allocated, as two histograms (allocations per span, bytes per span) with the
//! bounds every report uses (`AllocationStats::new_histogram`), so that runs merge exactly.

use hdrhistogram::Histogram;

use crate::allocations::AllocCounts;
use crate::report::AllocationStats;

#[derive(Debug, Clone)]
pub(crate) struct AllocationHistograms {
    pub(crate) allocations: Histogram<u64>,
    pub(crate) bytes: Histogram<u64>,
}

impl AllocationHistograms {
    /// Empty histograms; `None` only if hdrhistogram refused the fixed bounds (it does not).
    fn new() -> Option<Self> {
        Some(AllocationHistograms {
            allocations: AllocationStats::new_histogram().ok()?,
            bytes: AllocationStats::new_histogram().ok()?,
        })
    }

    /// Records one span's counts into `histograms` (made on first use), clamped to their
    /// bound; returns how many values had to be clamped.
    pub(crate) fn record(histograms: &mut Option<Self>, counts: AllocCounts) -> u64 {
        if histograms.is_none() {
            *histograms = Self::new();
        }
        let Some(h) = histograms.as_mut() else {
            return 0;
        };
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
        let Some(other) = other.as_ref().filter(|o| !o.allocations.is_empty()) else {
            return;
        };
        match sum {
            Some(sum) => {
                let _ = sum.allocations.add(&other.allocations);
                let _ = sum.bytes.add(&other.bytes);
            }
            None => *sum = Some(other.clone()),
        }
    }

    /// Empties them, keeping the allocations.
    pub(crate) fn reset(histograms: &mut Option<Self>) {
        if let Some(h) = histograms.as_mut() {
            h.allocations.reset();
            h.bytes.reset();
        }
    }

    /// The report's figures (`None` without a span measured).
    pub(crate) fn stats(histograms: &Option<Self>) -> Option<AllocationStats> {
        let h = histograms.as_ref()?;
        AllocationStats::from_histograms(&h.allocations, &h.bytes)
    }
}
