//! The verdicts: the seed's "Interpreting Results" section made automatic. Each says pass,
//! fail or inconclusive with its rule, its figure and, when not a pass, what to do next. Pure
//! computation over the run figures and the reports.

use std::fmt::Write as _;

use serde::Serialize;
use tickprof::scaling::{
    Basis, LINEAR_SCALING_THRESHOLD, MIN_LOOP_AFTER_WARMUP_S, ScalingEfficiency,
};
use tickprof::{ComponentStats, FAR_OUTLIER_FACTOR, OutlierCause, Report, Resources};

use crate::summary::RunFigures;

/// Scaling efficiency (the smaller run's time per tick over the larger's) at least this: the
/// library's, which the scalability graph draws too.
const LINEAR_SCALING_MIN_EFFICIENCY: f64 = LINEAR_SCALING_THRESHOLD;
/// A run's time per tick is compared only when its tick loop after the warm-up lasts this long
/// (see `linear_scaling`): the library's, which the graph's hollow points say too.
const MIN_STEADY_LOOP_S: f64 = MIN_LOOP_AFTER_WARMUP_S;
/// The least noise assumed when comparing runs, whatever the bare runs' spread: two runs that
/// happen to agree do not prove a quiet machine.
const MIN_NOISE: f64 = 0.05;
/// How many times the least sufficient run a suggestion asks for: the machine's speed and the
/// share of ticks timed vary from run to run.
const SUGGESTED_MARGIN: f64 = 2.0;
/// Tick p99 / mean above this means a heavy tail (the seed's rule).
const TAIL_MAX_P99_MEAN: f64 = 5.0;
/// Tick p99.9 / p50 above this means 1 tick in 1,000 waits on something (see `tail_latency`).
const TAIL_MAX_P999_P50: f64 = 50.0;
/// Fewest timed ticks for the tail to be judged: with fewer, p99.9 is the largest value.
const MIN_TAIL_SAMPLES: u64 = 1000;
/// Fewest timed ticks for outliers to be judged (against p99 below 1,000, p99.9 from there:
/// the report's `tick_outliers`).
const MIN_OUTLIER_SAMPLES: u64 = 100;
/// A max more than this many times p99.9 is one value set apart from the rest (see
/// `tick_outliers`): the library's, which the summary's note uses too.
const OUTLIER_MAX_P999: f64 = FAR_OUTLIER_FACTOR as f64;
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
/// Root-mean-square deviation of the CPU samples from the run's mean CPU, as a share of that
/// mean, above which CPU use is spiky.
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

/// Pass, fail, or not enough data to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Within the rule.
    Pass,
    /// Outside the rule.
    Fail,
    /// The data cannot tell (one size only, runs too short, too few samples, the machine's
    /// noise larger than the difference to the limit, or one value set apart from the rest).
    Inconclusive,
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
    /// What to do next: for a failure, what it suggests and where to look; for an inconclusive
    /// verdict, how to make it conclusive; `null` for a pass.
    pub next: Option<String>,
}

impl Verdict {
    fn pass(check: &'static str, figure: String, rule: String) -> Self {
        Verdict {
            check,
            status: Status::Pass,
            figure,
            rule,
            next: None,
        }
    }

    fn fail(check: &'static str, figure: String, rule: String, next: String) -> Self {
        Verdict {
            check,
            status: Status::Fail,
            figure,
            rule,
            next: Some(next),
        }
    }

    fn inconclusive(check: &'static str, figure: String, rule: String, next: String) -> Self {
        Verdict {
            check,
            status: Status::Inconclusive,
            figure,
            rule,
            next: Some(next),
        }
    }

    fn icon(&self) -> &'static str {
        match self.status {
            Status::Pass => "✅",
            Status::Fail => "❌",
            Status::Inconclusive => "➖",
        }
    }

    /// The verdict for the terminal: the outcome and figure, then the rule and what to do next.
    pub fn lines(&self) -> String {
        let indent = " ".repeat(3);
        let mut s = format!(
            "{} {}: {}\n{indent}rule: {}",
            self.icon(),
            self.check,
            self.figure,
            self.rule
        );
        if let Some(next) = &self.next {
            let _ = write!(s, "\n{indent}next: {next}");
        }
        s
    }
}

/// `x` rounded up to two significant digits (ticks to suggest: 72,000 rather than 71,429).
fn round_up_2_digits(x: f64) -> u64 {
    if !(x.is_finite() && x > 0.0) {
        return 0;
    }
    let unit = 10f64.powi((x.log10().floor() as i32 - 1).max(0));
    ((x / unit).ceil() * unit) as u64
}

/// A run's report, by name.
fn report_of<'a>(reports: &'a [Report], run: &RunFigures) -> Option<&'a Report> {
    report_named(reports, &run.name)
}

/// The report named `name`.
fn report_named<'a>(reports: &'a [Report], name: &str) -> Option<&'a Report> {
    reports.iter().find(|r| r.name == name)
}

