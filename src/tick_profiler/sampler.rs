//! Which ticks to time and which to record. A per-thread [`TickSampler`] decides at each tick's
//! filter decision, with random countdowns (so a periodic workload cannot lock onto the
//! phase), paced by the collector's [`Budget`]: what profiling has cost so far against the time
//! the loop's ticks took, measured at checkpoints.
//!
//! **What the budget is a fraction of.** The ticks' own time: each thread's net tick latency
//! (measured on its timed ticks) times its tick count. Not wall time: a live loop that waits
//! between ticks does not earn a larger budget by waiting. A quarter of the budget goes to
//! timed ticks (each costs one span, [`Costs::span_ns`](super::costs::Costs)), three quarters
//! to recording windows (each recorded tick costs one span per span in it, and a window two
//! interest rebuilds, measured when they happen). The exact tick count is paid on top: one
//! refused filter decision per untimed tick (`Costs::check_ns`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::window::WindowId;
use crate::sampling::{Sampling, SamplingMode};

/// Ticks between two checkpoints of a thread's loop (one clock read each).
pub(crate) const CHECKPOINT_TICKS: u64 = 1024;
/// Shares of the budget.
const TIMED_SHARE: f64 = 0.25;
const WINDOW_SHARE: f64 = 0.75;
/// Window length bounds, in ticks. The first ticks after a switch run with cold caches (the
/// recording path has not run for thousands of ticks): longer windows dilute them.
const MIN_WINDOW: u64 = 64;
const MAX_WINDOW: u64 = 1024;
/// Until measured: a switch (two interest rebuilds) and the spans of a recorded tick.
const GUESS_SWITCH_NS: u64 = 20_000;
const GUESS_SPANS_PER_TICK: f64 = 8.0;

/// How much of a tick is measured, decided at its filter decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TickMode {
    /// Counted only: the tick span is not created for tickprof.
    Untimed,
    /// The tick span exists and is timed; its children are not created for tickprof.
    Timed,
    /// The tick and every span inside it are recorded, in a place of this window (0: full
    /// sampling, no window).
    Recorded(WindowId),
    /// Recorded, and it opens a recording window at its first enter (an interest rebuild
    /// cannot run inside a filter decision).
    Opening,
}

