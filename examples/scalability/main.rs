//! The scalability driver: the seed's `run_scalability_test.py` and `generate_graphs.py`.
//!
//! For each size it runs the synthetic backtest three times: bare (tickprof installed but no run
//! active: no span exists, so this is the engine's own speed), profiled by tickprof, and bare
//! again; then it writes `scalability_<N>.json`, a `scalability_summary.json` with the key figures and
//! verdicts, and the graphs.
//!
//! ```text
//! cargo run --release --example scalability -- --ticks 10000,100000,1000000 --out reports
//! ```
//!
//! The driver's allocator is tickprof's `CountingAllocator`, so each report says where the
//! workload allocates (`ticks.allocations`, `components.<name>.allocations`, the summary's
//! Allocations block and a line per run in the table). The engine is written not to: it parses
//! by hand into a `Tick`, generates each chunk of text into one reused buffer outside the
//! spans, and reuses its fill buffer. Measured with a probe layer reading the same counters at
//! every span's enter and exit (200,000 ticks, seed 42, 2026-12-07): one allocation in the
//! whole loop, in the warm-up, where the first `submit_order` grows the matcher's pending-order
//! queue (192 bytes); none after the first 1,024 ticks, in any component.

// An example binary has no public API: `pub` here marks each module's interface to the driver.
#![allow(unreachable_pub)]

mod book;
mod engine;
mod generator;
mod indicators;
mod matching;
mod parse;
mod portfolio;
mod progress;
mod risk;
mod strategy;
mod summary;
mod verdicts;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use tickprof::{LoopComparison, LoopTimes, MetricsCollector, Report};
use tracing_subscriber::layer::SubscriberExt;

use crate::engine::RunOutput;
use crate::progress::Progress;
use crate::summary::{RunFigures, Summary};

/// Profiles a synthetic backtest tick loop at several sizes and writes reports and graphs.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Tick counts to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10000,100000,1000000",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    ticks: Vec<u64>,
    /// Directory for the JSON reports and PNG graphs (created if missing).
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Seed of the market data generator (same seed → same data, same digest).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Resource sampling period in ms. 100 ms here (the library defaults to 500 ms): the 1M-tick
    /// run lasts ~1.6 s, and the resource graph and the memory-growth verdict need more than
    /// 3 points. The run's mean CPU is exact at any period; single samples are ±10 pp at 100 ms.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    sample_interval_ms: u64,
    /// Skip drawing the PNG graphs.
    #[arg(long)]
    no_graphs: bool,
}

type BoxError = Box<dyn std::error::Error>;

