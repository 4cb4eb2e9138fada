//! Simulated exchange, the `match_orders` and `submit_order` components.
//!
//! An order reaches the exchange `latency` after submission (as in hftbacktest's entry latency)
//! and is then matched against the book *current at that moment*: orders from earlier ticks see
//! the new book before the strategy reacts to it (NautilusTrader's exchange-before-strategy
//! order). Matching walks the L2 ladder up to the order's limit, consuming liquidity, and fills
//! at the VWAP of the levels taken; whatever the ladder cannot fill within the limit is
//! cancelled (immediate-or-cancel), which is how partial fills arise.

use std::collections::VecDeque;

use crate::book::Book;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Takes asks.
    Buy,
    /// Takes bids.
    Sell,
}

impl Side {
    /// +1 for buys, −1 for sells.
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }
}

/// What the strategy asks for, before risk and submission.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderRequest {
    /// Instrument index.
    pub instrument: u16,
    /// Direction.
    pub side: Side,
    /// Quantity (positive).
    pub qty: f64,
    /// Worst acceptable price.
    pub limit: f64,
    /// The mid when the strategy decided.
    pub decision_price: f64,
}

/// An order on its way to, or at, the exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Order {
    /// Assigned at submission, increasing.
    pub id: u64,
    /// Instrument index.
    pub instrument: u16,
    /// Direction.
    pub side: Side,
    /// Quantity (positive).
    pub qty: f64,
    /// Worst acceptable price.
    pub limit: f64,
    /// The mid when the strategy decided; slippage is measured against it.
    pub decision_price: f64,
    /// When the order reaches the exchange.
    pub arrive_ts_ns: u64,
}

/// The outcome of one order at the exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// The order.
    pub order_id: u64,
    /// Instrument index.
    pub instrument: u16,
    /// Direction.
    pub side: Side,
    /// Quantity filled (0 if nothing was available within the limit).
    pub qty: f64,
    /// Quantity cancelled because the ladder ran out within the limit.
    pub cancelled_qty: f64,
    /// Volume-weighted average price of the levels taken (NaN if nothing filled).
    pub vwap: f64,
    /// Adverse slippage in basis points against the decision price (positive = paid more).
    pub slippage_bp: f64,
    /// Levels touched.
    pub levels: u32,
    /// Exchange time of the fill.
    pub ts_ns: u64,
}

/// Orders in flight, ordered by arrival time.
#[derive(Debug, Default)]
pub struct Matcher {
    pending: VecDeque<Order>,
    /// Pending quantity per instrument, signed (buys positive).
    pending_qty: [f64; 4],
    next_id: u64,
    /// Orders that were cut short by the limit or the depth of the ladder.
    pub partial_fills: u64,
}

impl Matcher {
    /// An empty exchange.
    pub fn new() -> Self {
        Matcher {
            next_id: 1,
            ..Matcher::default()
        }
    }

    /// Signed quantity still in flight for `instrument`.
    pub fn pending_qty(&self, instrument: u16) -> f64 {
        self.pending_qty[usize::from(instrument)]
    }

    /// Orders in flight.
    #[cfg(test)]
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Queues an order that reaches the exchange at `now + latency`; returns its id.
    pub fn submit(&mut self, request: &OrderRequest, now_ns: u64, latency_ns: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let order = Order {
            id,
            instrument: request.instrument,
            side: request.side,
            qty: request.qty,
            limit: request.limit,
            decision_price: request.decision_price,
            arrive_ts_ns: now_ns + latency_ns,
        };
        // Keep the queue sorted by arrival; latencies are random, so insert from the back.
        let at = self
            .pending
            .iter()
            .rposition(|o| o.arrive_ts_ns <= order.arrive_ts_ns)
            .map_or(0, |i| i + 1);
        self.pending.insert(at, order);
        self.pending_qty[usize::from(order.instrument)] += order.side.sign() * order.qty;
        id
    }

    /// Matches every order that has reached the exchange by `now_ns` against `books`,
    /// appending one [`Fill`] per order to `fills`.
    pub fn match_arrived(&mut self, now_ns: u64, books: &mut [Book], fills: &mut Vec<Fill>) {
        while let Some(order) = self.pending.front().copied() {
            if order.arrive_ts_ns > now_ns {
                break;
            }
            self.pending.pop_front();
            self.pending_qty[usize::from(order.instrument)] -= order.side.sign() * order.qty;
            let fill = execute(&order, &mut books[usize::from(order.instrument)], now_ns);
            if fill.cancelled_qty > 0.0 {
                self.partial_fills += 1;
            }
            fills.push(fill);
        }
    }
}

