//! Where a short profiled run's start-up goes: the scalability driver's engine run bare,
//! profiled and bare again in one process under a global subscriber (as the driver runs it),
//! each run's first 1,024 ticks timed apart from the rest, with the main thread's and the
//! process's minor page faults read around each part.
//!
//! ```text
//! cargo build --release --example startup_cost
//! target/release/examples/startup_cost 10000                 # one line per part
//! target/release/examples/startup_cost 10000 --profiled-before 10000   # a run profiled before: one-time costs paid
//! valgrind --tool=callgrind --toggle-collect='startup_cost::profiled_first*' \
//!     target/release/examples/startup_cost 10000            # the first 1,024 profiled ticks only
//! ```
//!
//! Each part is its own function (`bare_first`, `bare_rest`, `profiled_first`, …, never
//! inlined), so callgrind's inclusive cost of a part is its instructions, and
//! `--toggle-collect` restricts a run's per-function costs to one part.
//!
//! Options: `--warmup-ticks N` (tickprof's per-thread warm-up, default 100), `--no-resources`
//! (no resource sampler thread), `--profiled-before N` (a profiled run of N ticks first, whose
//! figures are not printed: what is left is the cost every run pays, not the process's first;
//! `--runs-before K` such runs),
//! `--sampling one_in:N|full|budget:F`, `--significant-figures N` (the histograms' precision),
//! `--cuts A,B,…` (where the first 1,024 ticks are cut, default 64,100,164), `--histograms-only`
//! (what making 14 histograms costs, alone).

#![allow(
    unreachable_pub,
    reason = "the engine's modules are the driver's, written for its crate"
)]

#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/book.rs"]
mod book;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/engine.rs"]
mod engine;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/generator.rs"]
mod generator;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/indicators.rs"]
mod indicators;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/matching.rs"]
mod matching;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/parse.rs"]
mod parse;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/portfolio.rs"]
mod portfolio;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/progress.rs"]
mod progress;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/risk.rs"]
mod risk;
#[allow(dead_code, reason = "the engine's modules, shared with the driver")]
#[path = "../scalability/strategy.rs"]
mod strategy;

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickprof::{MetricsCollector, Sampling};
use tracing::info_span;
use tracing_subscriber::layer::SubscriberExt;

use crate::engine::{CHUNK_LINES, Engine, WARM_UP_TICKS};
use crate::generator::Generator;
use crate::progress::quarter_stop;

type BoxError = Box<dyn std::error::Error>;

/// The driver's seed.
const SEED: u64 = 42;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("startup_cost: error: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    ticks: u64,
    warmup_ticks: Option<u64>,
    resources: bool,
    profiled_before: u64,
    runs_before: u64,
    sampling: Option<Sampling>,
    histograms_only: bool,
    cuts: Vec<u64>,
    significant_figures: Option<u8>,
}

fn options() -> Result<Options, BoxError> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        ticks: 10_000,
        warmup_ticks: None,
        resources: true,
        profiled_before: 0,
        runs_before: 1,
        sampling: None,
        histograms_only: false,
        cuts: CUTS.to_vec(),
        significant_figures: None,
    };
    let number = |flag: &str, v: Option<String>| -> Result<u64, BoxError> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse().map_err(|e| format!("{flag} {v}: {e}").into())
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--warmup-ticks" => o.warmup_ticks = Some(number(&a, args.next())?),
            "--no-resources" => o.resources = false,
            "--histograms-only" => o.histograms_only = true,
            "--significant-figures" => {
                let n = number(&a, args.next())?;
                o.significant_figures = Some(u8::try_from(n).map_err(|e| format!("{a} {n}: {e}"))?);
            }
            "--cuts" => {
                let v = args.next().ok_or("--cuts needs a value")?;
                let mut cuts = v
                    .split(',')
                    .map(|c| c.parse().map_err(|e| format!("--cuts {v}: {c}: {e}")))
                    .collect::<Result<Vec<u64>, _>>()?;
                cuts.retain(|&c| c > 0 && c < WARM_UP_TICKS);
                cuts.push(WARM_UP_TICKS);
                cuts.sort_unstable();
                cuts.dedup();
                o.cuts = cuts;
            }
            "--profiled-before" => o.profiled_before = number(&a, args.next())?,
            "--runs-before" => o.runs_before = number(&a, args.next())?,
            "--sampling" => {
                let v = args.next().ok_or("--sampling needs a value")?;
                o.sampling = Some(match v.split_once(':') {
                    None if v == "full" => Sampling::full(),
                    Some(("one_in", n)) => {
                        Sampling::one_in(n.parse().map_err(|e| format!("--sampling {v}: {e}"))?)
                    }
                    Some(("budget", f)) => {
                        Sampling::budget(f.parse().map_err(|e| format!("--sampling {v}: {e}"))?)
                    }
                    _ => return Err(format!("--sampling {v}: full, one_in:N or budget:F").into()),
                });
            }
            n => o.ticks = n.parse().map_err(|e| format!("ticks {n}: {e}"))?,
        }
    }
    Ok(o)
}

