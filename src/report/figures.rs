//! One estimator per figure that more than one output shows (the printed summary, `tickprof
//! summary`, the graphs, the scalability driver's verdicts): each output calls the function
//! here rather than computing its own, so a number read in one place is the number drawn or
//! judged in another. (Scaling efficiency, which needs a sweep of reports, is in
//! [`crate::scaling`]; a component's share is [`Report::self_share`].)

use super::slow_ticks::duration;
use super::{FAR_OUTLIER_FACTOR, FarOutliers, Report, SchedulerAround, SlowTick};

/// A latency as the outputs may state it: measured, or below what the report can resolve
/// ([`Report::latency_resolution_ns`]), where a precise-looking number would mislead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    /// At or above the resolution, ns.
    Measured(f64),
    /// Below the resolution (which this holds), ns.
    Below(f64),
}

impl Resolved {
    /// `0.237` µs with `digits` decimals, or `<0.080` for a figure below the resolution.
    pub(crate) fn micros(self, digits: usize) -> String {
        match self {
            Resolved::Measured(ns) => format!("{:.digits$}", ns / 1e3),
            Resolved::Below(resolution) => format!("<{:.digits$}", resolution / 1e3),
        }
    }

    /// `237 ns`, `2.5 µs`, or `<80 ns`, as the graphs label values.
    #[cfg(feature = "plot")]
    pub(crate) fn label(self, unit_label: impl Fn(f64) -> String) -> String {
        match self {
            Resolved::Measured(ns) => unit_label(ns),
            Resolved::Below(resolution) => format!("<{}", unit_label(resolution)),
        }
    }
}

/// Whether a latency figure is below `resolution` (both in one unit): the one rule by which the
/// summary and the graphs mark a figure (`<0.080`) and the gates ([`least_resolved_change`])
/// call no change between two such figures.
pub(crate) fn below_resolution(figure: f64, resolution: f64) -> bool {
    figure < resolution
}

/// The least change of a latency figure from `from`, up (`up`) or down, after which the two
/// figures are not both [below `resolution`](below_resolution), in their unit: 0 when `from`
/// is at or above it; up, the distance to it; down, all of `from` (a latency cannot fall below
/// 0, so no fall from a figure below the resolution reaches that far). Two figures below the
/// resolution print alike in the summary and the graphs (`<0.080`), so `tickprof compare` and
/// `check --baseline` take this as the least change they may call one: a change they report
/// ends at, or starts from, a figure the summary states.
pub(crate) fn least_resolved_change(from: f64, resolution: f64, up: bool) -> f64 {
    match (below_resolution(from, resolution), up) {
        (false, _) => 0.0,
        (true, true) => resolution - from,
        (true, false) => from,
    }
}

impl Report {
    /// `ns` as the outputs state it: [`Resolved::Below`] under the report's resolution (a
    /// span reading, a mean of them or a percentile that small is mostly the clock's steps and
    /// what was subtracted, not the code), [`Resolved::Measured`] otherwise. Zero is stated
    /// below the resolution too: it is a reading at the floor, not a free span.
    pub(crate) fn resolved(&self, ns: f64) -> Resolved {
        let resolution = self.latency_resolution_ns();
        if below_resolution(ns, resolution) {
            Resolved::Below(resolution)
        } else {
            Resolved::Measured(ns)
        }
    }

    /// The mean unattributed time per recorded tick, ns: `unattributed_mean_ns` where the
    /// report has it (schemas 2–4 estimated it from means; from schema 5 it is the histogram's
    /// mean), the `unattributed` histogram's mean otherwise. The summary's table, its share and
    /// the latency graph's legend all state this one.
    pub fn unattributed_mean(&self) -> f64 {
        self.unattributed_mean_ns
            .unwrap_or(self.unattributed.mean_ns)
    }

    /// Why no listed slow tick has a timeline although the run recorded ticks: they were all
    /// warm-up ticks, which the lists leave out (a short run's only recording window can open
    /// there). `None` when a listed tick is recorded, or nothing was recorded. The summary and
    /// `slow_ticks_<N>.png` both say this.
    pub fn no_recorded_tick_listed(&self) -> Option<String> {
        let (slow, s, w) = (
            self.slowest_ticks.as_ref()?,
            self.sampling.as_ref()?,
            self.ticks.warmup.as_ref()?,
        );
        if slow.all().any(|t| t.recorded) || s.ticks_recorded == 0 || w.recorded < s.ticks_recorded
        {
            return None;
        }
        Some(format!(
            "no recorded tick is listed: all {} recorded ticks were warm-up ticks (each thread's \
             first {}), which the lists leave out; a longer run records more",
            super::thousands(s.ticks_recorded),
            super::thousands(w.ticks_per_thread)
        ))
    }

