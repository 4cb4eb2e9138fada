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
use tickprof::{LoopComparison, MetricsCollector, Report};
use tracing_subscriber::layer::SubscriberExt;

use crate::engine::{RunOutput, WARM_UP_TICKS};
use crate::progress::Progress;
use crate::summary::{BareRuns, RunFigures, Summary};

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
        let bare = BareRuns::new(&bare_before, &bare_after);
        println!(
            "bare runs {n}: {:.3} s and {:.3} s in the tick loop (before and after the profiled \
             run), {:.0} ticks/s",
            bare_before.loop_time.as_secs_f64(),
            bare_after.loop_time.as_secs_f64(),
            bare.per_s(n)
        );
        report.loop_comparison = Some(LoopComparison::new(
            bare.per_s(n),
            per_s(profiled.digest.ticks, profiled.loop_time),
        ));
        report.print_summary();
        println!("{}", profiled.digest);
        let figures_of_run = RunFigures::new(&report, &bare, &profiled);
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
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Ticks per second.
fn per_s(ticks: u64, time: Duration) -> f64 {
    ticks as f64 / time.as_secs_f64().max(1e-9)
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

impl RunFigures {
    fn new(report: &Report, bare: &BareRuns, profiled: &RunOutput) -> Self {
        let n = report.ticks.count.max(profiled.digest.ticks);
        let bare_tps = bare.per_s(profiled.digest.ticks);
        let loop_tps = per_s(profiled.digest.ticks, profiled.loop_time);
        let t = &report.ticks.latency;
        let bare_tick_ns = 1e9 / bare_tps.max(1e-9);
        let r = report.resources.as_ref();
        RunFigures {
            name: report.name.clone(),
            ticks: n,
            total_time_s: report.total_time_s,
            throughput_per_s: report.ticks.throughput_per_s,
            loop_throughput_per_s: loop_tps,
            bare_throughput_per_s: bare_tps,
            bare_wall_time_s: bare.wall_time_s,
            bare_loop_time_s: bare.loop_time_s,
            bare_spread: bare.spread(),
            warm_up_ticks: WARM_UP_TICKS,
            bare_steady_loop_time_s: bare.steady_loop_time_s,
            bare_steady_ns_per_tick: bare.steady_ns_per_tick(),
            bare_steady_spread: bare.steady_spread(),
            profiled_steady_ns_per_tick: (profiled.steady_ticks() > 0).then(|| {
                1e9 * profiled.steady_loop_time.as_secs_f64() / profiled.steady_ticks() as f64
            }),
            loop_ratio: bare_tps / loop_tps.max(1e-9),
            tick_mean_ratio: t.mean_ns / bare_tick_ns,
            mean_us: t.mean_ns / 1e3,
            p50_us: t.p50_ns as f64 / 1e3,
            p99_us: t.p99_ns as f64 / 1e3,
            p999_us: t.p999_ns as f64 / 1e3,
            max_us: t.max_ns as f64 / 1e3,
            timed_ticks: t.samples,
            peak_rss_bytes: r.map(|r| r.peak_rss_bytes),
            cpu_mean_percent: r.and_then(|r| r.cpu_percent.mean),
            cpu_max_percent: r.and_then(|r| r.cpu_percent.max),
            cpu_us_per_tick: r.map(|r| r.cpu_time_s * 1e6 / n.max(1) as f64),
            digest: profiled.digest.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
