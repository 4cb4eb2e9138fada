//! A 10-level L2 ladder per instrument, the `book_update` component.
//!
//! The feed carries L1 only, so depth is kept the way an L1-fed simulator does: when the best
//! price improves, the old levels shift down the ladder; when it worsens, the levels that crossed
//! are removed and the ladder is refilled at the far end. Synthesized levels get a size that
//! grows with depth (deeper books are thicker), so order walks behave plausibly.
//!
//! Prices are integer ticks, so level comparisons are exact; a side stores "keys" where a larger
//! key is always a better price (bids: +ticks, asks: −ticks), letting one implementation serve
//! both sides.

use crate::parse::Tick;

/// Depth of each side of the ladder.
pub const DEPTH: usize = 10;

/// One price level.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Level {
    /// Price key: +ticks for bids, −ticks for asks (larger is better on both sides).
    pub key: i64,
    /// Quantity resting at this level.
    pub size: f64,
}

/// One side of the ladder, best level first.
#[derive(Debug, Clone, Default)]
pub struct Ladder {
    levels: [Level; DEPTH],
    len: usize,
}

impl Ladder {
    /// The levels, best first.
    pub fn levels(&self) -> &[Level] {
        &self.levels[..self.len]
    }

    /// Mutable levels, for matching to consume liquidity.
    pub fn levels_mut(&mut self) -> &mut [Level] {
        &mut self.levels[..self.len]
    }

    /// The best level, if any.
    pub fn best(&self) -> Option<Level> {
        self.levels().first().copied()
    }

    /// Size of the level synthesized at `depth` below a best level of size `best_size`.
    fn synthetic_size(best_size: f64, depth: usize) -> f64 {
        best_size * (1.0 + 0.5 * depth as f64)
    }

    /// Applies a new best level (key, size) and keeps the ladder sorted, unique and full.
    pub fn set_best(&mut self, key: i64, size: f64) {
        if self.len == 0 {
            for depth in 0..DEPTH {
                self.levels[depth] = Level {
                    key: key - depth as i64,
                    size: Self::synthetic_size(size, depth),
                };
            }
            self.len = DEPTH;
            return;
        }
        let best = self.levels[0].key;
        if key > best {
            // Improved: everything shifts one level deeper; the deepest level falls off.
            self.levels.copy_within(0..DEPTH - 1, 1);
            self.levels[0] = Level { key, size };
            self.len = (self.len + 1).min(DEPTH);
        } else if key < best {
            // Worsened: levels better than the new best were taken out; drop them.
            let crossed = self.levels().iter().take_while(|l| l.key > key).count();
            self.levels.copy_within(crossed..self.len, 0);
            self.len -= crossed;
            if self.len == 0 || self.levels[0].key != key {
                self.levels.copy_within(0..DEPTH - 1, 1);
                self.len = (self.len + 1).min(DEPTH);
            }
            self.levels[0] = Level { key, size };
            // Refill the far end one tick beyond the deepest level.
            while self.len < DEPTH {
                let deepest = self.levels[self.len - 1].key;
                self.levels[self.len] = Level {
                    key: deepest - 1,
                    size: Self::synthetic_size(size, self.len),
                };
                self.len += 1;
            }
        } else {
            self.levels[0].size = size;
        }
    }
}

/// The book of one instrument: both ladders plus the trade tape summary.
#[derive(Debug, Clone)]
pub struct Book {
    /// Price increment of the instrument.
    pub tick: f64,
    /// Bids, keys = +ticks.
    pub bids: Ladder,
    /// Asks, keys = −ticks.
    pub asks: Ladder,
    /// Last trade price (NaN before the first trade).
    pub last_price: f64,
    /// Last trade size.
    pub last_size: f64,
    /// Traded volume so far.
    pub volume: f64,
    /// Quote updates applied.
    pub updates: u64,
}

impl Book {
    /// An empty book on a grid of `tick`.
    pub fn new(tick: f64) -> Self {
        Book {
            tick,
            bids: Ladder::default(),
            asks: Ladder::default(),
            last_price: f64::NAN,
            last_size: 0.0,
            volume: 0.0,
            updates: 0,
        }
    }

