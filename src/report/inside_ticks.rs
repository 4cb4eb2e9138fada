//! How much of a run was inside ticks: the figure that says what the components' shares are
//! shares of.
//!
//! A tick span need not cover the whole loop: on an async engine the exchange, the channels and
//! the timers run in other tasks between ticks, and a tick that covers a quarter of the wall
//! time makes every component's "% of the tick" a share of that quarter. It is estimated per
//! thread that ticks (its warm-up ticks' measured time, plus its later ticks at its timed
//! ticks' mean), and the run's figure is the threads' sum, so the two always agree. The
//! hot path pays nothing for it: each thread's sums are read from its records at a harvest.

use serde::{Deserialize, Serialize};

use super::Report;

/// The time a run spent inside ticks, against its wall time and its CPU time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsideTicks {
    /// Busy time inside tick spans over the whole run, s, net of the instrumentation inside
    /// them: the sum of `threads`' (and of ticks no thread kept, at the run's mean).
    pub busy_s: f64,
    /// `busy_s / total_time_s`: the share of the run's wall time spent inside ticks, summed
    /// over threads (above 1 when several threads tick at once).
    pub wall_fraction: f64,
    /// `busy_s / CPU time of the process` over the run; `null` without a CPU clock (or a run
    /// with no CPU time). Busy time is wall time inside a tick, so a tick that blocks or is
    /// descheduled counts in full: the share can then exceed 1.
    #[serde(default)]
    pub cpu_fraction: Option<f64>,
    /// Each thread that ticked, busiest first (in merged reports, per run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<ThreadInsideTicks>,
}

/// One thread's time inside ticks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadInsideTicks {
    /// Its name as it began the run, or its id (`ThreadId(3)`).
    pub thread: String,
    /// Its kernel id (Linux), if it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
    /// The run it belongs to, in merged reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Ticks it counted (exact).
    pub ticks: u64,
    /// Its ticks timed after the warm-up: the sample its mean comes from. With none, its later
    /// ticks count at the run's mean.
    pub timed: u64,
    /// Its busy time inside ticks, s, as the run's `busy_s`.
    pub busy_s: f64,
    /// `busy_s / total_time_s`: the share of the run's wall time this thread spent in ticks.
    pub wall_fraction: f64,
    /// Its time on a CPU over the run, s (the resource sampler's reads of
    /// `/proc/self/task/<tid>/schedstat`); `null` when not sampled.
    #[serde(default)]
    pub cpu_time_s: Option<f64>,
    /// `busy_s / cpu_time_s`: above 1 when its ticks waited off the CPU.
    #[serde(default)]
    pub cpu_fraction: Option<f64>,
}

/// What a report's maker knows of one thread's ticks (sums over the run).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ThreadTime {
    pub(crate) thread: String,
    pub(crate) tid: Option<u32>,
    pub(crate) ticks: u64,
    pub(crate) warmup_ticks: u64,
    pub(crate) warmup_ns: f64,
    pub(crate) timed: u64,
    pub(crate) timed_ns: f64,
    pub(crate) cpu_time_s: Option<f64>,
}

impl InsideTicks {
    /// The estimate for `report` (its ticks and `total_time_s`), with the process CPU time of
    /// the same window, `cpu_time_s`, when known, and no breakdown by thread: the run as one
    /// thread. `None` for a run without a measured tick or without wall time.
    pub fn estimate(report: &Report, cpu_time_s: Option<f64>) -> Option<Self> {
        Self::by_thread(report, cpu_time_s, &[])
    }

