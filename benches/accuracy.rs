#![allow(missing_docs, clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! What tickprof reports against the truth: the same regions timed by hand (two TSC reads, no
//! tracing) in the same bench run, on a realistic tick.
//!
//! ```text
//! cargo bench --bench accuracy                     # sync and async, 7 repetitions, ~2 minutes
//! TICKPROF_BENCH_REPS=3 cargo bench --bench accuracy
//! cargo bench --bench accuracy -- --child tickprof_default sync 200000   # one process
//! ```
//!
//! The tick: `parse` (a text record, ~200 ns), `book` (~40 ns), `strategy` (its own work
//! ~100 ns and four children from ~10 ns to ~1.5 µs: `signal_fast`, `signal_mid`,
//! `signal_slow`, `model`), `risk` (~20 ns), `execution` (~400 ns). The `async` variant runs
//! the loop as a tokio task beside two others that work between ticks, and `execution` awaits
//! mid-way (entered twice: busy time, not wall time, is its figure).
//!
//! Every configuration runs in its own process under a global subscriber, repetitions
//! interleaved, medians reported:
//! - `bare`: no subscriber; ns per tick.
//! - `hand_leaves`: no subscriber; each leaf region timed by two TSC reads.
//! - `hand_parents`: no subscriber; `strategy` and the whole tick timed the same way (apart from
//!   the leaves, so that no timing is nested inside another).
//! - `tickprof_default`, `tickprof_full`: `registry()` + tickprof, default sampling and
//!   `Sampling::full()`.
//!
//! The truth of a figure the hand timing cannot take directly is derived from means:
//! `strategy`'s self time is its inclusive mean less its children's means; the unattributed
//! time is the tick's mean less its direct children's means. Printed: each figure, the truth,
//! and each configuration's value as a ratio to it; then the issue's targets, each with its
//! verdict.

mod workload;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use hdrhistogram::Histogram;
use tickprof::{MetricsCollector, Report, Sampling};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use workload::{median, run_child};

/// The regions, as `(name, parent)`; the tick's direct children have parent `tick`.
const REGIONS: [(&str, &str); 9] = [
    ("parse", "tick"),
    ("book", "tick"),
    ("strategy", "tick"),
    ("signal_fast", "strategy"),
    ("signal_mid", "strategy"),
    ("signal_slow", "strategy"),
    ("model", "strategy"),
    ("risk", "tick"),
    ("execution", "tick"),
];
const LEAVES: [&str; 8] = [
    "parse",
    "book",
    "signal_fast",
    "signal_mid",
    "signal_slow",
    "model",
    "risk",
    "execution",
];

/// Where hand timing goes (none in the other configurations).
struct Hand {
    clock: quanta::Clock,
    leaves: bool,
    parents: bool,
    histograms: BTreeMap<&'static str, Histogram<u64>>,
}

impl Hand {
    fn new(leaves: bool, parents: bool) -> Self {
        let mut histograms = BTreeMap::new();
        for name in ["tick", "strategy"].into_iter().chain(LEAVES) {
            histograms.insert(
                name,
                Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap(),
            );
        }
        Hand {
            clock: quanta::Clock::new(),
            leaves,
            parents,
            histograms,
        }
    }

    #[inline(always)]
    fn start(&self, leaf: bool) -> u64 {
        if (leaf && self.leaves) || (!leaf && self.parents) {
            self.clock.raw()
        } else {
            0
        }
    }

    #[inline(always)]
    fn end(&mut self, name: &'static str, leaf: bool, start: u64) {
        if (leaf && self.leaves) || (!leaf && self.parents) {
            let ns = self.clock.delta_as_nanos(start, self.clock.raw());
            if let Some(h) = self.histograms.get_mut(name) {
                let _ = h.record(ns.max(1));
            }
        }
    }

    fn reset(&mut self) {
        self.histograms.values_mut().for_each(Histogram::reset);
    }
}

/// Deterministic work of about `steps` × 1.3 ns.
#[inline(never)]
fn spin(seed: u64, steps: u32) -> u64 {
    let mut x = seed;
    for _ in 0..steps {
        x = black_box(
            x.wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        );
    }
    x
}

/// A market-data line to parse per tick.
fn line(i: u64) -> String {
    format!(
        "{},ESZ5,{}.{:02},{}.{:02},{},{}",
        1_700_000_000_000_000_000u64 + i * 1_000_003,
        5000 + i % 7,
        (i * 25) % 100,
        5000 + i % 7,
        (i * 25 + 25) % 100,
        1 + i % 13,
        2 + i % 11
    )
}

#[inline(never)]
fn parse(text: &str) -> u64 {
    let mut acc = 0u64;
    for field in text.split(',') {
        acc = acc.wrapping_add(match field.parse::<f64>() {
            Ok(v) => v.to_bits(),
            Err(_) => field.len() as u64,
        });
    }
    acc
}

