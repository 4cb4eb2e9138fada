#![allow(missing_docs, clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! What tickprof costs a tick loop, measured as users run it: every configuration in its own
//! process under a global subscriber (`set_global_default`), repetitions interleaved, medians,
//! ratios to baselines measured in the same run.
//!
//! ```text
//! cargo bench --bench overhead                  # 7 repetitions, ~1 minute
//! TICKPROF_BENCH_REPS=3 cargo bench --bench overhead
//! cargo bench --bench overhead -- --child tickprof_default small 200000   # one process
//! ```
//!
//! A tick is one `tick` span with 8 component spans around deterministic work (an LCG), in two
//! sizes: `small` (~380 ns bare, as the issue's example) and `large` (~2 µs). Configurations:
//! - `bare`: no subscriber at all — what the engine costs in production;
//! - `bare_timed`: no subscriber, each component timed with two TSC reads — the components'
//!   own latency, for comparison with what tickprof reports;
//! - `registry_identity`: `registry()` + an empty layer (every span created; the usual
//!   baseline of layer benchmarks);
//! - `stack`: the README's stack, `registry()` + `fmt` behind `EnvFilter("warn")` (a per-layer
//!   filter), writing to a sink;
//! - `stack_idle` / `stack_profiled`: the stack + tickprof, no run active / profiling (default
//!   sampling);
//! - `tickprof_idle` / `tickprof_default` / `tickprof_full`: `registry()` + tickprof alone,
//!   no run / default sampling / `Sampling::full()`;
//! - `tickprof_count_only`: profiling with nothing sampled: what counting every tick costs;
//! - `tickprof_no_slow`: `tickprof_default` with `slowest_ticks(0)` (what keeping the slowest
//!   ticks costs is the difference);
//! - `bare_seq`, `tickprof_seq`, `tickprof_full_seq`: `bare`, `tickprof_default` and
//!   `tickprof_full` with the tick's position as a field (`info_span!("tick", seq = i)`),
//!   which slow ticks keep (what capturing it costs is the difference).
//!
//! Printed: ns per tick (median of the repetitions) and the ratios of the issue's goals; the
//! reported tick mean and p50 against the bare per-tick time; component p50s against
//! `bare_timed`. The last line is RSS after 10K and 1M profiled ticks (footprint is fixed).

