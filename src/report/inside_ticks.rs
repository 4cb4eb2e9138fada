//! How much of a run was inside ticks: the figure that says what the components' shares are
//! shares of.
//!
//! A tick span need not cover the whole loop: on an async engine the exchange, the channels and
//! the timers run in other tasks between ticks, and a tick that covers a quarter of the wall
//! time makes every component's "% of the tick" a share of that quarter. This is estimated
//! from what every report has (the tick count, the timed ticks' mean, the warm-up ticks'
//! measured latency), so it is there whatever the sampling; per-thread figures need the hot
//! path's own tally.

use serde::{Deserialize, Serialize};

use super::Report;

/// The time a run spent inside ticks, against its wall time and its CPU time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InsideTicks {
    /// Busy time inside tick spans over the whole run, s, net of the instrumentation inside
    /// them: the warm-up ticks' measured total, plus every later tick at the timed ticks' mean
    /// (`ticks.latency` is a random sample of them, so this estimates their sum).
    pub busy_s: f64,
    /// `busy_s / total_time_s`: the share of the run's wall time spent inside ticks, summed
    /// over threads (above 1 when several threads tick at once).
    pub wall_fraction: f64,
    /// `busy_s / CPU time of the process` over the run; `null` without a CPU clock (or a run
    /// with no CPU time). Busy time is wall time inside a tick, so a tick that blocks or is
    /// descheduled counts in full: the share can then exceed 1.
    #[serde(default)]
    pub cpu_fraction: Option<f64>,
}

impl InsideTicks {
    /// The estimate for `report` (its ticks and `total_time_s`), with the process CPU time of
    /// the same window, `cpu_time_s`, when known. `None` for a run without a measured tick
    /// or without wall time. The one estimator: `stop_profiling` and merges both call it.
    pub fn estimate(report: &Report, cpu_time_s: Option<f64>) -> Option<Self> {
        let timed = &report.ticks.latency;
        let after_warmup = report.ticks_after_warmup();
        let warmup_ns = report
            .ticks
            .warmup
            .as_ref()
            .and_then(|w| w.latency.as_ref().map(|l| l.mean_ns * w.count as f64))
            .unwrap_or(0.0);
        let steady_ns = if timed.samples > 0 {
            timed.mean_ns * after_warmup as f64
        } else if after_warmup > 0 {
            // Ticks after the warm-up ran, none was timed: their time is unknown.
            return None;
        } else {
            0.0
        };
        let busy_s = (warmup_ns + steady_ns) / 1e9;
        if busy_s <= 0.0 || report.total_time_s <= 0.0 || !busy_s.is_finite() {
            return None;
        }
        Some(InsideTicks {
            busy_s,
            wall_fraction: busy_s / report.total_time_s,
            cpu_fraction: cpu_time_s
                .filter(|cpu| *cpu > 0.0 && cpu.is_finite())
                .map(|cpu| busy_s / cpu),
        })
    }

    /// The figures of parts merged into one report: their busy times added, over their wall
    /// times and CPU times added (the share of the parts' own time, whether they ran one after
    /// another or side by side); `None` if any part has none.
    pub(crate) fn merged<'a>(parts: impl IntoIterator<Item = &'a Report>) -> Option<Self> {
        let (mut busy_s, mut wall_s, mut cpu_s) = (0.0, 0.0, Some(0.0));
        for report in parts {
            let inside = report.inside_ticks?;
            busy_s += inside.busy_s;
            wall_s += report.total_time_s;
            // A part's CPU time, as its own fraction states it.
            cpu_s = cpu_s
                .zip(inside.cpu_fraction.filter(|f| *f > 0.0))
                .map(|(sum, f)| sum + inside.busy_s / f);
        }
        (busy_s > 0.0 && wall_s > 0.0).then(|| InsideTicks {
            busy_s,
            wall_fraction: busy_s / wall_s,
            cpu_fraction: cpu_s.filter(|cpu| *cpu > 0.0).map(|cpu| busy_s / cpu),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::WarmupStats;
    use crate::test_support::{latency, report};

    #[test]
    fn ticks_times_their_mean_over_the_run_and_its_cpu() {
        // 1,000 ticks of 2 µs in a run of 10 ms: 2 ms inside ticks, 20 %.
        let mut r = report("r", &[2_000; 1_000], &[]);
        r.total_time_s = 0.010;
        let inside = InsideTicks::estimate(&r, Some(0.004)).unwrap();
        assert!((inside.busy_s - 0.002).abs() < 1e-12, "{inside:?}");
        assert!((inside.wall_fraction - 0.2).abs() < 1e-9);
        assert!((inside.cpu_fraction.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(InsideTicks::estimate(&r, None).unwrap().cpu_fraction, None);
    }

    #[test]
    fn warm_up_ticks_count_at_their_own_mean_and_sampled_ticks_at_the_sample_mean() {
        // 10,000 ticks: 100 warm-up ticks of 50 µs, 100 of the others timed at 1 µs.
        let mut r = report("r", &[1_000; 100], &[]);
        r.ticks.count = 10_000;
        r.total_time_s = 0.1;
        r.ticks.warmup = Some(WarmupStats {
            ticks_per_thread: 100,
            count: 100,
            recorded: 0,
            latency: Some(latency(&[50_000; 100])),
        });
        let inside = InsideTicks::estimate(&r, None).unwrap();
        // 100 × 50 µs + 9,900 × 1 µs = 14.9 ms.
        assert!((inside.busy_s - 0.0149).abs() < 1e-9, "{inside:?}");
        // Nothing timed after the warm-up, though ticks ran: unknown, not the warm-up alone.
        r.ticks.latency = latency(&[]);
        assert_eq!(InsideTicks::estimate(&r, None), None);
    }

    #[test]
    fn merged_parts_add_their_times() {
        let mut a = report("a", &[1_000; 100], &[]);
        a.total_time_s = 0.001;
        a.inside_ticks = InsideTicks::estimate(&a, Some(0.0002));
        let mut b = report("b", &[1_000; 300], &[]);
        b.total_time_s = 0.001;
        b.inside_ticks = InsideTicks::estimate(&b, Some(0.0006));
        let m = InsideTicks::merged([&a, &b]).unwrap();
        // 0.1 + 0.3 ms over 2 ms of wall and 0.8 ms of CPU.
        assert!((m.busy_s - 0.0004).abs() < 1e-12, "{m:?}");
        assert!((m.wall_fraction - 0.2).abs() < 1e-9);
        assert!((m.cpu_fraction.unwrap() - 0.5).abs() < 1e-9);
        b.inside_ticks = None;
        assert_eq!(InsideTicks::merged([&a, &b]), None);
    }
}