/// The tick's components before `execution`, instrumented with spans and, where `hand` says,
/// timed by hand.
#[inline(always)]
fn components(i: u64, text: &str, hand: &mut Hand) -> u64 {
    let mut acc = i;
    {
        let _s = tracing::info_span!("parse").entered();
        let h = hand.start(true);
        acc ^= parse(text);
        hand.end("parse", true, h);
    }
    {
        let _s = tracing::info_span!("book").entered();
        let h = hand.start(true);
        acc ^= spin(acc, 30);
        hand.end("book", true, h);
    }
    {
        let s = hand.start(false);
        let strategy = tracing::info_span!("strategy").entered();
        acc ^= spin(acc, 70);
        for (name, steps) in [
            ("signal_fast", 5),
            ("signal_mid", 45),
            ("signal_slow", 230),
            ("model", if i.is_multiple_of(50) { 4_000 } else { 1_100 }),
        ] {
            let _c = match name {
                "signal_fast" => tracing::info_span!("signal_fast").entered(),
                "signal_mid" => tracing::info_span!("signal_mid").entered(),
                "signal_slow" => tracing::info_span!("signal_slow").entered(),
                _ => tracing::info_span!("model").entered(),
            };
            let h = hand.start(true);
            acc ^= spin(acc, steps);
            hand.end(name, true, h);
        }
        drop(strategy);
        hand.end("strategy", false, s);
    }
    {
        let _s = tracing::info_span!("risk").entered();
        let h = hand.start(true);
        acc ^= spin(acc, 15);
        hand.end("risk", true, h);
    }
    acc
}

/// One tick (the sync variant).
#[inline(never)]
fn tick(i: u64, text: &str, hand: &mut Hand) -> u64 {
    let t = hand.start(false);
    let tick = tracing::info_span!("tick").entered();
    let mut acc = components(i, text, hand);
    {
        let _s = tracing::info_span!("execution").entered();
        let h = hand.start(true);
        acc ^= spin(acc, 300);
        hand.end("execution", true, h);
    }
    drop(tick);
    hand.end("tick", false, t);
    acc
}

/// The async variant's tick: the tick is a future instrumented with its span (entered at each
/// poll), and `execution` a child future that yields once mid-way: both are timed by their busy
/// time, their polls, not the time they wait.
async fn tick_async(i: u64, text: &str, hand: &mut Hand) -> u64 {
    use tracing::Instrument;
    let clock = hand.clock.clone();
    let (leaves, parents) = (hand.leaves, hand.parents);
    let read = move |on: bool| if on { clock.raw() } else { 0 };
    let t = read(parents);
    let tick_span = tracing::info_span!("tick");
    let (acc, waited, execution_busy) = async {
        let acc = components(i, text, hand);
        // `execution`: two polls; what it waits in between is no one's busy time.
        let (a, waited, busy) = async {
            let h = read(leaves);
            let mut a = spin(acc, 150);
            let first = read(leaves || parents);
            tokio::task::yield_now().await;
            let resumed = read(leaves || parents);
            a ^= spin(a, 150);
            let end = read(leaves);
            (
                a,
                resumed.saturating_sub(first),
                (first - h) + (end - resumed),
            )
        }
        .instrument(tracing::info_span!("execution"))
        .await;
        (acc ^ a, waited, busy)
    }
    .instrument(tick_span)
    .await;
    let clock = &hand.clock;
    if leaves && let Some(h) = hand.histograms.get_mut("execution") {
        let _ = h.record(clock.delta_as_nanos(0, execution_busy).max(1));
    }
    if parents {
        let busy = clock.raw().saturating_sub(t).saturating_sub(waited);
        if let Some(h) = hand.histograms.get_mut("tick") {
            let _ = h.record(clock.delta_as_nanos(0, busy).max(1));
        }
    }
    acc
}

fn collector(sampling: Sampling) -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(sampling)
        .without_resource_sampling()
        .build()
        .unwrap()
}