/// The main thread's and the process's minor page faults, from `/proc`.
#[derive(Debug, Clone, Copy)]
struct Faults {
    thread: u64,
    process: u64,
}

fn minor_faults(path: &str) -> u64 {
    // Field 10 of stat; the command name (field 2) may hold spaces, so count after its `)`.
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_owned();
            after.split_whitespace().nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

fn faults() -> Faults {
    Faults {
        thread: minor_faults("/proc/thread-self/stat"),
        process: minor_faults("/proc/self/stat"),
    }
}

/// One part's measure.
#[derive(Debug, Default, Clone, Copy)]
struct Part {
    ticks: u64,
    time: Duration,
    thread_faults: u64,
    process_faults: u64,
}

impl Part {
    fn add(&mut self, ticks: u64, time: Duration, before: Faults, after: Faults) {
        self.ticks += ticks;
        self.time += time;
        self.thread_faults += after.thread - before.thread;
        self.process_faults += after.process - before.process;
    }
}

/// One run's two parts: its first [`WARM_UP_TICKS`] ticks and the rest; the first cut at
/// [`CUTS`].
#[derive(Debug, Default, Clone)]
struct RunParts {
    first: Part,
    rest: Part,
    segments: Vec<Part>,
    cuts: Vec<u64>,
}

/// Where the first part is cut by default, in ticks: the first window (64 ticks from the
/// first), the rest of tickprof's 100 warm-up ticks, the window forced right after the
/// warm-up, the rest.
const CUTS: [u64; 4] = [64, 100, 164, WARM_UP_TICKS];

/// The cuts (ascending, the last [`WARM_UP_TICKS`]), and the clock and the faults at each one
/// the run has passed.
#[derive(Debug, Default)]
struct Cuts {
    at: Vec<u64>,
    seen: Vec<(u64, Instant, Faults)>,
}

/// Runs `lines` through the engine (the driver's loop body), noting each cut passed.
#[inline(always)]
fn ticks(
    engine: &mut Engine,
    lines: &str,
    done: &mut u64,
    cuts: &mut Cuts,
) -> Result<(), BoxError> {
    for line in lines.lines() {
        *done += 1;
        engine.on_line(line, *done)?;
        if *done <= WARM_UP_TICKS && cuts.at.contains(done) {
            let now = Instant::now();
            cuts.seen.push((*done, now, faults()));
        }
    }
    Ok(())
}

macro_rules! part_fn {
    ($name:ident, $id:literal) => {
        /// One part of one run (a function of its own: callgrind's cost per part; the
        /// `black_box` of its own number keeps the compiler from merging identical parts).
        #[inline(never)]
        fn $name(
            engine: &mut Engine,
            lines: &str,
            done: &mut u64,
            cuts: &mut Cuts,
        ) -> Result<(), BoxError> {
            black_box($id);
            ticks(engine, lines, done, cuts)
        }
    };
}
part_fn!(bare_first, 1u32);
part_fn!(bare_rest, 2u32);
part_fn!(profiled_first, 3u32);
part_fn!(profiled_rest, 4u32);
part_fn!(bare_after_first, 5u32);
part_fn!(bare_after_rest, 6u32);
part_fn!(before_first, 7u32);
part_fn!(before_rest, 8u32);

type PartFn = fn(&mut Engine, &str, &mut u64, &mut Cuts) -> Result<(), BoxError>;

/// The driver's `engine::run`: chunks end at the quarters, at the warm-up's end and every
/// [`CHUNK_LINES`] lines; the feed is generated between chunks in a `generate_feed` span.
fn run_engine(
    ticks: u64,
    cut_at: &[u64],
    first: PartFn,
    rest: PartFn,
) -> Result<RunParts, BoxError> {
    let mut generator = Generator::new(SEED);
    let mut engine = Engine::new(SEED);
    let mut buf = String::with_capacity(CHUNK_LINES * 96);
    let mut parts = RunParts::default();
    let mut done = 0u64;
    let mut cuts = Cuts {
        at: cut_at.to_vec(),
        seen: Vec::new(),
    };
    let mut last: Option<(u64, Instant, Faults)> = None;
    while done < ticks {
        let end = (1..=4)
            .map(|q| quarter_stop(ticks, q))
            .chain([WARM_UP_TICKS, ticks])
            .filter(|&stop| stop > done)
            .fold(done.saturating_add(CHUNK_LINES as u64), u64::min);
        buf.clear();
        {
            let _feed = info_span!("generate_feed").entered();
            generator.fill_chunk(&mut buf, (end - done) as usize);
        }
        let was = done;
        let before = faults();
        let start = Instant::now();
        if was < WARM_UP_TICKS {
            last.get_or_insert((0, start, before));
            first(&mut engine, &buf, &mut done, &mut cuts)?;
        } else {
            rest(&mut engine, &buf, &mut done, &mut cuts)?;
        }
        let time = start.elapsed();
        let after = faults();
        let part = if was < WARM_UP_TICKS {
            &mut parts.first
        } else {
            &mut parts.rest
        };
        part.add(done - was, time, before, after);
    }
    black_box(engine.digest());
    parts.cuts = cut_at.to_vec();
    if let Some(mut last) = last {
        for &(at, when, f) in &cuts.seen {
            let mut segment = Part::default();
            segment.add(at - last.0, when - last.1, last.2, f);
            parts.segments.push(segment);
            last = (at, when, f);
        }
    }
    Ok(parts)
}

fn print(label: &str, parts: &RunParts) {
    let mut from = 1;
    let named = parts.segments.iter().zip(&parts.cuts).map(|(p, &to)| {
        let name = format!("{from}-{to}");
        from = to + 1;
        (name, *p)
    });
    let all: Vec<(String, Part)> = [
        ("first".to_owned(), parts.first),
        ("rest".to_owned(), parts.rest),
    ]
    .into_iter()
    .chain(named)
    .collect();
    for (what, p) in all {
        println!(
            "{label:<9} {what:<9} ticks {:>8} time_us {:>10.1} ns_per_tick {:>8.1} thread_faults {:>6} process_faults {:>6}",
            p.ticks,
            p.time.as_secs_f64() * 1e6,
            p.time.as_secs_f64() * 1e9 / p.ticks.max(1) as f64,
            p.thread_faults,
            p.process_faults
        );
    }
}

/// What making `n` histograms of tickprof's default bounds and precision costs, each recorded
/// once as a run's first record is: in this fresh process after one was made and dropped (as
/// the calibration at `start_profiling` does: the allocator then serves them from its heap and
/// zeroes them), then again once those are dropped (the memory is the allocator's already).
fn histograms_only(n: usize) -> Result<(), BoxError> {
    let make = || Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3);
    drop(black_box(make()?));
    for round in ["first", "again"] {
        let before = faults();
        let start = Instant::now();
        let mut made = Vec::with_capacity(n);
        for i in 0..n {
            let mut h = make()?;
            h.saturating_record(300 + i as u64);
            made.push(h);
        }
        let time = start.elapsed();
        let after = faults();
        println!(
            "histograms {round:<5} {n} made: time_us {:.1} thread_faults {} bytes_each {}",
            time.as_secs_f64() * 1e6,
            after.thread - before.thread,
            made.first().map_or(0, |h| h.distinct_values() * 8)
        );
        drop(black_box(made));
    }
    Ok(())
}

