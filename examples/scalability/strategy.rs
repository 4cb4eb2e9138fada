//! Signal → target position → order intent, the `strategy` component.
//!
//! A small rule-based strategy of the kind backtests run by the thousand: trend (EMA 10 vs 100,
//! mid vs decayed trade VWAP) plus mean reversion (rolling z-score) plus order-book pressure
//! (smoothed L1 imbalance) give a score, rounded to a target of −3…+3 units. The difference between target and what is held
//! or already in flight becomes a marketable limit order (a few ticks through the touch).

use crate::book::Book;
use crate::generator::INSTRUMENTS;
use crate::indicators::{Ema, Indicators};
use crate::matching::{OrderRequest, Side};

/// One trading unit per instrument (EURUSD 1M, ESZ5 10 contracts, BTC 0.5, AAPL 300 shares).
pub const UNIT: [f64; 4] = [1_000_000.0, 10.0, 0.5, 300.0];
/// Largest target, in units.
pub const MAX_UNITS: f64 = 3.0;
/// How far through the touch the limit goes, in ticks.
const LIMIT_TICKS: f64 = 2.0;
/// Least time between two order intents on one instrument, in market time: a strategy does not
/// re-send the same wish on every quote while the previous one is being refused or filled.
const COOLDOWN_NS: u64 = 25_000_000;

/// Strategy state: the smoothed imbalance per instrument and counters.
#[derive(Debug, Clone)]
pub struct Strategy {
    imbalance: [Ema; 4],
    /// Current target per instrument, in units: moves only when the score is a whole unit away
    /// (hysteresis), so noise around a rounding boundary does not churn orders.
    target: [f64; 4],
    /// When each instrument last produced an intent.
    last_signal_ns: [Option<u64>; 4],
    /// Ticks on which an order intent was produced.
    pub signals: u64,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            imbalance: [Ema::new(20); 4],
            target: [0.0; 4],
            last_signal_ns: [None; 4],
            signals: 0,
        }
    }
}

impl Strategy {
    /// The target position of `instrument`, in units, from its indicators (`None` while the
    /// indicators warm up).
    pub fn target_units(&mut self, instrument: u16, ind: &Indicators) -> Option<f64> {
        let pressure = self.imbalance[usize::from(instrument)].update(ind.imbalance);
        let z = ind.zscore()?;
        let trend = match (ind.ema_fast.value(), ind.ema_slow.value()) {
            (Some(fast), Some(slow)) if fast > slow => 1.0,
            (Some(fast), Some(slow)) if fast < slow => -1.0,
            _ => 0.0,
        };
        // Trading above the recent trade VWAP confirms an up-trend (and below, a down-trend).
        let flow = match ind.trade_vwap() {
            v if v.is_nan() => 0.0,
            v if ind.mid > v => 0.25,
            _ => -0.25,
        };
        let score = trend + flow - 0.6 * z.clamp(-3.0, 3.0) + 2.0 * pressure;
        let target = &mut self.target[usize::from(instrument)];
        if (score - *target).abs() >= 1.0 {
            *target = score.round().clamp(-MAX_UNITS, MAX_UNITS);
        }
        Some(*target)
    }

    /// The order that moves `held` to the target, if the gap is at least half a unit and
    /// nothing is in flight already, at most once per cooldown per instrument.
    pub fn decide(
        &mut self,
        now_ns: u64,
        instrument: u16,
        ind: &Indicators,
        book: &Book,
        held: f64,
        pending: f64,
    ) -> Option<OrderRequest> {
        let target = self.target_units(instrument, ind)? * UNIT[usize::from(instrument)];
        let last = &mut self.last_signal_ns[usize::from(instrument)];
        if pending != 0.0 || last.is_some_and(|t| now_ns < t + COOLDOWN_NS) {
            return None;
        }
        let gap = target - held;
        if gap.abs() < 0.5 * UNIT[usize::from(instrument)] {
            return None;
        }
        let (bid, ask) = book.top()?;
        let tick = INSTRUMENTS[usize::from(instrument)].tick;
        let (side, limit) = if gap > 0.0 {
            (Side::Buy, ask + LIMIT_TICKS * tick)
        } else {
            (Side::Sell, bid - LIMIT_TICKS * tick)
        };
        *last = Some(now_ns);
        self.signals += 1;
        Some(OrderRequest {
            instrument,
            side,
            qty: gap.abs(),
            limit,
            decision_price: ind.mid,
        })
    }
}
