//! The tick loop: one `tick` span per market event, one child span per component.
//!
//! The spans are ordinary `tracing` spans, exactly what an engine would write; whether anything
//! records them is decided by the dispatcher in scope (tickprof's layer for profiled runs,
//! `NoSubscriber` for bare runs), so both runs execute the same code and must end with the same
//! [`Digest`].
//!
//! Market data is generated a chunk at a time into one reused buffer, *outside* the spans and
//! outside the loop timer: generation is the data source, not the engine under test.

use std::collections::BTreeMap;
use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::info_span;

use crate::book::Book;
use crate::generator::{Fnv1a, Generator, INSTRUMENTS, Rng};
use crate::indicators::Indicators;
use crate::matching::{Fill, Matcher};
use crate::parse::{ParseError, parse_line};
use crate::portfolio::Portfolio;
use crate::progress::quarter_stop;
use crate::risk::{Limits, Risk};
use crate::strategy::Strategy;

/// Lines generated per chunk: big enough that per-chunk work (timer, progress) is noise, small
/// enough (≈ 280 KB) that memory does not depend on the run length.
pub const CHUNK_LINES: usize = 4096;
/// The first ticks of every run, timed apart from the rest: a run's start-up costs (a fresh
/// engine's first touches of its books and buffers; under the profiler, its first
/// 1,024 ticks, which run on guessed rates until its first checkpoint: 15 µs per tick over the
/// first 128 ticks of a profiled run against 0.7–0.9 µs later, measured 2026-12-03) are paid
/// once per run, so they would make a short run look slower per tick than a long one.
pub const WARM_UP_TICKS: u64 = 1024;
/// Starting equity, USD.
const INITIAL_EQUITY: f64 = 10_000_000.0;
/// Order entry latency: fixed part + exponential part (hftbacktest-style).
const LATENCY_FIXED_NS: f64 = 50_000.0;
const LATENCY_EXP_MEAN_NS: f64 = 20_000.0;
/// Decorrelates the latency stream from the market data stream of the same seed.
const LATENCY_SEED_SALT: u64 = 0x6c61_7465_6e63_7921;

/// The component spans of a tick, in the order they run.
#[allow(dead_code)] // the driver injects nothing; examples/gate_rates includes this file and does
pub const COMPONENTS: [&str; 8] = [
    "parse",
    "book_update",
    "match_orders",
    "indicators",
    "strategy",
    "risk_check",
    "submit_order",
    "portfolio",
];

/// Extra work inside one component span: a regression injected on purpose, so a gate can be
/// measured against a slowdown of known size (`examples/gate_rates`). The work is real
/// instructions (a dependent chain of LCG steps), not a clock spin, so it scales with the
/// machine's speed as a real regression of the code would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slowdown {
    /// Extra LCG steps per span, indexed like [`COMPONENTS`]; all zero for the engine as built.
    pub steps: [u32; 8],
}

impl Slowdown {
    /// `steps` extra steps in the component named `component`.
    ///
    /// # Errors
    /// The name, when it is not one of [`COMPONENTS`].
    #[allow(dead_code)] // used by examples/gate_rates, which includes this file
    pub fn in_component(component: &str, steps: u32) -> Result<Self, String> {
        let i = COMPONENTS
            .iter()
            .position(|c| *c == component)
            .ok_or_else(|| {
                format!(
                    "no component `{component}`; one of {}",
                    COMPONENTS.join(", ")
                )
            })?;
        let mut slowdown = Slowdown::default();
        slowdown.steps[i] = steps;
        Ok(slowdown)
    }

    /// The extra work of component `i` (an index into [`COMPONENTS`]); nothing when it has none.
    #[inline(always)]
    fn run(&self, i: usize, seed: u64) {
        let steps = self.steps[i];
        if steps > 0 {
            black_box(lcg_steps(seed, steps));
        }
    }
}

/// `steps` dependent steps of a 64-bit LCG: work whose cost is a known number of instructions.
#[inline(never)]
pub fn lcg_steps(seed: u64, steps: u32) -> u64 {
    let mut x = seed;
    for _ in 0..steps {
        x = black_box(
            x.wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        );
    }
    x
}

/// The engine's state: books, exchange, indicators, strategy, risk and account.
#[derive(Debug)]
pub struct Engine {
    books: Vec<Book>,
    matcher: Matcher,
    indicators: [Indicators; 4],
    mids: [f64; 4],
    strategy: Strategy,
    risk: Risk,
    portfolio: Portfolio,
    latency_rng: Rng,
    /// Fills of the current tick (reused: no allocation per tick).
    fills: Vec<Fill>,
    ticks: u64,
    slippage_bp_sum: f64,
    fill_hash: Fnv1a,
    slowdown: Slowdown,
}