    /// The one estimator, used by `stop_profiling`: each thread's busy time is its warm-up
    /// ticks' measured time plus its later ticks at its own timed ticks' mean (the run's mean
    /// for a thread that timed none: its timed ticks', or its recorded ticks' when no tick
    /// was timed apart from the windows); ticks no thread kept count at the run's figures.
    /// The run's busy time is their sum.
    pub(crate) fn by_thread(
        report: &Report,
        cpu_time_s: Option<f64>,
        threads: &[ThreadTime],
    ) -> Option<Self> {
        // The run's mean: its timed ticks', else its recorded ticks' (a run whose windows held
        // every tick after the warm-up timed none apart from them).
        let run_mean_ns = [Some(&report.ticks.latency), report.ticks.recorded.as_ref()]
            .into_iter()
            .flatten()
            .find(|l| l.samples > 0)
            .map(|l| l.mean_ns);
        let warmup = report.ticks.warmup.as_ref();
        let run_warmup_ns = warmup
            .and_then(|w| w.latency.as_ref().map(|l| l.mean_ns * w.count as f64))
            .unwrap_or(0.0);
        let wall_s = report.total_time_s;
        // A thread's busy time, ns; `None` when ticks ran and no tick of the run was timed.
        let busy_ns = |warmup_ns: f64, after_warmup: u64, timed: u64, timed_ns: f64| {
            let mean_ns = if timed > 0 {
                Some(timed_ns / timed as f64)
            } else {
                run_mean_ns
            };
            match (after_warmup, mean_ns) {
                (0, _) => Some(warmup_ns),
                (n, Some(mean)) => Some(warmup_ns + mean * n as f64),
                (_, None) => None,
            }
        };
        let mut listed = Vec::with_capacity(threads.len());
        let (mut kept_ticks, mut kept_after, mut kept_warmup_ns) = (0, 0, 0.0);
        for t in threads {
            // Never more ticks over the threads than the run counted (a snapshot can see a
            // transfer between threads before the count it moves).
            let ticks = t.ticks.min(report.ticks.count.saturating_sub(kept_ticks));
            let after = ticks.saturating_sub(t.warmup_ticks);
            let busy_s = busy_ns(t.warmup_ns, after, t.timed, t.timed_ns)? / 1e9;
            kept_ticks += ticks;
            kept_after += after;
            kept_warmup_ns += t.warmup_ns;
            listed.push(ThreadInsideTicks {
                thread: t.thread.clone(),
                tid: t.tid,
                run: None,
                ticks,
                timed: t.timed,
                busy_s,
                wall_fraction: fraction(busy_s, wall_s)?,
                cpu_time_s: t.cpu_time_s,
                cpu_fraction: t.cpu_time_s.and_then(|cpu| fraction(busy_s, cpu)),
            });
        }
        // Ticks counted on no thread's home (its state was gone), at the run's figures.
        let rest_after = report.ticks_after_warmup().saturating_sub(kept_after);
        let rest_warmup_ns = (run_warmup_ns - kept_warmup_ns).max(0.0);
        let rest_ns = if kept_ticks < report.ticks.count || threads.is_empty() {
            busy_ns(rest_warmup_ns, rest_after, 0, 0.0)?
        } else {
            0.0
        };
        let busy_s = listed.iter().map(|t| t.busy_s).sum::<f64>() + rest_ns / 1e9;
        if busy_s <= 0.0 || !busy_s.is_finite() {
            return None;
        }
        sort_busiest_first(&mut listed);
        Some(InsideTicks {
            busy_s,
            wall_fraction: fraction(busy_s, wall_s)?,
            cpu_fraction: cpu_time_s.and_then(|cpu| fraction(busy_s, cpu)),
            threads: listed,
        })
    }