/// Runs one configuration in this process and prints `key=value` results.
fn child(config: &str, variant: &str, ticks: u64) {
    let collector_of_run = match config {
        "bare" | "hand_leaves" | "hand_parents" => None,
        "tickprof_default" | "tickprof_full" => {
            let c = collector(if config == "tickprof_full" {
                Sampling::full()
            } else {
                Sampling::default()
            });
            tracing_subscriber::registry().with(c.layer()).init();
            Some(c)
        }
        other => panic!("unknown configuration {other}"),
    };
    let mut hand = Hand::new(config == "hand_leaves", config == "hand_parents");
    let lines: Vec<String> = (0..1_000).map(line).collect();
    let text = |i: u64| lines[(i % 1_000) as usize].as_str();
    let run = |hand: &mut Hand, from: u64, to: u64| -> (u64, f64) {
        if variant == "async" {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async {
                // Two tasks that work between ticks (the engine's other tasks).
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                for seed in 0..2u64 {
                    let stop = std::sync::Arc::clone(&stop);
                    tokio::spawn(async move {
                        let mut x = seed;
                        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                            x ^= spin(x, 400);
                            tokio::task::yield_now().await;
                        }
                        black_box(x);
                    });
                }
                let start = Instant::now();
                let mut acc = 0;
                for i in from..to {
                    acc ^= tick_async(i, text(i), hand).await;
                    tokio::task::yield_now().await;
                }
                let elapsed = start.elapsed().as_nanos() as f64;
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                tokio::task::yield_now().await;
                (acc, elapsed)
            })
        } else {
            let start = Instant::now();
            let mut acc = 0;
            for i in from..to {
                acc ^= tick(i, text(i), hand);
            }
            (acc, start.elapsed().as_nanos() as f64)
        }
    };
    // Warm-up, outside the run.
    black_box(run(&mut hand, 0, ticks / 10));
    hand.reset();
    if let Some(c) = &collector_of_run {
        c.start_profiling(config).unwrap();
    }
    let (acc, elapsed) = run(&mut hand, ticks / 10, ticks / 10 + ticks);
    black_box(acc);
    println!("ns_per_tick={:.3}", elapsed / ticks as f64);
    for (name, h) in &hand.histograms {
        if !h.is_empty() {
            println!("hand.{name}.mean_ns={:.1}", h.mean());
            println!("hand.{name}.p50_ns={}", h.value_at_quantile(0.5));
        }
    }
    if let Some(c) = &collector_of_run {
        print_report(&c.stop_profiling().unwrap());
    }
}

fn print_report(report: &Report) {
    println!("ticks_counted={}", report.ticks.count);
    println!("tick.mean_ns={:.1}", report.ticks.latency.mean_ns);
    println!("tick.p50_ns={}", report.ticks.latency.p50_ns);
    if let Some(r) = &report.ticks.recorded {
        println!("tick_recorded.mean_ns={:.1}", r.mean_ns);
    }
    println!("unattributed.mean_ns={:.1}", report.unattributed.mean_ns);
    println!("unattributed.p50_ns={}", report.unattributed.p50_ns);
    let mut shares = report.unattributed_share().unwrap_or(f64::NAN);
    for (name, c) in &report.components {
        println!("{name}.mean_ns={:.1}", c.latency.mean_ns);
        println!("{name}.p50_ns={}", c.latency.p50_ns);
        if let Some(s) = &c.self_time {
            println!("{name}.self_mean_ns={:.1}", s.mean_ns);
            println!("{name}.self_p50_ns={}", s.p50_ns);
        }
        println!("{name}.count={}", c.count);
        shares += report.self_share(name).unwrap_or(f64::NAN);
    }
    println!("shares_sum={shares:.4}");
    if let Some(s) = &report.sampling {
        println!("cost_ns_per_tick={:.1}", s.cost_ns_per_tick);
        println!("ticks_timed={}", s.ticks_timed);
        println!("ticks_recorded={}", s.ticks_recorded);
    }
    println!(
        "residue_ns={:.1}",
        report.overhead.nested_span_ns.unwrap_or(f64::NAN)
    );
    println!("floor_ns={:.1}", report.overhead.empty_span_busy_ns);
}

const CONFIGS: [&str; 5] = [
    "bare",
    "hand_leaves",
    "hand_parents",
    "tickprof_default",
    "tickprof_full",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let get = |k: usize| args.get(i + k).cloned().unwrap();
        child(&get(1), &get(2), get(3).parse().unwrap());
        return;
    }
    let reps: usize = std::env::var("TICKPROF_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let ticks = 200_000u64;
    for variant in ["sync", "async"] {
        let mut results: BTreeMap<&str, Vec<BTreeMap<String, f64>>> = BTreeMap::new();
        for _ in 0..reps {
            for config in CONFIGS {
                results.entry(config).or_default().push(run_child(&[
                    config,
                    variant,
                    &ticks.to_string(),
                ]));
            }
        }
        report(variant, ticks, reps, &results);
    }
}

/// The median over repetitions of `key` in `config`.
fn m(results: &BTreeMap<&str, Vec<BTreeMap<String, f64>>>, config: &str, key: &str) -> f64 {
    median(
        results
            .get(config)
            .map(|runs| runs.iter().filter_map(|r| r.get(key).copied()).collect())
            .unwrap_or_default(),
    )
}

