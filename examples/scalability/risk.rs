//! Pre-trade checks, the `risk_check` component.
//!
//! The checks every execution system runs before an order leaves: position and gross notional
//! limits, a price band around the mid (fat-finger guard), a drawdown kill-switch that only lets
//! risk-reducing orders through, and a token-bucket rate limit (20 orders/s, burst 10) in market
//! time, so a replay behaves like live trading would.

use crate::generator::INSTRUMENTS;
use crate::matching::OrderRequest;
use crate::portfolio::Portfolio;
use crate::strategy::{MAX_UNITS, UNIT};

/// Limits of the risk check.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest gross notional over all instruments, in USD.
    pub max_gross_notional: f64,
    /// Largest distance of the limit from the mid, as a fraction (0.005 = 0.5 %).
    pub price_band: f64,
    /// Drawdown from peak equity beyond which only risk-reducing orders pass (fraction).
    pub max_drawdown: f64,
    /// Token bucket refill rate, orders per second.
    pub orders_per_s: f64,
    /// Token bucket capacity.
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_gross_notional: 8_000_000.0,
            price_band: 0.005,
            max_drawdown: 0.02,
            orders_per_s: 20.0,
            burst: 10.0,
        }
    }
}

/// Why an order was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// The resulting position would exceed ±3 units.
    Position,
    /// Gross notional would exceed the limit.
    Notional,
    /// The limit price is outside the band around the mid.
    PriceBand,
    /// The kill-switch is on and the order adds risk.
    Drawdown,
    /// The token bucket is empty.
    RateLimit,
}

/// Risk state: the token bucket and rejection counters.
#[derive(Debug, Clone)]
pub struct Risk {
    limits: Limits,
    tokens: f64,
    last_refill_ns: Option<u64>,
    /// Orders approved.
    pub approved: u64,
    /// Rejections, indexed like [`Reject`] (position, notional, band, drawdown, rate).
    pub rejected: [u64; 5],
}

impl Risk {
    /// A risk check with `limits` and a full bucket.
    pub fn new(limits: Limits) -> Self {
        Risk {
            limits,
            tokens: limits.burst,
            last_refill_ns: None,
            approved: 0,
            rejected: [0; 5],
        }
    }

    /// Approves `order` (taking a token) or says why not. `mids` marks the gross notional.
    ///
    /// # Errors
    /// The [`Reject`] reason; the order must then not be submitted.
    pub fn check(
        &mut self,
        order: &OrderRequest,
        portfolio: &Portfolio,
        pending: f64,
        mids: &[f64; 4],
        now_ns: u64,
    ) -> Result<(), Reject> {
        let result = self.evaluate(order, portfolio, pending, mids, now_ns);
        match result {
            Ok(()) => self.approved += 1,
            Err(reason) => self.rejected[reason as usize] += 1,
        }
        result
    }

    fn evaluate(
        &mut self,
        order: &OrderRequest,
        portfolio: &Portfolio,
        pending: f64,
        mids: &[f64; 4],
        now_ns: u64,
    ) -> Result<(), Reject> {
        let i = usize::from(order.instrument);
        let held = portfolio.position(order.instrument);
        let signed = order.side.sign() * order.qty;
        let after = held + pending + signed;
        let reduces = after.abs() < (held + pending).abs();
        if after.abs() > MAX_UNITS * UNIT[i] * (1.0 + 1e-9) {
            return Err(Reject::Position);
        }
        let mid = mids[i];
        if ((order.limit - mid) / mid).abs() > self.limits.price_band {
            return Err(Reject::PriceBand);
        }
        if !reduces {
            let gross: f64 = (0..4)
                .map(|k| {
                    let qty = if k == i {
                        after
                    } else {
                        portfolio.position(k as u16)
                    };
                    (qty * mids[k] * INSTRUMENTS[k].multiplier).abs()
                })
                .filter(|v| v.is_finite())
                .sum();
            if gross > self.limits.max_gross_notional {
                return Err(Reject::Notional);
            }
            if portfolio.drawdown() > self.limits.max_drawdown {
                return Err(Reject::Drawdown);
            }
        }
        // Token bucket, refilled in market time.
        if let Some(last) = self.last_refill_ns {
            let elapsed_s = now_ns.saturating_sub(last) as f64 * 1e-9;
            self.tokens =
                (self.tokens + elapsed_s * self.limits.orders_per_s).min(self.limits.burst);
        }
        self.last_refill_ns = Some(now_ns);
        if self.tokens < 1.0 {
            return Err(Reject::RateLimit);
        }
        self.tokens -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::Side;

    fn buy(instrument: u16, qty: f64, limit: f64) -> OrderRequest {
        OrderRequest {
            instrument,
            side: Side::Buy,
            qty,
            limit,
            decision_price: limit,
        }
    }

    const MIDS: [f64; 4] = [1.085, 5000.0, 60_000.0, 190.0];

    #[test]
    fn position_band_and_notional_limits() {
        let mut risk = Risk::new(Limits::default());
        let p = Portfolio::new(1_000_000.0);
        assert_eq!(risk.check(&buy(3, 900.0, 190.0), &p, 0.0, &MIDS, 0), Ok(()));
        assert_eq!(
            risk.check(&buy(3, 901.0, 190.0), &p, 0.0, &MIDS, 0),
            Err(Reject::Position)
        );
        assert_eq!(
            risk.check(&buy(3, 100.0, 191.0), &p, 0.0, &MIDS, 0),
            Err(Reject::PriceBand)
        );
        // 30 ES contracts = 30 × 5000 × 50 = 7.5M USD: passes; with 3M EUR on top: refused.
        assert_eq!(risk.check(&buy(1, 30.0, 5000.0), &p, 0.0, &MIDS, 0), Ok(()));
        let mut p2 = Portfolio::new(1_000_000.0);
        p2.apply(0, Side::Buy, 3_000_000.0, 1.085);
        assert_eq!(
            risk.check(&buy(1, 30.0, 5000.0), &p2, 0.0, &MIDS, 0),
            Err(Reject::Notional)
        );
        assert_eq!(risk.rejected, [1, 1, 1, 0, 0]);
    }

    #[test]
    fn token_bucket_burst_then_refill() {
        let mut risk = Risk::new(Limits::default());
        let p = Portfolio::new(1_000_000.0);
        let order = buy(3, 1.0, 190.0);
        for _ in 0..10 {
            assert_eq!(risk.check(&order, &p, 0.0, &MIDS, 0), Ok(()));
        }
        assert_eq!(
            risk.check(&order, &p, 0.0, &MIDS, 0),
            Err(Reject::RateLimit)
        );
        // 50 ms at 20/s refills exactly one token.
        assert_eq!(risk.check(&order, &p, 0.0, &MIDS, 50_000_000), Ok(()));
        assert_eq!(
            risk.check(&order, &p, 0.0, &MIDS, 50_000_000),
            Err(Reject::RateLimit)
        );
    }
}