/// How much the profiler changed what it measured, in the largest run (small runs are a few
/// milliseconds: the run's fixed costs, calibration's first window and the machine's noise
/// weigh more than the loop; each size's ratios are printed as it finishes): the profiled loop
/// against the bare one, and the reported tick mean against the bare loop's time per tick.
///
/// A ratio over its limit fails only when it stays over after allowing for the machine's noise
/// (the two bare runs' spread); a ratio between the limit and the limit plus the noise is
/// inconclusive, and said to be. So is a profiled loop faster than the bare one by more than
/// the noise (at least 5 %): the profiler adds work, so the machine's speed changed between the
/// runs, and that change may hide the profiler's cost. And so is a ratio within the limits when
/// the noise is more than the 25 % margin the loop rule tests: that pass cannot be told from a
/// failure (a CI run passed at 0.73× with its bare runs 134 % apart).
pub fn distortion(runs: &[RunFigures]) -> Verdict {
    const CHECK: &str = "profiler distortion";
    let rule = format!(
        "largest run: profiled loop ≤ {DISTORTION_MAX_LOOP_RATIO}× bare and reported tick mean \
         ≤ {DISTORTION_MAX_TICK_RATIO}× bare time per tick; over by less than the bare runs' \
         spread, a profiled loop faster than bare by more than it (≥ {:.0}%), a spread over \
         {:.0}%, a bare loop under {:.0} ms, or a mean over only because of a far outlier \
         (max > {OUTLIER_MAX_P999:.0}× p99.9) is inconclusive",
        100.0 * MIN_NOISE,
        100.0 * (DISTORTION_MAX_LOOP_RATIO - 1.0),
        1e3 * MIN_STEADY_LOOP_S
    );
    let Some(r) = runs.iter().max_by_key(|r| r.ticks) else {
        return Verdict::inconclusive(
            CHECK,
            "no runs".into(),
            rule,
            "run at least one size (--ticks)".into(),
        );
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
    let bare_loop_s = 0.5 * (r.bare_loop_time_s[0] + r.bare_loop_time_s[1]);
    // One far outlier among the sampled ticks (a descheduled thread) stands for ~1/rate ticks
    // and can lift the reported mean past the loop's own time per tick.
    let far_outlier = r.timed_far_outlier;
    let noise = 1.0 + r.bare_spread;
    let beyond_noise = r.loop_ratio > DISTORTION_MAX_LOOP_RATIO * noise
        || r.tick_mean_ratio > DISTORTION_MAX_TICK_RATIO * noise;
    if !within && bare_loop_s < MIN_STEADY_LOOP_S {
        Verdict::inconclusive(
            CHECK,
            format!(
                "{figure}: over the limit on a loop of {:.1} ms, where one lost scheduler tick \
                 (4 ms) is a large share",
                1e3 * bare_loop_s
            ),
            rule,
            format!(
                "run more ticks: the largest run's bare loop should last ≥ {:.0} ms",
                1e3 * MIN_STEADY_LOOP_S
            ),
        )
    } else if r.loop_ratio <= DISTORTION_MAX_LOOP_RATIO
        && r.tick_mean_ratio > DISTORTION_MAX_TICK_RATIO
        && far_outlier
    {
        Verdict::inconclusive(
            CHECK,
            format!(
                "{figure}: the reported mean carries a far outlier (max {:.1} µs = {:.0}× p99.9), \
                 which a sampled run weighs as many ticks",
                r.max_us,
                r.max_us / r.p999_us
            ),
            rule,
            "most likely the thread was descheduled during a timed tick (see tick outliers): \
             rerun on a quieter machine"
                .into(),
        )
    } else if r.loop_ratio * (1.0 + r.bare_spread.max(MIN_NOISE)) < 1.0 {
        Verdict::inconclusive(
            CHECK,
            format!("{figure}: the profiled loop ran faster than bare by more than the noise"),
            rule,
            "the machine's speed changed between the runs: rerun on a quieter machine or with \
             more ticks"
                .into(),
        )
    } else if within && r.bare_spread > DISTORTION_MAX_LOOP_RATIO - 1.0 {
        Verdict::inconclusive(
            CHECK,
            format!("{figure}: within the limits, but the noise is larger than the margin"),
            rule,
            "the bare runs differ by more than the profiler's allowed cost: rerun on a quieter \
             machine or with more ticks"
                .into(),
        )
    } else if within {
        Verdict::pass(CHECK, figure, rule)
    } else if beyond_noise {
        Verdict::fail(
            CHECK,
            figure,
            rule,
            format!(
                "the profiler slows or misstates this loop by more than the limit: profile fewer \
                 spans per tick (only the components you need) or a smaller sampling budget \
                 (Sampling::budget); the report's `overhead` and `sampling` say what it paid \
                 (scalability_{}.json)",
                r.ticks
            ),
        )
    } else {
        Verdict::inconclusive(
            CHECK,
            format!("{figure}: over the limit by less than the noise"),
            rule,
            "rerun on a quieter machine (the bare runs' spread is the noise) or with more ticks"
                .into(),
        )
    }
}

/// Where an efficiency falls: within the rule, outside it beyond the noise, or undecided.
fn judge_efficiency(efficiency: f64, noise: f64) -> Status {
    if efficiency > 1.0 + noise {
        // The smaller run took longer per tick than the larger one by more than the noise:
        // start-up cost left in, or the machine slowed down during it; not super-linear scaling.
        Status::Inconclusive
    } else if efficiency >= LINEAR_SCALING_MIN_EFFICIENCY {
        // A pass must be told apart from a failure: not when the noise exceeds the margin.
        if noise > 1.0 - LINEAR_SCALING_MIN_EFFICIENCY {
            Status::Inconclusive
        } else {
            Status::Pass
        }
    } else if efficiency * (1.0 + noise) >= LINEAR_SCALING_MIN_EFFICIENCY {
        Status::Inconclusive
    } else {
        Status::Fail
    }
}

/// Whether the cost of a tick stays the same as runs get longer (the seed's "throughput
/// remains constant as tick count increases"), judged on the time per tick of the tick loop
/// after each run's warm-up, not on whole-run throughput: a run's fixed costs (the profiler's
/// start, its first 1,024 ticks on guessed rates, cold caches, generating the first chunk) are
/// paid once, so whole-run throughput made a 1,000-tick run look 2× slower than a 10,000-tick
/// one ("228 %").
///
/// Efficiency = the smaller run's time per tick / the larger's, for the bare loop (the engine;
/// mean of the runs before and after the profiled one) and the profiled loop (the engine with
/// the profiler). Compared: the smallest and the largest run whose loop after the warm-up lasts
/// ≥ 50 ms (there, one 4 ms scheduler tick lost to another process is 8 %, inside the 15 %
/// margin; shorter, one preemption, a frequency step or a cache refill is a large share of it).
/// Both efficiencies ≥ 85 %: pass, unless the noise (the bare runs' spread, at least 5 %) is
/// more than the 15 % margin the rule tests: then a pass cannot be told from a failure, and the
/// verdict is inconclusive. Above 100 % + noise: inconclusive, since a tick cannot get cheaper
/// because more follow it. Below 85 % by less than the noise: inconclusive. Either one below
/// that: fail.
pub fn linear_scaling(runs: &[RunFigures], reports: &[Report]) -> Verdict {
    const CHECK: &str = "linear scaling";
    let rule = format!(
        "time per tick after the warm-up, bare and profiled, of the smallest and largest runs \
         with ≥ {:.0} ms of loop after it: efficiency (smaller's / larger's) ≥ {:.0}%; noise \
         (bare runs' spread, ≥ {:.0}%) over {:.0}%, efficiency above 100% + noise, or below {:.0}% \
         by less than the noise is inconclusive",
        1e3 * MIN_STEADY_LOOP_S,
        100.0 * LINEAR_SCALING_MIN_EFFICIENCY,
        100.0 * MIN_NOISE,
        100.0 * (1.0 - LINEAR_SCALING_MIN_EFFICIENCY),
        100.0 * LINEAR_SCALING_MIN_EFFICIENCY
    );
    let mut sized: Vec<&RunFigures> = runs.iter().collect();
    sized.sort_by_key(|r| r.ticks);
    if sized.len() < 2 {
        return Verdict::inconclusive(
            CHECK,
            format!("{} size(s)", sized.len()),
            rule,
            "run at least two sizes, e.g. --ticks 100000,1000000".into(),
        );
    }
    // The library's estimator, the one the scalability graph's efficiency panel draws: which
    // runs are long enough to judge, the reference, each run's efficiency against it.
    let e = ScalingEfficiency::from_runs(
        Basis::LoopTimes,
        sized.iter().map(|r| r.scaling_run()).collect(),
    );
    let too_short: Vec<String> = e
        .runs
        .iter()
        .filter(|r| !r.judged())
        .map(|r| match r.bare_ns {
            Some(ns) => format!(
                "{} ({:.1} ms, {:.3} µs per tick)",
                r.ticks,
                1e3 * r.loop_after_warmup_s,
                ns / 1e3
            ),
            None => format!("{} (all warm-up)", r.ticks),
        })
        .collect();
    let too_short_text = format!(
        "bare loop after the first {} ticks shorter than {:.0} ms at {}",
        sized[0].warm_up_ticks,
        1e3 * MIN_STEADY_LOOP_S,
        too_short.join(", ")
    );
    let us = |ns: Option<f64>| ns.map_or_else(|| "-".to_owned(), |ns| format!("{:.3}", ns / 1e3));
    let Some((small_i, large_i)) = e.compared() else {
        let per_tick_ns = sized
            .iter()
            .rev()
            .find_map(|r| r.bare_steady_ns_per_tick)
            .unwrap_or_else(|| 1e9 / sized[sized.len() - 1].bare_throughput_per_s.max(1e-9));
        let ticks_for = |loop_s: f64| {
            round_up_2_digits(sized[0].warm_up_ticks as f64 + loop_s * 1e9 / per_tick_ns.max(1e-3))
        };
        let suggested = ticks_for(SUGGESTED_MARGIN * MIN_STEADY_LOOP_S);
        return Verdict::inconclusive(
            CHECK,
            format!("too short to judge: {too_short_text}"),
            rule,
            format!(
                "run more ticks: at {:.3} µs per tick, {:.0} ms after the warm-up take ≥ {} \
                 ticks; e.g. --ticks {suggested},{} (twice that, for a margin)",
                per_tick_ns / 1e3,
                1e3 * MIN_STEADY_LOOP_S,
                ticks_for(MIN_STEADY_LOOP_S),
                10 * suggested
            ),
        );
    };
    let (small, large) = (&e.runs[small_i], &e.runs[large_i]);
    // The larger run against the reference (the smaller): what the graph's last point shows.
    let bare = e.bare(large_i);
    let profiled = e.profiled(large_i);
    let noise = [small.noise, large.noise]
        .into_iter()
        .flatten()
        .fold(MIN_NOISE, f64::max);
    let part = |name: &str, a: Option<f64>, b: Option<f64>, e: Option<f64>| {
        format!(
            "{name} {} µs at {} → {} µs at {} = {}",
            us(a),
            small.ticks,
            us(b),
            large.ticks,
            e.map_or_else(|| "-".to_owned(), |e| format!("{:.1}%", 100.0 * e))
        )
    };
    let figure = format!(
        "time per tick after the warm-up: {}; {}; noise {:.1}%{}",
        part("bare", small.bare_ns, large.bare_ns, bare),
        part("profiled", small.profiled_ns, large.profiled_ns, profiled),
        100.0 * noise,
        if too_short.is_empty() {
            String::new()
        } else {
            format!("; not judged: {too_short_text}")
        }
    );
    let statuses: Vec<Status> = [bare, profiled]
        .into_iter()
        .flatten()
        .map(|e| judge_efficiency(e, noise))
        .collect();
    let grown = match (
        report_named(reports, &small.name),
        report_named(reports, &large.name),
    ) {
        (Some(a), Some(b)) => {
            most_grown_component(a, b).map_or_else(String::new, |(name, x, y)| {
                format!(
                    "; {name} grew most per tick: {x:.0} → {y:.0} ns (the reports' `components`, \
                 mean × spans per tick)"
                )
            })
        }
        _ => String::new(),
    };
    if statuses.contains(&Status::Fail) {
        let who = if bare.is_some_and(|e| judge_efficiency(e, noise) == Status::Fail) {
            "degrading throughput suggests an algorithmic issue: work per tick that grows with \
             the run (a collection that grows and is scanned every tick, an unbounded queue)"
        } else {
            "the profiled loop degrades and the bare one does not: the profiler costs more per \
             tick in the larger run (compare `overhead`, `sampling` and `loop_comparison` in the \
             two reports)"
        };
        Verdict::fail(CHECK, figure, rule, format!("{who}{grown}"))
    } else if statuses.len() < 2 {
        Verdict::inconclusive(
            CHECK,
            figure,
            rule,
            "a run without a time per tick after the warm-up: run more ticks".into(),
        )
    } else if [bare, profiled]
        .into_iter()
        .flatten()
        .any(|e| e > 1.0 + noise)
    {
        Verdict::inconclusive(
            CHECK,
            figure,
            rule,
            "the smaller run took longer per tick than the larger one by more than the noise: \
             start-up cost or a busier machine during it, not super-linear scaling; rerun on a \
             quieter machine or with larger sizes"
                .into(),
        )
    } else if statuses.contains(&Status::Inconclusive) {
        let why = if [bare, profiled]
            .into_iter()
            .flatten()
            .all(|e| e >= LINEAR_SCALING_MIN_EFFICIENCY)
        {
            format!(
                "the noise ({:.1}%) is more than the {:.0}% margin the rule tests, so a pass \
                 cannot be told from a failure",
                100.0 * noise,
                100.0 * (1.0 - LINEAR_SCALING_MIN_EFFICIENCY)
            )
        } else {
            "below the limit by less than the noise".to_owned()
        };
        Verdict::inconclusive(
            CHECK,
            figure,
            rule,
            format!(
                "{why}: rerun on a quieter machine (the bare runs' spread is the noise) or with \
                 more ticks"
            ),
        )
    } else {
        Verdict::pass(CHECK, figure, rule)
    }
}

/// The component whose time per tick (mean × spans per tick) grew most from `small` to
/// `large`, with both figures, ns.
fn most_grown_component(small: &Report, large: &Report) -> Option<(String, f64, f64)> {
    let per_tick = |c: &ComponentStats| c.latency.mean_ns * c.per_tick.unwrap_or(1.0);
    large
        .components
        .iter()
        .map(|(name, c)| {
            let before = small.components.get(name).map_or(0.0, per_tick);
            (name.clone(), before, per_tick(c))
        })
        .max_by(|a, b| (a.2 - a.1).total_cmp(&(b.2 - b.1)))
}

/// The component whose p99 exceeds its p50 by the most, with both, ns.
fn widest_tail_component(report: &Report) -> Option<(String, u64, u64)> {
    report
        .components
        .iter()
        .map(|(name, c)| (name.clone(), c.latency.p50_ns, c.latency.p99_ns))
        .max_by_key(|(_, p50, p99)| p99.saturating_sub(*p50))
}

/// Runs whose tail can be judged (≥ `MIN_TAIL_SAMPLES` timed ticks), and the others with their
/// timed ticks.
fn tail_judged(runs: &[RunFigures]) -> (Vec<&RunFigures>, Vec<String>) {
    let judged = runs
        .iter()
        .filter(|r| r.timed_ticks >= MIN_TAIL_SAMPLES && r.mean_us > 0.0 && r.p50_us > 0.0)
        .collect();
    let others = runs
        .iter()
        .filter(|r| r.timed_ticks < MIN_TAIL_SAMPLES)
        .map(|r| format!("{} ({} timed)", r.ticks, r.timed_ticks))
        .collect();
    (judged, others)
}

/// The figure of a tail verdict with no run to judge.
fn none_judged(others: &[String]) -> String {
    format!(
        "every run timed fewer than {MIN_TAIL_SAMPLES} ticks: {}",
        others.join(", ")
    )
}

/// The runs left out of a tail verdict, to append to its figure.
fn left_out(others: &[String]) -> String {
    if others.is_empty() {
        String::new()
    } else {
        format!(
            "; not judged (< {MIN_TAIL_SAMPLES} timed ticks): {}",
            others.join(", ")
        )
    }
}

/// What to run for a verdict to be judged: enough ticks to time `min` of them at the largest
/// run's timing rate.
fn more_timed_ticks(runs: &[RunFigures], min: u64) -> String {
    let largest = runs.iter().max_by_key(|r| r.ticks);
    match largest {
        Some(r) if r.timed_ticks > 0 && r.ticks > 0 => {
            let share = r.timed_ticks as f64 / r.ticks as f64;
            let ticks_for = |timed: f64| round_up_2_digits(timed / share);
            format!(
                "run more ticks: {:.1}% of ticks were timed at {}, so {min} timed ticks take ≥ {} \
                 ticks; e.g. --ticks {} (twice that, for a margin)",
                100.0 * share,
                r.ticks,
                ticks_for(min as f64),
                ticks_for(SUGGESTED_MARGIN * min as f64)
            )
        }
        _ => "run more ticks (no tick was timed)".into(),
    }
}

/// Whether some ticks take far longer than the typical one, in every run with enough timed
/// ticks: p99 / mean ≤ 5 (the seed's "small difference between mean and p99") and p99.9 / p50
/// ≤ 50.
///
/// p99 / mean alone misses a tail that is rare or huge: a few 4 ms ticks raise the mean above
/// p99 (a 100K run on a loaded machine: mean 2.39 µs, p99 1.24 µs, p99/mean 0.52, "pass").
/// p99.9 / p50 is not moved by one value, and catches 1 tick in 1,000 that waits. Its bound:
/// this engine never blocks, and 14 earlier driver reports on a shared 2-vCPU VM gave p99.9 /
/// p50 of 2.3–27 (interrupts and cache refills on a ~0.7 µs tick); three default runs at a load
/// average of 4–5 on its 2 CPUs gave 30–38, one 100K run 104. A blocking call (a syscall, a
/// contended lock, a page fault on new memory: 5–100 µs) in 1 tick of 1,000 puts it well above
/// 50 for a µs tick; so does a machine this busy, which the failure says. Runs with fewer than
/// 1,000 timed ticks are not judged (their p99.9 is their max).
pub fn tail_latency(runs: &[RunFigures], reports: &[Report]) -> Verdict {
    const CHECK: &str = "tail latency";
    let rule = format!(
        "tick p99 / mean ≤ {TAIL_MAX_P99_MEAN} and p99.9 / p50 ≤ {TAIL_MAX_P999_P50} in every \
         run with ≥ {MIN_TAIL_SAMPLES} timed ticks"
    );
    let (judged, others) = tail_judged(runs);
    let worst = |key: fn(&RunFigures) -> f64| {
        judged
            .iter()
            .map(|&r| (key(r), r))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    let (Some((p99_mean, r99)), Some((p999_p50, r999))) = (
        worst(|r| r.p99_us / r.mean_us),
        worst(|r| r.p999_us / r.p50_us),
    ) else {
        return Verdict::inconclusive(
            CHECK,
            none_judged(&others),
            rule,
            more_timed_ticks(runs, MIN_TAIL_SAMPLES),
        );
    };
    let figure = format!(
        "worst p99/mean {p99_mean:.2} ({:.3} / {:.3} µs at {}), worst p99.9/p50 {p999_p50:.1} \
         ({:.3} / {:.3} µs at {}){}",
        r99.p99_us,
        r99.mean_us,
        r99.ticks,
        r999.p999_us,
        r999.p50_us,
        r999.ticks,
        left_out(&others)
    );
    if p99_mean <= TAIL_MAX_P99_MEAN && p999_p50 <= TAIL_MAX_P999_P50 {
        return Verdict::pass(CHECK, figure, rule);
    }
    let culprit = if p99_mean > TAIL_MAX_P99_MEAN {
        r99
    } else {
        r999
    };
    let component = report_of(reports, culprit)
        .and_then(widest_tail_component)
        .map_or_else(String::new, |(name, p50, p99)| {
            format!(
                "; at {}, {name} has the widest tail (p50 {:.3} µs, p99 {:.3} µs)",
                culprit.ticks,
                p50 as f64 / 1e3,
                p99 as f64 / 1e3
            )
        });
    Verdict::fail(
        CHECK,
        figure,
        rule,
        format!(
            "high tail latency suggests blocking operations in some ticks (I/O, a contended \
             lock, a syscall, an allocation that reaches the OS){component}; on a busy machine \
             preemption does the same: rerun on a quiet one to tell them apart"
        ),
    )
}

/// Whether some tick took far longer than all the others, in every run with enough timed
/// ticks: the report's [`Report::tick_outliers`], the figure the summary's note states too.
/// It reads the timed ticks' max and every listed slow tick (a recorded tick is not in the
/// timed figures: a 4 ms recorded tick used to pass unseen).
///
/// Above [`FAR_OUTLIER_FACTOR`] × p99.9 (p99 under 1,000 timed ticks) is two orders of
/// magnitude above the tick 1 in 1,000 reaches: beyond anything the tick's own work does that
/// rarely, and the size of a scheduler tick (1–10 ms) against a µs tick. What decides is what
/// the kernel's scheduler counted for the tick's thread over the sample windows that hold it
/// (an upper bound for the tick): too little run-queue wait to hold the tick's excess means
/// the excess was not descheduling, but the code's own time (its work, or its blocking: a
/// syscall, a lock, I/O), and that fails. Enough wait (or no counts) cannot tell the two apart:
/// inconclusive, as one value cannot say what it was (the 2.7, 4.07 and 4.16 ms maxima seen in
/// driver runs are about one scheduler tick, 4 ms at this VM kernel's 250 Hz). Runs with fewer
/// than 100 timed ticks are not judged: no percentile to measure a tick against.
pub fn tick_outliers(runs: &[RunFigures], reports: &[Report]) -> Verdict {
    const CHECK: &str = "tick outliers";
    let rule = format!(
        "slowest tick (timed or listed) ≤ {OUTLIER_MAX_P999:.0}× the timed ticks' p99.9 (p99 \
         under {MIN_TAIL_SAMPLES}) in every run with ≥ {MIN_OUTLIER_SAMPLES} timed ticks; above \
         fails when the scheduler's counts leave too little run-queue wait for descheduling, \
         else inconclusive"
    );
    let mut sized: Vec<&RunFigures> = runs.iter().collect();
    sized.sort_by_key(|r| r.ticks);
    let judged: Vec<(&RunFigures, tickprof::TickOutliers)> = sized
        .iter()
        .filter_map(|&r| Some((r, report_of(reports, r)?.tick_outliers()?)))
        .collect();
    let others: Vec<String> = sized
        .iter()
        .filter(|r| !judged.iter().any(|(j, _)| j.name == r.name))
        .map(|r| format!("{} ({} timed)", r.ticks, r.timed_ticks))
        .collect();
    let left_out = if others.is_empty() {
        String::new()
    } else {
        format!(
            "; not judged (< {MIN_OUTLIER_SAMPLES} timed ticks): {}",
            others.join(", ")
        )
    };
    let Some((r, o)) = judged
        .iter()
        .max_by(|a, b| a.1.ratio().total_cmp(&b.1.ratio()))
    else {
        return Verdict::inconclusive(
            CHECK,
            format!(
                "every run timed fewer than {MIN_OUTLIER_SAMPLES} ticks: {}",
                others.join(", ")
            ),
            rule,
            more_timed_ticks(runs, MIN_OUTLIER_SAMPLES),
        );
    };
    let figure = format!("worst {} at {} ticks{left_out}", o.headline(), r.ticks);
    if judged.iter().all(|(_, o)| !o.any()) {
        return Verdict::pass(CHECK, figure, rule);
    }
    // A run whose outlier the scheduler's counts pin on the code fails, whichever run has the
    // largest ratio.
    let from_the_code = judged
        .iter()
        .find_map(|(run, o)| Some((run, o.listed.iter().find(|t| t.cause.is_the_code())?)));
    if let Some((run, tick)) = from_the_code {
        return Verdict::fail(
            CHECK,
            figure,
            rule,
            format!(
                "tick {} took {} at {} ticks with too little run-queue wait in its sample windows \
                 to be descheduling: the code's own time (a rare slow path, or blocking: a \
                 syscall, a lock, I/O); its timeline{} is in scalability_{}.json and \
                 slow_ticks_{}.png",
                tick.name,
                duration_text(tick.latency_ns),
                run.ticks,
                if tick.recorded {
                    ""
                } else {
                    " (timed only: none)"
                },
                run.ticks,
                run.ticks
            ),
        );
    }
    let unknown = o.listed.iter().any(|t| t.cause == OutlierCause::Unknown) || o.listed.is_empty();
    Verdict::inconclusive(
        CHECK,
        figure,
        rule,
        format!(
            "one tick took {:.1} ms: {}; rerun, and if it recurs look for the component with \
             that max in scalability_{}.json (a rare blocking call)",
            o.slowest_ns as f64 / 1e6,
            if unknown {
                "likely the thread was descheduled (a scheduler tick is 1–10 ms)"
            } else {
                "its thread waited for a CPU at least that long in the sample windows holding \
                 it: likely descheduled"
            },
            r.ticks
        ),
    )
}

/// `4.16 ms`, `12.3 µs`, `850 ns`.
fn duration_text(ns: u64) -> String {
    let ns_f = ns as f64;
    if ns >= 1_000_000 {
        format!("{:.2} ms", ns_f / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1} µs", ns_f / 1e3)
    } else {
        format!("{ns} ns")
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

/// RSS slope per tick after warm-up in the largest run (the seed's "memory continues growing
/// after warmup"), and the RSS each run grew by (its peak less its start) across sizes. Either over its limit fails; the slope
/// not measurable (too few samples after the warm-up) is inconclusive even when the peaks
/// agree: across short runs the peak rule misses a small leak (32 B per tick over 10,000
/// ticks is 0.3 MB, under its 2 MiB).
pub fn memory_growth(runs: &[RunFigures], reports: &[Report]) -> Verdict {
    const CHECK: &str = "memory growth";
    let rule = format!(
        "RSS slope after the first {:.0}% ≤ {LEAK_BYTES_PER_TICK} B/tick in the largest run; \
         RSS grown in the run (peak − start), largest run − least grown smaller run ≤ {:.0} MiB",
        100.0 * WARM_UP_SHARE,
        PEAK_RSS_GROWTH_BYTES / 1048576.0
    );
    let more_samples = format!(
        "the slope needs ≥ {MIN_SLOPE_SAMPLES} resource samples after the warm-up: lower \
         --sample-interval-ms or run more ticks"
    );
    let (report, res) = match largest_run_resources(reports, CHECK, &rule) {
        Ok(found) => found,
        Err(inconclusive) => return inconclusive,
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
    // Each run's own growth (its peak less the RSS it started with: the runs share one
    // process, whose allocator keeps what earlier runs freed), compared across sizes; the
    // peaks themselves when the start is unknown.
    let grown: Vec<u64> = runs
        .iter()
        .filter_map(|r| match (r.peak_rss_bytes, r.rss_at_start_bytes) {
            (Some(peak), Some(start)) => Some(peak.saturating_sub(start)),
            (Some(peak), None) => Some(peak),
            _ => None,
        })
        .collect();
    // Against the smaller run that grew least: the first run of the process also grows by
    // tickprof's and the engine's one-time set-up, which would offset a leak of the largest.
    let growths = grown
        .split_last()
        .and_then(|(&largest, smaller)| Some((largest, *smaller.iter().min()?)));
    let peak_growth = growths.map(|(largest, least)| largest as f64 - least as f64);
    let slope_text = per_tick.map_or_else(
        || {
            format!(
                "slope n/a ({} sample(s) after warm-up at {})",
                xs.len(),
                report.ticks.count
            )
        },
        |s| {
            format!(
                "slope {s:+.3} B/tick over {} samples at {}",
                xs.len(),
                report.ticks.count
            )
        },
    );
    let growth_text = growths.map_or_else(String::new, |(largest, least)| {
        format!(
            ", RSS grown in the run {:.2} MiB in the largest against {:.2} MiB in the least \
             grown smaller run (difference {:+.2} MiB)",
            largest as f64 / 1048576.0,
            least as f64 / 1048576.0,
            (largest as f64 - least as f64) / 1048576.0
        )
    });
    let figure = format!("{slope_text}{growth_text}");
    let slope_over = per_tick.is_some_and(|s| s > LEAK_BYTES_PER_TICK);
    let peak_over = peak_growth.is_some_and(|g| g > PEAK_RSS_GROWTH_BYTES);
    if slope_over || peak_over {
        return Verdict::fail(
            CHECK,
            figure,
            rule,
            format!(
                "memory that keeps growing after the warm-up suggests a leak: something kept \
                 every tick (a collection that only grows, a cache without eviction, a queue \
                 nobody drains); resources_{}.png shows when RSS grows",
                report.ticks.count
            ),
        );
    }
    if per_tick.is_none() {
        return Verdict::inconclusive(CHECK, figure, rule, more_samples);
    }
    Verdict::pass(CHECK, figure, rule)
}

/// The largest run's report and its resources, or the inconclusive verdict that says why a
/// resource verdict cannot be given.
fn largest_run_resources<'a>(
    reports: &'a [Report],
    check: &'static str,
    rule: &str,
) -> Result<(&'a Report, &'a Resources), Verdict> {
    let Some(report) = reports.iter().max_by_key(|r| r.ticks.count) else {
        return Err(Verdict::inconclusive(
            check,
            "no runs".into(),
            rule.to_owned(),
            "run at least one size".into(),
        ));
    };
    let Some(res) = &report.resources else {
        return Err(Verdict::inconclusive(
            check,
            format!(
                "resources not sampled: {}",
                report
                    .resources_unavailable
                    .as_deref()
                    .unwrap_or("unknown reason")
            ),
            rule.to_owned(),
            "build with the `sampler` feature and keep resource sampling on".into(),
        ));
    };
    Ok((report, res))
}

/// Variation of the CPU samples of the largest run (the seed's "irregular CPU patterns suggest
/// inefficient code paths"), around the run's mean CPU: `resources.cpu_percent.mean` (CPU time
/// over wall time, the figure the driver's table, the summary and the resources graph state),
/// not the samples' own average, which differs from it by a tenth of a point or more (the
/// decimated series keeps each bucket's busiest sample, and the closing sample covers a shorter
/// window), so the verdict would print a second "mean" beside the table's. Its busiest sample
/// is the report's (`cpu_percent.max`, over windows of 10 ms or more), not the samples' largest
/// reading, which a window a little under 10 ms can push past it (133.6 % beside 118.7 %).
pub fn cpu_spikes(reports: &[Report]) -> Verdict {
    const CHECK: &str = "CPU spikes";
    let rule = format!(
        "CPU samples' rms deviation from the run's mean CPU ≤ {:.0}% of it (largest run)",
        100.0 * CPU_MAX_VARIATION
    );
    let (report, res) = match largest_run_resources(reports, CHECK, &rule) {
        Ok(found) => found,
        Err(inconclusive) => return inconclusive,
    };
    let cpu: Vec<f64> = res.samples.iter().map(|s| s.cpu_percent).collect();
    if cpu.len() < 2 {
        return Verdict::inconclusive(
            CHECK,
            format!("{} sample(s) at {}", cpu.len(), report.ticks.count),
            rule,
            "a spread needs ≥ 2 resource samples: lower --sample-interval-ms or run more ticks"
                .into(),
        );
    }
    let Some(mean) = res.cpu_percent.mean else {
        return Verdict::inconclusive(
            CHECK,
            format!(
                "no mean CPU at {} (a run of {:.3} s)",
                report.ticks.count, report.total_time_s
            ),
            rule,
            "the run's mean CPU needs a run of 10 ms or more: run more ticks".into(),
        );
    };
    let n = cpu.len() as f64;
    let rms = (cpu.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n).sqrt();
    let variation = if mean > 0.0 { rms / mean } else { 0.0 };
    let busiest = res
        .cpu_percent
        .max
        .map_or_else(|| "none".to_owned(), |max| format!("{max:.1}%"));
    let figure = format!(
        "mean {mean:.1}% (CPU time / wall time), busiest sample {busiest}; {} samples at {} \
         ticks, {rms:.1} pp rms from the mean ({:.0}% of it)",
        cpu.len(),
        report.ticks.count,
        100.0 * variation
    );
    if variation <= CPU_MAX_VARIATION {
        return Verdict::pass(CHECK, figure, rule);
    }
    Verdict::fail(
        CHECK,
        figure,
        rule,
        format!(
            "irregular CPU suggests inefficient code paths or contention (the loop waiting on a \
             lock, I/O or a sleep); resources_{}.png shows when; other load on the machine does \
             the same (the load average is below the table)",
            report.ticks.count
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;
    use std::time::Duration;

    use tickprof::{MetricsCollector, ResourceSample};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::engine::Digest;
    use crate::summary::Summary;

    fn digest() -> Digest {
        static DIGEST: OnceLock<Digest> = OnceLock::new();
        DIGEST
            .get_or_init(|| crate::engine::run(10, 42, &mut |_| {}).unwrap().digest)
            .clone()
    }

    /// A run of `ticks` ticks whose figures are all 1 (µs, s, ratios), a third of a
    /// percent of its ticks timed, with no steady part.
    fn run(ticks: u64) -> RunFigures {
        RunFigures {
            name: format!("scalability_{ticks}"),
            ticks,
            total_time_s: 1.0,
            throughput_per_s: 10.0,
            loop_throughput_per_s: 10.0,
            bare_throughput_per_s: 10.0,
            bare_wall_time_s: 1.0,
            bare_loop_time_s: [1.0, 1.0],
            bare_spread: 0.0,
            warm_up_ticks: crate::engine::WARM_UP_TICKS,
            bare_steady_loop_time_s: [0.0, 0.0],
            bare_steady_ns_per_tick: None,
            bare_steady_spread: None,
            profiled_steady_ns_per_tick: None,
            loop_ratio: 1.0,
            tick_mean_ratio: 1.0,
            mean_us: 1.0,
            p50_us: 1.0,
            p99_us: 1.0,
            p999_us: 1.0,
            max_us: 1.0,
            timed_ticks: ticks / 300,
            timed_far_outlier: false,
            inside_ticks_wall_percent: None,
            peak_rss_bytes: None,
            rss_at_start_bytes: None,
            cpu_mean_percent: None,
            cpu_max_percent: None,
            cpu_us_per_tick: None,
            tick_allocations_p99: None,
            tick_allocations_max: None,
            allocating_components: None,
            digest: digest(),
        }
    }

    /// A run whose bare loops lasted 100 ms, without far outliers.
    fn figures(loop_ratio: f64, tick_mean_ratio: f64, bare_spread: f64) -> RunFigures {
        RunFigures {
            loop_ratio,
            tick_mean_ratio,
            bare_spread,
            bare_loop_time_s: [0.1, 0.1],
            p999_us: 2.0,
            max_us: 50.0,
            ..run(10)
        }
    }

    #[test]
    fn distortion_on_a_short_loop_or_from_one_far_outlier_is_inconclusive() {
        // The CI-size case: 1.53× on an 8 ms loop.
        let short = RunFigures {
            bare_loop_time_s: [0.008, 0.008],
            ..figures(1.53, 1.2, 0.02)
        };
        let v = distortion(&[short]);
        assert_eq!(v.status, Status::Inconclusive, "{v:?}");
        assert!(
            v.next.as_deref().unwrap().contains("run more ticks"),
            "{v:?}"
        );
        // The default run's case: loop 1.14×, mean 1.42× because of one 4,096 µs tick.
        let outlier = RunFigures {
            timed_far_outlier: true,
            ..figures(1.14, 1.42, 0.03)
        };
        let v = distortion(std::slice::from_ref(&outlier));
        assert_eq!(v.status, Status::Inconclusive, "{v:?}");
        assert!(v.figure.contains("far outlier"), "{v:?}");
        // Without the outlier, the same figures fail.
        let v = distortion(&[RunFigures {
            timed_far_outlier: false,
            ..outlier
        }]);
        assert_eq!(v.status, Status::Fail, "{v:?}");
    }

    /// A run whose bare loop after the warm-up took `bare_ns` per tick (`spread` between the
    /// two bare runs) and its profiled loop `profiled_ns`.
    fn steady(ticks: u64, bare_ns: f64, spread: f64, profiled_ns: f64) -> RunFigures {
        let steady_ticks = ticks - crate::engine::WARM_UP_TICKS;
        let mean_s = bare_ns * steady_ticks as f64 / 1e9;
        RunFigures {
            bare_steady_loop_time_s: [mean_s * (1.0 + spread / 2.0), mean_s * (1.0 - spread / 2.0)],
            bare_steady_ns_per_tick: Some(bare_ns),
            bare_steady_spread: Some(spread),
            profiled_steady_ns_per_tick: Some(profiled_ns),
            ..run(ticks)
        }
    }

    /// A run's tail: timed ticks and mean, p50, p99, p99.9, max in µs.
    fn tail(ticks: u64, timed: u64, [mean, p50, p99, p999, max]: [f64; 5]) -> RunFigures {
        RunFigures {
            timed_ticks: timed,
            mean_us: mean,
            p50_us: p50,
            p99_us: p99,
            p999_us: p999,
            max_us: max,
            ..run(ticks)
        }
    }

    /// A real report of a small profiled run, resources sampled; tests set the fields a
    /// verdict reads.
    fn report(name: &str) -> Report {
        static REPORT: OnceLock<Report> = OnceLock::new();
        let mut report = REPORT
            .get_or_init(|| {
                let collector = MetricsCollector::builder()
                    .tick_span("tick")
                    .sample_interval(Duration::from_millis(1))
                    .build()
                    .unwrap();
                let subscriber = tracing_subscriber::registry().with(collector.layer());
                tracing::subscriber::with_default(subscriber, || {
                    collector.start_profiling("fixture").unwrap();
                    crate::engine::run(3_000, 42, &mut |_| {}).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                    collector.stop_profiling().unwrap()
                })
            })
            .clone();
        report.name = name.to_owned();
        report
    }

    /// `report` with resource samples (elapsed ms, RSS bytes, CPU %), over a 1 s run at
    /// `ticks_per_s`; its mean CPU is the samples' average (windows of equal length), its
    /// busiest sample their largest.
    fn sampled(mut report: Report, ticks_per_s: f64, samples: &[(f64, u64, f64)]) -> Report {
        report.total_time_s = 1.0;
        report.ticks.throughput_per_s = ticks_per_s;
        report.ticks.count = ticks_per_s as u64;
        let resources = report
            .resources
            .as_mut()
            .expect("the fixture run sampled resources");
        let template = resources.samples[0];
        resources.samples = samples
            .iter()
            .map(|&(elapsed_ms, rss_bytes, cpu_percent)| {
                ResourceSample::new(elapsed_ms, cpu_percent, rss_bytes, template.ticks)
            })
            .collect();
        let cpu = samples.iter().map(|s| s.2);
        resources.cpu_percent.mean =
            (!samples.is_empty()).then(|| cpu.clone().sum::<f64>() / samples.len() as f64);
        resources.cpu_percent.max = cpu.reduce(f64::max);
        report
    }

    #[test]
    fn distortion_passes_within_the_limits_fails_beyond_the_noise_and_says_when_it_cannot_tell() {
        assert_eq!(
            distortion(&[figures(1.10, 1.05, 0.20)]).status,
            Status::Pass
        );
        // Within the limits, but with the bare runs 30 % apart a 1.25× loop could hide in it.
        let noisy = distortion(&[figures(1.10, 1.05, 0.30)]);
        assert_eq!(noisy.status, Status::Inconclusive);
        assert!(
            noisy.figure.contains("noise is larger than the margin"),
            "{}",
            noisy.figure
        );
        let fail = distortion(&[figures(1.30, 1.05, 0.02)]);
        assert_eq!(fail.status, Status::Fail);
        assert!(fail.next.unwrap().contains("fewer spans per tick"));
        assert_eq!(
            distortion(&[figures(1.10, 1.20, 0.02)]).status,
            Status::Fail
        );
        let unsure = distortion(&[figures(1.30, 1.05, 0.10)]);
        assert_eq!(unsure.status, Status::Inconclusive);
        assert!(
            unsure.figure.contains("less than the noise"),
            "{}",
            unsure.figure
        );
        assert!(
            unsure.figure.contains("differ by 10.0%"),
            "{}",
            unsure.figure
        );
        assert!(unsure.next.unwrap().contains("quieter machine"));
        // Only the largest run counts.
        let mut small = figures(3.0, 3.0, 0.0);
        small.ticks = 1;
        assert_eq!(
            distortion(&[small, figures(1.0, 1.0, 0.0)]).status,
            Status::Pass
        );
        assert_eq!(distortion(&[]).status, Status::Inconclusive);
        // A profiled loop cannot be faster than bare: 0.67× with runs 31.9 % apart (a CI run)
        // is the machine; 0.97× with 1 % is within the 5 % floor of the noise.
        let faster = distortion(&[figures(0.67, 0.55, 0.319)]);
        assert_eq!(faster.status, Status::Inconclusive);
        assert!(
            faster.figure.contains("ran faster than bare"),
            "{}",
            faster.figure
        );
        assert_eq!(distortion(&[figures(0.97, 0.9, 0.01)]).status, Status::Pass);
        assert_eq!(
            distortion(&[figures(0.94, 0.9, 0.01)]).status,
            Status::Inconclusive
        );
    }

    #[test]
    fn linear_scaling_228_percent_from_a_1000_tick_run_is_inconclusive_not_a_pass() {
        // The last CI run: 1,000 and 10,000 ticks, whole-run throughput 364,310 vs 830,640/s.
        let mut small = run(1_000);
        small.throughput_per_s = 364_310.0;
        let mut large = steady(10_000, 756.0, 0.10, 800.0);
        large.throughput_per_s = 830_640.0;
        let v = linear_scaling(&[small, large], &[]);
        assert_eq!(v.status, Status::Inconclusive);
        assert!(v.figure.contains("1000 (all warm-up)"), "{}", v.figure);
        assert!(
            v.figure.contains("10000 (6.8 ms, 0.756 µs per tick)"),
            "{}",
            v.figure
        );
        // 1,024 + 50 ms / 0.756 µs = 67,163 ticks, rounded up; 1,024 + 100 ms / 0.756 µs =
        // 133,302.
        assert_eq!(
            v.next.as_deref(),
            Some(
                "run more ticks: at 0.756 µs per tick, 50 ms after the warm-up take ≥ 68000 \
                 ticks; e.g. --ticks 140000,1400000 (twice that, for a margin)"
            )
        );
        assert!(v.rule.contains("≥ 50 ms"), "{}", v.rule);
    }

    #[test]
    fn linear_scaling_above_100_percent_plus_noise_is_inconclusive_whatever_the_sizes() {
        // Long enough, but the smaller run took 2.28× longer per tick: not super-linear.
        let v = linear_scaling(
            &[
                steady(100_000, 1_596.0, 0.10, 1_700.0),
                steady(1_000_000, 700.0, 0.10, 750.0),
            ],
            &[],
        );
        assert_eq!(v.status, Status::Inconclusive);
        assert!(v.figure.contains("= 228.0%"), "{}", v.figure);
        assert!(v.next.unwrap().contains("not super-linear"));
        // 109 % with 10 % noise is within it: a pass, and said with its noise.
        let v = linear_scaling(
            &[
                steady(100_000, 763.0, 0.10, 800.0),
                steady(1_000_000, 700.0, 0.04, 750.0),
            ],
            &[],
        );
        assert_eq!(v.status, Status::Pass, "{}", v.figure);
        assert!(v.figure.contains("noise 10.0%"), "{}", v.figure);
        assert_eq!(v.next, None);
        // 97 % with the bare runs 28.5 % apart (a default run at a load average of 5): the
        // noise is larger than the 15 % margin, so this pass could be a failure.
        let v = linear_scaling(
            &[
                steady(100_000, 700.0, 0.285, 700.0),
                steady(1_000_000, 720.0, 0.05, 720.0),
            ],
            &[],
        );
        assert_eq!(v.status, Status::Inconclusive, "{}", v.figure);
        assert!(
            v.next
                .unwrap()
                .starts_with("the noise (28.5%) is more than the 15% margin"),
            "{}",
            v.figure
        );
        // The same 109 % with runs that agree within 1 %: the noise is floored at 5 %.
        let v = linear_scaling(
            &[
                steady(100_000, 763.0, 0.01, 800.0),
                steady(1_000_000, 700.0, 0.01, 750.0),
            ],
            &[],
        );
        assert_eq!(v.status, Status::Inconclusive, "{}", v.figure);
        assert!(v.figure.contains("noise 5.0%"), "{}", v.figure);
    }

    #[test]
    fn linear_scaling_compares_the_smallest_run_long_enough_with_the_largest() {
        let v = linear_scaling(
            &[
                run(1_000),
                steady(10_000, 2_000.0, 0.5, 2_000.0),
                steady(100_000, 700.0, 0.02, 750.0),
                steady(1_000_000, 720.0, 0.03, 760.0),
            ],
            &[],
        );
        assert_eq!(v.status, Status::Pass, "{}", v.figure);
        assert!(
            v.figure
                .contains("bare 0.700 µs at 100000 → 0.720 µs at 1000000 = 97.2%"),
            "{}",
            v.figure
        );
        assert!(
            v.figure
                .contains("profiled 0.750 µs at 100000 → 0.760 µs at 1000000 = 98.7%")
        );
        assert!(v.figure.contains("not judged: "), "{}", v.figure);
        assert!(
            v.figure.contains("10000 (18.0 ms, 2.000 µs per tick)"),
            "{}",
            v.figure
        );
        assert_eq!(linear_scaling(&[run(10)], &[]).status, Status::Inconclusive);
    }

    #[test]
    fn linear_scaling_fails_below_85_percent_beyond_the_noise_and_names_the_component() {
        let mut small = report("scalability_100000");
        let mut large = report("scalability_1000000");
        for (name, c) in &mut small.components {
            c.latency.mean_ns = 50.0;
            c.per_tick = Some(1.0);
            large.components.get_mut(name).unwrap().latency.mean_ns =
                if name == "strategy" { 350.0 } else { 55.0 };
        }
        let runs = [
            steady(100_000, 700.0, 0.02, 750.0),
            steady(1_000_000, 1_000.0, 0.03, 1_050.0),
        ];
        let v = linear_scaling(&runs, &[small.clone(), large.clone()]);
        assert_eq!(v.status, Status::Fail, "{}", v.figure);
        assert!(v.figure.contains("= 70.0%"), "{}", v.figure);
        let next = v.next.unwrap();
        assert!(
            next.starts_with("degrading throughput suggests an algorithmic issue"),
            "{next}"
        );
        assert!(
            next.contains("strategy grew most per tick: 50 → 350 ns"),
            "{next}"
        );
        // The profiled loop alone degrading points at the profiler.
        let runs = [
            steady(100_000, 700.0, 0.02, 750.0),
            steady(1_000_000, 700.0, 0.03, 1_050.0),
        ];
        let v = linear_scaling(&runs, &[small, large]);
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.next
                .unwrap()
                .contains("the profiler costs more per tick in the larger run")
        );
        // 80 % with 10 % noise could be 88 %: inconclusive.
        let runs = [
            steady(100_000, 800.0, 0.10, 800.0),
            steady(1_000_000, 1_000.0, 0.03, 1_000.0),
        ];
        let v = linear_scaling(&runs, &[]);
        assert_eq!(v.status, Status::Inconclusive, "{}", v.figure);
        assert!(v.next.unwrap().contains("less than the noise"));
    }

    #[test]
    fn tail_latency_judges_p99_9_and_not_only_p99_over_a_mean() {
        // A 1M run of the driver: p99/mean 1.52, p99.9/p50 22.5.
        let v = tail_latency(
            &[tail(
                1_000_000,
                17_455,
                [0.782, 0.741, 1.162, 16.687, 313.6],
            )],
            &[],
        );
        assert_eq!(v.status, Status::Pass, "{}", v.figure);
        assert_eq!(v.next, None);
        assert!(v.figure.contains("worst p99/mean 1.49"), "{}", v.figure);
        assert!(v.figure.contains("worst p99.9/p50 22.5"), "{}", v.figure);
        // A loaded 100K run: four-millisecond ticks lift the mean over p99 (p99/mean 0.52),
        // p99.9 is 104× p50.
        let loaded = tail(100_000, 2_812, [2.386, 0.761, 1.242, 79.359, 4_065.3]);
        let v = tail_latency(&[loaded], &[report("scalability_100000")]);
        assert_eq!(v.status, Status::Fail, "{}", v.figure);
        assert!(v.figure.contains("p99/mean 0.52"), "{}", v.figure);
        assert!(v.figure.contains("p99.9/p50 104.3"), "{}", v.figure);
        let next = v.next.unwrap();
        assert!(
            next.starts_with("high tail latency suggests blocking operations"),
            "{next}"
        );
        assert!(next.contains("has the widest tail"), "{next}");
        // p99 at 6× the mean fails on its own.
        let v = tail_latency(&[tail(1_000_000, 20_000, [1.0, 0.9, 6.0, 8.0, 20.0])], &[]);
        assert_eq!(v.status, Status::Fail);
    }

    #[test]
    fn tail_latency_with_too_few_timed_ticks_is_inconclusive_and_says_how_many_to_run() {
        let runs = [
            tail(1_000, 10, [0.75, 0.73, 0.98, 0.98, 1.0]),
            tail(10_000, 161, [0.63, 0.62, 0.95, 1.16, 1.2]),
        ];
        let v = tail_latency(&runs, &[]);
        assert_eq!(v.status, Status::Inconclusive);
        assert_eq!(
            v.figure,
            "every run timed fewer than 1000 ticks: 1000 (10 timed), 10000 (161 timed)"
        );
        // 1.61 % timed: 1,000 / 0.0161 = 62,112 ticks, rounded up; 2,000: 124,224.
        assert_eq!(
            v.next.as_deref(),
            Some(
                "run more ticks: 1.6% of ticks were timed at 10000, so 1000 timed ticks take \
                 ≥ 63000 ticks; e.g. --ticks 130000 (twice that, for a margin)"
            )
        );
        // A run with enough is judged, the others listed.
        let mut runs = runs.to_vec();
        runs.push(tail(1_000_000, 20_000, [0.7, 0.6, 1.1, 3.0, 40.0]));
        let v = tail_latency(&runs, &[]);
        assert_eq!(v.status, Status::Pass);
        assert!(
            v.figure
                .ends_with("not judged (< 1000 timed ticks): 1000 (10 timed), 10000 (161 timed)")
        );
    }

    /// `report(name)` whose timed ticks are `timed` (ns, count) and whose listed slow ticks
    /// are `slow` (ordinal, net ns, recorded, run-queue wait in its windows).
    fn with_ticks(
        name: &str,
        timed: &[(u64, u64)],
        slow: &[(u64, u64, bool, Option<u64>)],
    ) -> Report {
        let mut r = report(name);
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for &(ns, n) in timed {
            h.record_n(ns, n).unwrap();
        }
        r.ticks.latency = tickprof::LatencyStats::from_histogram(&h, "ticks.latency").unwrap();
        let template = r
            .slowest_ticks
            .as_ref()
            .and_then(|s| s.all().next().cloned())
            .expect("the fixture run kept slow ticks");
        let ticks = slow.iter().map(|&(ordinal, latency_ns, recorded, wait)| {
            let mut t = template.clone();
            (t.ordinal, t.latency_ns, t.recorded) = (ordinal, latency_ns, recorded);
            t.start_unix_ns = ordinal;
            t.fields.clear();
            t.scheduler = wait.map(|run_queue_wait_ns| {
                let mut s =
                    tickprof::SchedulerAround::new(0.0, 100.0, run_queue_wait_ns, 90_000_000);
                s.involuntary_switches = u64::from(run_queue_wait_ns > 0);
                s
            });
            t
        });
        r.slowest_ticks = Some(tickprof::SlowestTicks::from_ticks(10, 0, ticks));
        r
    }

    #[test]
    fn a_max_530_times_p99_9_is_flagged_as_an_outlier_not_passed_or_failed() {
        // Issue 11: max 4,163 µs while p99.9 was 7.85 µs; the scheduler's counts allow
        // descheduling (5 ms of run-queue wait in the windows holding it).
        let timed = [(900, 990_000), (7_850, 9_999), (4_163_000, 1)];
        let r = with_ticks(
            "scalability_1000000",
            &timed,
            &[(904_211, 4_163_000, false, Some(5_000_000))],
        );
        let runs = [tail(1_000_000, 1_000_000, [0.9, 0.8, 1.5, 7.85, 4_163.0])];
        let v = tick_outliers(&runs, std::slice::from_ref(&r));
        assert_eq!(v.status, Status::Inconclusive, "{}", v.figure);
        assert!(
            v.figure
                .contains("worst max 4.16 ms = 530× p99.9 (7.85 µs)"),
            "{}",
            v.figure
        );
        let next = v.next.unwrap();
        assert!(
            next.contains("one tick took 4.2 ms: its thread waited for a CPU at least that long"),
            "{next}"
        );
        assert!(next.contains("scalability_1000000.json"), "{next}");
        // No scheduler counts: one value cannot say what it was.
        let r = with_ticks(
            "scalability_1000000",
            &timed,
            &[(904_211, 4_163_000, false, None)],
        );
        let v = tick_outliers(&runs, &[r]);
        assert_eq!(v.status, Status::Inconclusive);
        assert!(
            v.next
                .unwrap()
                .contains("likely the thread was descheduled")
        );
        // 19×: a pass; runs with too few timed ticks are not judged.
        let runs = [
            tail(10_000, 61, [0.6, 0.6, 0.9, 1.0, 4_000.0]),
            tail(1_000_000, 17_455, [0.782, 0.741, 1.162, 16.687, 313.6]),
        ];
        let reports = [
            with_ticks("scalability_10000", &[(600, 60), (4_000_000, 1)], &[]),
            with_ticks(
                "scalability_1000000",
                &[(741, 17_000), (16_687, 454), (313_600, 1)],
                &[(5, 313_600, false, Some(0))],
            ),
        ];
        let v = tick_outliers(&runs, &reports);
        assert_eq!(v.status, Status::Pass, "{}", v.figure);
        assert!(v.figure.contains("= 19× p99.9"), "{}", v.figure);
        assert!(
            v.figure
                .contains("not judged (< 100 timed ticks): 10000 (61 timed)")
        );
        assert_eq!(
            tick_outliers(&runs[..1], &reports[..1]).status,
            Status::Inconclusive
        );
    }

    /// Issue 25: a recorded 4 ms tick is listed but not in the timed figures (their max is
    /// 2 µs); the verdict reads the list, and with no run-queue wait around it, fails.
    #[test]
    fn a_listed_recorded_tick_far_above_the_rest_fails_when_not_descheduled() {
        let timed = [(1_000, 1_990), (2_000, 10)];
        let runs = [tail(100_000, 2_000, [1.0, 1.0, 2.0, 2.0, 2.0])];
        let r = with_ticks(
            "scalability_100000",
            &timed,
            &[
                (77_777, 4_000_000, true, Some(0)),
                (12, 2_000, false, Some(0)),
            ],
        );
        let v = tick_outliers(&runs, std::slice::from_ref(&r));
        assert_eq!(v.status, Status::Fail, "{}", v.figure);
        assert!(
            v.figure
                .contains("worst max 4.00 ms = 2000× p99.9 (2.00 µs)"),
            "{}",
            v.figure
        );
        let next = v.next.unwrap();
        assert!(
            next.starts_with("tick #77,777 took 4.00 ms at 100000 ticks"),
            "{next}"
        );
        // The summary's note says the same of it.
        assert!(
            r.summary()
                .contains("#77,777 4.00 ms: too little run-queue wait")
        );
        // With 10 ms of run-queue wait in its windows it may have been descheduled.
        let r = with_ticks(
            "scalability_100000",
            &timed,
            &[(77_777, 4_000_000, true, Some(10_000_000))],
        );
        assert_eq!(tick_outliers(&runs, &[r]).status, Status::Inconclusive);
    }

    #[test]
    fn memory_growth_fails_on_a_slope_and_cannot_pass_without_one() {
        let flat = sampled(
            report("scalability_1000000"),
            1e6,
            &[
                (300.0, 10_000_000, 99.0),
                (600.0, 10_000_000, 99.0),
                (900.0, 10_004_096, 99.0),
            ],
        );
        let v = memory_growth(&[], std::slice::from_ref(&flat));
        assert_eq!(v.status, Status::Pass, "{}", v.figure);
        // Runs in one process: the later run starts where the earlier left the heap. What each
        // grew by in itself is judged, not where it started: 12 MB in the small run (its
        // histograms made) and 1 MB in the large one pass; 1 MB and 12 MB fail.
        let (mut small, mut large) = (run(10_000), run(1_000_000));
        (small.rss_at_start_bytes, small.peak_rss_bytes) = (Some(6_000_000), Some(18_000_000));
        (large.rss_at_start_bytes, large.peak_rss_bytes) = (Some(25_000_000), Some(26_000_000));
        let v = memory_growth(&[small.clone(), large.clone()], std::slice::from_ref(&flat));
        assert_eq!(v.status, Status::Pass, "{}", v.figure);
        (small.rss_at_start_bytes, small.peak_rss_bytes) = (Some(6_000_000), Some(7_000_000));
        (large.rss_at_start_bytes, large.peak_rss_bytes) = (Some(14_000_000), Some(26_000_000));
        let v = memory_growth(&[small, large], std::slice::from_ref(&flat));
        assert_eq!(v.status, Status::Fail, "{}", v.figure);
        // The first run's set-up (12 MB) does not hide a largest run that grew 6 MB where the
        // middle one grew 1 MB: compared with the smaller run that grew least.
        let (mut first, mut middle, mut largest) = (run(10_000), run(100_000), run(1_000_000));
        (first.rss_at_start_bytes, first.peak_rss_bytes) = (Some(6_000_000), Some(18_000_000));
        (middle.rss_at_start_bytes, middle.peak_rss_bytes) = (Some(20_000_000), Some(21_000_000));
        (largest.rss_at_start_bytes, largest.peak_rss_bytes) = (Some(22_000_000), Some(28_000_000));
        let v = memory_growth(&[first, middle, largest], std::slice::from_ref(&flat));
        assert_eq!(v.status, Status::Fail, "{}", v.figure);
        assert!(v.figure.contains("(difference +4.77 MiB)"), "{}", v.figure);
        // 40 MB over 0.8 s at 1M ticks/s: 50 B/tick.
        let leak = sampled(
            report("scalability_1000000"),
            1e6,
            &[
                (200.0, 10_000_000, 99.0),
                (600.0, 30_000_000, 99.0),
                (1_000.0, 50_000_000, 99.0),
            ],
        );
        let v = memory_growth(&[], &[leak]);
        assert_eq!(v.status, Status::Fail, "{}", v.figure);
        assert!(v.figure.contains("slope +50.000 B/tick"), "{}", v.figure);
        assert!(v.next.unwrap().contains("suggests a leak"));
        // One sample after the warm-up and equal peaks: the slope is not measured.
        let short = sampled(
            report("scalability_10000"),
            1e6,
            &[(900.0, 10_000_000, 99.0)],
        );
        let mut small = run(1_000);
        small.peak_rss_bytes = Some(10_000_000);
        let mut large = run(10_000);
        large.peak_rss_bytes = Some(10_100_000);
        let v = memory_growth(&[small, large], &[short]);
        assert_eq!(v.status, Status::Inconclusive, "{}", v.figure);
        assert!(v.next.unwrap().contains("lower --sample-interval-ms"));
    }

    #[test]
    fn cpu_spikes_pass_fail_and_need_two_samples() {
        let steady = sampled(
            report("scalability_1000000"),
            1e6,
            &[(100.0, 1, 98.0), (200.0, 1, 100.0), (300.0, 1, 99.0)],
        );
        assert_eq!(cpu_spikes(&[steady]).status, Status::Pass);
        let spiky = sampled(
            report("scalability_1000000"),
            1e6,
            &[(100.0, 1, 100.0), (200.0, 1, 20.0), (300.0, 1, 100.0)],
        );
        let v = cpu_spikes(&[spiky]);
        assert_eq!(v.status, Status::Fail, "{}", v.figure);
        assert!(
            v.next
                .unwrap()
                .contains("irregular CPU suggests inefficient code paths")
        );
        let one = sampled(report("scalability_10000"), 1e6, &[(100.0, 1, 100.0)]);
        let v = cpu_spikes(&[one]);
        assert_eq!(v.status, Status::Inconclusive);
        assert!(v.next.unwrap().contains("lower --sample-interval-ms"));
    }

    /// The verdict states the run's mean CPU (CPU time / wall time, `resources.cpu_percent.mean`)
    /// that the driver's table and the report's summary print, not the samples' average: here
    /// 99.7 % over the run, while the samples average 99.6 %.
    #[test]
    fn cpu_spikes_state_the_mean_the_table_and_the_summary_print() {
        let mut largest = sampled(
            report("scalability_1000000"),
            1e6,
            &[(100.0, 1, 99.0), (200.0, 1, 100.0), (300.0, 1, 99.8)],
        );
        let res = largest.resources.as_mut().unwrap();
        (res.cpu_percent.mean, res.cpu_percent.max) = (Some(99.7), Some(100.0));
        res.cpu_time_s = 0.997;
        let v = cpu_spikes(std::slice::from_ref(&largest));
        assert_eq!(v.status, Status::Pass, "{}", v.figure);
        // rms of (−0.7, +0.3, +0.1) around 99.7: √(0.59 / 3) = 0.44 pp.
        assert_eq!(
            v.figure,
            "mean 99.7% (CPU time / wall time), busiest sample 100.0%; 3 samples at 1000000 \
             ticks, 0.4 pp rms from the mean (0% of it)"
        );
        assert!(
            largest
                .summary()
                .contains("CPU: 99.7% of one core (0.9970 s of CPU; busiest sample 100.0%)")
        );
        let mut figures = run(1_000_000);
        figures.cpu_mean_percent = largest.resources.as_ref().and_then(|r| r.cpu_percent.mean);
        let table = Summary::new(42, vec![figures], std::slice::from_ref(&largest)).table();
        let row = table
            .lines()
            .find(|l| l.trim_start().starts_with("1000000 "))
            .unwrap();
        assert_eq!(row.split_whitespace().nth(13), Some("99.7"), "{row}");
        // No mean (a run under 10 ms): the verdict says so rather than averaging samples.
        largest.resources.as_mut().unwrap().cpu_percent.mean = None;
        let v = cpu_spikes(&[largest]);
        assert_eq!(v.status, Status::Inconclusive, "{}", v.figure);
        assert!(v.next.unwrap().contains("10 ms or more"));
    }

    #[test]
    fn every_verdict_that_is_not_a_pass_says_what_to_do_next_in_the_table_and_the_json() {
        let runs = vec![run(1_000), run(10_000)];
        let summary = Summary::new(42, runs, &[]);
        for v in &summary.verdicts {
            assert_eq!(v.next.is_none(), v.status == Status::Pass, "{v:?}");
        }
        let table = summary.table();
        assert!(
            table.contains("➖ linear scaling: too short to judge"),
            "{table}"
        );
        assert!(
            table.contains("\n   rule: time per tick after the warm-up"),
            "{table}"
        );
        assert!(table.contains("\n   next: run more ticks"), "{table}");
        let json = serde_json::to_value(&summary).unwrap();
        let scaling = &json["verdicts"][1];
        assert_eq!(scaling["check"], "linear scaling");
        assert_eq!(scaling["status"], "inconclusive");
        assert!(
            scaling["next"]
                .as_str()
                .unwrap()
                .starts_with("run more ticks")
        );
        let pass = Verdict::pass("x", "1".into(), "≤ 2".into());
        assert_eq!(
            serde_json::to_value(&pass).unwrap()["next"],
            serde_json::Value::Null
        );
        assert_eq!(pass.lines(), "✅ x: 1\n   rule: ≤ 2");
    }

    #[test]
    fn suggested_tick_counts_round_up_to_two_digits() {
        assert_eq!(round_up_2_digits(67_163.0), 68_000);
        assert_eq!(round_up_2_digits(62_112.0), 63_000);
        assert_eq!(round_up_2_digits(68_000.0), 68_000);
        assert_eq!(round_up_2_digits(7.2), 8);
        assert_eq!(round_up_2_digits(0.0), 0);
    }

    #[test]
    fn least_squares_slope() {
        assert_eq!(slope(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]), Some(2.0));
        assert_eq!(slope(&[1.0], &[1.0]), None);
        assert_eq!(slope(&[1.0, 1.0], &[1.0, 2.0]), None);
    }
}