impl Engine {
    /// A fresh engine; `seed` drives the order latencies.
    pub fn new(seed: u64) -> Self {
        Engine {
            books: INSTRUMENTS.iter().map(|i| Book::new(i.tick)).collect(),
            matcher: Matcher::new(),
            indicators: Default::default(),
            mids: [f64::NAN; 4],
            strategy: Strategy::default(),
            risk: Risk::new(Limits::default()),
            portfolio: Portfolio::new(INITIAL_EQUITY),
            latency_rng: Rng::seed_from_u64(seed ^ LATENCY_SEED_SALT),
            fills: Vec::with_capacity(8),
            ticks: 0,
            slippage_bp_sum: 0.0,
            fill_hash: Fnv1a::default(),
            slowdown: Slowdown::default(),
        }
    }

    /// The same engine with extra work in a component (see [`Slowdown`]).
    pub fn with_slowdown(mut self, slowdown: Slowdown) -> Self {
        self.slowdown = slowdown;
        self
    }

    /// Processes one CSV line (1-based `line_no`) as one `tick` span.
    ///
    /// # Errors
    /// The line's [`ParseError`]; the engine state is unchanged by a rejected line.
    pub fn on_line(&mut self, line: &str, line_no: u64) -> Result<(), ParseError> {
        let _tick = info_span!("tick").entered();
        let tick = {
            let _s = info_span!("parse").entered();
            self.slowdown.run(0, line_no);
            parse_line(line, line_no)?
        };
        let sym = usize::from(tick.symbol);
        {
            let _s = info_span!("book_update").entered();
            self.slowdown.run(1, line_no);
            self.books[sym].apply(&tick);
        }
        {
            let _s = info_span!("match_orders").entered();
            self.slowdown.run(2, line_no);
            self.fills.clear();
            self.matcher
                .match_arrived(tick.ts_ns, &mut self.books, &mut self.fills);
        }
        {
            let _s = info_span!("indicators").entered();
            self.slowdown.run(3, line_no);
            self.indicators[sym].update(&tick);
            self.mids[sym] = self.indicators[sym].mid;
        }
        let intent = {
            let _s = info_span!("strategy").entered();
            self.slowdown.run(4, line_no);
            self.strategy.decide(
                tick.ts_ns,
                tick.symbol,
                &self.indicators[sym],
                &self.books[sym],
                self.portfolio.position(tick.symbol),
                self.matcher.pending_qty(tick.symbol),
            )
        };
        if let Some(order) = intent {
            let approved = {
                let _s = info_span!("risk_check").entered();
                self.slowdown.run(5, line_no);
                let pending = self.matcher.pending_qty(tick.symbol);
                self.risk
                    .check(&order, &self.portfolio, pending, &self.mids, tick.ts_ns)
                    .is_ok()
            };
            if approved {
                let _s = info_span!("submit_order").entered();
                self.slowdown.run(6, line_no);
                let latency = LATENCY_FIXED_NS + self.latency_rng.exponential(LATENCY_EXP_MEAN_NS);
                self.matcher
                    .submit(&order, tick.ts_ns, latency.round() as u64);
            }
        }
        {
            let _s = info_span!("portfolio").entered();
            self.slowdown.run(7, line_no);
            for fill in &self.fills {
                if fill.qty > 0.0 {
                    self.portfolio
                        .apply(fill.instrument, fill.side, fill.qty, fill.vwap);
                    self.slippage_bp_sum += fill.slippage_bp;
                }
                self.fill_hash.write_u64(fill.order_id);
                self.fill_hash.write_f64(fill.qty);
                self.fill_hash.write_f64(fill.vwap);
            }
            self.portfolio.mark(&self.mids);
        }
        self.ticks += 1;
        Ok(())
    }

    /// The end-of-run summary that makes a run checkable.
    pub fn digest(&self) -> Digest {
        let mut hash = self.fill_hash;
        let positions = self.portfolio.positions().map(|p| p.qty);
        for p in self.portfolio.positions() {
            hash.write_f64(p.qty);
            hash.write_f64(p.avg_price);
            hash.write_f64(p.realized);
        }
        hash.write_f64(self.portfolio.equity);
        hash.write_u64(self.ticks);
        let fills = self.portfolio.fills;
        Digest {
            ticks: self.ticks,
            orders: self.risk.approved,
            rejected: self.risk.rejected.iter().sum(),
            signals: self.strategy.signals,
            fills,
            partial_fills: self.matcher.partial_fills,
            pnl_usd: self.portfolio.pnl(),
            realized_usd: self.portfolio.realized(),
            fees_usd: self.portfolio.fees,
            max_drawdown_percent: 100.0 * self.portfolio.max_drawdown,
            mean_slippage_bp: if fills > 0 {
                self.slippage_bp_sum / fills as f64
            } else {
                0.0
            },
            positions: INSTRUMENTS
                .iter()
                .zip(positions)
                .map(|(i, q)| (i.symbol.to_owned(), q))
                .collect(),
            hash: format!("{:016x}", hash.finish()),
        }
    }
}