/// Counts every allocation on the thread that makes it: the reports' allocation figures.
/// Bare and profiled runs pay it alike (a few ns per allocation, and the loop makes none).
#[global_allocator]
static ALLOC: tickprof::CountingAllocator = tickprof::CountingAllocator::system();

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scalability: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), BoxError> {
    let started = Instant::now();
    let load_before = load_average();
    let collector = MetricsCollector::builder()
        .tick_span("tick")
        .sample_interval(Duration::from_millis(args.sample_interval_ms))
        .build()?;
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(collector.layer()),
    )?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;

    let mut ticks = args.ticks.clone();
    ticks.sort_unstable();
    ticks.dedup();
    let mut figures = Vec::new();
    let mut reports = Vec::new();
    for &n in &ticks {
        // Bare runs before and after the profiled one, under the same global subscriber with
        // no run active: tickprof wants no span and no other layer does, so none is created (a
        // scoped no-op dispatcher instead would make every span macro take tracing's slower
        // scoped path). Two bare runs around the profiled one cancel a drift of the machine's
        // speed, and their difference says how noisy the comparison is.
        // Progress: the engine's own count for the bare runs (no run is active, so the profiler
        // counts nothing); for the profiled run, the collector's count (`ticks_so_far`, what a
        // user's own loop would poll), read when the engine stops after a chunk.
        let bare_run = || {
            let mut shown = Progress::new(&format!("bare {n}"), n);
            engine::run(n, args.seed, &mut |done| shown.update(done))
        };
        let bare_before = bare_run()?;
        let name = format!("scalability_{n}");
        let rss_at_start = process_rss_bytes("VmRSS:");
        collector.start_profiling(&name)?;
        let mut shown = Progress::new(&format!("profiled {n}"), n);
        let result = engine::run(n, args.seed, &mut |_| {
            shown.update(collector.ticks_so_far());
        });
        let mut report = collector.stop_profiling()?;
        let profiled = result?;
        let bare_after = bare_run()?;
        for bare in [&bare_before, &bare_after] {
            if profiled.digest != bare.digest {
                return Err(format!(
                    "the profiled run changed the backtest: {} vs bare {}",
                    profiled.digest, bare.digest
                )
                .into());
            }
        }
        // The loops' times go into the report: the summary, the graphs and the verdicts read
        // them there, one source for every figure made from them.
        let comparison =
            LoopComparison::from_times(loop_times(&bare_before, &profiled, &bare_after));
        println!(
            "bare runs {n}: {:.3} s and {:.3} s in the tick loop (before and after the profiled \
             run), {:.0} ticks/s",
            bare_before.loop_time.as_secs_f64(),
            bare_after.loop_time.as_secs_f64(),
            comparison.bare_per_s
        );
        report.loop_comparison = Some(comparison);
        report.print_summary();
        println!("{}", profiled.digest);
        let bare_wall_time_s = (bare_before.wall_time + bare_after.wall_time).as_secs_f64() / 2.0;
        let mut figures_of_run = RunFigures::new(&report, bare_wall_time_s, &profiled.digest)
            .ok_or("the report lost its loop times")?;
        figures_of_run.rss_at_start_bytes = rss_at_start;
        println!(
            "{n} ticks: profiled loop {:.2}× bare; reported tick mean {:.2}× bare",
            figures_of_run.loop_ratio, figures_of_run.tick_mean_ratio
        );
        let path = args.out.join(format!("{name}.json"));
        report.save_json(&path)?;
        println!("wrote {}", path.display());
        figures.push(figures_of_run);
        reports.push(report);
    }

    if !args.no_graphs {
        for line in draw_graphs(&reports, &args.out)? {
            println!("{line}");
        }
    }

    let mut summary = Summary::new(args.seed, figures, &reports);
    summary.driver_wall_time_s = started.elapsed().as_secs_f64();
    summary.process_peak_rss_bytes = process_peak_rss_bytes();
    summary.load_average_before = load_before;
    summary.load_average_after = load_average();
    println!("{}", summary.table());
    let path = args.out.join("scalability_summary.json");
    summary.save(&path)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// 1-, 5- and 15-minute load averages (Linux): other work on the machine moves every figure,
/// so the summary records how busy it was.
fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    Some([
        fields.next()?.ok()?,
        fields.next()?.ok()?,
        fields.next()?.ok()?,
    ])
}

/// The whole process's RSS high-water mark (`VmHWM`, Linux), read without `unsafe`: the figure
/// the ≤ 32 MB target is about (bare runs, profiled runs and graphs together).
fn process_peak_rss_bytes() -> Option<u64> {
    process_rss_bytes("VmHWM:")
}

/// A field of `/proc/self/status` in bytes (`VmRSS:` now, `VmHWM:` the high-water mark).
fn process_rss_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Draws every graph for this invocation's reports (not stale ones in `out`; for those,
/// `generate_graphs` redraws the whole directory); returns a line per graph, `wrote PATH`, or
/// why a `slow_ticks_<N>.png` was not drawn (a run that kept no slow ticks), as
/// `generate_graphs` says it.
fn draw_graphs(reports: &[Report], out: &Path) -> Result<Vec<String>, BoxError> {
    let wrote = |path: &Path| format!("wrote {}", path.display());
    let mut lines = Vec::new();
    let path = out.join("scalability_metrics.png");
    tickprof::graphs::scalability_metrics(reports, &path)?;
    lines.push(wrote(&path));
    // One colour per component in every run's graph, whichever components each run saw.
    let palette = tickprof::graphs::Palette::from_reports(reports);
    for report in reports {
        let label = report
            .name
            .strip_prefix("scalability_")
            .unwrap_or(&report.name);
        let path = out.join(format!("latency_{label}.png"));
        tickprof::graphs::latency_distribution_with(report, &palette, &path)?;
        lines.push(wrote(&path));
        let path = out.join(format!("resources_{label}.png"));
        tickprof::graphs::resources(report, &path)?;
        lines.push(wrote(&path));
        // The slowest ticks' timelines, unless the run kept none (then why, as generate_graphs
        // says it).
        let path = out.join(format!("slow_ticks_{label}.png"));
        match tickprof::graphs::NotDrawn::slow_ticks(report, &path) {
            None => {
                tickprof::graphs::slow_ticks(report, &palette, &path)?;
                lines.push(wrote(&path));
            }
            Some(skipped) => lines.push(skipped.to_string()),
        }
    }
    Ok(lines)
}