    /// The ticks far above the rest of the run: the timed ticks' far outliers and every listed
    /// slow tick (timed or recorded, which `ticks.latency` may not hold) above
    /// [`FAR_OUTLIER_FACTOR`] × the timed ticks' p99.9 (p99 with fewer than 1,000 timed ticks).
    /// `None` with fewer than 100 timed ticks: no reference to judge by. The summary's note and
    /// the scalability driver's tick-outlier verdict both read this.
    pub fn tick_outliers(&self) -> Option<TickOutliers> {
        let t = &self.ticks.latency;
        let (reference, reference_ns) = match t.samples {
            n if n >= 1_000 => ("p99.9", t.p999_ns),
            n if n >= 100 => ("p99", t.p99_ns),
            _ => return None,
        };
        if reference_ns == 0 {
            return None;
        }
        let threshold = reference_ns.saturating_mul(FAR_OUTLIER_FACTOR);
        let timed = t.far_outliers("ticks.latency").ok().flatten();
        let listed = self
            .slowest_ticks
            .as_ref()
            .map(|s| {
                s.all()
                    .filter(|tick| tick.latency_ns > threshold)
                    .map(|tick| TickOutlier::of(tick, reference_ns))
                    .collect()
            })
            .unwrap_or_default();
        let slowest_ns = self
            .slowest_ticks
            .iter()
            .flat_map(|s| s.all())
            .map(|tick| tick.latency_ns)
            .fold(t.max_ns, u64::max);
        Some(TickOutliers {
            reference,
            reference_ns,
            slowest_ns,
            timed,
            listed,
        })
    }
}

/// The ticks of a run far above the rest ([`Report::tick_outliers`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TickOutliers {
    /// The timed ticks' percentile they are judged against (`"p99.9"` or `"p99"`).
    pub reference: &'static str,
    /// Its value, ns.
    pub reference_ns: u64,
    /// The slowest tick of the run: the timed ticks' max or a listed tick, whichever is slower.
    pub slowest_ns: u64,
    /// The timed ticks' values above [`FAR_OUTLIER_FACTOR`] × the reference.
    pub timed: Option<FarOutliers>,
    /// The listed slow ticks above it, slowest first, with what the scheduler says of each.
    pub listed: Vec<TickOutlier>,
}

impl TickOutliers {
    /// How many times the reference the slowest tick took.
    pub fn ratio(&self) -> f64 {
        self.slowest_ns as f64 / self.reference_ns.max(1) as f64
    }

    /// Whether any tick is far above the rest.
    pub fn any(&self) -> bool {
        self.timed.is_some() || !self.listed.is_empty()
    }

    /// Whether some outlier was the code's own doing: a listed tick whose thread the
    /// scheduler counted too little run-queue wait for, over windows holding it, to hold its
    /// excess.
    pub fn any_from_the_code(&self) -> bool {
        self.listed.iter().any(|t| t.cause.is_the_code())
    }

    /// `max 166.5 µs = 320× p99.9 (0.52 µs)`: the slowest tick against the reference.
    pub fn headline(&self) -> String {
        format!(
            "max {} = {:.0}× {} ({:.2} µs)",
            duration(self.slowest_ns),
            self.ratio(),
            self.reference,
            self.reference_ns as f64 / 1e3
        )
    }
}

/// A listed slow tick far above the rest.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TickOutlier {
    /// `#904,211 seq=904210` ([`SlowTick::name`]).
    pub name: String,
    /// Its net latency, ns.
    pub latency_ns: u64,
    /// Whether it was recorded (its timeline is in the report).
    pub recorded: bool,
    /// What the scheduler's counts over the windows holding it allow.
    pub cause: OutlierCause,
}

impl TickOutlier {
    fn of(tick: &SlowTick, reference_ns: u64) -> Self {
        TickOutlier {
            name: tick.name(),
            latency_ns: tick.latency_ns,
            recorded: tick.recorded,
            cause: OutlierCause::of(
                tick.scheduler.as_ref(),
                tick.latency_ns.saturating_sub(reference_ns),
            ),
        }
    }
}

