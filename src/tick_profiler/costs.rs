//! What the profiler's own work costs: measured once per run by `overhead_calibration` on the
//! subscriber the user's spans go through, then read from this one struct by the recorder (what
//! it subtracts), the sampler (what it paces) and the report (what it says it cost).
//!
//! The recorder reads the clock around every span's instrumentation (see `timing`), so most of
//! it is measured, not estimated. Two small pieces lie outside the clock reads and are
//! calibrated: the `floor`, the busy time an empty span reads (the tail of its enter and the
//! head of its exit), and the `residue`, what a parent reads per recorded child on top of its own
//! code (the tail of the child's close and the head of the next span's filter decision).

/// The calibrated costs, in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Costs {
    /// The own time an empty span reads per entered interval: subtracted once per interval.
    pub(crate) floor_ns: u64,
    /// The own time a parent reads per recorded child beyond its own code: subtracted once
    /// per child created in it.
    pub(crate) residue_ns: u64,
    /// What a refused span evaluation costs (the filter decision of an untimed tick, or of a
    /// child evaluated in a timed tick while another thread records): subtracted once per
    /// refusal inside a timed span, and what every tick pays to be counted.
    pub(crate) check_ns: u64,
    /// What one recorded span costs the loop, the `Registry` and every layer included: what
    /// the sampling budget charges per timed tick and per span of a recorded tick.
    pub(crate) span_ns: u64,
}

impl Costs {
    /// Until measured (or with the calibration off): nothing subtracted, and the budget paces
    /// on a typical span cost.
    pub(crate) const UNMEASURED: Costs = Costs {
        floor_ns: 0,
        residue_ns: 0,
        check_ns: 0,
        span_ns: 150,
    };

    /// A span's time net of what its clock reads did not exclude: `measured_ns` (its busy
    /// time less the instrumentation measured inside it) less the floor of each of the
    /// `intervals` in it (its own and its descendants'), the residue of each span created in
    /// it, and the check of each span evaluation refused in it; and whether the corrections
    /// exceeded it (the result is then 0).
    pub(crate) fn net_ns(
        &self,
        measured_ns: u64,
        intervals: u64,
        creations: u64,
        refusals: u64,
    ) -> (u64, bool) {
        let inside = self
            .floor_ns
            .saturating_mul(intervals)
            .saturating_add(self.residue_ns.saturating_mul(creations))
            .saturating_add(self.check_ns.saturating_mul(refusals));
        (measured_ns.saturating_sub(inside), inside > measured_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_time_is_net_of_each_correction_and_clamps_at_zero() {
        let costs = Costs {
            floor_ns: 20,
            residue_ns: 40,
            check_ns: 10,
            span_ns: 100,
        };
        assert_eq!(costs.net_ns(1_000, 1, 0, 0), (980, false));
        assert_eq!(costs.net_ns(1_000, 2, 3, 1), (1_000 - 40 - 120 - 10, false));
        assert_eq!(costs.net_ns(50, 1, 1, 0), (0, true));
        assert_eq!(Costs::UNMEASURED.net_ns(7, 3, 3, 3), (7, false));
    }
}
