//! `scalability_summary.json` and the comparison table: each run's figures and the verdicts
//! (in `verdicts`). Pure computation over the reports; the only I/O is `save`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use tickprof::Report;
use tickprof::scaling::ScalingRun;

use crate::engine::Digest;
use crate::verdicts::{
    Verdict, cpu_spikes, distortion, linear_scaling, memory_growth, tail_latency, tick_outliers,
};

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
    /// Ticks at the start of every run timed apart from the rest (the warm-up).
    pub warm_up_ticks: u64,
    /// Tick-loop time after the warm-up of the bare run before and of the one after, s.
    pub bare_steady_loop_time_s: [f64; 2],
    /// Bare time per tick after the warm-up, mean of the two runs, ns; `null` when the run is
    /// all warm-up.
    pub bare_steady_ns_per_tick: Option<f64>,
    /// How much the two bare runs' times after the warm-up differ, as a share of their mean.
    pub bare_steady_spread: Option<f64>,
    /// Profiled time per tick after the warm-up, ns; `null` when the run is all warm-up.
    pub profiled_steady_ns_per_tick: Option<f64>,
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
    /// Ticks timed: the latency figures are over these (with sampling, a share of the ticks).
    pub timed_ticks: u64,
    /// Whether the timed ticks hold a far outlier (the report's `tick_outliers`), which a
    /// sampled run weighs as many ticks in the mean.
    pub timed_far_outlier: bool,
    /// The share of the run's wall time inside ticks, % (the report's `inside_ticks`).
    pub inside_ticks_wall_percent: Option<f64>,
    /// OS high-water mark of RSS during the run.
    pub peak_rss_bytes: Option<u64>,
    /// The process's RSS as the run started: what earlier runs left (the allocator keeps freed
    /// memory), so that the run's own growth is `peak_rss_bytes` less this.
    pub rss_at_start_bytes: Option<u64>,
    /// Mean CPU, % of one core.
    pub cpu_mean_percent: Option<f64>,
    /// Max CPU sample, % of one core.
    pub cpu_max_percent: Option<f64>,
    /// CPU time per tick, µs (user + system; workload.md §6).
    pub cpu_us_per_tick: Option<f64>,
    /// Allocations per timed tick after the warm-up, p99; `null` when the report counted none.
    pub tick_allocations_p99: Option<u64>,
    /// The most allocations in one timed tick after the warm-up; `null` when not counted.
    pub tick_allocations_max: Option<u64>,
    /// The components that allocated in a recorded tick (their own allocations, children
    /// excluded); `null` when the report counted none.
    pub allocating_components: Option<Vec<String>>,
    /// The backtest's digest (equal to the bare run's).
    pub digest: Digest,
}

impl RunFigures {
    /// The run as the scaling estimator takes it: the same figures, from the report's loop
    /// times ([`tickprof::scaling::ScalingRun::of`] gives the same from the report).
    pub fn scaling_run(&self) -> ScalingRun {
        ScalingRun {
            name: self.name.clone(),
            ticks: self.ticks,
            bare_ns: self.bare_steady_ns_per_tick,
            profiled_ns: self.profiled_steady_ns_per_tick,
            loop_after_warmup_s: (self.bare_steady_loop_time_s[0]
                + self.bare_steady_loop_time_s[1])
                / 2.0,
            noise: self.bare_steady_spread,
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
    /// Figures plus verdicts; `reports` are the same runs, for the sample series and the
    /// components named in what to do next.
    pub fn new(seed: u64, runs: Vec<RunFigures>, reports: &[Report]) -> Self {
        let verdicts = vec![
            distortion(&runs),
            linear_scaling(&runs, reports),
            tail_latency(&runs, reports),
            tick_outliers(&runs, reports),
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
        let rule = "=".repeat(136);
        let _ = writeln!(
            s,
            "{rule}\nScalability summary (seed {})\n{rule}",
            self.seed
        );
        let _ = writeln!(
            s,
            "{:>10} {:>8} {:>11} {:>11} {:>11} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>6} {:>8}",
            "ticks",
            "time s",
            "ticks/s",
            "loop/s",
            "bare/s",
            "× bare",
            "bare µs/t",
            "mean µs",
            "p50 µs",
            "p99 µs",
            "p99.9 µs",
            "max µs",
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
                "{:>10} {:>8.3} {:>11.0} {:>11.0} {:>11.0} {:>8.2}× {:>9} {:>8.3} {:>8.3} {:>8.3} {:>9.3} {:>9.3} {:>8} {:>6} {:>8}",
                r.ticks,
                r.total_time_s,
                r.throughput_per_s,
                r.loop_throughput_per_s,
                r.bare_throughput_per_s,
                r.loop_ratio,
                opt(r.bare_steady_ns_per_tick.map(|ns| ns / 1e3), 3),
                r.mean_us,
                r.p50_us,
                r.p99_us,
                r.p999_us,
                r.max_us,
                opt(r.peak_rss_bytes.map(|b| b as f64 / 1e6), 1),
                opt(r.cpu_mean_percent, 1),
                opt(r.cpu_us_per_tick, 3),
            );
        }
        let _ = writeln!(
            s,
            "(bare µs/t: the bare loop's time per tick after the first {} ticks, mean of the runs \
             before and after the profiled one; latency over the timed ticks)",
            self.runs.first().map_or(0, |r| r.warm_up_ticks)
        );
        for r in &self.runs {
            if let (Some(p99), Some(max)) = (r.tick_allocations_p99, r.tick_allocations_max) {
                let components = match r.allocating_components.as_deref() {
                    Some([]) | None => "no component allocated".to_owned(),
                    Some(names) => format!("allocating: {}", names.join(", ")),
                };
                let _ = writeln!(
                    s,
                    "allocations, {} ticks: per timed tick p99 {p99}, max {max}; {components}",
                    r.ticks
                );
            }
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
            let _ = writeln!(s, "{}", v.lines());
        }
        s.push_str(&rule);
        s
    }
}