/// What the scheduler's counts say about why a tick was far above the rest. A count over the
/// windows holding a tick is an upper bound for the tick (see [`SchedulerAround`]): it can
/// prove that descheduling was not the cause, never that it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutlierCause {
    /// No count (no `/proc`, an older report): nothing is known.
    Unknown,
    /// The thread waited for a CPU at least as long as the tick's excess over the reference
    /// in the windows holding it: it may have been descheduled.
    MaybeDescheduled,
    /// It waited less than the excess (or not at all) in windows holding the whole tick: the
    /// excess, or most of it, was the code's (its work, or its own blocking).
    TheCode,
}

impl OutlierCause {
    fn of(scheduler: Option<&SchedulerAround>, excess_ns: u64) -> Self {
        match scheduler {
            None => OutlierCause::Unknown,
            Some(s) if s.run_queue_wait_ns >= excess_ns && !s.not_descheduled() => {
                OutlierCause::MaybeDescheduled
            }
            Some(_) => OutlierCause::TheCode,
        }
    }

    /// Whether the counts rule descheduling out as the whole cause.
    pub fn is_the_code(self) -> bool {
        self == OutlierCause::TheCode
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SlowestTicks;
    use crate::test_support::{latency, report};

    fn slow(ordinal: u64, latency_ns: u64, wait_ns: Option<u64>) -> SlowTick {
        let mut t = crate::report::slow_ticks::tests::tick(ordinal, latency_ns, true);
        t.scheduler = wait_ns.map(|wait| SchedulerAround {
            from_ms: 0.0,
            to_ms: 100.0,
            involuntary_switches: u64::from(wait > 0),
            voluntary_switches: 0,
            run_queue_wait_ns: wait,
            on_cpu_ns: 90_000_000,
        });
        t
    }

    #[test]
    fn a_listed_recorded_tick_is_an_outlier_even_when_the_timed_max_is_not() {
        // 2,000 timed ticks of 1–2 µs; a recorded 4 ms tick in the list, not in the histogram.
        let ticks: Vec<u64> = (0..2_000).map(|i| 1_000 + i % 1_000).collect();
        let mut r = report("r", &ticks, &[]);
        r.slowest_ticks = Some(SlowestTicks::from_ticks(
            10,
            0,
            [slow(7, 4_000_000, Some(0)), slow(8, 1_999, Some(0))],
        ));
        let o = r.tick_outliers().unwrap();
        assert_eq!((o.reference, o.reference_ns), ("p99.9", 1_998));
        assert_eq!(o.timed, None, "the timed ticks have none");
        assert_eq!(o.listed.len(), 1);
        assert_eq!(o.listed[0].name, "#7");
        assert_eq!(o.slowest_ns, 4_000_000);
        assert!(o.any_from_the_code(), "no run-queue wait: the code");
        assert_eq!(o.headline(), "max 4.00 ms = 2002× p99.9 (2.00 µs)");
        // 5 ms of run-queue wait in its windows could hold it; no count says nothing.
        for (wait, cause) in [
            (Some(5_000_000), OutlierCause::MaybeDescheduled),
            (Some(1_000_000), OutlierCause::TheCode),
            (None, OutlierCause::Unknown),
        ] {
            r.slowest_ticks = Some(SlowestTicks::from_ticks(10, 0, [slow(7, 4_000_000, wait)]));
            assert_eq!(
                r.tick_outliers().unwrap().listed[0].cause,
                cause,
                "{wait:?}"
            );
        }
    }

    #[test]
    fn too_few_timed_ticks_give_no_reference() {
        let r = report("r", &[1_000; 99], &[]);
        assert_eq!(r.tick_outliers(), None);
        let r = report("r", &[1_000; 100], &[]);
        let o = r.tick_outliers().unwrap();
        assert_eq!(o.reference, "p99");
        assert!(!o.any());
    }

    #[test]
    fn figures_below_the_resolution_are_marked() {
        let mut r = report("r", &[1_000], &[]);
        r.overhead.empty_span_busy_ns = 40.0;
        assert_eq!(r.latency_resolution_ns(), 80.0);
        assert_eq!(r.resolved(4.2).micros(3), "<0.080");
        assert_eq!(r.resolved(0.0).micros(3), "<0.080");
        assert_eq!(r.resolved(237.0).micros(3), "0.237");
        r.unattributed = latency(&[100, 300]);
        assert_eq!(r.unattributed_mean(), 200.0);
        r.unattributed_mean_ns = Some(0.0);
        assert_eq!(r.unattributed_mean(), 0.0, "a schema 2–4 report's estimate");
    }
}