    /// The figures of parts merged into one report: their busy times added, over their wall
    /// times and CPU times added (the share of the parts' own time, whether they ran one after
    /// another or side by side); `None` if any part has none. A part's threads are labelled
    /// with its run; a thread in several parts of one run adds up.
    pub(crate) fn merged<'a>(parts: impl IntoIterator<Item = &'a Report>) -> Option<Self> {
        let (mut busy_s, mut wall_s, mut cpu_s) = (0.0, 0.0, Some(0.0));
        // Per (run, thread, tid): the thread's sums, and the wall time of its parts.
        let mut threads: Vec<(ThreadInsideTicks, f64)> = Vec::new();
        for report in parts {
            let inside = report.inside_ticks.as_ref()?;
            busy_s += inside.busy_s;
            wall_s += report.total_time_s;
            // A part's CPU time, as its own fraction states it.
            cpu_s = cpu_s
                .zip(inside.cpu_fraction.filter(|f| *f > 0.0))
                .map(|(sum, f)| sum + inside.busy_s / f);
            for thread in &inside.threads {
                let run = thread.run.clone().unwrap_or_else(|| report.name.clone());
                let same = |(t, _): &&mut (ThreadInsideTicks, f64)| {
                    t.run.as_deref() == Some(run.as_str())
                        && t.thread == thread.thread
                        && t.tid == thread.tid
                };
                match threads.iter_mut().find(same) {
                    Some((t, wall)) => {
                        t.ticks += thread.ticks;
                        t.timed += thread.timed;
                        t.busy_s += thread.busy_s;
                        t.cpu_time_s = t.cpu_time_s.zip(thread.cpu_time_s).map(|(a, b)| a + b);
                        *wall += report.total_time_s;
                    }
                    None => threads.push((
                        ThreadInsideTicks {
                            run: Some(run),
                            ..thread.clone()
                        },
                        report.total_time_s,
                    )),
                }
            }
        }
        let mut threads: Vec<ThreadInsideTicks> = threads
            .into_iter()
            .map(|(mut t, wall)| {
                t.wall_fraction = fraction(t.busy_s, wall).unwrap_or(0.0);
                t.cpu_fraction = t.cpu_time_s.and_then(|cpu| fraction(t.busy_s, cpu));
                t
            })
            .collect();
        sort_busiest_first(&mut threads);
        (busy_s > 0.0 && wall_s > 0.0).then(|| InsideTicks {
            busy_s,
            wall_fraction: busy_s / wall_s,
            cpu_fraction: cpu_s.and_then(|cpu| fraction(busy_s, cpu)),
            threads,
        })
    }
}

/// `part / whole`, for a positive, finite whole.
fn fraction(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0 && whole.is_finite() && part.is_finite()).then(|| part / whole)
}

