//! Per-instrument indicators, the `indicators` component.
//!
//! All O(1) per tick: two EMAs of the mid, a 128-mid ring with running Σx and Σx² (rolling mean
//! and standard deviation), microprice, L1 imbalance and an exponentially decayed trade VWAP.
//! The running sums are kept on mids *relative to the first mid seen*, so Σx² does not lose the
//! variance to cancellation at BTC-sized prices.

use crate::parse::Tick;

/// Length of the rolling window.
pub const WINDOW: usize = 128;
/// Decay per trade of the trade VWAP.
const VWAP_DECAY: f64 = 0.99;

/// An exponential moving average with α = 2 / (n + 1), seeded with its first input.
#[derive(Debug, Clone, Copy)]
pub struct Ema {
    alpha: f64,
    value: Option<f64>,
}

impl Ema {
    /// An EMA over `n` periods.
    pub fn new(n: u32) -> Self {
        Ema {
            alpha: 2.0 / (f64::from(n) + 1.0),
            value: None,
        }
    }

    /// Feeds `x`, returns the new value.
    pub fn update(&mut self, x: f64) -> f64 {
        let v = match self.value {
            Some(v) => v + self.alpha * (x - v),
            None => x,
        };
        self.value = Some(v);
        v
    }

    /// The current value, if any input was seen.
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// Rolling mean and standard deviation over the last [`WINDOW`] values.
#[derive(Debug, Clone)]
pub struct Rolling {
    ring: [f64; WINDOW],
    next: usize,
    len: usize,
    origin: Option<f64>,
    sum: f64,
    sum_sq: f64,
}

impl Default for Rolling {
    fn default() -> Self {
        Rolling {
            ring: [0.0; WINDOW],
            next: 0,
            len: 0,
            origin: None,
            sum: 0.0,
            sum_sq: 0.0,
        }
    }
}

impl Rolling {
    /// Adds `x`, evicting the oldest value once the window is full.
    pub fn push(&mut self, x: f64) {
        let origin = *self.origin.get_or_insert(x);
        let d = x - origin;
        if self.len == WINDOW {
            let old = self.ring[self.next];
            self.sum -= old;
            self.sum_sq -= old * old;
        } else {
            self.len += 1;
        }
        self.ring[self.next] = d;
        self.sum += d;
        self.sum_sq += d * d;
        self.next = (self.next + 1) % WINDOW;
    }

    /// Whether the window is full.
    pub fn is_full(&self) -> bool {
        self.len == WINDOW
    }

    /// Mean of the window.
    pub fn mean(&self) -> f64 {
        if self.len == 0 {
            return f64::NAN;
        }
        self.origin.unwrap_or(0.0) + self.sum / self.len as f64
    }

    /// Population standard deviation of the window.
    pub fn std(&self) -> f64 {
        if self.len == 0 {
            return f64::NAN;
        }
        let n = self.len as f64;
        let mean = self.sum / n;
        (self.sum_sq / n - mean * mean).max(0.0).sqrt()
    }
}

/// Everything the strategy reads about one instrument.
#[derive(Debug, Clone)]
pub struct Indicators {
    /// Fast EMA of the mid.
    pub ema_fast: Ema,
    /// Slow EMA of the mid.
    pub ema_slow: Ema,
    /// Rolling window of mids.
    pub rolling: Rolling,
    /// Latest mid.
    pub mid: f64,
    /// Size-weighted mid: leans towards the side with less size.
    pub microprice: f64,
    /// (bid size − ask size) / (bid size + ask size), in [−1, 1].
    pub imbalance: f64,
    vwap_notional: f64,
    vwap_volume: f64,
}

impl Default for Indicators {
    fn default() -> Self {
        Indicators {
            ema_fast: Ema::new(10),
            ema_slow: Ema::new(100),
            rolling: Rolling::default(),
            mid: f64::NAN,
            microprice: f64::NAN,
            imbalance: 0.0,
            vwap_notional: 0.0,
            vwap_volume: 0.0,
        }
    }
}

impl Indicators {
    /// Updates from one tick of this instrument.
    pub fn update(&mut self, tick: &Tick) {
        let mid = 0.5 * (tick.bid + tick.ask);
        self.mid = mid;
        self.ema_fast.update(mid);
        self.ema_slow.update(mid);
        self.rolling.push(mid);
        let depth = tick.bid_size + tick.ask_size;
        self.microprice = (tick.bid * tick.ask_size + tick.ask * tick.bid_size) / depth;
        self.imbalance = (tick.bid_size - tick.ask_size) / depth;
        if tick.has_trade() {
            self.vwap_notional = self.vwap_notional * VWAP_DECAY + tick.last * tick.last_size;
            self.vwap_volume = self.vwap_volume * VWAP_DECAY + tick.last_size;
        }
    }

    /// Decayed trade VWAP (NaN before the first trade).
    pub fn trade_vwap(&self) -> f64 {
        if self.vwap_volume > 0.0 {
            self.vwap_notional / self.vwap_volume
        } else {
            f64::NAN
        }
    }

    /// (mid − rolling mean) / rolling std, once the window is full and not flat.
    pub fn zscore(&self) -> Option<f64> {
        let std = self.rolling.std();
        (self.rolling.is_full() && std > 0.0).then(|| (self.mid - self.rolling.mean()) / std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_seeds_then_smooths() {
        let mut e = Ema::new(3); // α = 0.5
        assert_eq!(e.update(10.0), 10.0);
        assert_eq!(e.update(20.0), 15.0);
        assert_eq!(e.update(20.0), 17.5);
    }

    #[test]
    fn rolling_matches_direct_computation_after_wraparound() {
        let mut r = Rolling::default();
        let xs: Vec<f64> = (0..300)
            .map(|i| 60_000.0 + f64::from(i % 17) * 0.01)
            .collect();
        for &x in &xs {
            r.push(x);
        }
        let window = &xs[xs.len() - WINDOW..];
        let mean = window.iter().sum::<f64>() / WINDOW as f64;
        let var = window.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / WINDOW as f64;
        assert!((r.mean() - mean).abs() < 1e-9);
        assert!((r.std() - var.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn microprice_imbalance_vwap() {
        let mut ind = Indicators::default();
        let tick = Tick {
            ts_ns: 1,
            symbol: 3,
            bid: 190.0,
            ask: 190.02,
            bid_size: 300.0,
            ask_size: 100.0,
            last: 190.02,
            last_size: 10.0,
        };
        ind.update(&tick);
        assert_eq!(ind.mid, 190.01);
        assert_eq!(ind.imbalance, 0.5);
        // More bid size: microprice leans to the ask. (190·100 + 190.02·300) / 400.
        assert_eq!(ind.microprice, (190.0 * 100.0 + 190.02 * 300.0) / 400.0);
        assert_eq!(ind.trade_vwap(), 190.02);
        assert_eq!(ind.zscore(), None);
    }
}
