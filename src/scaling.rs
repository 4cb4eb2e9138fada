//! Scaling efficiency of a sweep (runs of one workload at several sizes): the one estimator that
//! the scalability graph's efficiency panel draws and the scalability driver's verdict judges.
//!
//! Efficiency is judged on the time per tick of the loop after each run's warm-up, not on
//! whole-run throughput: a run's fixed costs (the profiler's start, its first ticks on guessed
//! rates, cold caches, the first chunk of data) are paid once, so whole-run throughput made a
//! 1,000-tick run look 2× slower than a 10,000-tick one ("228 %"), and the graph's panel,
//! drawn from throughput, said 141 % where the verdict judged 104 %.
//!
//! Each run's time per tick comes from [`LoopTimes`] when the caller timed its loop (the
//! driver times a bare and a profiled loop); a report without them has only tickprof's own
//! figure, the timed ticks' mean busy time (its `ticks.latency`, which leaves the warm-up out
//! as well). A run is judged only when its loop after the warm-up lasts
//! [`MIN_LOOP_AFTER_WARMUP_S`]: shorter, one preemption, a frequency step or a cache refill is
//! a large share of it. The reference is the smallest run judged; efficiency is its time per
//! tick over each run's (100 %: a tick costs the same however many follow it).

use crate::report::{LoopTimes, Report};

/// A run's loop after its warm-up must last this long to be judged: there one 4 ms scheduler
/// tick lost to another process is 8 %, inside the 15 % margin of
/// [`LINEAR_SCALING_THRESHOLD`].
pub const MIN_LOOP_AFTER_WARMUP_S: f64 = 0.05;

/// Efficiency at or above this is linear scaling (the verdict's limit, the graph's line).
pub const LINEAR_SCALING_THRESHOLD: f64 = 0.85;

/// Where a sweep's times per tick come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Basis {
    /// The loops the caller timed ([`LoopTimes`]): bare and profiled.
    LoopTimes,
    /// tickprof's timed ticks' mean busy time (some report had no [`LoopTimes`]): the
    /// profiled figure only.
    TickMean,
}

/// One run's time per tick after its warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRun {
    /// The report's name.
    pub name: String,
    /// Ticks it ran.
    pub ticks: u64,
    /// The bare loop's time per tick, ns; `None` without a bare loop, or when all warm-up.
    pub bare_ns: Option<f64>,
    /// The profiled loop's time per tick (or the timed ticks' mean), ns; `None` when unknown.
    pub profiled_ns: Option<f64>,
    /// How long its loop after the warm-up lasted (the bare loops' mean when timed), s.
    pub loop_after_warmup_s: f64,
    /// How far apart its two bare loops after the warm-up are, as a share of their mean (the
    /// machine's noise); `None` without them.
    pub noise: Option<f64>,
}

impl ScalingRun {
    /// The run of `report` on `basis`.
    pub fn of(report: &Report, basis: Basis) -> Self {
        let times: Option<&LoopTimes> = report
            .loop_comparison
            .as_ref()
            .and_then(|l| l.times.as_ref());
        match (basis, times) {
            (Basis::LoopTimes, Some(t)) => ScalingRun {
                name: report.name.clone(),
                ticks: t.ticks,
                bare_ns: t.bare_ns_per_tick(),
                profiled_ns: t.profiled_ns_per_tick(),
                loop_after_warmup_s: t.bare_after_warmup_mean_s(),
                noise: t.bare_spread_after_warmup(),
            },
            _ => {
                let t = &report.ticks.latency;
                let mean = (t.samples > 0 && t.mean_ns > 0.0).then_some(t.mean_ns);
                ScalingRun {
                    name: report.name.clone(),
                    ticks: report.ticks.count,
                    bare_ns: None,
                    profiled_ns: mean,
                    loop_after_warmup_s: mean
                        .map_or(0.0, |ns| ns * report.ticks_after_warmup() as f64 / 1e9),
                    noise: None,
                }
            }
        }
    }

    /// Whether it is judged: a time per tick, over a loop of [`MIN_LOOP_AFTER_WARMUP_S`].
    pub fn judged(&self) -> bool {
        (self.bare_ns.is_some() || self.profiled_ns.is_some())
            && self.loop_after_warmup_s >= MIN_LOOP_AFTER_WARMUP_S
    }
}

/// The scaling efficiency of a sweep, every run against the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingEfficiency {
    /// Where the times per tick come from.
    pub basis: Basis,
    /// The runs, smallest first.
    pub runs: Vec<ScalingRun>,
    /// Index in `runs` of the reference: the smallest run judged, or (none judged) the
    /// smallest with a time per tick; `None` when no run has one.
    pub reference: Option<usize>,
}

impl ScalingEfficiency {
    /// The efficiency of `reports` (in any order): on [`Basis::LoopTimes`] when every report
    /// has them, else on [`Basis::TickMean`].
    pub fn of<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Self {
        let reports: Vec<&Report> = reports.into_iter().collect();
        let basis = if !reports.is_empty()
            && reports.iter().all(|r| {
                r.loop_comparison
                    .as_ref()
                    .is_some_and(|l| l.times.is_some())
            }) {
            Basis::LoopTimes
        } else {
            Basis::TickMean
        };
        Self::from_runs(
            basis,
            reports.iter().map(|r| ScalingRun::of(r, basis)).collect(),
        )
    }