/// The collector-wide side of sampling.
#[derive(Debug)]
pub(crate) struct Budget {
    mode: SamplingMode,
    /// While set (during `start_profiling`'s calibration), user ticks are only counted.
    calibrating: AtomicBool,
    /// What one recorded span costs the loop, ns (`Costs::span_ns`).
    span_ns: AtomicU64,
    /// The last measured window switch, ns.
    switch_ns: AtomicU64,
    /// The ticks' own time, summed over threads at their checkpoints, ns.
    loop_ns: AtomicU64,
    /// The collector's tick time (`f64` bits, ns), for threads that decide ticks but close
    /// none (an async tick closes on whichever worker polls it last).
    tick_ns: AtomicU64,
    /// What windows cost so far (recorded spans and switches), ns.
    window_spent_ns: AtomicU64,
    /// What the switches alone took so far, ns.
    switches_ns: AtomicU64,
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
            tick_ns: AtomicU64::new(0),
            window_spent_ns: AtomicU64::new(0),
            switches_ns: AtomicU64::new(0),
            recorded_ticks: AtomicU64::new(0),
            recorded_spans: AtomicU64::new(0),
            warmup_ticks: AtomicU64::new(0),
        }
    }

    /// Sets each thread's warm-up ticks in the runs that begin from now.
    pub(crate) fn set_warmup_ticks(&self, ticks: u64) {
        self.warmup_ticks.store(ticks, Ordering::Relaxed);
    }

    pub(crate) fn warmup_ticks(&self) -> u64 {
        self.warmup_ticks.load(Ordering::Relaxed)
    }

    /// Starts a run's accounting with the calibrated cost of one span.
    pub(crate) fn begin_run(&self, span_ns: u64) {
        self.span_ns.store(span_ns.max(1), Ordering::Relaxed);
        self.loop_ns.store(0, Ordering::Relaxed);
        self.tick_ns.store(0, Ordering::Relaxed);
        self.window_spent_ns.store(0, Ordering::Relaxed);
        self.switches_ns.store(0, Ordering::Relaxed);
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

    fn span_ns(&self) -> u64 {
        self.span_ns.load(Ordering::Relaxed)
    }

    /// The least time between two spans outside ticks recorded between windows (on one
    /// thread), ns: what one costs over the budget's share of the time (`one_in(n)`: `n`
    /// spans' cost); 0 with full sampling (every one).
    pub(crate) fn outside_gap_ns(&self) -> u64 {
        match self.mode {
            SamplingMode::Full => 0,
            SamplingMode::Budget(fraction) if fraction > 0.0 => {
                (self.span_ns() as f64 / fraction) as u64
            }
            SamplingMode::Budget(_) => u64::MAX,
            SamplingMode::OneIn(n) => self.span_ns().saturating_mul(n),
        }
    }

    /// What windows cost so far, ns.
    pub(crate) fn window_spent_ns(&self) -> u64 {
        self.window_spent_ns.load(Ordering::Relaxed)
    }

    /// What window switches took so far, ns.
    pub(crate) fn switches_ns(&self) -> u64 {
        self.switches_ns.load(Ordering::Relaxed)
    }

    /// The ticks' own time seen at checkpoints so far, ns.
    pub(crate) fn loop_ns(&self) -> u64 {
        self.loop_ns.load(Ordering::Relaxed)
    }

    /// The collector's tick time so far (0: none measured), ns.
    fn tick_ns(&self) -> f64 {
        f64::from_bits(self.tick_ns.load(Ordering::Relaxed))
    }

    /// A thread's tick-time estimate moved to `ns`: the collector's follows the last one (a
    /// race between threads loses one update, which the next one makes good).
    fn set_tick_ns(&self, ns: f64) {
        self.tick_ns.store(ns.to_bits(), Ordering::Relaxed);
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
        self.switches_ns.fetch_add(ns, Ordering::Relaxed);
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
    /// budget's share of the ticks' time so far (so the first window opens at once, and a
    /// window overshoots by at most its own cost).
    fn may_open(&self) -> bool {
        match self.mode {
            SamplingMode::Budget(fraction) => {
                self.window_spent_ns() as f64 <= fraction * WINDOW_SHARE * self.loop_ns() as f64
            }
            SamplingMode::OneIn(_) | SamplingMode::Full => true,
        }
    }

    /// The mean number of a thread's ticks between window attempts, for ticks of `tick_ns`
    /// (`None` while a budget needs that and it is not known yet).
    fn window_gap(&self, length: u64, tick_ns: f64) -> Option<f64> {
        match self.mode {
            SamplingMode::Budget(_) if tick_ns <= 0.0 => None,
            SamplingMode::Budget(fraction) => {
                Some(self.window_cost(length) / (fraction * WINDOW_SHARE * tick_ns))
            }
            SamplingMode::OneIn(n) => Some(length as f64 * n.saturating_sub(1) as f64),
            SamplingMode::Full => Some(1.0),
        }
    }

    /// The probability that a tick outside a window is timed, for ticks of `tick_ns`.
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

/// What a sampler needs of the recording window at a decision.
pub(crate) trait WindowGate {
    /// Claims a place in the open window; `None` if none is open or it is full.
    fn claim(&self) -> Option<WindowId>;
    /// Whether a window is open (or being switched).
    fn busy(&self) -> bool;
}

/// One thread's sampling state.
///
/// Most ticks are untimed, and their decision is the hot path of every run: a countdown of
/// ticks that are certainly untimed (`quiet`), one decrement and one check of the window. The
/// other counters catch up when it runs out.
#[derive(Debug)]
pub(crate) struct TickSampler {
    /// Ticks from now that are certainly untimed (unless a window opens meanwhile).
    quiet: u64,
    /// Ticks decided through `quiet` that the counters below have not seen yet.
    skipped: u64,
    /// Warm-up ticks this thread has still to start: each is timed or recorded.
    warmup_left: u64,
    rng: u64,
    until_timed: u64,
    until_window: u64,
    /// The first tick after the warm-up opens a window whatever the budget has spent (once per
    /// thread and run): a short run then has recorded ticks that count (slow ticks, allocations
    /// and the gate leave the warm-up out), at the cost of one window.
    window_after_warmup: bool,
    since_checkpoint: u64,
    /// This thread's net tick latency, from its timed ticks (0: none yet), ns.
    tick_ns: f64,
    timed_probability: f64,
}

impl TickSampler {
    pub(crate) fn new(seed: u64, warmup_ticks: u64) -> Self {
        TickSampler {
            quiet: 0,
            skipped: 0,
            warmup_left: warmup_ticks,
            // xorshift must not start at 0.
            rng: seed | 1,
            // The first tick tries a window and, failing that, is timed: short runs get data.
            until_timed: 1,
            until_window: 1,
            window_after_warmup: false,
            since_checkpoint: 0,
            tick_ns: 0.0,
            timed_probability: 0.0,
        }
    }

    /// Lends the countdown of certainly untimed ticks (to the thread's shortcut).
    pub(crate) fn lend_quiet(&mut self) -> u64 {
        std::mem::take(&mut self.quiet)
    }

    /// Takes back what is left of a lent countdown, and the ticks decided with it.
    pub(crate) fn take_back(&mut self, quiet: u64, decided: u64) {
        self.quiet = quiet;
        self.skipped += decided;
    }

    /// Whether the tick that starts now is untimed by the countdown alone (no window open:
    /// the caller checks); then it is decided.
    #[inline]
    pub(crate) fn skip_untimed(&mut self) -> bool {
        if self.quiet > 0 {
            self.quiet -= 1;
            self.skipped += 1;
            true
        } else {
            false
        }
    }

    /// Decides what to measure of the tick that starts now, and whether it is a warm-up tick.
    #[inline]
    pub(crate) fn decide(&mut self, budget: &Budget, window: &impl WindowGate) -> (TickMode, bool) {
        if !window.busy() && self.skip_untimed() {
            return (TickMode::Untimed, false);
        }
        self.decide_slow(budget, window)
    }

    #[inline(never)]
    fn decide_slow(&mut self, budget: &Budget, window: &impl WindowGate) -> (TickMode, bool) {
        // The counters catch up with the ticks decided through `quiet`.
        let skipped = std::mem::take(&mut self.skipped);
        self.until_timed = self.until_timed.saturating_sub(skipped).max(1);
        self.until_window = self.until_window.saturating_sub(skipped).max(1);
        self.since_checkpoint += skipped;
        self.quiet = 0;
        if budget.calibrating() {
            return (TickMode::Untimed, false);
        }
        if budget.is_full() {
            return (TickMode::Recorded(0), self.warmup());
        }
        let decided = if self.warmup_left > 0 {
            self.warmup_left -= 1;
            let mode = match self.sampled(budget, window) {
                TickMode::Untimed => TickMode::Timed,
                mode => mode,
            };
            if self.warmup_left == 0 {
                self.until_window = 1;
                self.window_after_warmup = true;
            }
            (mode, true)
        } else {
            (self.sampled(budget, window), false)
        };
        if self.warmup_left == 0 {
            // The ticks before the next event (a timed tick, a window attempt, a checkpoint).
            self.quiet = (self.until_timed.min(self.until_window))
                .min(CHECKPOINT_TICKS.saturating_sub(self.since_checkpoint))
                .saturating_sub(1);
        }
        decided
    }

    /// Whether the tick starting now is a warm-up tick (full sampling: no sampling decision).
    fn warmup(&mut self) -> bool {
        let warmup = self.warmup_left > 0;
        self.warmup_left = self.warmup_left.saturating_sub(1);
        warmup
    }

    /// The sampled decision: a window's tick, a timed tick, or (mostly) an untimed one.
    fn sampled(&mut self, budget: &Budget, window: &impl WindowGate) -> TickMode {
        self.since_checkpoint += 1;
        if self.since_checkpoint >= CHECKPOINT_TICKS {
            self.checkpoint(budget);
        }
        if window.busy()
            && let Some(id) = window.claim()
        {
            return TickMode::Recorded(id);
        }
        self.until_window = self.until_window.saturating_sub(1);
        if self.until_window == 0 {
            // Until this thread's tick time is known (a budget's windows are paced on it), try
            // again after the next checkpoint.
            let tick_ns = self.tick_ns(budget);
            self.until_window = match budget.window_gap(budget.window_length(), tick_ns) {
                Some(gap) => self.draw(gap),
                None => CHECKPOINT_TICKS,
            };
            let forced = std::mem::take(&mut self.window_after_warmup);
            if !window.busy() && (forced || budget.may_open()) {
                return TickMode::Opening;
            }
        }
        self.until_timed = self.until_timed.saturating_sub(1);
        if self.until_timed == 0 {
            let p = if self.timed_probability > 0.0 {
                self.timed_probability
            } else {
                // Until the first checkpoint: a guess, ticks as long as a span.
                budget.timed_probability(budget.span_ns() as f64)
            };
            self.until_timed = self.draw(1.0 / p);
            return TickMode::Timed;
        }
        TickMode::Untimed
    }

    /// A timed tick of this thread closed with this net latency: the estimate of the thread's
    /// tick time follows it, each value clipped at 4× the estimate (one preempted tick moves
    /// it by at most 3/8).
    pub(crate) fn tick_timed(&mut self, net_ns: u64, budget: &Budget) {
        let value = net_ns.max(1) as f64;
        self.tick_ns = if self.tick_ns == 0.0 {
            value
        } else {
            self.tick_ns + (value.min(4.0 * self.tick_ns) - self.tick_ns) / 8.0
        };
        budget.set_tick_ns(self.tick_ns);
    }

    /// This thread's tick time, or the collector's while it has closed no timed tick itself.
    fn tick_ns(&self, budget: &Budget) -> f64 {
        if self.tick_ns > 0.0 {
            self.tick_ns
        } else {
            budget.tick_ns()
        }
    }

    /// Every `CHECKPOINT_TICKS` ticks: this thread's ticks' own time goes to the budget, and
    /// the timed-tick probability follows the thread's tick time.
    fn checkpoint(&mut self, budget: &Budget) {
        let ticks = std::mem::take(&mut self.since_checkpoint);
        let tick_ns = self.tick_ns(budget);
        if tick_ns > 0.0 {
            budget
                .loop_ns
                .fetch_add((ticks as f64 * tick_ns) as u64, Ordering::Relaxed);
            self.timed_probability = budget.timed_probability(tick_ns);
        }
    }

    /// The thread's state is going (its thread exits, or its run ends): the ticks since its
    /// last checkpoint (and those decided through `quiet`) go to the budget, so that
    /// short-lived threads pay for windows too.
    pub(crate) fn flush(&mut self, budget: &Budget) {
        self.since_checkpoint += std::mem::take(&mut self.skipped);
        self.checkpoint(budget);
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
        // ln(1 − p) as ln_1p(−p): exact for tiny p, where 1 − p rounds to 1.
        let gap = 1.0 + (uniform.ln() / (-p).ln_1p()).floor();
        if gap.is_finite() && gap >= 1.0 {
            gap.min(u64::MAX as f64 / 2.0) as u64
        } else {
            1
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A window that is never open and never full.
    struct Closed;

    impl WindowGate for Closed {
        fn claim(&self) -> Option<WindowId> {
            None
        }
        fn busy(&self) -> bool {
            false
        }
    }

    /// A window that is open with `places` places left.
    struct Open(Cell<u64>);

    impl WindowGate for Open {
        fn claim(&self) -> Option<WindowId> {
            let left = self.0.get();
            self.0.set(left.saturating_sub(1));
            (left > 0).then_some(7)
        }
        fn busy(&self) -> bool {
            true
        }
    }

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
        // Means far beyond any run draw far beyond any run, not 1.
        assert!(sampler.draw(1e20) > 1 << 40);
        assert_eq!(sampler.draw(0.5), 1);
        assert_eq!(sampler.draw(f64::NAN), 1);
        assert_eq!(sampler.draw(f64::INFINITY), u64::MAX / 2);
    }

    #[test]
    fn one_preempted_tick_moves_the_tick_estimate_little() {
        let budget = Budget::new(Sampling::default());
        let mut sampler = TickSampler::new(7, 0);
        sampler.tick_timed(500, &budget);
        sampler.tick_timed(4_000_000, &budget);
        // Clipped at 4 × 500: the estimate moves by (2,000 − 500) / 8.
        assert_eq!(sampler.tick_ns, 500.0 + 1_500.0 / 8.0);
        // A thread that closed no timed tick (its ticks close elsewhere) paces on it.
        assert_eq!(TickSampler::new(8, 0).tick_ns(&budget), sampler.tick_ns);
    }

    #[test]
    fn the_budget_is_a_fraction_of_the_ticks_time_not_of_the_wall_time() {
        // 3 % of 400 ns ticks: a quarter of it on timed ticks of one 100 ns span each is 3 timed
        // ticks per 100, however long the loop waits between ticks.
        let budget = Budget::new(Sampling::budget(0.03));
        budget.begin_run(100);
        let mut sampler = TickSampler::new(99, 0);
        sampler.tick_timed(400, &budget);
        let n = 400_000;
        let timed = (0..n)
            .filter(|_| sampler.decide(&budget, &Closed).0 == TickMode::Timed)
            .count() as f64;
        let rate = timed / f64::from(n);
        assert!((rate - 0.03).abs() < 0.003, "{rate}");
        // The ticks' own time went to the budget at checkpoints: n × 400 ns (± one checkpoint).
        let seen = budget.loop_ns() as f64;
        assert!(
            (seen - f64::from(n) * 400.0).abs() <= (CHECKPOINT_TICKS * 400) as f64,
            "{seen}"
        );
    }

    #[test]
    fn windows_are_paced_by_what_they_cost() {
        let budget = Budget::new(Sampling::budget(0.03));
        budget.begin_run(100);
        // The first window is always allowed (short runs get detail), the next only once the
        // ticks have run long enough to pay for the first.
        assert!(budget.may_open());
        budget.switched(1_000);
        let cost = budget.window_cost(budget.window_length());
        budget.window_spent_ns.store(cost as u64, Ordering::Relaxed);
        assert!(!budget.may_open());
        let needed = (cost / (0.03 * WINDOW_SHARE)).ceil() as u64 + 1;
        budget.loop_ns.fetch_add(needed, Ordering::Relaxed);
        assert!(budget.may_open());
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
    fn warmup_ticks_are_all_measured_and_an_open_window_takes_ticks() {
        let budget = Budget::new(Sampling::budget(0.03));
        budget.begin_run(100);
        let mut sampler = TickSampler::new(5, 3);
        // The first tick tries to open a window.
        assert_eq!(sampler.decide(&budget, &Closed), (TickMode::Opening, true));
        assert!(sampler.decide(&budget, &Closed).1);
        assert_ne!(sampler.decide(&budget, &Closed).0, TickMode::Untimed);
        // The first tick after the warm-up opens one too, though the budget is spent.
        budget.recorded_tick(1_000);
        assert!(!budget.may_open());
        assert_eq!(sampler.decide(&budget, &Closed), (TickMode::Opening, false));
        let open = Open(Cell::new(2));
        assert_eq!(sampler.decide(&budget, &open).0, TickMode::Recorded(7));
        assert_eq!(sampler.decide(&budget, &open).0, TickMode::Recorded(7));
        assert_ne!(sampler.decide(&budget, &open).0, TickMode::Recorded(7));
        let full = Budget::new(Sampling::full());
        assert_eq!(
            TickSampler::new(1, 0).decide(&full, &Closed).0,
            TickMode::Recorded(0)
        );
    }

    #[test]
    fn a_short_lived_thread_pays_its_ticks_into_the_budget() {
        let budget = Budget::new(Sampling::budget(0.03));
        budget.begin_run(100);
        let mut sampler = TickSampler::new(3, 0);
        sampler.tick_timed(1_000, &budget);
        for _ in 0..500 {
            sampler.decide(&budget, &Closed);
        }
        assert_eq!(budget.loop_ns(), 0, "no checkpoint in 500 ticks");
        sampler.flush(&budget);
        assert_eq!(budget.loop_ns(), 500 * 1_000);
    }
}
