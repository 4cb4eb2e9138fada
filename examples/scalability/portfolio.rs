//! Positions, fees, PnL and drawdown, the `portfolio` component.
//!
//! Average-cost accounting per instrument: adding to a position moves the average price,
//! reducing it realizes PnL against the average, crossing through zero realizes the closed part
//! and opens the rest at the fill price. Fees are 0.2 bp of notional. Everything is in USD via
//! each instrument's contract multiplier (ESZ5: $50 per point).

use crate::generator::INSTRUMENTS;
use crate::matching::Side;

/// Fee rate: 0.2 basis points of notional.
pub const FEE_RATE: f64 = 0.2e-4;

/// One instrument's position.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Position {
    /// Signed quantity (long positive).
    pub qty: f64,
    /// Average entry price of the open quantity (0 when flat).
    pub avg_price: f64,
    /// PnL realized by reducing or closing, in USD, before fees.
    pub realized: f64,
}

/// The account: positions, fees, equity curve summary.
#[derive(Debug, Clone)]
pub struct Portfolio {
    initial_equity: f64,
    positions: [Position; 4],
    /// Fees paid, USD.
    pub fees: f64,
    /// Fills applied.
    pub fills: u64,
    /// Quantity traded, per instrument.
    pub traded_qty: [f64; 4],
    /// Latest marked equity, USD.
    pub equity: f64,
    /// Highest marked equity so far.
    pub peak_equity: f64,
    /// Largest drawdown from a peak so far (fraction).
    pub max_drawdown: f64,
}

impl Portfolio {
    /// A flat account holding `initial_equity` USD.
    pub fn new(initial_equity: f64) -> Self {
        Portfolio {
            initial_equity,
            positions: [Position::default(); 4],
            fees: 0.0,
            fills: 0,
            traded_qty: [0.0; 4],
            equity: initial_equity,
            peak_equity: initial_equity,
            max_drawdown: 0.0,
        }
    }

    /// Signed position of `instrument`.
    pub fn position(&self, instrument: u16) -> f64 {
        self.positions[usize::from(instrument)].qty
    }

    /// All positions.
    pub fn positions(&self) -> &[Position; 4] {
        &self.positions
    }

    /// Realized PnL over all instruments, before fees.
    pub fn realized(&self) -> f64 {
        self.positions.iter().map(|p| p.realized).sum()
    }

    /// Current drawdown from the peak (fraction).
    pub fn drawdown(&self) -> f64 {
        if self.peak_equity > 0.0 {
            (self.peak_equity - self.equity) / self.peak_equity
        } else {
            0.0
        }
    }

    /// Applies a fill of `qty` (> 0) at `price`.
    pub fn apply(&mut self, instrument: u16, side: Side, qty: f64, price: f64) {
        let i = usize::from(instrument);
        let multiplier = INSTRUMENTS[i].multiplier;
        let p = &mut self.positions[i];
        let signed = side.sign() * qty;
        if p.qty == 0.0 || p.qty.signum() == signed.signum() {
            let open = p.qty.abs();
            p.avg_price = (p.avg_price * open + price * qty) / (open + qty);
            p.qty += signed;
        } else {
            let closing = qty.min(p.qty.abs());
            p.realized += (price - p.avg_price) * closing * p.qty.signum() * multiplier;
            p.qty += signed;
            // Sub-lot residue from float arithmetic counts as flat.
            if p.qty.abs() < 1e-9 * qty {
                p.qty = 0.0;
            }
            if p.qty == 0.0 {
                p.avg_price = 0.0;
            } else if qty > closing {
                // Crossed through zero: the remainder opens at the fill price.
                p.avg_price = price;
            }
        }
        self.fees += qty * price * multiplier * FEE_RATE;
        self.traded_qty[i] += qty;
        self.fills += 1;
    }

    /// Marks every position at `mids` (NaN mids are skipped) and updates peak and drawdown.
    pub fn mark(&mut self, mids: &[f64; 4]) {
        let unrealized: f64 = self
            .positions
            .iter()
            .zip(mids.iter().zip(INSTRUMENTS.iter()))
            .filter(|(p, (mid, _))| p.qty != 0.0 && mid.is_finite())
            .map(|(p, (mid, inst))| (mid - p.avg_price) * p.qty * inst.multiplier)
            .sum();
        self.equity = self.initial_equity + self.realized() - self.fees + unrealized;
        if self.equity > self.peak_equity {
            self.peak_equity = self.equity;
        }
        self.max_drawdown = self.max_drawdown.max(self.drawdown());
    }

    /// Equity minus the starting equity: the run's PnL after fees, USD.
    pub fn pnl(&self) -> f64 {
        self.equity - self.initial_equity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_cost_realized_pnl_and_fees() {
        let mut p = Portfolio::new(100_000.0);
        // AAPL: buy 100 @ 190, buy 100 @ 192 → avg 191.
        p.apply(3, Side::Buy, 100.0, 190.0);
        p.apply(3, Side::Buy, 100.0, 192.0);
        assert_eq!(p.positions()[3].qty, 200.0);
        assert_eq!(p.positions()[3].avg_price, 191.0);
        // Sell 50 @ 195: realize 50 × 4 = 200.
        p.apply(3, Side::Sell, 50.0, 195.0);
        assert_eq!(p.positions()[3].realized, 200.0);
        assert_eq!(p.positions()[3].avg_price, 191.0);
        // Sell 250 @ 189: close 150 (−300), open short 100 @ 189.
        p.apply(3, Side::Sell, 250.0, 189.0);
        assert_eq!(p.positions()[3].qty, -100.0);
        assert_eq!(p.positions()[3].avg_price, 189.0);
        assert_eq!(p.realized(), 200.0 - 300.0);
        // Fees: 0.2 bp of 19,000 + 19,200 + 9,750 + 47,250 = 95,200 → 1.904.
        assert!((p.fees - 1.904).abs() < 1e-12);
        assert_eq!(p.fills, 4);
        // Mark the short at 188: +100 unrealized.
        p.mark(&[f64::NAN, f64::NAN, f64::NAN, 188.0]);
        let expected = 100_000.0 - 100.0 - p.fees + 100.0;
        assert!((p.equity - expected).abs() < 1e-9);
    }

    #[test]
    fn multiplier_and_drawdown() {
        let mut p = Portfolio::new(1_000_000.0);
        // 2 ES @ 5000, marked at 5010: 2 × 10 × 50 = 1,000 USD; fee 0.2 bp of 500,000 = 10.
        p.apply(1, Side::Buy, 2.0, 5000.0);
        p.mark(&[f64::NAN, 5010.0, f64::NAN, f64::NAN]);
        assert!((p.pnl() - (1_000.0 - 10.0)).abs() < 1e-9);
        assert!((p.peak_equity - 1_000_990.0).abs() < 1e-9);
        // Down to 4990: equity 1,000,000 − 1,000 − 10; drawdown 2,000 / 1,000,990.
        p.mark(&[f64::NAN, 4990.0, f64::NAN, f64::NAN]);
        assert!((p.drawdown() - 2_000.0 / 1_000_990.0).abs() < 1e-12);
        assert_eq!(p.max_drawdown, p.drawdown());
        // Close at 4990: realized −10 points × 2 × 50 = −1,000.
        p.apply(1, Side::Sell, 2.0, 4990.0);
        assert_eq!(p.position(1), 0.0);
        assert_eq!(p.positions()[1].avg_price, 0.0);
        assert_eq!(p.realized(), -1_000.0);
    }
}
