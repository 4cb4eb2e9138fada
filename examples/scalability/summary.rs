//! `scalability_summary.json`, the comparison table and the verdicts: the seed's "Interpreting
//! Results" section made automatic. Pure computation over the reports; the only I/O is `save`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use tickprof::Report;

use crate::engine::{Digest, RunOutput};

/// Throughput at the largest size must be at least this share of the smallest's.
const LINEAR_SCALING_MIN_RATIO: f64 = 0.85;
/// p99 / mean above this means a heavy tail (blocking, allocation, preemption).
const TAIL_MAX_RATIO: f64 = 5.0;
/// Samples before this share of the run are warm-up (page faults, allocator growth).
const WARM_UP_SHARE: f64 = 0.2;
/// RSS growth per tick after warm-up above which we call it a leak. The workload's state is
/// O(1) (fixed ladders and rings, a pending queue bounded by the strategy, a reused fill
/// buffer) and the profiler's histograms are fixed-size, so the honest slope is 0. The smallest
/// real leak, one small heap allocation per tick, grows RSS by ≥ 16–32 B/tick; page granularity
/// (4 KiB) and allocator arena growth are a few hundred KiB over a run, i.e. < 1 B/tick at 1M
/// ticks. 2 B/tick sits between the two.
const LEAK_BYTES_PER_TICK: f64 = 2.0;
/// Peak RSS at the largest size may exceed the smallest's by this much (issue #4 target).
const PEAK_RSS_GROWTH_BYTES: f64 = 2.0 * 1024.0 * 1024.0;
/// Standard deviation of CPU samples, as a share of their mean, above which CPU use is spiky.
/// A compute-bound loop sits at ~100 % of one core; preemption on a shared 2-core machine
/// costs a few points, a periodic stall (GC-like pause, I/O) costs tens.
const CPU_MAX_VARIATION: f64 = 0.25;
/// Fewest post-warm-up samples a slope is fitted on.
const MIN_SLOPE_SAMPLES: usize = 3;
/// The profiled loop may take this many times the bare loop's time (issue "Truthful profiles":
/// the bench's default sampling costs ~1.13× on a ~355 ns tick; the driver's tick is ~0.6–0.8 µs
/// but runs next to its own data generation, and one pair of runs is noisier than the bench).
const DISTORTION_MAX_LOOP_RATIO: f64 = 1.25;
/// The reported mean tick latency may differ from the bare loop's time per tick by this ratio
/// (the loop's time per tick also holds the work between ticks: reading the next line).
const DISTORTION_MAX_TICK_RATIO: f64 = 1.15;

/// One run's key figures.
#[derive(Debug, Clone, Serialize)]
pub struct RunFigures {
    /// Report name.
    pub name: String,
    /// Ticks processed.
    pub ticks: u64,
    /// Profiling window, s (generation included).
    pub total_time_s: f64,
    /// The report's throughput: ticks / total_time_s.
    pub throughput_per_s: f64,
    /// Profiled ticks / time inside the tick loop (generation excluded).
    pub loop_throughput_per_s: f64,
    /// Bare (no subscriber) ticks / time inside the tick loop.
    pub bare_throughput_per_s: f64,
    /// Wall time of the bare runs, s (generation included; their mean).
    pub bare_wall_time_s: f64,
    /// Time in the tick loop of the bare run before the profiled one and of the one after, s.
    pub bare_loop_time_s: [f64; 2],
    /// How much the two bare runs differ, as a share of their mean: the machine's noise, which
    /// the ratios to bare carry too.
    pub bare_spread: f64,
    /// How many times longer the profiled loop took than the bare one.
    pub loop_ratio: f64,
    /// The reported mean tick latency over the bare loop's time per tick.
    pub tick_mean_ratio: f64,
    /// Tick latency mean, µs.
    pub mean_us: f64,
    /// Tick latency median, µs.
    pub p50_us: f64,
    /// Tick latency p99, µs.
    pub p99_us: f64,
    /// Tick latency p99.9, µs.
    pub p999_us: f64,
    /// Tick latency max, µs.
    pub max_us: f64,
    /// OS high-water mark of RSS during the run.
    pub peak_rss_bytes: Option<u64>,
    /// Mean CPU, % of one core.
    pub cpu_mean_percent: Option<f64>,
    /// Max CPU sample, % of one core.
    pub cpu_max_percent: Option<f64>,
    /// CPU time per tick, µs (user + system; workload.md §6).
    pub cpu_us_per_tick: Option<f64>,
    /// The backtest's digest (equal to the bare run's).
    pub digest: Digest,
}