/// What a run ends with; equal for equal seeds and tick counts, profiled or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    /// Ticks processed.
    pub ticks: u64,
    /// Orders submitted (approved by risk).
    pub orders: u64,
    /// Orders refused by risk.
    pub rejected: u64,
    /// Ticks on which the strategy wanted to trade.
    pub signals: u64,
    /// Fills with a non-zero quantity.
    pub fills: u64,
    /// Orders cut short by their limit or the depth of the book.
    pub partial_fills: u64,
    /// Equity change after fees, USD.
    pub pnl_usd: f64,
    /// Realized PnL before fees, USD.
    pub realized_usd: f64,
    /// Fees paid, USD.
    pub fees_usd: f64,
    /// Largest drawdown from peak equity, %.
    pub max_drawdown_percent: f64,
    /// Mean adverse slippage of fills against the decision mid, basis points.
    pub mean_slippage_bp: f64,
    /// Final position per symbol.
    pub positions: BTreeMap<String, f64>,
    /// FNV-1a 64 over every fill and the final account, hex.
    pub hash: String,
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "digest: {} ticks, {} signals, {} orders ({} rejected), {} fills ({} partial), \
             PnL {:.2} USD (realized {:.2}, fees {:.2}), max DD {:.3}%, slippage {:.3} bp, positions",
            self.ticks,
            self.signals,
            self.orders,
            self.rejected,
            self.fills,
            self.partial_fills,
            self.pnl_usd,
            self.realized_usd,
            self.fees_usd,
            self.max_drawdown_percent,
            self.mean_slippage_bp,
        )?;
        for (symbol, qty) in &self.positions {
            // Sizes are multiples of 0.0001: four decimals show them exactly, minus float noise.
            let text = format!("{qty:.4}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            write!(f, " {symbol}={text}")?;
        }
        write!(f, ", hash {}", self.hash)
    }
}

/// The result of [`run`].
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The end-of-run digest.
    pub digest: Digest,
    /// Time spent in the tick loop only (generation excluded).
    pub loop_time: Duration,
    /// The part of `loop_time` after the first [`WARM_UP_TICKS`] ticks (zero when the run has
    /// no more ticks than that).
    pub steady_loop_time: Duration,
    /// Wall time of the whole run (generation included).
    pub wall_time: Duration,
}

impl RunOutput {
    /// Ticks after the first [`WARM_UP_TICKS`]: the ticks `steady_loop_time` covers.
    pub fn steady_ticks(&self) -> u64 {
        self.digest.ticks.saturating_sub(WARM_UP_TICKS)
    }
}

/// Where the chunk that starts after `done` of `ticks` ticks ends: after [`CHUNK_LINES`] lines,
/// at the end of the warm-up, or at the next quarter of the run, whichever comes first.
fn chunk_end(done: u64, ticks: u64) -> u64 {
    (1..=4)
        .map(|q| quarter_stop(ticks, q))
        .chain([WARM_UP_TICKS, ticks])
        .filter(|&stop| stop > done)
        .fold(done.saturating_add(CHUNK_LINES as u64), u64::min)
}

/// Generates `ticks` lines for `seed` and runs them through a fresh engine, calling `progress`
/// with the ticks done after every chunk; chunks also end at each quarter of the run (so
/// progress can be shown exactly there) and after the warm-up (so it is timed apart).
///
/// # Errors
/// The first [`ParseError`] (cannot happen with generated data, but the engine does not assume).
pub fn run(ticks: u64, seed: u64, progress: &mut dyn FnMut(u64)) -> Result<RunOutput, ParseError> {
    run_with(ticks, seed, Slowdown::default(), progress)
}