/// Walks the opposite ladder from its best level while prices are within the limit.
pub fn execute(order: &Order, book: &mut Book, now_ns: u64) -> Fill {
    let tick = book.tick;
    let (ladder, to_price): (_, fn(i64, f64) -> f64) = match order.side {
        Side::Buy => (&mut book.asks, |key, tick| -key as f64 * tick),
        Side::Sell => (&mut book.bids, |key, tick| key as f64 * tick),
    };
    let mut remaining = order.qty;
    let mut notional = 0.0;
    let mut levels = 0;
    for level in ladder.levels_mut() {
        if remaining <= 0.0 {
            break;
        }
        let price = to_price(level.key, tick);
        let within = match order.side {
            Side::Buy => price <= order.limit,
            Side::Sell => price >= order.limit,
        };
        if !within {
            break;
        }
        if level.size <= 0.0 {
            continue;
        }
        let take = remaining.min(level.size);
        level.size -= take;
        remaining -= take;
        notional += take * price;
        levels += 1;
    }
    let filled = order.qty - remaining;
    let (vwap, slippage_bp) = if filled > 0.0 {
        let vwap = notional / filled;
        let slip = order.side.sign() * (vwap - order.decision_price) / order.decision_price * 1e4;
        (vwap, slip)
    } else {
        (f64::NAN, 0.0)
    };
    Fill {
        order_id: order.id,
        instrument: order.instrument,
        side: order.side,
        qty: filled,
        cancelled_qty: remaining,
        vwap,
        slippage_bp,
        levels,
        ts_ns: now_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Tick;

    fn req(side: Side, qty: f64, limit: f64) -> OrderRequest {
        OrderRequest {
            instrument: 0,
            side,
            qty,
            limit,
            decision_price: 5000.125,
        }
    }

    /// ESZ5-like book: bid 5000.00 × 10, ask 5000.25 × 4; deeper levels 1 + 0.5·depth times L1.
    fn book() -> Vec<Book> {
        let mut b = Book::new(0.25);
        b.apply(&Tick {
            ts_ns: 0,
            symbol: 0,
            bid: 5000.0,
            ask: 5000.25,
            bid_size: 10.0,
            ask_size: 4.0,
            last: f64::NAN,
            last_size: 0.0,
        });
        vec![b]
    }

    #[test]
    fn orders_wait_for_their_latency() {
        let mut m = Matcher::new();
        let mut books = book();
        let mut fills = Vec::new();
        m.submit(&req(Side::Buy, 1.0, 5001.0), 1_000, 70_000);
        m.submit(&req(Side::Buy, 1.0, 5001.0), 2_000, 50_000);
        assert_eq!(m.pending_qty(0), 2.0);
        m.match_arrived(51_999, &mut books, &mut fills);
        assert!(fills.is_empty());
        m.match_arrived(52_000, &mut books, &mut fills);
        assert_eq!(fills.len(), 1);
        assert_eq!(
            fills[0].order_id, 2,
            "the later, faster order arrives first"
        );
        m.match_arrived(71_000, &mut books, &mut fills);
        assert_eq!(fills.len(), 2);
        assert_eq!(fills[1].order_id, 1);
        assert_eq!(m.pending_len(), 0);
        assert_eq!(m.pending_qty(0), 0.0);
    }

    #[test]
    fn buy_walks_the_ladder_at_vwap_with_slippage() {
        let mut books = book();
        // Asks: 5000.25 × 4, 5000.50 × 6, 5000.75 × 8, …; buy 12 up to 5000.75.
        let order = Order {
            id: 9,
            instrument: 0,
            side: Side::Buy,
            qty: 12.0,
            limit: 5000.75,
            decision_price: 5000.125,
            arrive_ts_ns: 0,
        };
        let fill = execute(&order, &mut books[0], 5);
        assert_eq!(fill.qty, 12.0);
        assert_eq!(fill.cancelled_qty, 0.0);
        assert_eq!(fill.levels, 3);
        // (4·5000.25 + 6·5000.50 + 2·5000.75) / 12 = 5000.458333…
        let vwap = (4.0 * 5000.25 + 6.0 * 5000.5 + 2.0 * 5000.75) / 12.0;
        assert_eq!(fill.vwap, vwap);
        assert_eq!(fill.slippage_bp, (vwap - 5000.125) / 5000.125 * 1e4);
        assert!((fill.slippage_bp - 0.666_650).abs() < 1e-6);
        // Liquidity was consumed: the third level keeps 8 − 2.
        let sizes: Vec<f64> = books[0].asks.levels().iter().map(|l| l.size).collect();
        assert_eq!(&sizes[..3], &[0.0, 0.0, 6.0]);
    }

    #[test]
    fn limit_cuts_a_sell_short_partial_fill() {
        let mut m = Matcher::new();
        let mut books = book();
        let mut fills = Vec::new();
        // Bids: 5000.00 × 10, 4999.75 × 15, 4999.50 × 20; sell 40 down to 4999.75.
        m.submit(&req(Side::Sell, 40.0, 4999.75), 0, 10);
        m.match_arrived(10, &mut books, &mut fills);
        let fill = fills[0];
        assert_eq!(fill.qty, 25.0);
        assert_eq!(fill.cancelled_qty, 15.0);
        let vwap = (10.0 * 5000.0 + 15.0 * 4999.75) / 25.0;
        assert_eq!(fill.vwap, vwap);
        assert!((vwap - 4999.85).abs() < 1e-9);
        // Sold below the decision mid: positive (adverse) slippage, 0.54998… bp.
        assert_eq!(fill.slippage_bp, -(vwap - 5000.125) / 5000.125 * 1e4);
        assert!((fill.slippage_bp - 0.549_986).abs() < 1e-6);
        assert_eq!(m.partial_fills, 1);
    }

    #[test]
    fn nothing_within_limit_fills_nothing() {
        let mut books = book();
        let order = Order {
            id: 1,
            instrument: 0,
            side: Side::Buy,
            qty: 3.0,
            limit: 5000.0,
            decision_price: 5000.125,
            arrive_ts_ns: 0,
        };
        let fill = execute(&order, &mut books[0], 0);
        assert_eq!(fill.qty, 0.0);
        assert_eq!(fill.cancelled_qty, 3.0);
        assert!(fill.vwap.is_nan());
    }
}