    /// The efficiency of `runs` (in any order), as [`of`](Self::of) computes it from reports.
    pub fn from_runs(basis: Basis, mut runs: Vec<ScalingRun>) -> Self {
        runs.sort_by_key(|r| r.ticks);
        let has_time = |r: &ScalingRun| r.bare_ns.is_some() || r.profiled_ns.is_some();
        let reference = runs
            .iter()
            .position(ScalingRun::judged)
            .or_else(|| runs.iter().position(has_time));
        ScalingEfficiency {
            basis,
            runs,
            reference,
        }
    }

    /// The runs judged, smallest first, with their indices.
    pub fn judged(&self) -> impl Iterator<Item = (usize, &ScalingRun)> {
        self.runs.iter().enumerate().filter(|(_, r)| r.judged())
    }

    /// The two runs a verdict compares: the smallest and the largest judged (indices), when
    /// at least two are.
    pub fn compared(&self) -> Option<(usize, usize)> {
        let mut judged = self.judged().map(|(i, _)| i);
        let first = judged.next()?;
        judged.last().map(|last| (first, last))
    }

    /// Run `i`'s bare efficiency: the reference's bare time per tick over its own.
    pub fn bare(&self, i: usize) -> Option<f64> {
        self.ratio(i, |r| r.bare_ns)
    }

    /// Run `i`'s profiled efficiency (or, on [`Basis::TickMean`], of the tick mean).
    pub fn profiled(&self, i: usize) -> Option<f64> {
        self.ratio(i, |r| r.profiled_ns)
    }

    fn ratio(&self, i: usize, ns: fn(&ScalingRun) -> Option<f64>) -> Option<f64> {
        let reference = ns(self.runs.get(self.reference?)?)?;
        let own = ns(self.runs.get(i)?)?;
        (own > 0.0).then(|| reference / own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::LoopComparison;
    use crate::test_support::report;

    /// A report whose loops took `bare_ns` and `profiled_ns` per tick after 1,000 warm-up
    /// ticks, its two bare loops `spread` apart.
    fn timed(ticks: u64, bare_ns: f64, spread: f64, profiled_ns: f64) -> Report {
        let mut r = report(&format!("sweep_{ticks}"), &[1_000], &[]);
        r.ticks.count = ticks;
        let after = (ticks - 1_000) as f64 / 1e9;
        let bare_s = bare_ns * after;
        r.loop_comparison = Some(LoopComparison {
            bare_per_s: 1e9 / bare_ns,
            profiled_per_s: 1e9 / profiled_ns,
            times: Some(LoopTimes {
                ticks,
                warmup_ticks: 1_000,
                bare_s: [bare_s * 1.1, bare_s * 1.1],
                profiled_s: profiled_ns * after * 1.1,
                bare_after_warmup_s: [bare_s * (1.0 + spread / 2.0), bare_s * (1.0 - spread / 2.0)],
                profiled_after_warmup_s: profiled_ns * after,
            }),
        });
        r
    }

    #[test]
    fn every_run_against_the_smallest_judged_one() {
        // 11,000 ticks at 1 µs: 10 ms after the warm-up, too short; the others are judged.
        let reports = [
            timed(1_001_000, 720.0, 0.04, 760.0),
            timed(11_000, 1_000.0, 0.5, 1_100.0),
            timed(101_000, 700.0, 0.02, 750.0),
        ];
        let e = ScalingEfficiency::of(&reports);
        assert_eq!(e.basis, Basis::LoopTimes);
        let ticks: Vec<u64> = e.runs.iter().map(|r| r.ticks).collect();
        assert_eq!(ticks, [11_000, 101_000, 1_001_000]);
        assert!(!e.runs[0].judged());
        assert_eq!(e.reference, Some(1));
        assert_eq!(e.compared(), Some((1, 2)));
        assert!((e.bare(2).unwrap() - 700.0 / 720.0).abs() < 1e-9);
        assert!((e.profiled(2).unwrap() - 750.0 / 760.0).abs() < 1e-9);
        assert!((e.bare(0).unwrap() - 0.7).abs() < 1e-9, "drawn, not judged");
        assert!((e.runs[2].noise.unwrap() - 0.04).abs() < 1e-9);
        assert_eq!(e.bare(1), Some(1.0));
    }

    #[test]
    fn reports_without_loop_times_use_the_tick_mean() {
        let mut a = report("a_1000", &[1_000; 1_000], &[]);
        a.ticks.count = 100_000;
        let mut b = report("a_10000", &[2_000; 1_000], &[]);
        b.ticks.count = 1_000_000;
        let mut c = timed(1_001_000, 720.0, 0.04, 760.0);
        c.ticks.latency = b.ticks.latency.clone();
        let e = ScalingEfficiency::of([&a, &b, &c]);
        assert_eq!(e.basis, Basis::TickMean, "one report without loop times");
        // 100,000 × 1 µs = 0.1 s: judged.
        assert!(e.runs[0].judged());
        assert_eq!(e.runs[0].bare_ns, None);
        assert!((e.profiled(1).unwrap() - 0.5).abs() < 1e-3);
        assert_eq!(e.bare(1), None);
        // Nothing judged: the smallest run with a time is the reference, and nothing compared.
        a.ticks.count = 10;
        let e = ScalingEfficiency::of([&a]);
        assert_eq!((e.reference, e.compared()), (Some(0), None));
        assert_eq!(ScalingEfficiency::of([]).reference, None);
    }
}
