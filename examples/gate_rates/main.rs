//! Measures the CI gate: how often `tickprof check --baseline` and `tickprof compare
//! --fail-on-slower` raise a false alarm on two builds that are the same, and how often they
//! catch a slowdown injected into one component.
//!
//! ```text
//! nice -n 10 cargo run --release --example gate_rates          # ~8 min: runs, then judges
//! nice -n 10 cargo run --release --example gate_rates -- --reuse --run-noise-pct 5   # judge again
//! ```
//!
//! What it does:
//! 1. Pilot runs give the tick's trimmed mean `t`. For each component (`--components`) and each
//!    slowdown (`--slowdowns`, % of `t`) the extra work (real instructions: a dependent chain of
//!    LCG steps inside the component's span) is sized by the secant method on short profiled
//!    runs, so that it adds that many ns to the tick's trimmed mean *as the reports measure
//!    it*: an out-of-order core hides part of a short chain behind the component's own work,
//!    so steps × ns per step is not it.
//! 2. For each load (`--loads`: 0 = nothing of ours beside the runs, 2 = two `yes > /dev/null`,
//!    as on a shared CI runner), `--runs` runs as built and as many per slowdown, interleaved,
//!    each its own process (this binary again, `--child`) profiling the scalability driver's
//!    engine for `--ticks` ticks with the driver's settings and saving a report. The runs as
//!    built serve every component.
//! 3. Pairs are judged with the shipped `reports/thresholds.toml` (`check`) and the default
//!    `compare` options: every ordered pair of distinct runs for one run per side, `--draws`
//!    random draws for pooled runs (`--pools BxN`: B baseline runs, N candidate runs, disjoint).
//!    Same-build pairs give the false-alarm rate; (built, slowed) pairs the detection rate. A
//!    pair counts as failed when the command would exit 1; "inconclusive" is counted apart.
//!    With two loads, a third table judges baselines from load 0 against candidates from the
//!    busier load (a baseline saved on a quiet machine, a PR run on a busy one).
//!
//! The judging calls the library functions the CLI calls (`Thresholds::evaluate_prepared`,
//! `compare_prepared`), so each report is loaded once for thousands of pairs. Pairs share runs,
//! so they are not independent: read a rate over K runs as resting on K runs, not on K² pairs.
//! The results go to stdout and `<out>/rates.md`; the reports stay in `<out>/load<L>/`, with
//! `<out>/manifest.json` saying what was run, so `--reuse` can judge them again with other
//! settings in seconds.

#![allow(unreachable_pub)]

// The scalability driver's engine, as its own modules (not everything in them is used here).
#[path = "../scalability/book.rs"]
#[allow(dead_code)]
mod book;
#[path = "../scalability/engine.rs"]
#[allow(dead_code)]
mod engine;
#[path = "../scalability/generator.rs"]
#[allow(dead_code)]
mod generator;
#[path = "../scalability/indicators.rs"]
#[allow(dead_code)]
mod indicators;
#[path = "../scalability/matching.rs"]
#[allow(dead_code)]
mod matching;
#[path = "../scalability/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../scalability/portfolio.rs"]
#[allow(dead_code)]
mod portfolio;
#[path = "../scalability/progress.rs"]
#[allow(dead_code)]
mod progress;
#[path = "../scalability/risk.rs"]
#[allow(dead_code)]
mod risk;
#[path = "../scalability/strategy.rs"]
#[allow(dead_code)]
mod strategy;

mod child;
mod rates;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Instant;

use clap::Parser;
use tickprof::Report;
use tickprof::compare::{CompareOptions, compare_runs};
use tickprof::gate::Prepared;
use tickprof::thresholds::Thresholds;

use crate::engine::Slowdown;
use crate::rates::{Rates, SplitMix64};