/// The loops' times: the bare run before the profiled one, the profiled one, the bare one
/// after; each whole and after its first `engine::WARM_UP_TICKS` ticks.
fn loop_times(before: &RunOutput, profiled: &RunOutput, after: &RunOutput) -> LoopTimes {
    let s = |d: Duration| d.as_secs_f64();
    LoopTimes {
        ticks: profiled.digest.ticks,
        // The engine's own split of its loop (its first `WARM_UP_TICKS`).
        warmup_ticks: profiled.digest.ticks - profiled.steady_ticks(),
        bare_s: [s(before.loop_time), s(after.loop_time)],
        profiled_s: s(profiled.loop_time),
        bare_after_warmup_s: [s(before.steady_loop_time), s(after.steady_loop_time)],
        profiled_after_warmup_s: s(profiled.steady_loop_time),
    }
}

impl RunFigures {
    /// A run's key figures, all from its report (`loop_comparison` included: `None` without
    /// its loop times), with the bare runs' wall time and the backtest's digest.
    fn new(report: &Report, bare_wall_time_s: f64, digest: &crate::engine::Digest) -> Option<Self> {
        let comparison = report.loop_comparison.as_ref()?;
        let times = comparison.times.as_ref()?;
        let n = report.ticks.count.max(times.ticks);
        let t = &report.ticks.latency;
        let r = report.resources.as_ref();
        Some(RunFigures {
            name: report.name.clone(),
            ticks: n,
            total_time_s: report.total_time_s,
            throughput_per_s: report.ticks.throughput_per_s,
            loop_throughput_per_s: comparison.profiled_per_s,
            bare_throughput_per_s: comparison.bare_per_s,
            bare_wall_time_s,
            bare_loop_time_s: times.bare_s,
            bare_spread: times.bare_spread(),
            warm_up_ticks: times.warmup_ticks,
            bare_steady_loop_time_s: times.bare_after_warmup_s,
            bare_steady_ns_per_tick: times.bare_ns_per_tick(),
            bare_steady_spread: times.bare_spread_after_warmup(),
            profiled_steady_ns_per_tick: times.profiled_ns_per_tick(),
            loop_ratio: comparison.slowdown(),
            tick_mean_ratio: comparison.tick_mean_ratio(t.mean_ns),
            mean_us: t.mean_ns / 1e3,
            p50_us: t.p50_ns as f64 / 1e3,
            p99_us: t.p99_ns as f64 / 1e3,
            p999_us: t.p999_ns as f64 / 1e3,
            max_us: t.max_ns as f64 / 1e3,
            timed_ticks: t.samples,
            timed_far_outlier: report.tick_outliers().is_some_and(|o| o.timed.is_some()),
            inside_ticks_wall_percent: report
                .inside_ticks
                .as_ref()
                .map(|i| 100.0 * i.wall_fraction),
            peak_rss_bytes: r.map(|r| r.peak_rss_bytes),
            rss_at_start_bytes: None,
            cpu_mean_percent: r.and_then(|r| r.cpu_percent.mean),
            cpu_max_percent: r.and_then(|r| r.cpu_percent.max),
            cpu_us_per_tick: r.map(|r| r.cpu_time_s * 1e6 / n.max(1) as f64),
            tick_allocations_p99: report.ticks.allocations.as_ref().map(|a| a.p99),
            tick_allocations_max: report.ticks.allocations.as_ref().map(|a| a.max),
            allocating_components: report
                .components
                .values()
                .any(|c| c.allocations.is_some())
                .then(|| {
                    report
                        .components
                        .iter()
                        .filter(|(_, c)| c.allocations.as_ref().is_some_and(|a| a.max > 0))
                        .map(|(name, _)| name.clone())
                        .collect()
                }),
            digest: digest.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_times_keep_each_loop_whole_and_after_the_warm_up() {
        let digest = crate::engine::run(10, 42, &mut |_| {}).unwrap().digest;
        let run = |ms: u64, steady_ms: u64| RunOutput {
            digest: crate::engine::Digest {
                ticks: 2_024,
                ..digest.clone()
            },
            loop_time: Duration::from_millis(ms),
            steady_loop_time: Duration::from_millis(steady_ms),
            wall_time: Duration::from_millis(2 * ms),
        };
        let t = loop_times(&run(900, 800), &run(1_200, 1_100), &run(1_100, 1_000));
        assert_eq!(
            (t.ticks, t.warmup_ticks),
            (2_024, crate::engine::WARM_UP_TICKS)
        );
        assert_eq!(t.bare_s, [0.9, 1.1]);
        assert_eq!(t.profiled_after_warmup_s, 1.1);
        // 1,000 ticks after the warm-up in 0.9 s on average.
        assert!((t.bare_ns_per_tick().unwrap() - 900_000.0).abs() < 1e-6);
        assert!((t.bare_spread() - 0.2).abs() < 1e-12);
        assert!((t.bare_spread_after_warmup().unwrap() - 0.2 / 0.9).abs() < 1e-12);
        let c = LoopComparison::from_times(t);
        assert!((c.bare_per_s - 2_024.0).abs() < 1e-9);
        assert!((c.slowdown() - 1.2).abs() < 1e-12);
    }

    /// The linear-scaling verdict prints the figures `scalability_metrics.png`'s efficiency
    /// panel draws: both come from the reports' loop times through
    /// `tickprof::scaling::ScalingEfficiency`.
    #[test]
    fn the_verdict_judges_what_the_efficiency_panel_draws() {
        use tickprof::scaling::{Basis, ScalingEfficiency, ScalingRun};
        use tracing_subscriber::layer::SubscriberExt;

        let collector = MetricsCollector::builder()
            .tick_span("tick")
            .without_resource_sampling()
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(collector.layer());
        let (fixture, out) = tracing::subscriber::with_default(subscriber, || {
            collector.start_profiling("fixture").unwrap();
            let out = engine::run(3_000, 42, &mut |_| {}).unwrap();
            (collector.stop_profiling().unwrap(), out)
        });
        // Three sizes; the smallest's loop after the warm-up lasts 9 ms: not judged.
        let sized = |ticks: u64, bare_ns: f64, spread: f64, profiled_ns: f64| {
            let mut r = fixture.clone();
            r.name = format!("scalability_{ticks}");
            r.ticks.count = ticks;
            let after = (ticks - WARMUP) as f64 / 1e9;
            let bare = bare_ns * after;
            r.loop_comparison = Some(LoopComparison::from_times(LoopTimes {
                ticks,
                warmup_ticks: WARMUP,
                bare_s: [bare * 1.2, bare * 1.2],
                profiled_s: profiled_ns * after * 1.2,
                bare_after_warmup_s: [bare * (1.0 + spread / 2.0), bare * (1.0 - spread / 2.0)],
                profiled_after_warmup_s: profiled_ns * after,
            }));
            r
        };
        const WARMUP: u64 = 1_024;
        let reports = vec![
            sized(10_024, 1_000.0, 0.1, 1_050.0),
            sized(101_024, 700.0, 0.02, 745.0),
            sized(1_001_024, 721.0, 0.03, 760.0),
        ];
        let figures: Vec<RunFigures> = reports
            .iter()
            .map(|r| RunFigures::new(r, 0.01, &out.digest).unwrap())
            .collect();
        for (f, r) in figures.iter().zip(&reports) {
            assert_eq!(f.scaling_run(), ScalingRun::of(r, Basis::LoopTimes));
        }
        let e = ScalingEfficiency::of(&reports);
        assert_eq!(e.compared(), Some((1, 2)));
        let summary = Summary::new(42, figures, &reports);
        let v = summary
            .verdicts
            .iter()
            .find(|v| v.check == "linear scaling")
            .unwrap();
        for (what, eff) in [("bare", e.bare(2)), ("profiled", e.profiled(2))] {
            let drawn = format!("at 1001024 = {:.1}%", 100.0 * eff.unwrap());
            let said = v
                .figure
                .trim_start_matches("time per tick after the warm-up: ")
                .split("; ")
                .find(|p| p.starts_with(what))
                .unwrap();
            assert!(
                said.ends_with(&drawn),
                "{what}: `{said}` vs the panel's `{drawn}`"
            );
        }
        assert!(v.figure.contains("= 97.1%"), "{}", v.figure);
        assert!(!e.runs[0].judged());
        assert!(v.figure.contains("not judged: "), "{}", v.figure);
        assert!(v.figure.contains("10024 (9.0 ms"), "{}", v.figure);
    }

    #[test]
    fn flags_parse_and_bad_flags_fail() {
        let a = Args::try_parse_from(["scalability"]).unwrap();
        assert_eq!(a.ticks, vec![10_000, 100_000, 1_000_000]);
        assert_eq!(a.out, PathBuf::from("reports"));
        assert_eq!(a.seed, 42);
        assert_eq!(a.sample_interval_ms, 100);
        let a = Args::try_parse_from(["s", "--ticks", "1000,10000", "--no-graphs"]).unwrap();
        assert_eq!(a.ticks, vec![1_000, 10_000]);
        assert!(a.no_graphs);
        for bad in [
            &["s", "--ticks", "10k"][..],
            &["s", "--ticks", "0"],
            &["s", "--bogus"],
            &["s", "--sample-interval-ms", "0"],
        ] {
            assert!(Args::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