/// [`run`] with extra work in a component (see [`Slowdown`]).
///
/// # Errors
/// As [`run`].
pub fn run_with(
    ticks: u64,
    seed: u64,
    slowdown: Slowdown,
    progress: &mut dyn FnMut(u64),
) -> Result<RunOutput, ParseError> {
    let wall = Instant::now();
    let mut generator = Generator::new(seed);
    let mut engine = Engine::new(seed).with_slowdown(slowdown);
    let mut buf = String::with_capacity(CHUNK_LINES * 96);
    let mut loop_time = Duration::ZERO;
    let mut steady_loop_time = Duration::ZERO;
    let mut done = 0u64;
    while done < ticks {
        let end = chunk_end(done, ticks);
        buf.clear();
        {
            // The feed, between ticks: listed outside ticks when a recording window is open.
            let _feed = info_span!("generate_feed").entered();
            generator.fill_chunk(&mut buf, (end - done) as usize);
        }
        let start = Instant::now();
        for line in buf.lines() {
            done += 1;
            engine.on_line(line, done)?;
        }
        let elapsed = start.elapsed();
        loop_time += elapsed;
        // Chunks end at the warm-up's end, so a chunk is all warm-up or all steady.
        if done > WARM_UP_TICKS {
            steady_loop_time += elapsed;
        }
        progress(done);
    }
    Ok(RunOutput {
        digest: engine.digest(),
        loop_time,
        steady_loop_time,
        wall_time: wall.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_digest_and_the_strategy_trades() {
        let a = run(30_000, 42, &mut |_| {}).unwrap().digest;
        let b = run(30_000, 42, &mut |_| {}).unwrap().digest;
        assert_eq!(a, b);
        assert_eq!(a.ticks, 30_000);
        assert!(a.orders > 50, "{a}");
        assert!(a.fills > 50, "{a}");
        assert!(a.partial_fills > 0, "{a}");
        let c = run(30_000, 43, &mut |_| {}).unwrap().digest;
        assert_ne!(a.hash, c.hash);
    }

    #[test]
    fn chunks_end_at_quarters_at_the_warm_up_and_every_chunk_lines() {
        let ends = |ticks| {
            let mut ends = vec![];
            let mut done = 0;
            while done < ticks {
                done = chunk_end(done, ticks);
                ends.push(done);
            }
            ends
        };
        assert_eq!(ends(10_000), [1_024, 2_500, 5_000, 7_500, 10_000]);
        assert_eq!(ends(1_000), [250, 500, 750, 1_000]);
        assert_eq!(ends(1), [1]);
        let long = ends(1_000_000);
        assert!(long.windows(2).all(|w| w[1] - w[0] <= CHUNK_LINES as u64));
        for stop in [1_024, 250_000, 500_000, 750_000, 1_000_000] {
            assert!(long.contains(&stop), "{stop}");
        }
    }

    #[test]
    fn the_progress_is_told_every_quarter_and_the_steady_part_is_timed_apart() {
        let mut seen = vec![];
        let out = run(10_000, 42, &mut |done| seen.push(done)).unwrap();
        assert_eq!(seen, [1_024, 2_500, 5_000, 7_500, 10_000]);
        assert_eq!(out.steady_ticks(), 10_000 - WARM_UP_TICKS);
        assert!(out.steady_loop_time > Duration::ZERO);
        assert!(out.steady_loop_time < out.loop_time);
        // Where chunks end does not change the backtest: the hash printed by the driver before
        // chunks ended at quarters and after the warm-up (every 4,096 lines then).
        assert_eq!(out.digest.hash, "8de15fb2a293dac9");
        let short = run(1_000, 42, &mut |_| {}).unwrap();
        assert_eq!(short.steady_ticks(), 0);
        assert_eq!(short.steady_loop_time, Duration::ZERO);
    }

    /// Injected work changes the time a component takes, never what the backtest computes.
    #[test]
    fn a_slowdown_keeps_the_digest() {
        let built = run(5_000, 42, &mut |_| {}).unwrap().digest;
        let slowdown = Slowdown::in_component("parse", 200).unwrap();
        let slowed = run_with(5_000, 42, slowdown, &mut |_| {}).unwrap().digest;
        assert_eq!(built, slowed);
        assert_eq!(slowdown.steps, [200, 0, 0, 0, 0, 0, 0, 0]);
        let e = Slowdown::in_component("pars", 1).unwrap_err();
        assert!(
            e.starts_with("no component `pars`; one of parse, book_update"),
            "{e}"
        );
    }

    #[test]
    fn a_malformed_line_stops_the_run_with_its_number() {
        let mut engine = Engine::new(1);
        engine
            .on_line("1,AAPL,190.00,190.01,100.0000,100.0000,,", 1)
            .unwrap();
        let e = engine.on_line("2,AAPL,190.00,oops,1,1,,", 2).unwrap_err();
        assert_eq!(e.to_string(), "line 2: field `ask`: not a number: \"oops\"");
    }
}