mod workload;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::{Identity, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use workload::{COMPONENTS, median, run_child, steps, tick, tick_with_seq, work};

/// Built with `RUSTFLAGS="--cfg tickprof_counting_allocator"`, tickprof's counting allocator is
/// the global allocator and every run reads the allocation counters: the difference to a plain
/// build is what counting allocations costs.
#[cfg(tickprof_counting_allocator)]
#[global_allocator]
static ALLOC: tickprof::CountingAllocator = tickprof::CountingAllocator::system();

const CONFIGS: [&str; 15] = [
    "bare",
    "bare_timed",
    "registry_identity",
    "stack",
    "stack_idle",
    "stack_profiled",
    "tickprof_idle",
    "tickprof_default",
    "tickprof_full",
    "tickprof_no_slow",
    "tickprof_count_only",
    "bare_seq",
    "tickprof_seq",
    "tickprof_full_seq",
    "rss",
];

/// The same work without spans, each component timed with two TSC reads.
#[inline(never)]
fn timed_tick(
    i: u64,
    steps: &[u32; 8],
    clock: &quanta::Clock,
    hist: &mut [hdrhistogram::Histogram<u64>],
) -> u64 {
    let mut acc = i;
    for (n, h) in hist.iter_mut().enumerate() {
        let start = clock.raw();
        acc ^= work(acc, steps[n]);
        let end = clock.raw();
        let _ = h.record(clock.delta_as_nanos(start, end).max(1));
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

fn fmt_warn<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        .with_filter(EnvFilter::new("warn"))
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs one configuration in this process and prints `key=value` results.
fn child(config: &str, size: &str, ticks: u64) {
    let steps = steps(size);
    let mut collector_of_run = None;
    match config {
        "bare" | "bare_timed" => {}
        "registry_identity" => tracing_subscriber::registry().with(Identity::new()).init(),
        "stack" => tracing_subscriber::registry().with(fmt_warn()).init(),
        "stack_idle" | "stack_profiled" => {
            let c = collector(Sampling::default());
            tracing_subscriber::registry()
                .with(fmt_warn())
                .with(c.layer())
                .init();
            collector_of_run = (config == "stack_profiled").then_some(c);
        }
        "bare_seq" => {}
        "tickprof_idle"
        | "tickprof_default"
        | "tickprof_full"
        | "tickprof_no_slow"
        | "tickprof_count_only"
        | "tickprof_seq"
        | "tickprof_full_seq"
        | "rss" => {
            let sampling = if config.starts_with("tickprof_full") {
                Sampling::full()
            } else if config == "tickprof_count_only" {
                // Nothing sampled (but the first tick): what the exact count alone costs.
                Sampling::one_in(u64::MAX / 4)
            } else {
                Sampling::default()
            };
            let slowest = if config == "tickprof_no_slow" {
                0
            } else {
                tickprof::DEFAULT_SLOWEST_TICKS
            };
            let c = MetricsCollector::builder()
                .sampling(sampling)
                .slowest_ticks(slowest)
                .without_resource_sampling()
                .build()
                .unwrap();
            tracing_subscriber::registry().with(c.layer()).init();
            collector_of_run = (config != "tickprof_idle").then_some(c);
        }
        other => panic!("unknown configuration {other}"),
    }
    if config == "bare_timed" {
        let clock = quanta::Clock::new();
        let mut hist: Vec<_> = (0..8)
            .map(|_| hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).unwrap())
            .collect();
        let mut acc = 0;
        for i in 0..ticks / 10 {
            acc ^= timed_tick(i, &steps, &clock, &mut hist);
        }
        hist.iter_mut().for_each(|h| h.reset());
        for i in 0..ticks {
            acc ^= timed_tick(i, &steps, &clock, &mut hist);
        }
        black_box(acc);
        for (name, h) in COMPONENTS.iter().zip(&hist) {
            println!("component.{name}.p50_ns={}", h.value_at_quantile(0.5));
        }
        return;
    }
    let tick = if config.ends_with("_seq") {
        tick_with_seq
    } else {
        tick
    };
    let mut acc = 0;
    // Warm-up, outside the run.
    for i in 0..ticks / 10 {
        acc ^= tick(i, &steps);
    }
    if let Some(c) = &collector_of_run {
        c.start_profiling(config).unwrap();
    }
    if config == "rss" {
        for i in 0..10_000 {
            acc ^= tick(i, &steps);
        }
        let after_10k = rss_kib();
        for i in 10_000..1_000_000 {
            acc ^= tick(i, &steps);
        }
        println!("rss_10k_kib={after_10k}");
        println!("rss_1m_kib={}", rss_kib());
    } else {
        let start = Instant::now();
        for i in 0..ticks {
            acc ^= tick(i, &steps);
        }
        let elapsed = start.elapsed();
        println!(
            "ns_per_tick={:.3}",
            elapsed.as_nanos() as f64 / ticks as f64
        );
    }
    black_box(acc);
    if let Some(c) = &collector_of_run {
        let report = c.stop_profiling().unwrap();
        let s = report.sampling.clone().unwrap();
        println!("ticks_counted={}", report.ticks.count);
        println!("ticks_timed={}", s.ticks_timed);
        println!("ticks_recorded={}", s.ticks_recorded);
        println!("windows={}", s.windows);
        println!("tick_mean_ns={:.1}", report.ticks.latency.mean_ns);
        println!("tick_p50_ns={}", report.ticks.latency.p50_ns);
        if let Some(raw) = &report.ticks.latency_raw {
            println!("tick_raw_mean_ns={:.1}", raw.mean_ns);
        }
        println!("unattributed_mean_ns={:.1}", report.unattributed.mean_ns);
        println!(
            "unattributed_estimate_ns={:.1}",
            report.unattributed_mean_ns.unwrap_or(f64::NAN)
        );
        println!("unattributed_p50_ns={}", report.unattributed.p50_ns);
        println!("per_span_ns={:.1}", report.overhead.per_span_ns);
        println!(
            "nested_span_ns={:.1}",
            report.overhead.nested_span_ns.unwrap_or(f64::NAN)
        );
        println!(
            "nested_span_in_run_ns={:.1}",
            report.overhead.nested_span_in_run_ns.unwrap_or(f64::NAN)
        );
        println!("floor_ns={:.1}", report.overhead.empty_span_busy_ns);
        println!(
            "tick_check_ns={:.1}",
            report.overhead.tick_check_ns.unwrap_or(0.0)
        );
        println!(
            "layer_ns_per_span={:.1}",
            report.overhead.layer_ns_per_span.unwrap_or(0.0)
        );
        println!("cost_ns_per_tick={:.1}", s.cost_ns_per_tick);
        for (name, c) in &report.components {
            println!("component.{name}.p50_ns={}", c.latency.p50_ns);
            println!("component.{name}.count={}", c.count);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let get = |k: usize| args.get(i + k).cloned().unwrap();
        child(&get(1), &get(2), get(3).parse().unwrap());
        return;
    }
    // `cargo bench` passes `--bench`; anything else from libtest is ignored.
    let reps: usize = std::env::var("TICKPROF_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    for size in ["small", "large"] {
        let ticks = if size == "small" { 1_000_000 } else { 250_000 };
        let mut results: BTreeMap<&str, Vec<BTreeMap<String, f64>>> = BTreeMap::new();
        for _ in 0..reps {
            for config in CONFIGS.iter().filter(|c| **c != "rss") {
                results.entry(config).or_default().push(run_child(&[
                    config,
                    size,
                    &ticks.to_string(),
                ]));
            }
        }
        let m = |config: &str, key: &str| {
            median(
                results
                    .get(config)
                    .map(|runs| runs.iter().filter_map(|r| r.get(key).copied()).collect())
                    .unwrap_or_default(),
            )
        };
        println!(
            "\n== {size} tick ({ticks} ticks per process, {reps} interleaved repetitions, medians)"
        );
        println!(
            "{:<20} {:>12} {:>10} {:>12}",
            "configuration", "ns/tick", "× bare", "× baseline"
        );
        let bare = m("bare", "ns_per_tick");
        for config in CONFIGS
            .iter()
            .filter(|c| !matches!(**c, "rss" | "bare_timed"))
        {
            let ns = m(config, "ns_per_tick");
            let baseline = match *config {
                "stack_idle" | "stack_profiled" => m("stack", "ns_per_tick"),
                _ => bare,
            };
            println!(
                "{config:<20} {ns:>12.1} {:>9.3}× {:>11.3}×",
                ns / bare,
                ns / baseline
            );
        }
        let stack = m("stack", "ns_per_tick");
        println!(
            "goal 1 idle: stack+tickprof idle / stack = {:.3}×; registry+tickprof idle / bare = {:.3}×",
            m("stack_idle", "ns_per_tick") / stack,
            m("tickprof_idle", "ns_per_tick") / bare
        );
        println!(
            "goal 2 profiling: registry+tickprof default / bare = {:.3}×; stack profiled / stack = {:.3}×",
            m("tickprof_default", "ns_per_tick") / bare,
            m("stack_profiled", "ns_per_tick") / stack
        );
        for config in ["tickprof_default", "stack_profiled", "tickprof_full"] {
            println!(
                "goal 3 {config}: reported tick mean {:.1} ns ({:.3}× bare), p50 {:.0} ns ({:.3}× bare), raw mean {:.1} ns; {:.0} of {:.0} ticks timed, {:.0} recorded in {:.0} windows; estimated cost {:.1} ns/tick",
                m(config, "tick_mean_ns"),
                m(config, "tick_mean_ns") / bare,
                m(config, "tick_p50_ns"),
                m(config, "tick_p50_ns") / bare,
                m(config, "tick_raw_mean_ns"),
                m(config, "ticks_timed"),
                m(config, "ticks_counted"),
                m(config, "ticks_recorded"),
                m(config, "windows"),
                m(config, "cost_ns_per_tick"),
            );
            let cells: Vec<String> = COMPONENTS
                .iter()
                .map(|c| {
                    let key = format!("component.{c}.p50_ns");
                    format!("{c} {:.0}/{:.0}", m(config, &key), m("bare_timed", &key))
                })
                .collect();
            println!(
                "  component p50 reported/bare-timed ns: {}",
                cells.join(", ")
            );
            println!(
                "  unattributed mean {:.1} ns (p50 {:.0}, estimate from means {:.1}); calibration: per span {:.1} ns ({:.1} nested; in the run {:.1}), floor {:.1} ns, tick check {:.1} ns, layer share {:.1} ns/span",
                m(config, "unattributed_mean_ns"),
                m(config, "unattributed_p50_ns"),
                m(config, "unattributed_estimate_ns"),
                m(config, "per_span_ns"),
                m(config, "nested_span_ns"),
                m(config, "nested_span_in_run_ns"),
                m(config, "floor_ns"),
                m(config, "tick_check_ns"),
                m(config, "layer_ns_per_span")
            );
        }
        let delta = |a: &str, b: &str| m(a, "ns_per_tick") - m(b, "ns_per_tick");
        println!(
            "slow ticks: default − slowest_ticks(0) = {:+.1} ns/tick; a `seq` field: bare {:+.1}, default {:+.1}, full {:+.1} ns/tick",
            delta("tickprof_default", "tickprof_no_slow"),
            delta("bare_seq", "bare"),
            delta("tickprof_seq", "tickprof_default"),
            delta("tickprof_full_seq", "tickprof_full"),
        );
        println!(
            "goal 5 full detail: (registry+tickprof full − registry+identity) / 9 spans = {:.1} ns per span",
            (m("tickprof_full", "ns_per_tick") - m("registry_identity", "ns_per_tick")) / 9.0
        );
    }
    let rss = run_child(&["rss", "small", "0"]);
    println!(
        "\nRSS after 10K profiled ticks: {} KiB; after 1M: {} KiB",
        rss.get("rss_10k_kib").copied().unwrap_or(f64::NAN),
        rss.get("rss_1m_kib").copied().unwrap_or(f64::NAN)
    );
}
