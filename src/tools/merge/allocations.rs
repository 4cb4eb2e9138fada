//! Allocation figures in a merge: the parts' histograms added (each value counting as many
//! times as its part's other figures of the same spans do), every figure recomputed from the
//! sums, so the merge is what one histogram over all the spans would give.
//!
//! A part that measured spans of a place (ticks, or a component) without allocation figures
//! there (its binary had no counting allocator, or it is older than schema 7) leaves the merge
//! without them: figures from some parts would claim to describe every part's spans.

use hdrhistogram::Histogram;

use super::{add_histogram, scaled};
use crate::error::Result;
use crate::report::AllocationStats;

/// A running sum of one place's allocation figures (`ticks.allocations`,
/// `components.parse.allocations`).
pub(super) struct AllocationSum {
    field: String,
    /// Allocations per span, and the part that set its bounds.
    count: Option<(Histogram<u64>, String)>,
    /// Bytes per span, and the part that set its bounds.
    bytes: Option<(Histogram<u64>, String)>,
    /// Spans actually measured (the histograms' counts are weighted).
    samples: u64,
    /// A part measured spans here without allocation figures.
    incomplete: bool,
}

impl AllocationSum {
    pub(super) fn new(field: impl Into<String>) -> Self {
        AllocationSum {
            field: field.into(),
            count: None,
            bytes: None,
            samples: 0,
            incomplete: false,
        }
    }

    /// Adds part `label`'s figures, each value counting `weight` times; `measured` says
    /// whether the part measured any span here (then figures missing from it leave the merge
    /// without figures).
    pub(super) fn add(
        &mut self,
        label: &str,
        stats: Option<&AllocationStats>,
        measured: bool,
        weight: u64,
    ) -> Result<()> {
        let Some(stats) = stats else {
            self.incomplete |= measured;
            return Ok(());
        };
        let (count, bytes) = stats.decode_histograms(&format!("{} in {label}", self.field))?;
        self.samples = self.samples.saturating_add(count.len());
        let weighted = |h: Histogram<u64>| if weight > 1 { scaled(&h, weight) } else { h };
        add_histogram(
            &mut self.count,
            &format!("{}.histogram", self.field),
            label,
            weighted(count),
        )?;
        add_histogram(
            &mut self.bytes,
            &format!("{}.bytes_histogram", self.field),
            label,
            weighted(bytes),
        )
    }

    /// The merged figures; `None` when no part had any, or a part measured spans without them.
    pub(super) fn finish(self) -> Result<Option<AllocationStats>> {
        let (Some((count, _)), Some((bytes, _))) = (self.count, self.bytes) else {
            return Ok(None);
        };
        if self.incomplete {
            return Ok(None);
        }
        let merged = AllocationStats::encode(&count, &bytes, &self.field)?;
        Ok(merged.map(|stats| AllocationStats {
            samples: self.samples,
            ..stats
        }))
    }
}