/// The two bare runs around a profiled one: their mean cancels a steady drift of the machine's
/// speed, their difference measures its noise.
#[derive(Debug, Clone, Copy)]
pub struct BareRuns {
    /// Tick-loop time of the run before and of the run after the profiled one, s.
    pub loop_time_s: [f64; 2],
    /// Mean wall time of the two runs, s.
    pub wall_time_s: f64,
}

impl BareRuns {
    /// The runs before and after the profiled one.
    pub fn new(before: &RunOutput, after: &RunOutput) -> Self {
        BareRuns {
            loop_time_s: [
                before.loop_time.as_secs_f64(),
                after.loop_time.as_secs_f64(),
            ],
            wall_time_s: (before.wall_time + after.wall_time).as_secs_f64() / 2.0,
        }
    }

    /// Mean tick-loop time, s.
    pub fn loop_time_s(&self) -> f64 {
        (self.loop_time_s[0] + self.loop_time_s[1]) / 2.0
    }

    /// Ticks per second of the mean loop time.
    pub fn per_s(&self, ticks: u64) -> f64 {
        ticks as f64 / self.loop_time_s().max(1e-9)
    }

    /// |before − after| / mean.
    pub fn spread(&self) -> f64 {
        (self.loop_time_s[0] - self.loop_time_s[1]).abs() / self.loop_time_s().max(1e-9)
    }
}

/// Pass, fail, or not enough data to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Within the rule.
    Pass,
    /// Outside the rule.
    Fail,
    /// Not evaluable (one size only, no samples, or the machine's noise larger than the
    /// difference to the limit).
    Skipped,
}

/// One automatic check.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// What is checked.
    pub check: &'static str,
    /// The outcome.
    pub status: Status,
    /// The measured figure.
    pub figure: String,
    /// The rule applied.
    pub rule: String,
}

impl Verdict {
    fn icon(&self) -> &'static str {
        match self.status {
            Status::Pass => "✅",
            Status::Fail => "❌",
            Status::Skipped => "➖",
        }
    }
}

/// The whole summary file.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Identifies this file (and tells `generate_graphs` it is not a report).
    pub kind: &'static str,
    /// Generator seed.
    pub seed: u64,
    /// One entry per size, smallest first.
    pub runs: Vec<RunFigures>,
    /// The verdicts.
    pub verdicts: Vec<Verdict>,
    /// Wall time of the whole driver up to writing this file (bare and profiled runs, graphs).
    pub driver_wall_time_s: f64,
    /// The driver process's RSS high-water mark (`VmHWM`), when the OS reports it.
    pub process_peak_rss_bytes: Option<u64>,
    /// Machine load averages (1, 5, 15 min) when the driver started.
    pub load_average_before: Option<[f64; 3]>,
    /// The same when it finished.
    pub load_average_after: Option<[f64; 3]>,
}

impl Summary {
    /// Figures plus verdicts; `reports` are the same runs, for the sample series.
    pub fn new(seed: u64, runs: Vec<RunFigures>, reports: &[Report]) -> Self {
        let verdicts = vec![
            distortion(&runs),
            linear_scaling(&runs),
            tail_latency(&runs),
            memory_growth(&runs, reports),
            cpu_spikes(reports),
        ];
        Summary {
            kind: "tickprof-scalability-summary",
            seed,
            runs,
            verdicts,
            driver_wall_time_s: 0.0,
            process_peak_rss_bytes: None,
            load_average_before: None,
            load_average_after: None,
        }
    }

