//! Which ticks to time and which to record: a per-thread sampler makes the decision at each
//! tick's filter decision (random countdowns, so a periodic workload cannot lock onto the
//! phase), paced by the collector's budget (what profiling has cost so far against the loop's
//! own time, measured at checkpoints).
//!
//! Costs: a timed tick costs one recorded span (the tick's), a recorded tick one span per span
//! inside it, a window two interest rebuilds (measured when they happen). A quarter of the
//! budget goes to timed ticks (the tick latency distribution: a timed tick costs one span, so a
//! quarter already times thousands of ticks per 100 ms of loop), three quarters to recording
//! windows (components and unattributed time: a recorded tick costs one span per span).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::shared::Shared;
use super::span_state::TickMode;
use crate::sampling::{Sampling, SamplingMode};

/// Ticks between two checkpoints of a thread's loop time (one clock read each).
const CHECKPOINT_TICKS: u64 = 1024;
/// Shares of the budget.
const TIMED_SHARE: f64 = 0.25;
const WINDOW_SHARE: f64 = 0.75;
/// Window length bounds, in ticks. The first ticks after a switch run with cold caches (the
/// recording path has not run for thousands of ticks): longer windows dilute them.
const MIN_WINDOW: u64 = 64;
const MAX_WINDOW: u64 = 1024;
/// Until measured: a switch (interest rebuild) and the spans of a recorded tick.
const GUESS_SWITCH_NS: u64 = 20_000;
const GUESS_SPANS_PER_TICK: f64 = 8.0;

/// The collector-wide side of sampling.
#[derive(Debug)]
pub(crate) struct Budget {
    mode: SamplingMode,
    /// While set (during `start_profiling`'s calibration), user ticks are only counted.
    calibrating: AtomicBool,
    /// What one recorded span costs the loop (calibrated), ns.
    span_ns: AtomicU64,
    /// The last measured window switch, ns.
    switch_ns: AtomicU64,
    /// Loop time net of profiling, summed over threads at their checkpoints, ns.
    loop_ns: AtomicU64,
    /// What windows cost so far (recorded spans and switches), ns.
    window_spent_ns: AtomicU64,
    /// Recorded ticks and the spans they held, for the spans-per-tick estimate.
    recorded_ticks: AtomicU64,
    recorded_spans: AtomicU64,
    /// The first ticks of each thread in a run that are warm-up (0 during calibration).
    warmup_ticks: AtomicU64,
}

impl Budget {
    pub(crate) fn new(sampling: Sampling) -> Self {
        Budget {
            mode: sampling.mode,
            calibrating: AtomicBool::new(false),
            span_ns: AtomicU64::new(150),
            switch_ns: AtomicU64::new(GUESS_SWITCH_NS),
            loop_ns: AtomicU64::new(0),
            window_spent_ns: AtomicU64::new(0),
            recorded_ticks: AtomicU64::new(0),
            recorded_spans: AtomicU64::new(0),
            warmup_ticks: AtomicU64::new(0),
        }
    }

    /// Sets how many of each thread's first ticks are warm-up in the runs that begin from now
    /// (a thread reads it when its part of a run begins).
    pub(crate) fn set_warmup_ticks(&self, ticks: u64) {
        self.warmup_ticks.store(ticks, Ordering::Relaxed);
    }

    /// Each thread's warm-up ticks in the run now beginning.
    pub(crate) fn warmup_ticks(&self) -> u64 {
        self.warmup_ticks.load(Ordering::Relaxed)
    }

    /// Starts a run's accounting with the calibrated cost of one span.
    pub(crate) fn begin_run(&self, span_ns: u64) {
        self.span_ns.store(span_ns.max(1), Ordering::Relaxed);
        self.loop_ns.store(0, Ordering::Relaxed);
        self.window_spent_ns.store(0, Ordering::Relaxed);
        self.recorded_ticks.store(0, Ordering::Relaxed);
        self.recorded_spans.store(0, Ordering::Relaxed);
    }

    pub(crate) fn set_calibrating(&self, on: bool) {
        self.calibrating.store(on, Ordering::Release);
    }

    #[inline]
    pub(crate) fn calibrating(&self) -> bool {
        self.calibrating.load(Ordering::Acquire)
    }