/// Measures the false-alarm and detection rates of the CI gate.
#[derive(Debug, Parser)]
struct Args {
    /// Runs per variant (as built, and per component and slowdown) and load.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Ticks per run.
    #[arg(long, default_value_t = 1_000_000)]
    ticks: u64,
    /// The components that get the extra work, one at a time: the one that takes most of
    /// the tick, and a small one.
    #[arg(long, value_delimiter = ',', default_value = "parse,strategy")]
    components: Vec<String>,
    /// Slowdowns to inject, in % of the tick's trimmed mean.
    #[arg(long, value_delimiter = ',', default_value = "10,20")]
    slowdowns: Vec<u32>,
    /// CPU-bound `yes > /dev/null` processes beside the runs, one condition per value.
    #[arg(long, value_delimiter = ',', default_value = "0,2")]
    loads: Vec<usize>,
    /// Runs per side to judge, BASExNEW.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1x1,3x3,5x5,8x8,5x1,10x1"
    )]
    pools: Vec<String>,
    /// Random draws per pooled configuration.
    #[arg(long, default_value_t = 300)]
    draws: usize,
    /// The thresholds `check` uses.
    #[arg(long, default_value = "reports/thresholds.toml")]
    thresholds: PathBuf,
    /// `compare --noise-pct`.
    #[arg(long, default_value_t = 5.0)]
    noise_pct: f64,
    /// `[gate] run_noise_pct` and `compare --run-noise-pct`: the noise assumed with one run per
    /// side (default: the thresholds file's, else the library's).
    #[arg(long)]
    run_noise_pct: Option<f64>,
    /// Where the reports and the rates go.
    #[arg(long, default_value = "target/gate_rates")]
    out: PathBuf,
    /// Judge the reports already in --out instead of running new ones.
    #[arg(long)]
    reuse: bool,
    /// (internal) Run one profiled run and save its report here.
    #[arg(long, hide = true)]
    child: Option<PathBuf>,
    /// (internal) The component with extra work, for --child.
    #[arg(long, hide = true, default_value = "parse")]
    component: String,
    /// (internal) Extra LCG steps in --component, for --child.
    #[arg(long, hide = true, default_value_t = 0)]
    steps: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.child {
        Some(path) => Slowdown::in_component(&args.component, args.steps)
            .and_then(|s| child::run(args.ticks, s, "gate_rates", path)),
        None => measure(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gate_rates: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One injected slowdown: where, its size and the work that makes it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Injected {
    component: String,
    pct: u32,
    target_ns: f64,
    steps: u32,
    /// What the steps added to the tick's trimmed mean in the pilot runs, ns.
    added_ns: f64,
}

impl Injected {
    /// The variant's file-name stem: `parse10`.
    fn variant(&self) -> String {
        format!("{}{}", self.component, self.pct)
    }
}

/// What was run, saved beside the reports so `--reuse` can judge them again.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Manifest {
    ticks: u64,
    runs: usize,
    tick_trimmed_mean_ns: f64,
    slowdowns: Vec<Injected>,
    /// Load → /proc/loadavg (1 min) before and after its runs.
    loads: Vec<(usize, Option<f64>, Option<f64>)>,
}

fn measure(args: &Args) -> Result<(), String> {
    let manifest_path = args.out.join("manifest.json");
    let manifest = if args.reuse {
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?
    } else {
        let manifest = run_all(args)?;
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
        tickprof::atomic_file::write(&manifest_path, text.as_bytes()).map_err(|e| e.to_string())?;
        manifest
    };
    let text = judge_all(args, &manifest)?;
    print!("{text}");
    let path = args.out.join("rates.md");
    tickprof::atomic_file::write(&path, text.as_bytes()).map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

fn run_all(args: &Args) -> Result<Manifest, String> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let started = Instant::now();
    let pilot_dir = args.out.join("pilot");
    let pilot = Pilot {
        dir: &pilot_dir,
        ticks: args.ticks.min(300_000),
    };
    let tick = pilot.tick_ns("parse", 0)?;
    let mut slowdowns = Vec::new();
    for component in &args.components {
        for &pct in &args.slowdowns {
            let target_ns = f64::from(pct) / 100.0 * tick;
            let (steps, added_ns) = pilot.calibrate(component, tick, target_ns)?;
            eprintln!(
                "slowdown {pct} % of the tick's trimmed mean {tick:.0} ns = {target_ns:.1} ns: \
                 {steps} steps in `{component}` add {added_ns:.1} ns (pilot runs)"
            );
            slowdowns.push(Injected {
                component: component.clone(),
                pct,
                target_ns,
                steps,
                added_ns,
            });
        }
    }
    let mut loads = Vec::new();
    for &load in &args.loads {
        let hogs = (0..load)
            .map(|_| {
                Command::new("yes")
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("cannot start `yes`: {e}"))
            })
            .collect::<Result<Vec<Child>, _>>()?;
        let before = load_average();
        let dir = args.out.join(format!("load{load}"));
        let result = (|| -> Result<(), String> {
            for i in 0..args.runs {
                let mut variants: Vec<(String, &str, u32)> =
                    vec![(format!("built_{i:02}"), "parse", 0)];
                variants.extend(slowdowns.iter().map(|s| {
                    (
                        format!("{}_{i:02}", s.variant()),
                        s.component.as_str(),
                        s.steps,
                    )
                }));
                // Rotate the order so no variant always runs first after another.
                let shift = i % variants.len();
                variants.rotate_left(shift);
                for (name, component, steps) in variants {
                    spawn(args.ticks, &dir, component, steps, &name)?;
                }
                eprintln!(
                    "load {load}: {} of {} rounds ({:.0} s)",
                    i + 1,
                    args.runs,
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        })();
        let after = load_average();
        for mut hog in hogs {
            // Ours, started above: stopped by its handle.
            let _ = hog.kill();
            let _ = hog.wait();
        }
        result?;
        loads.push((load, before, after));
    }
    Ok(Manifest {
        ticks: args.ticks,
        runs: args.runs,
        tick_trimmed_mean_ns: tick,
        slowdowns,
        loads,
    })
}

/// Short profiled runs that size the injected work.
struct Pilot<'a> {
    dir: &'a Path,
    ticks: u64,
}

impl Pilot<'_> {
    /// The tick's trimmed mean with `steps` of extra work in `component`, ns: the mean of
    /// three runs.
    fn tick_ns(&self, component: &str, steps: u32) -> Result<f64, String> {
        let runs = (0..3)
            .map(|i| {
                let name = format!("pilot_{component}_{steps}_{i}");
                spawn(self.ticks, self.dir, component, steps, &name)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let runs: Vec<&Report> = runs.iter().collect();
        Ok(tick_trimmed_mean_us(&runs, &runs)?.0 * 1_000.0)
    }

    /// The steps in `component` that add `target_ns` to the tick's trimmed mean `base_ns`, by
    /// the secant method from the naive guess (at most five rounds of three runs), and what
    /// they add.
    fn calibrate(
        &self,
        component: &str,
        base_ns: f64,
        target_ns: f64,
    ) -> Result<(u32, f64), String> {
        let per_step = child::ns_per_step();
        let added = |steps: f64| -> Result<f64, String> {
            Ok(self.tick_ns(component, steps.round() as u32)? - base_ns)
        };
        let mut a = (target_ns / per_step).max(1.0);
        let mut added_a = added(a)?;
        let mut b = (a * target_ns / added_a.max(0.1 * target_ns)).clamp(1.0, 20.0 * a);
        let mut added_b = added(b)?;
        for _ in 0..3 {
            if (added_b - target_ns).abs() <= 0.1 * target_ns || (added_b - added_a).abs() < 0.5 {
                break;
            }
            let next =
                (b + (target_ns - added_b) * (b - a) / (added_b - added_a)).clamp(1.0, 20.0 * b);
            (a, added_a) = (b, added_b);
            b = next;
            added_b = added(b)?;
        }
        Ok((b.round() as u32, added_b))
    }
}

/// Runs one child of `ticks` ticks with `steps` in `component` and loads its report.
fn spawn(
    ticks: u64,
    dir: &Path,
    component: &str,
    steps: u32,
    name: &str,
) -> Result<Report, String> {
    let path = dir.join(format!("{name}.json"));
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let status = Command::new(exe)
        .arg("--child")
        .arg(&path)
        .args(["--ticks", &ticks.to_string()])
        .args(["--component", component])
        .args(["--steps", &steps.to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    if !status.success() {
        return Err(format!("run {name} failed: {status}"));
    }
    Report::load(&path).map_err(|e| e.to_string())
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The reports of one variant (`built`, `parse10`, …) of one load, in run order.
fn load_variant(dir: &Path, variant: &str, runs: usize) -> Result<Vec<Report>, String> {
    (0..runs)
        .map(|i| dir.join(format!("{variant}_{i:02}.json")))
        .filter(|p| p.exists())
        .map(|p| Report::load(&p).map_err(|e| e.to_string()))
        .collect()
}

/// Both sides' tick trimmed means (µs), pooled as `compare` pools them.
fn tick_trimmed_mean_us(base: &[&Report], new: &[&Report]) -> Result<(f64, f64), String> {
    trimmed_means_us(base, new, "ticks.trimmed_mean_us")
}

fn trimmed_means_us(base: &[&Report], new: &[&Report], metric: &str) -> Result<(f64, f64), String> {
    let c = compare_runs(base, new, &CompareOptions::default()).map_err(|e| e.to_string())?;
    let row = c
        .rows
        .iter()
        .find(|r| r.metric == metric)
        .ok_or_else(|| format!("no `{metric}` row"))?;
    Ok((row.base.unwrap_or(f64::NAN), row.new.unwrap_or(f64::NAN)))
}

/// The reports of one load condition.
struct Condition {
    load: usize,
    before: Option<f64>,
    after: Option<f64>,
    built: Vec<Report>,
    /// Per injected slowdown (in manifest order), its runs.
    slowed: Vec<Vec<Report>>,
}

fn judge_all(args: &Args, manifest: &Manifest) -> Result<String, String> {
    let text = std::fs::read_to_string(&args.thresholds)
        .map_err(|e| format!("{}: {e}", args.thresholds.display()))?;
    let mut thresholds =
        Thresholds::from_toml_str(&text, &args.thresholds).map_err(|e| e.to_string())?;
    let mut options = CompareOptions::default().noise_pct(args.noise_pct);
    options.gate = thresholds.gate_options();
    if let Some(pct) = args.run_noise_pct {
        thresholds.gate.run_noise_pct = Some(pct);
        options = options.run_noise_pct(pct);
    }
    let judges = Judges {
        thresholds,
        options,
        pools: args
            .pools
            .iter()
            .map(|p| parse_pool(p))
            .collect::<Result<Vec<_>, _>>()?,
        draws: args.draws,
    };
    let conditions = manifest
        .loads
        .iter()
        .map(|&(load, before, after)| {
            let dir = args.out.join(format!("load{load}"));
            let slowed = manifest
                .slowdowns
                .iter()
                .map(|s| load_variant(&dir, &s.variant(), manifest.runs))
                .collect::<Result<_, String>>()?;
            Ok(Condition {
                load,
                before,
                after,
                built: load_variant(&dir, "built", manifest.runs)?,
                slowed,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;

    let mut out = String::new();
    let gate = judges.thresholds.gate_options();
    let _ = writeln!(
        out,
        "# gate rates: {} runs per variant of {} ticks\n\n\
         check: {} (max_regression_pct {}, run_noise_pct {}, false_alarm_pct {}); compare: \
         --noise-pct {}, run_noise_pct {}. Each cell: fail % (inconclusive %) of the pairs. \
         Tick trimmed mean of the pilot runs: {:.0} ns.\n",
        manifest.runs,
        manifest.ticks,
        args.thresholds.display(),
        judges
            .thresholds
            .baseline
            .as_ref()
            .and_then(|b| b.max_regression_pct)
            .map_or("none".to_owned(), |p| format!("{p}")),
        gate.run_noise_pct,
        gate.false_alarm_pct,
        judges.options.noise_pct,
        judges.options.gate.run_noise_pct,
        manifest.tick_trimmed_mean_ns
    );
    let mut rng = SplitMix64(0x6761_7465);
    let mut components: Vec<&str> = Vec::new();
    for s in &manifest.slowdowns {
        if !components.contains(&s.component.as_str()) {
            components.push(&s.component);
        }
    }
    // Pairs judged in every table: (baseline condition, candidate condition, same runs?).
    let mut settings: Vec<(String, &Condition, &Condition, bool)> = conditions
        .iter()
        .map(|c| {
            let title = format!(
                "load {}: {} CPU-bound process{} of ours beside the runs (load average {} → {})",
                c.load,
                c.load,
                if c.load == 1 { "" } else { "es" },
                c.before.map_or("?".to_owned(), |l| format!("{l:.2}")),
                c.after.map_or("?".to_owned(), |l| format!("{l:.2}")),
            );
            (title, c, c, true)
        })
        .collect();
    // A baseline saved on a quiet machine, judged against runs on a busy one: the machine's
    // share of the CPU is not the code's, and must not fail it.
    if let (Some(quiet), Some(busy)) = (
        conditions.iter().find(|c| c.load == 0),
        conditions.iter().find(|c| c.load > 0),
    ) {
        let title = format!("baselines at load 0, candidates at load {}", busy.load);
        settings.push((title, quiet, busy, false));
    }
    for component in &components {
        let picked: Vec<usize> = (0..manifest.slowdowns.len())
            .filter(|&i| manifest.slowdowns[i].component == *component)
            .collect();
        for (title, base, new, same) in &settings {
            let _ = writeln!(out, "## slowdowns in `{component}`; {title}\n");
            for &i in &picked {
                sizes(&mut out, &manifest.slowdowns[i], base, &new.slowed[i])?;
            }
            judges.table(&mut out, base, new, &picked, manifest, *same, &mut rng);
        }
    }
    Ok(out)
}

/// A slowdown as the reports measure it: the tick's and the component's trimmed means,
/// `base`'s runs as built against the slowed `runs`.
fn sizes(out: &mut String, s: &Injected, base: &Condition, runs: &[Report]) -> Result<(), String> {
    let built: Vec<&Report> = base.built.iter().collect();
    let runs: Vec<&Report> = runs.iter().collect();
    let (tb, tn) = tick_trimmed_mean_us(&built, &runs)?;
    let metric = format!("components.{}.trimmed_mean_us", s.component);
    let (cb, cn) = trimmed_means_us(&built, &runs, &metric)?;
    let _ = writeln!(
        out,
        "- slowdown {} % ({} steps, +{:.1} ns in the pilot runs): tick trimmed mean {:.1} → \
         {:.1} ns (+{:.1} %), `{}` {:.1} → {:.1} ns (+{:.1} %), over {} and {} runs",
        s.pct,
        s.steps,
        s.added_ns,
        tb * 1e3,
        tn * 1e3,
        100.0 * (tn - tb) / tb,
        s.component,
        cb * 1e3,
        cn * 1e3,
        100.0 * (cn - cb) / cb,
        built.len(),
        runs.len()
    );
    Ok(())
}

fn prepare_all(runs: &[Report]) -> Vec<Prepared<'_>> {
    runs.iter().map(Prepared::new).collect()
}

/// What judges the pairs, and which pairs.
struct Judges {
    thresholds: Thresholds,
    options: CompareOptions,
    pools: Vec<(usize, usize)>,
    draws: usize,
}

impl Judges {
    /// One table: per pool size, the false alarms over (built of `base`, built of `new`) and
    /// the detections over (built of `base`, slowed of `new`) for the slowdowns `picked`;
    /// `same` when both are one condition (the two sides of a pair are then disjoint runs).
    #[allow(clippy::too_many_arguments)]
    fn table(
        &self,
        out: &mut String,
        base: &Condition,
        new: &Condition,
        picked: &[usize],
        manifest: &Manifest,
        same: bool,
        rng: &mut SplitMix64,
    ) {
        let base_built = prepare_all(&base.built);
        let base_built: Vec<&Prepared<'_>> = base_built.iter().collect();
        let new_built = prepare_all(&new.built);
        let new_built: Vec<&Prepared<'_>> = new_built.iter().collect();
        let slowed: Vec<Vec<Prepared<'_>>> = picked
            .iter()
            .map(|&i| prepare_all(&new.slowed[i]))
            .collect();
        let mut header =
            "\n| runs (base × new) | pairs | check: false alarms | compare: false alarms |"
                .to_owned();
        let mut rule = "|---|--:|--:|--:|".to_owned();
        for &i in picked {
            let pct = manifest.slowdowns[i].pct;
            let _ = write!(header, " check: {pct} % caught | compare: {pct} % caught |");
            rule.push_str("--:|--:|");
        }
        let _ = writeln!(out, "{header}\n{rule}");
        let mut failing = Rates::default().failing;
        for &(m, n) in &self.pools {
            let identical = rates::pairs(&base_built, &new_built, same, (m, n), self.draws, rng);
            if identical.is_empty() {
                continue;
            }
            let fa = rates::judge(&identical, &self.thresholds, &self.options);
            for (k, v) in &fa.failing {
                *failing.entry(format!("{m}×{n} {k}")).or_default() += v;
            }
            let mut line = format!(
                "| {m} × {n} | {} | {} | {} |",
                identical.len(),
                fa.check.cell(),
                fa.compare.cell()
            );
            for runs in &slowed {
                let runs: Vec<&Prepared<'_>> = runs.iter().collect();
                let pairs = rates::pairs(&base_built, &runs, false, (m, n), self.draws, rng);
                let det = rates::judge(&pairs, &self.thresholds, &self.options);
                let _ = write!(line, " {} | {} |", det.check.cell(), det.compare.cell());
            }
            let _ = writeln!(out, "{line}");
        }
        if !failing.is_empty() {
            let _ = writeln!(out, "\nMetrics that failed on same-build pairs (pairs):");
            for (k, v) in &failing {
                let _ = writeln!(out, "- {k}: {v}");
            }
        }
        let _ = writeln!(out);
    }
}

fn parse_pool(text: &str) -> Result<(usize, usize), String> {
    let (m, n) = text
        .split_once('x')
        .ok_or_else(|| format!("--pools: `{text}` is not BASExNEW (5x5)"))?;
    let parse = |s: &str| {
        s.parse::<usize>()
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| format!("--pools: `{text}` is not BASExNEW (5x5)"))
    };
    Ok((parse(m)?, parse(n)?))
}