fn report(
    variant: &str,
    ticks: u64,
    reps: usize,
    results: &BTreeMap<&str, Vec<BTreeMap<String, f64>>>,
) {
    let m = |config: &str, key: &str| m(results, config, key);
    println!(
        "\n== {variant} tick ({ticks} ticks per process, {reps} interleaved repetitions, medians)"
    );
    println!(
        "bare {:.1} ns/tick; default {:.3}× bare, full {:.3}× bare",
        m("bare", "ns_per_tick"),
        m("tickprof_default", "ns_per_tick") / m("bare", "ns_per_tick"),
        m("tickprof_full", "ns_per_tick") / m("bare", "ns_per_tick")
    );
    // The truth of each figure: (mean, p50 if the hand timing has it).
    let hand = |name: &str, config: &str| {
        (
            m(config, &format!("hand.{name}.mean_ns")),
            m(config, &format!("hand.{name}.p50_ns")),
        )
    };
    let mut truth: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for leaf in LEAVES {
        truth.insert(leaf.to_owned(), hand(leaf, "hand_leaves"));
    }
    truth.insert("strategy".to_owned(), hand("strategy", "hand_parents"));
    truth.insert("tick".to_owned(), hand("tick", "hand_parents"));
    let children_mean = |parent: &str| -> f64 {
        REGIONS
            .iter()
            .filter(|(_, p)| *p == parent)
            .map(|(name, _)| truth[*name].0)
            .sum()
    };
    let strategy_self = truth["strategy"].0 - children_mean("strategy");
    let unattributed = truth["tick"].0 - children_mean("tick");
    println!(
        "{:<22} {:>10} {:>10}   {:>18} {:>18}",
        "figure", "truth", "truth p50", "default mean/p50", "full mean/p50"
    );
    let row = |label: &str, t_mean: f64, t_p50: f64, key_mean: &str, key_p50: &str| {
        let cell = |config: &str| {
            let mean = m(config, key_mean) / t_mean;
            let p50 = if key_p50.is_empty() || t_p50.is_nan() {
                f64::NAN
            } else {
                m(config, key_p50) / t_p50
            };
            format!("{mean:>8.2}× {p50:>7.2}×")
        };
        println!(
            "{label:<22} {t_mean:>10.1} {t_p50:>10.0}   {:>18} {:>18}",
            cell("tickprof_default"),
            cell("tickprof_full")
        );
    };
    row(
        "tick",
        truth["tick"].0,
        truth["tick"].1,
        "tick.mean_ns",
        "tick.p50_ns",
    );
    for (name, _) in REGIONS {
        let (mean, p50) = truth[name];
        row(
            name,
            mean,
            p50,
            &format!("{name}.mean_ns"),
            &format!("{name}.p50_ns"),
        );
    }
    row(
        "strategy (self)",
        strategy_self,
        f64::NAN,
        "strategy.self_mean_ns",
        "",
    );
    row(
        "unattributed",
        unattributed,
        f64::NAN,
        "unattributed.mean_ns",
        "",
    );
    println!(
        "shares add up to: default {:.3}, full {:.3}; residue {:.1} ns, floor {:.1} ns; estimated cost {:.1} ns/tick (measured {:.1})",
        m("tickprof_default", "shares_sum"),
        m("tickprof_full", "shares_sum"),
        m("tickprof_default", "residue_ns"),
        m("tickprof_default", "floor_ns"),
        m("tickprof_default", "cost_ns_per_tick"),
        m("tickprof_default", "ns_per_tick") - m("bare", "ns_per_tick"),
    );
    // The issue's targets, for components holding ≥ 5 % of the tick.
    let tick_mean = truth["tick"].0;
    for config in ["tickprof_default", "tickprof_full"] {
        let mut worst_mean: (f64, &str) = (0.0, "");
        let mut worst_p50: (f64, &str) = (0.0, "");
        for (name, _) in REGIONS {
            let (t_mean, t_p50) = truth[name];
            if t_mean < 0.05 * tick_mean {
                continue;
            }
            let e_mean = (m(config, &format!("{name}.mean_ns")) / t_mean - 1.0).abs();
            let e_p50 = (m(config, &format!("{name}.p50_ns")) / t_p50 - 1.0).abs();
            if e_mean > worst_mean.0 {
                worst_mean = (e_mean, name);
            }
            if e_p50 > worst_p50.0 {
                worst_p50 = (e_p50, name);
            }
        }
        println!(
            "{config}: components ≥ 5 % of the tick: worst mean error {:.1} % ({}; target 15 %), worst p50 error {:.1} % ({}; target 20 %)",
            100.0 * worst_mean.0,
            worst_mean.1,
            100.0 * worst_p50.0,
            worst_p50.1
        );
    }
    println!(
        "full: tick p50 {:.3}× the bare tick (target within 15 %)",
        m("tickprof_full", "tick.p50_ns") / m("bare", "ns_per_tick")
    );
}