    /// Whether every span of every tick is recorded.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        matches!(self.mode, SamplingMode::Full)
    }

    pub(crate) fn span_ns(&self) -> u64 {
        self.span_ns.load(Ordering::Relaxed)
    }

    /// What profiling cost so far on recording windows, ns.
    pub(crate) fn window_spent_ns(&self) -> u64 {
        self.window_spent_ns.load(Ordering::Relaxed)
    }

    /// Loop time net of profiling seen at checkpoints, ns.
    pub(crate) fn loop_ns(&self) -> u64 {
        self.loop_ns.load(Ordering::Relaxed)
    }

    /// A recorded tick closed holding `spans` spans (itself included).
    pub(crate) fn recorded_tick(&self, spans: u64) {
        self.recorded_ticks.fetch_add(1, Ordering::Relaxed);
        self.recorded_spans.fetch_add(spans, Ordering::Relaxed);
        self.window_spent_ns
            .fetch_add(spans.saturating_mul(self.span_ns()), Ordering::Relaxed);
    }

    /// A window switch took `ns`.
    pub(crate) fn switched(&self, ns: u64) {
        self.switch_ns.store(ns.max(1), Ordering::Relaxed);
        self.window_spent_ns.fetch_add(ns, Ordering::Relaxed);
    }

    fn spans_per_tick(&self) -> f64 {
        let ticks = self.recorded_ticks.load(Ordering::Relaxed);
        if ticks == 0 {
            return GUESS_SPANS_PER_TICK;
        }
        (self.recorded_spans.load(Ordering::Relaxed) as f64 / ticks as f64).max(1.0)
    }

    /// Ticks per window: long enough that its two switches are at most a fifth of its cost.
    pub(crate) fn window_length(&self) -> u64 {
        let tick_cost = self.spans_per_tick() * self.span_ns() as f64;
        let switches = 2.0 * self.switch_ns.load(Ordering::Relaxed) as f64;
        ((4.0 * switches / tick_cost).ceil() as u64).clamp(MIN_WINDOW, MAX_WINDOW)
    }

    /// What a window of `length` ticks is expected to cost, ns.
    fn window_cost(&self, length: u64) -> f64 {
        length as f64 * self.spans_per_tick() * self.span_ns() as f64
            + 2.0 * self.switch_ns.load(Ordering::Relaxed) as f64
    }

    /// Whether the budget allows another window now: what windows cost so far is within the
    /// budget's share of the loop time seen so far (so the first window opens at once, and a
    /// window overshoots by at most its own cost).
    fn may_open(&self) -> bool {
        match self.mode {
            SamplingMode::Budget(fraction) => {
                self.window_spent_ns() as f64 <= fraction * WINDOW_SHARE * self.loop_ns() as f64
            }
            SamplingMode::OneIn(_) | SamplingMode::Full => true,
        }
    }

    /// The mean number of this thread's ticks between window attempts.
    fn window_gap(&self, length: u64, tick_ns: f64) -> f64 {
        match self.mode {
            SamplingMode::Budget(fraction) => {
                self.window_cost(length) / (fraction * WINDOW_SHARE * tick_ns.max(1.0))
            }
            SamplingMode::OneIn(n) => (length * n.saturating_sub(1)) as f64,
            SamplingMode::Full => 1.0,
        }
    }

    /// The probability that a tick outside a window is timed.
    fn timed_probability(&self, tick_ns: f64) -> f64 {
        match self.mode {
            SamplingMode::Budget(fraction) => {
                (fraction * TIMED_SHARE * tick_ns / self.span_ns() as f64).clamp(1e-6, 1.0)
            }
            SamplingMode::OneIn(n) => 1.0 / n as f64,
            SamplingMode::Full => 1.0,
        }
    }
}

/// One thread's sampling state.
#[derive(Debug)]
pub(crate) struct TickSampler {
    /// Warm-up ticks this thread has still to start: each is timed or recorded (none is left
    /// untimed), and its latency goes to the warm-up histogram, not the run's (see
    /// `ThreadHistograms`).
    warmup_left: u64,
    rng: u64,
    until_timed: u64,
    until_window: u64,
    since_checkpoint: u64,
    checkpoint_raw: u64,
    /// Profiling cost this thread paid since its last checkpoint, ns.
    spent_ns: u64,
    /// A bare tick's loop time on this thread (0: not known yet), ns.
    tick_ns: f64,
    /// Whether `tick_ns` comes from a checkpoint (a mean over many ticks) rather than from
    /// the first timed tick alone (often cold, and many times slower than the loop's ticks).
    tick_ns_measured: bool,
    timed_probability: f64,
}

impl TickSampler {
    pub(crate) fn new(seed: u64, warmup_ticks: u64) -> Self {
        TickSampler {
            warmup_left: warmup_ticks,
            // xorshift must not start at 0.
            rng: seed | 1,
            // The first tick tries a window and, failing that, is timed: short runs get data.
            until_timed: 1,
            until_window: 1,
            since_checkpoint: 0,
            checkpoint_raw: 0,
            spent_ns: 0,
            tick_ns: 0.0,
            tick_ns_measured: false,
            timed_probability: 0.0,
        }
    }