fn sort_busiest_first(threads: &mut [ThreadInsideTicks]) {
    threads.sort_by(|a, b| {
        b.busy_s
            .total_cmp(&a.busy_s)
            .then_with(|| a.thread.cmp(&b.thread))
    });
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
        // Unless windows recorded them: at the recorded ticks' mean.
        r.ticks.recorded = Some(latency(&[2_000; 50]));
        let inside = InsideTicks::estimate(&r, None).unwrap();
        assert!(
            (inside.busy_s - (0.005 + 9_900.0 * 2e-6)).abs() < 1e-9,
            "{inside:?}"
        );
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

    fn thread(name: &str, ticks: u64, timed: u64, mean_ns: f64, cpu: Option<f64>) -> ThreadTime {
        ThreadTime {
            thread: name.to_owned(),
            tid: Some(ticks as u32),
            ticks,
            timed,
            timed_ns: timed as f64 * mean_ns,
            cpu_time_s: cpu,
            ..ThreadTime::default()
        }
    }

    #[test]
    fn each_thread_at_its_own_mean_and_the_run_their_sum() {
        // 1,000 ticks over the run, timed at 2 µs pooled; but `fast` times 1 µs and `slow` 4 µs.
        let mut r = report("r", &[2_000; 100], &[]);
        r.ticks.count = 1_000;
        r.total_time_s = 0.01;
        let threads = [
            thread("fast", 600, 50, 1_000.0, Some(0.002)),
            thread("slow", 390, 50, 4_000.0, None),
            // No timed tick: at the run's mean.
            thread("rare", 10, 0, 0.0, None),
        ];
        let inside = InsideTicks::by_thread(&r, Some(0.004), &threads).unwrap();
        let busy: Vec<(&str, f64)> = inside
            .threads
            .iter()
            .map(|t| (t.thread.as_str(), t.busy_s))
            .collect();
        // Busiest first: 390 × 4 µs, 600 × 1 µs, 10 × 2 µs.
        let expected = [("slow", 1.56e-3), ("fast", 0.6e-3), ("rare", 0.02e-3)];
        for ((name, got), (want_name, want)) in busy.iter().zip(expected) {
            assert_eq!(*name, want_name);
            assert!((got - want).abs() < 1e-12, "{busy:?}");
        }
        assert!((inside.busy_s - 2.18e-3).abs() < 1e-12, "{inside:?}");
        let fast = &inside.threads[1];
        assert!((fast.wall_fraction - 0.06).abs() < 1e-9);
        assert!((fast.cpu_fraction.unwrap() - 0.3).abs() < 1e-9);
        assert_eq!(inside.threads[0].cpu_fraction, None);
        // Ticks no thread kept (10 of them) count at the run's mean.
        let inside = InsideTicks::by_thread(&r, None, &threads[..2]).unwrap();
        assert!((inside.busy_s - (2.16e-3 + 10.0 * 2e-6)).abs() < 1e-12);
    }

    #[test]
    fn one_thread_is_the_pooled_estimate() {
        let mut r = report("r", &[1_000; 100], &[]);
        r.ticks.count = 10_000;
        r.total_time_s = 0.1;
        let pooled = InsideTicks::estimate(&r, None).unwrap();
        let one = thread("main", 10_000, 100, 1_000.0, None);
        let by_thread = InsideTicks::by_thread(&r, None, &[one]).unwrap();
        assert!((pooled.busy_s - by_thread.busy_s).abs() < 1e-15);
        assert!(pooled.threads.is_empty());
        assert_eq!(by_thread.threads.len(), 1);
    }

    #[test]
    fn merged_threads_are_labelled_with_their_run_and_add_up_within_it() {
        let part = |name: &str, busy_s: f64, cpu_s: f64| {
            let mut r = report(name, &[1_000; 10], &[]);
            r.total_time_s = 1.0;
            let t = ThreadInsideTicks {
                thread: "main".to_owned(),
                tid: Some(7),
                run: None,
                ticks: 10,
                timed: 10,
                busy_s,
                wall_fraction: busy_s,
                cpu_time_s: Some(cpu_s),
                cpu_fraction: Some(busy_s / cpu_s),
            };
            r.inside_ticks = Some(InsideTicks {
                busy_s,
                wall_fraction: busy_s,
                cpu_fraction: Some(busy_s / cpu_s),
                threads: vec![t],
            });
            r
        };
        // Two intervals of run `a` (same thread) and one of run `b`.
        let (a1, a2, b) = (
            part("a", 0.1, 0.5),
            part("a", 0.3, 0.5),
            part("b", 0.2, 0.4),
        );
        let m = InsideTicks::merged([&a1, &a2, &b]).unwrap();
        let got: Vec<(Option<&str>, u64, f64, f64, f64)> = m
            .threads
            .iter()
            .map(|t| {
                (
                    t.run.as_deref(),
                    t.ticks,
                    t.busy_s,
                    t.wall_fraction,
                    t.cpu_fraction.unwrap(),
                )
            })
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        let (run, ticks, busy, wall, cpu) = got[0];
        assert_eq!((run, ticks), (Some("a"), 20));
        assert!((busy - 0.4).abs() < 1e-12 && (wall - 0.2).abs() < 1e-12);
        assert!((cpu - 0.4).abs() < 1e-12);
        assert_eq!((got[1].0, got[1].1), (Some("b"), 10));
        assert!((m.busy_s - m.threads.iter().map(|t| t.busy_s).sum::<f64>()).abs() < 1e-12);
    }
}