fn run() -> Result<(), BoxError> {
    let o = options()?;
    if o.histograms_only {
        return histograms_only(14);
    }
    let mut builder = MetricsCollector::builder()
        .tick_span("tick")
        .sample_interval(Duration::from_millis(100));
    if let Some(w) = o.warmup_ticks {
        builder = builder.warmup_ticks(w);
    }
    if !o.resources {
        builder = builder.without_resource_sampling();
    }
    if let Some(s) = o.sampling {
        builder = builder.sampling(s);
    }
    if let Some(f) = o.significant_figures {
        builder = builder.significant_figures(f);
    }
    let collector = builder.build()?;
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(collector.layer()),
    )?;
    if o.profiled_before > 0 {
        run_engine(o.profiled_before, &o.cuts, before_first, before_rest)?;
        for _ in 0..o.runs_before {
            collector.start_profiling("before")?;
            run_engine(o.profiled_before, &o.cuts, before_first, before_rest)?;
            collector.stop_profiling()?;
        }
    }
    let bare = run_engine(o.ticks, &o.cuts, bare_first, bare_rest)?;
    let f0 = faults();
    let t0 = Instant::now();
    collector.start_profiling("startup_cost")?;
    let start_time = t0.elapsed();
    let f1 = faults();
    let profiled = run_engine(o.ticks, &o.cuts, profiled_first, profiled_rest)?;
    let f2 = faults();
    let t2 = Instant::now();
    let report = collector.stop_profiling()?;
    let stop_time = t2.elapsed();
    let f3 = faults();
    let bare_after = run_engine(o.ticks, &o.cuts, bare_after_first, bare_after_rest)?;
    print("bare", &bare);
    print("profiled", &profiled);
    print("bare2", &bare_after);
    println!(
        "start_profiling time_us {:.1} thread_faults {} process_faults {}; stop_profiling time_us {:.1} thread_faults {} process_faults {}",
        start_time.as_secs_f64() * 1e6,
        f1.thread - f0.thread,
        f1.process - f0.process,
        stop_time.as_secs_f64() * 1e6,
        f3.thread - f2.thread,
        f3.process - f2.process,
    );
    if let Some(s) = &report.sampling {
        println!(
            "sampling ticks {} timed {} recorded {} windows {} cost_ns_per_tick {:.1} span_ns {:.1} \
             histograms_made {} setup_us {:.1}",
            report.ticks.count,
            s.ticks_timed,
            s.ticks_recorded,
            s.windows,
            s.cost_ns_per_tick,
            report.overhead.per_span_ns,
            s.histograms_made,
            s.setup_ns as f64 / 1e3
        );
    }
    Ok(())
}