    /// Decides what to measure of the tick that starts now.
    pub(crate) fn decide(&mut self, shared: &Shared) -> TickMode {
        let budget = &shared.budget;
        if budget.calibrating() {
            return TickMode::Untimed;
        }
        if budget.is_full() {
            return TickMode::Recorded;
        }
        if self.warmup_left > 0 {
            // Every warm-up tick is measured: recorded when a window takes it (the first tick
            // tries one, so short runs still get their components), else timed.
            self.warmup_left -= 1;
            return match self.sampled(shared) {
                TickMode::Untimed => TickMode::Timed,
                mode => mode,
            };
        }
        self.sampled(shared)
    }

    /// The sampled decision: a window's tick, a timed tick, or (mostly) an untimed one.
    fn sampled(&mut self, shared: &Shared) -> TickMode {
        let budget = &shared.budget;
        self.checkpoint(shared);
        let window = &shared.window;
        // A full window stays open until its last recorded tick closes (see `recorder`).
        if window.is_open() && window.claim() {
            return TickMode::Recorded;
        }
        self.until_window = self.until_window.saturating_sub(1);
        if self.until_window == 0 {
            // Until this thread's loop time is known, try again after the first checkpoint
            // (a gap drawn from a guess could postpone every window past the end of the run).
            self.until_window = if self.tick_ns > 0.0 {
                self.draw(budget.window_gap(budget.window_length(), self.tick_ns))
            } else {
                CHECKPOINT_TICKS
            };
            if !window.is_open() && budget.may_open() {
                return TickMode::Opening;
            }
        }
        self.until_timed = self.until_timed.saturating_sub(1);
        if self.until_timed == 0 {
            // Until the first checkpoint measured the loop, a guess: ticks as long as a span.
            let p = if self.tick_ns_measured {
                self.timed_probability
            } else {
                budget.timed_probability(budget.span_ns() as f64)
            };
            self.until_timed = self.draw(1.0 / p);
            return TickMode::Timed;
        }
        TickMode::Untimed
    }

    /// A timed or recorded tick of this thread closed: what it cost, and its net busy time
    /// (the first one seeds the loop-time estimate).
    pub(crate) fn tick_closed(&mut self, cost_ns: u64, net_ns: u64) {
        self.spent_ns = self.spent_ns.saturating_add(cost_ns);
        if self.tick_ns == 0.0 {
            self.tick_ns = net_ns.max(1) as f64;
        }
    }

    /// This thread switched a window (or tried to), starting at `started_raw`: the cost goes
    /// to the budget.
    pub(crate) fn switched(&mut self, shared: &Shared, started_raw: u64) {
        let ns = shared.clock.delta_as_nanos(started_raw, shared.clock.raw());
        shared.budget.switched(ns);
        self.spent_ns = self.spent_ns.saturating_add(ns);
    }

    /// Every `CHECKPOINT_TICKS` ticks: this thread's loop time net of profiling, for the
    /// budget and the timed-tick probability.
    fn checkpoint(&mut self, shared: &Shared) {
        self.since_checkpoint += 1;
        if self.since_checkpoint < CHECKPOINT_TICKS && self.checkpoint_raw != 0 {
            return;
        }
        let now = shared.clock.raw();
        if self.checkpoint_raw != 0 {
            let elapsed = shared.clock.delta_as_nanos(self.checkpoint_raw, now);
            let bare = elapsed.saturating_sub(self.spent_ns);
            shared.budget.loop_ns.fetch_add(bare, Ordering::Relaxed);
            self.measured_tick(bare as f64 / self.since_checkpoint as f64);
            self.timed_probability = shared.budget.timed_probability(self.tick_ns);
        }
        self.checkpoint_raw = now;
        self.since_checkpoint = 0;
        self.spent_ns = 0;
    }

    /// A checkpoint measured `per_tick` ns per bare tick. The first one replaces the first
    /// tick's guess: a cold first tick (20 µs for a 0.5 µs loop) would otherwise time a tick
    /// in four for several checkpoints; later ones smooth.
    fn measured_tick(&mut self, per_tick: f64) {
        self.tick_ns = if self.tick_ns_measured {
            0.5 * (self.tick_ns + per_tick)
        } else {
            per_tick
        };
        self.tick_ns_measured = true;
    }