    /// A price in integer ticks.
    pub fn to_ticks(&self, price: f64) -> i64 {
        (price / self.tick).round() as i64
    }

    /// Applies one tick of this instrument.
    pub fn apply(&mut self, tick: &Tick) {
        let bid = self.to_ticks(tick.bid);
        let ask = self.to_ticks(tick.ask);
        self.bids.set_best(bid, tick.bid_size);
        self.asks.set_best(-ask, tick.ask_size);
        if tick.has_trade() {
            self.last_price = tick.last;
            self.last_size = tick.last_size;
            self.volume += tick.last_size;
        }
        self.updates += 1;
    }

    /// Price of a bid level.
    pub fn bid_price(&self, level: &Level) -> f64 {
        level.key as f64 * self.tick
    }

    /// Price of an ask level.
    pub fn ask_price(&self, level: &Level) -> f64 {
        -level.key as f64 * self.tick
    }

    /// Best bid and ask prices, if both sides have levels.
    pub fn top(&self) -> Option<(f64, f64)> {
        let bid = self.bids.best()?;
        let ask = self.asks.best()?;
        Some((self.bid_price(&bid), self.ask_price(&ask)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(l: &Ladder) -> Vec<i64> {
        l.levels().iter().map(|l| l.key).collect()
    }

    fn quote(bid: f64, ask: f64, bid_size: f64, ask_size: f64) -> Tick {
        Tick {
            ts_ns: 1,
            symbol: 0,
            bid,
            ask,
            bid_size,
            ask_size,
            last: f64::NAN,
            last_size: 0.0,
        }
    }

    #[test]
    fn first_quote_builds_full_ladders() {
        let mut book = Book::new(0.25);
        book.apply(&quote(5000.0, 5000.25, 10.0, 4.0));
        assert_eq!(keys(&book.bids), (19991..=20000).rev().collect::<Vec<_>>());
        assert_eq!(
            keys(&book.asks),
            (-20010..=-20001).rev().collect::<Vec<_>>()
        );
        assert_eq!(book.bids.levels()[0].size, 10.0);
        assert_eq!(book.bids.levels()[2].size, 20.0);
        assert_eq!(book.asks.levels()[9].size, 22.0);
        assert_eq!(book.top(), Some((5000.0, 5000.25)));
    }

    #[test]
    fn improving_bid_shifts_down_worsening_removes_and_refills() {
        let mut l = Ladder::default();
        l.set_best(100, 1.0);
        l.set_best(102, 5.0); // improve by 2: new best on top, 91 falls off
        assert_eq!(keys(&l), vec![102, 100, 99, 98, 97, 96, 95, 94, 93, 92]);
        assert_eq!(l.levels()[0].size, 5.0);
        assert_eq!(l.levels()[1].size, 1.0);
        l.set_best(102, 7.0); // same price: size only
        assert_eq!(l.levels()[0].size, 7.0);
        l.set_best(99, 3.0); // worsen onto an existing level: 102 and 100 removed
        assert_eq!(keys(&l), vec![99, 98, 97, 96, 95, 94, 93, 92, 91, 90]);
        assert_eq!(l.levels()[0].size, 3.0);
        // Refilled levels: size = 3 × (1 + 0.5·depth).
        assert_eq!(l.levels()[8].size, 3.0 * 5.0);
        assert_eq!(l.levels()[9].size, 3.0 * 5.5);
        l.set_best(50, 2.0); // worsen past the whole ladder
        assert_eq!(keys(&l), (41..=50).rev().collect::<Vec<_>>());
    }

    #[test]
    fn trades_update_tape() {
        let mut book = Book::new(0.01);
        let mut t = quote(190.0, 190.01, 300.0, 200.0);
        t.last = 190.01;
        t.last_size = 50.0;
        book.apply(&t);
        book.apply(&t);
        assert_eq!(book.last_price, 190.01);
        assert_eq!(book.volume, 100.0);
        assert_eq!(book.updates, 2);
    }
}