    /// Writes the summary as pretty JSON (temporary file + rename).
    ///
    /// # Errors
    /// The I/O error, naming the path.
    pub fn save(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let json = serde_json::to_string_pretty(self)?;
        let temp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&temp, json)
            .and_then(|()| std::fs::rename(&temp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(())
    }

    /// The comparison table and the verdicts, for the terminal.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let rule = "=".repeat(118);
        let _ = writeln!(
            s,
            "{rule}\nScalability summary (seed {})\n{rule}",
            self.seed
        );
        let _ = writeln!(
            s,
            "{:>10} {:>8} {:>11} {:>11} {:>11} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7} {:>8}",
            "ticks",
            "time s",
            "ticks/s",
            "loop/s",
            "bare/s",
            "× bare",
            "mean µs",
            "p50 µs",
            "p99 µs",
            "peak MB",
            "CPU %",
            "CPU µs/t"
        );
        let opt = |v: Option<f64>, digits: usize| {
            v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
        };
        for r in &self.runs {
            let _ = writeln!(
                s,
                "{:>10} {:>8.3} {:>11.0} {:>11.0} {:>11.0} {:>8.2}× {:>8.3} {:>8.3} {:>8.3} {:>9} {:>7} {:>8}",
                r.ticks,
                r.total_time_s,
                r.throughput_per_s,
                r.loop_throughput_per_s,
                r.bare_throughput_per_s,
                r.loop_ratio,
                r.mean_us,
                r.p50_us,
                r.p99_us,
                opt(r.peak_rss_bytes.map(|b| b as f64 / 1e6), 1),
                opt(r.cpu_mean_percent, 1),
                opt(r.cpu_us_per_tick, 3),
            );
        }
        let _ = writeln!(
            s,
            "\ndriver: {:.2} s wall for all runs and graphs; process peak RSS (VmHWM) {}",
            self.driver_wall_time_s,
            opt(self.process_peak_rss_bytes.map(|b| b as f64 / 1e6), 1) + " MB"
        );
        let load = |l: Option<[f64; 3]>| {
            l.map_or_else(
                || "-".to_owned(),
                |[a, b, c]| format!("{a:.2} {b:.2} {c:.2}"),
            )
        };
        let _ = writeln!(
            s,
            "machine load average (1/5/15 min): {} at start, {} at end, {} logical CPUs",
            load(self.load_average_before),
            load(self.load_average_after),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        let _ = writeln!(s);
        for v in &self.verdicts {
            let _ = writeln!(s, "{} {:<16} {}  ({})", v.icon(), v.check, v.figure, v.rule);
        }
        s.push_str(&rule);
        s
    }
}

fn verdict(check: &'static str, pass: bool, figure: String, rule: String) -> Verdict {
    Verdict {
        check,
        status: if pass { Status::Pass } else { Status::Fail },
        figure,
        rule,
    }
}

fn skipped(check: &'static str, why: &str, rule: String) -> Verdict {
    Verdict {
        check,
        status: Status::Skipped,
        figure: why.to_owned(),
        rule,
    }
}

/// How much the profiler changed what it measured, in the largest run (small runs are a few
/// milliseconds: the run's fixed costs, calibration's first window and the machine's noise
/// weigh more than the loop; each size's ratios are printed as it finishes): the profiled loop
/// against the bare one, and the reported tick mean against the bare loop's time per tick.
///
/// A ratio over its limit fails only when it stays over after allowing for the machine's noise
/// (the two bare runs' spread); a ratio between the limit and the limit plus the noise is
/// inconclusive, and said to be.
pub fn distortion(runs: &[RunFigures]) -> Verdict {
    let rule = format!(
        "largest run: profiled loop ≤ {DISTORTION_MAX_LOOP_RATIO}× bare and reported tick mean \
         ≤ {DISTORTION_MAX_TICK_RATIO}× bare time per tick; over by less than the bare runs' \
         spread is inconclusive"
    );
    let Some(r) = runs.iter().max_by_key(|r| r.ticks) else {
        return skipped("profiler distortion", "no runs", rule);
    };
    let figure = format!(
        "profiled loop {:.2}× bare, reported tick mean {:.2}× bare, at {} ticks; the bare runs \
         before and after differ by {:.1}%",
        r.loop_ratio,
        r.tick_mean_ratio,
        r.ticks,
        100.0 * r.bare_spread
    );
    let within =
        r.loop_ratio <= DISTORTION_MAX_LOOP_RATIO && r.tick_mean_ratio <= DISTORTION_MAX_TICK_RATIO;
    let noise = 1.0 + r.bare_spread;
    let beyond_noise = r.loop_ratio > DISTORTION_MAX_LOOP_RATIO * noise
        || r.tick_mean_ratio > DISTORTION_MAX_TICK_RATIO * noise;
    if within || beyond_noise {
        verdict("profiler distortion", within, figure, rule)
    } else {
        Verdict {
            check: "profiler distortion",
            status: Status::Skipped,
            figure: format!("{figure}: over the limit by less than the noise, inconclusive"),
            rule,
        }
    }
}

/// Throughput at the largest size vs the smallest.
pub fn linear_scaling(runs: &[RunFigures]) -> Verdict {
    let rule = format!(
        "throughput at the largest N ≥ {:.0}% of the smallest",
        100.0 * LINEAR_SCALING_MIN_RATIO
    );
    match (runs.first(), runs.last()) {
        (Some(small), Some(large)) if runs.len() > 1 && small.throughput_per_s > 0.0 => {
            let ratio = large.throughput_per_s / small.throughput_per_s;
            verdict(
                "linear scaling",
                ratio >= LINEAR_SCALING_MIN_RATIO,
                format!(
                    "{:.0} ticks/s at {} vs {:.0} at {} = {:.1}%",
                    large.throughput_per_s,
                    large.ticks,
                    small.throughput_per_s,
                    small.ticks,
                    100.0 * ratio
                ),
                rule,
            )
        }
        _ => skipped("linear scaling", "needs two sizes", rule),
    }
}

/// The worst p99 / mean over the runs.
pub fn tail_latency(runs: &[RunFigures]) -> Verdict {
    let rule = format!("tick p99 / mean ≤ {TAIL_MAX_RATIO} in every run");
    let worst = runs
        .iter()
        .filter(|r| r.mean_us > 0.0)
        .map(|r| (r.p99_us / r.mean_us, r))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match worst {
        Some((ratio, r)) => verdict(
            "tail latency",
            ratio <= TAIL_MAX_RATIO,
            format!(
                "worst p99/mean {ratio:.2} ({:.3} / {:.3} µs at {})",
                r.p99_us, r.mean_us, r.ticks
            ),
            rule,
        ),
        None => skipped("tail latency", "no tick latencies", rule),
    }
}

/// Least-squares slope of `ys` over `xs`.
pub fn slope(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    if xs.len() < 2 || xs.len() != ys.len() {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// RSS slope per tick after warm-up in the largest run, and peak RSS growth across sizes.
pub fn memory_growth(runs: &[RunFigures], reports: &[Report]) -> Verdict {
    let rule = format!(
        "RSS slope after the first {:.0}% ≤ {LEAK_BYTES_PER_TICK} B/tick in the largest run; \
         peak RSS largest − smallest ≤ {:.0} MiB",
        100.0 * WARM_UP_SHARE,
        PEAK_RSS_GROWTH_BYTES / 1048576.0
    );
    let Some(report) = reports.iter().max_by_key(|r| r.ticks.count) else {
        return skipped("memory growth", "no runs", rule);
    };
    let Some(res) = &report.resources else {
        return skipped("memory growth", "resources not sampled", rule);
    };
    // Time-based warm-up cut, slope per ms converted to per tick with the run's throughput
    // (independent of whether samples carry tick counts).
    let total_ms = report.total_time_s * 1e3;
    let (xs, ys): (Vec<f64>, Vec<f64>) = res
        .samples
        .iter()
        .filter(|s| s.elapsed_ms >= WARM_UP_SHARE * total_ms)
        .map(|s| (s.elapsed_ms, s.rss_bytes as f64))
        .unzip();
    let ticks_per_ms = report.ticks.throughput_per_s / 1e3;
    let per_tick = if xs.len() >= MIN_SLOPE_SAMPLES && ticks_per_ms > 0.0 {
        slope(&xs, &ys).map(|s| s / ticks_per_ms)
    } else {
        None
    };
    let peaks: Vec<u64> = runs.iter().filter_map(|r| r.peak_rss_bytes).collect();
    let peak_growth = match (peaks.first(), peaks.last()) {
        (Some(&a), Some(&b)) if peaks.len() > 1 => Some(b as f64 - a as f64),
        _ => None,
    };
    let slope_text = per_tick.map_or_else(
        || {
            format!(
                "slope n/a ({} samples after warm-up; lower --sample-interval-ms)",
                xs.len()
            )
        },
        |s| format!("slope {s:+.3} B/tick over {} samples", xs.len()),
    );
    let growth_text = peak_growth.map_or_else(String::new, |g| {
        format!(", peak RSS growth {:+.2} MB", g / 1e6)
    });
    if per_tick.is_none() && peak_growth.is_none() {
        return skipped("memory growth", &slope_text, rule);
    }
    let leak = per_tick.is_some_and(|s| s > LEAK_BYTES_PER_TICK)
        || peak_growth.is_some_and(|g| g > PEAK_RSS_GROWTH_BYTES);
    verdict(
        "memory growth",
        !leak,
        format!(
            "{slope_text}{growth_text}{}",
            if leak { " — LEAK suspected" } else { "" }
        ),
        rule,
    )
}

/// Variation of the CPU samples of the largest run.
pub fn cpu_spikes(reports: &[Report]) -> Verdict {
    let rule = format!(
        "stddev of CPU samples ≤ {:.0}% of their mean (largest run)",
        100.0 * CPU_MAX_VARIATION
    );
    let Some(report) = reports.iter().max_by_key(|r| r.ticks.count) else {
        return skipped("CPU spikes", "no runs", rule);
    };
    let Some(res) = &report.resources else {
        return skipped("CPU spikes", "resources not sampled", rule);
    };
    let cpu: Vec<f64> = res.samples.iter().map(|s| s.cpu_percent).collect();
    if cpu.len() < 2 {
        return skipped(
            "CPU spikes",
            &format!(
                "{} sample(s); lower --sample-interval-ms for a spread",
                cpu.len()
            ),
            rule,
        );
    }
    let n = cpu.len() as f64;
    let mean = cpu.iter().sum::<f64>() / n;
    let std = (cpu.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n).sqrt();
    let (min, max) = cpu
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &c| {
            (lo.min(c), hi.max(c))
        });
    let variation = if mean > 0.0 { std / mean } else { 0.0 };
    verdict(
        "CPU spikes",
        variation <= CPU_MAX_VARIATION,
        format!(
            "mean {mean:.1}%, stddev {std:.1} pp ({:.0}% of mean), range {min:.1}–{max:.1}% over {} samples",
            100.0 * variation,
            cpu.len()
        ),
        rule,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(loop_ratio: f64, tick_mean_ratio: f64, bare_spread: f64) -> RunFigures {
        let digest = crate::engine::run(10, 42, &mut |_| {}).unwrap().digest;
        RunFigures {
            name: "scalability_10".into(),
            ticks: 10,
            total_time_s: 1.0,
            throughput_per_s: 10.0,
            loop_throughput_per_s: 10.0,
            bare_throughput_per_s: 10.0,
            bare_wall_time_s: 1.0,
            bare_loop_time_s: [1.0, 1.0],
            bare_spread,
            loop_ratio,
            tick_mean_ratio,
            mean_us: 1.0,
            p50_us: 1.0,
            p99_us: 1.0,
            p999_us: 1.0,
            max_us: 1.0,
            peak_rss_bytes: None,
            cpu_mean_percent: None,
            cpu_max_percent: None,
            cpu_us_per_tick: None,
            digest,
        }
    }

    #[test]
    fn distortion_passes_within_the_limits_fails_beyond_the_noise_and_says_when_it_cannot_tell() {
        assert_eq!(
            distortion(&[figures(1.10, 1.05, 0.30)]).status,
            Status::Pass
        );
        assert_eq!(
            distortion(&[figures(1.30, 1.05, 0.02)]).status,
            Status::Fail
        );
        assert_eq!(
            distortion(&[figures(1.10, 1.20, 0.02)]).status,
            Status::Fail
        );
        let unsure = distortion(&[figures(1.30, 1.05, 0.10)]);
        assert_eq!(unsure.status, Status::Skipped);
        assert!(unsure.figure.contains("inconclusive"), "{}", unsure.figure);
        assert!(
            unsure.figure.contains("differ by 10.0%"),
            "{}",
            unsure.figure
        );
        // Only the largest run counts.
        let mut small = figures(3.0, 3.0, 0.0);
        small.ticks = 1;
        assert_eq!(
            distortion(&[small, figures(1.0, 1.0, 0.0)]).status,
            Status::Pass
        );
        assert_eq!(distortion(&[]).status, Status::Skipped);
    }

    #[test]
    fn bare_runs_average_and_spread() {
        let run = |ms| RunOutput {
            digest: crate::engine::run(10, 42, &mut |_| {}).unwrap().digest,
            loop_time: std::time::Duration::from_millis(ms),
            wall_time: std::time::Duration::from_millis(2 * ms),
        };
        let bare = BareRuns::new(&run(900), &run(1100));
        assert!((bare.loop_time_s() - 1.0).abs() < 1e-12);
        assert!((bare.spread() - 0.2).abs() < 1e-12);
        assert!((bare.per_s(1_000) - 1_000.0).abs() < 1e-9);
        assert!((bare.wall_time_s - 2.0).abs() < 1e-12);
    }

    #[test]
    fn least_squares_slope() {
        assert_eq!(slope(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]), Some(2.0));
        assert_eq!(slope(&[1.0], &[1.0]), None);
        assert_eq!(slope(&[1.0, 1.0], &[1.0, 2.0]), None);
    }
}