    /// A geometric draw with the given mean (≥ 1): the number of ticks until the next event.
    fn draw(&mut self, mean: f64) -> u64 {
        if mean.is_nan() || mean <= 1.0 {
            return 1;
        }
        if mean.is_infinite() {
            return u64::MAX / 2;
        }
        // xorshift64*: fast, and enough randomness to keep phases apart.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let bits = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        let uniform = (bits as f64 + 1.0) / (1u64 << 53) as f64; // (0, 1]
        let p = 1.0 / mean;
        let gap = 1.0 + (uniform.ln() / (1.0 - p).ln()).floor();
        if gap.is_finite() && gap >= 1.0 {
            gap.min(u64::MAX as f64 / 2.0) as u64
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_draws_have_the_requested_mean() {
        let mut sampler = TickSampler::new(12345, 0);
        for mean in [1.0, 2.0, 10.0, 237.0] {
            let n = 200_000;
            let sum: u64 = (0..n).map(|_| sampler.draw(mean)).sum();
            let measured = sum as f64 / n as f64;
            assert!(
                (measured - mean).abs() <= 0.02 * mean,
                "mean {mean}: measured {measured}"
            );
        }
        assert_eq!(sampler.draw(0.5), 1);
        assert_eq!(sampler.draw(f64::NAN), 1);
        // Probability 0: never, not every tick.
        assert_eq!(sampler.draw(f64::INFINITY), u64::MAX / 2);
    }

    #[test]
    fn the_first_checkpoint_replaces_a_cold_first_tick_s_guess() {
        let mut sampler = TickSampler::new(7, 0);
        // The first timed tick was cold: 20 µs, where the loop's ticks take 500 ns.
        sampler.tick_closed(0, 20_000);
        assert_eq!(sampler.tick_ns, 20_000.0);
        sampler.measured_tick(500.0);
        assert_eq!(sampler.tick_ns, 500.0);
        // Later checkpoints smooth: half the old estimate, half the new mean.
        sampler.measured_tick(700.0);
        assert_eq!(sampler.tick_ns, 600.0);
        // A later timed tick does not reseed.
        sampler.tick_closed(0, 20_000);
        assert_eq!(sampler.tick_ns, 600.0);
    }

    #[test]
    fn before_the_first_checkpoint_few_ticks_are_timed() {
        let template = hdrhistogram::Histogram::new_with_bounds(1, 1_000_000_000, 3).unwrap();
        let shared = Shared::new(
            "tick".into(),
            Sampling::budget(0.03),
            template,
            quanta::Clock::new(),
        );
        shared.budget.begin_run(500);
        let mut sampler = TickSampler::new(7, 0);
        sampler.tick_closed(0, 20_000);
        let timed = (0..CHECKPOINT_TICKS - 1)
            .filter(|_| sampler.decide(&shared) == TickMode::Timed)
            .count();
        // A quarter of 3 % of a 500 ns guess, on 500 ns spans: 0.75 % of 1,023 ticks, ~8.
        assert!((1..=40).contains(&timed), "{timed} timed");
    }

    #[test]
    fn window_length_keeps_switches_small() {
        let budget = Budget::new(Sampling::budget(0.03));
        budget.begin_run(150);
        budget.switched(10_000);
        // 2 switches of 10 µs against ticks of 8 spans × 150 ns: 4 × 20 µs / 1.2 µs = 67.
        assert_eq!(budget.window_length(), 67);
        budget.switched(1);
        assert_eq!(budget.window_length(), MIN_WINDOW);
        budget.switched(1_000_000_000);
        assert_eq!(budget.window_length(), MAX_WINDOW);
    }

    #[test]
    fn budget_pacing() {
        let budget = Budget::new(Sampling::budget(0.03));
        budget.begin_run(100);
        // The first window is always allowed (short runs get detail), the second only once
        // the loop has run long enough to pay for the first.
        assert!(budget.may_open());
        budget.switched(1_000);
        let cost = budget.window_cost(budget.window_length());
        budget.window_spent_ns.store(cost as u64, Ordering::Relaxed);
        assert!(!budget.may_open());
        let needed = (cost / (0.03 * WINDOW_SHARE)).ceil() as u64 + 1;
        budget.loop_ns.fetch_add(needed, Ordering::Relaxed);
        assert!(budget.may_open());
        // A 400 ns tick at 3 %: a quarter of the budget on 100 ns timed ticks = 3 in 100.
        assert!((budget.timed_probability(400.0) - 0.03).abs() < 1e-9);
        assert_eq!(
            Budget::new(Sampling::one_in(50)).timed_probability(400.0),
            0.02
        );
    }
}
