//! Seeded, deterministic market data: CSV tick lines for four instruments (workload.md §2).
//!
//! The RNG (xoshiro256** seeded by SplitMix64) and every distribution (Box–Muller normals,
//! exponentials, log-normals, geometrics) are written here, so no crate upgrade can change the
//! data: the same seed gives the same lines on every build, which the golden test pins.
//!
//! Prices live on each instrument's tick grid as integers and sizes as integer multiples of
//! 0.0001; both are formatted without going through `f64` formatting, which keeps the text
//! exact and generation cheap (it runs outside the timed spans, but inside the run's wall time).

/// The first timestamp: 2023-11-14T22:13:20Z in ns since the epoch.
const START_TS_NS: u64 = 1_700_000_000_000_000_000;
/// Mean gap between events (aggregate Poisson, λ = 1,000 events/s).
const MEAN_GAP_NS: f64 = 1_000_000.0;
/// Probability of a trade on a tick.
const TRADE_PROBABILITY: f64 = 0.3;
/// Success probability of the geometric extra spread (in ticks).
const SPREAD_GEOMETRIC_P: f64 = 0.7;
/// Log-normal σ of quote sizes and of trade sizes.
const QUOTE_SIZE_SIGMA: f64 = 0.9;
const TRADE_SIZE_SIGMA: f64 = 1.0;
/// Sizes are printed with four decimals: integer units of 0.0001.
pub const SIZE_SCALE: f64 = 10_000.0;

/// One instrument of the synthetic market (workload.md §2 table).
#[derive(Debug, Clone, Copy)]
pub struct Instrument {
    /// Symbol as it appears in the CSV.
    pub symbol: &'static str,
    /// Price increment.
    pub tick: f64,
    /// Decimals printed for prices.
    pub decimals: u32,
    /// The tick expressed in units of 10^-decimals (ESZ5: 0.25 = 25 hundredths).
    pub tick_units: i64,
    /// Starting mid price.
    pub start_mid: f64,
    /// Volatility of the log mid per √second.
    pub sigma_per_sqrt_s: f64,
    /// Minimum spread, in ticks.
    pub base_spread_ticks: i64,
    /// Median quote size.
    pub median_size: f64,
    /// Sizes are rounded to this lot.
    pub lot: f64,
    /// Share of the event flow.
    pub weight: f64,
    /// Contract multiplier: PnL per unit of price per unit of quantity, in USD.
    pub multiplier: f64,
}

/// The four instruments; the index is the interned symbol id used everywhere else.
pub const INSTRUMENTS: [Instrument; 4] = [
    Instrument {
        symbol: "EURUSD",
        tick: 0.00001,
        decimals: 5,
        tick_units: 1,
        start_mid: 1.0850,
        sigma_per_sqrt_s: 1.25e-5,
        base_spread_ticks: 2,
        median_size: 1_000_000.0,
        lot: 1_000.0,
        weight: 0.40,
        multiplier: 1.0,
    },
    Instrument {
        symbol: "ESZ5",
        tick: 0.25,
        decimals: 2,
        tick_units: 25,
        start_mid: 5000.0,
        sigma_per_sqrt_s: 7.4e-5,
        base_spread_ticks: 1,
        median_size: 12.0,
        lot: 1.0,
        weight: 0.20,
        multiplier: 50.0,
    },
    Instrument {
        symbol: "BTCUSDT",
        tick: 0.01,
        decimals: 2,
        tick_units: 1,
        start_mid: 60_000.0,
        sigma_per_sqrt_s: 1.07e-4,
        base_spread_ticks: 1,
        median_size: 0.5,
        lot: 0.0001,
        weight: 0.25,
        multiplier: 1.0,
    },
    Instrument {
        symbol: "AAPL",
        tick: 0.01,
        decimals: 2,
        tick_units: 1,
        start_mid: 190.0,
        sigma_per_sqrt_s: 1.03e-4,
        base_spread_ticks: 1,
        median_size: 300.0,
        lot: 1.0,
        weight: 0.15,
        multiplier: 1.0,
    },
];

/// SplitMix64: expands one `u64` seed into the four words xoshiro needs (its authors' advice).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A SplitMix64 stream starting at `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next word.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// xoshiro256** with in-crate distributions, so the stream is fixed by this file alone.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    /// The second Box–Muller normal, kept for the next call.
    spare_normal: Option<f64>,
}

impl Rng {
    /// Seeds the four state words from SplitMix64(`seed`).
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = SplitMix64::new(seed);
        Rng {
            s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()],
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    pub fn uniform_open0(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Standard normal by Box–Muller (both values used).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let r = (-2.0 * self.uniform_open0().ln()).sqrt();
        let theta = std::f64::consts::TAU * self.uniform();
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }

    /// Exponential with the given mean: −mean·ln U.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.uniform_open0().ln()
    }

    /// Log-normal with the given median and σ of the log.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Failures before the first success, success probability `p` (0 with probability p).
    pub fn geometric(&mut self, p: f64) -> u64 {
        (self.uniform_open0().ln() / (1.0 - p).ln()).floor() as u64
    }
}

/// Per-instrument state of the random walk.
#[derive(Debug, Clone)]
struct SymbolState {
    /// The latent (continuous) mid; the quoted mid is this snapped to the grid.
    mid: f64,
    /// When this instrument last had an event (its Δt drives the walk).
    last_ts_ns: u64,
    /// Sign of the last quoted mid move, which biases the side of the next trade.
    last_move: i64,
    /// Last quoted mid, in ticks.
    last_mid_ticks: i64,
}

/// Streams CSV tick lines; holds only the RNG and four instruments' state.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    ts_ns: u64,
    symbols: [SymbolState; 4],
    /// Cumulative instrument weights, for picking the symbol of each event.
    cumulative_weight: [f64; 4],
}

impl Generator {
    /// A generator for `seed`; the same seed always yields the same lines.
    pub fn new(seed: u64) -> Self {
        let symbols = INSTRUMENTS.map(|inst| SymbolState {
            mid: inst.start_mid,
            last_ts_ns: START_TS_NS,
            last_move: 0,
            last_mid_ticks: (inst.start_mid / inst.tick).round() as i64,
        });
        let mut cumulative_weight = [0.0; 4];
        let mut acc = 0.0;
        for (slot, inst) in cumulative_weight.iter_mut().zip(INSTRUMENTS.iter()) {
            acc += inst.weight;
            *slot = acc;
        }
        Generator {
            rng: Rng::seed_from_u64(seed),
            ts_ns: START_TS_NS,
            symbols,
            cumulative_weight,
        }
    }

    /// Appends the next tick as one CSV line (no trailing newline) to `out`.
    pub fn next_line(&mut self, out: &mut String) {
        let rng = &mut self.rng;
        // 1. Arrival: Δt ~ Exp(1 ms), at least 1 ns so timestamps strictly increase.
        let gap = rng.exponential(MEAN_GAP_NS).round().max(1.0) as u64;
        self.ts_ns += gap;
        let u = rng.uniform();
        let id = self
            .cumulative_weight
            .iter()
            .position(|&c| u < c)
            .unwrap_or(INSTRUMENTS.len() - 1);
        let inst = &INSTRUMENTS[id];
        let state = &mut self.symbols[id];

        // 2. Mid: log random walk over this instrument's own Δt, snapped to the grid.
        let dt_s = (self.ts_ns - state.last_ts_ns) as f64 * 1e-9;
        state.last_ts_ns = self.ts_ns;
        state.mid *= (inst.sigma_per_sqrt_s * dt_s.sqrt() * rng.normal()).exp();
        let mid_ticks = (state.mid / inst.tick).round() as i64;
        let moved = (mid_ticks - state.last_mid_ticks).signum();
        if moved != 0 {
            state.last_move = moved;
        }
        state.last_mid_ticks = mid_ticks;

        // 3. Spread: base + Geometric(0.7) ticks.
        let spread = inst.base_spread_ticks + rng.geometric(SPREAD_GEOMETRIC_P) as i64;
        let bid_ticks = mid_ticks - spread / 2;
        let ask_ticks = bid_ticks + spread;

        // 4. Sizes: LogNormal(median, 0.9), floored at 1 % of the median, rounded to the lot.
        let bid_size = lot_units(inst, rng.lognormal(inst.median_size, QUOTE_SIZE_SIGMA));
        let ask_size = lot_units(inst, rng.lognormal(inst.median_size, QUOTE_SIZE_SIGMA));

        push_u64(out, self.ts_ns);
        out.push(',');
        out.push_str(inst.symbol);
        out.push(',');
        push_fixed(out, bid_ticks * inst.tick_units, inst.decimals);
        out.push(',');
        push_fixed(out, ask_ticks * inst.tick_units, inst.decimals);
        out.push(',');
        push_fixed(out, bid_size, 4);
        out.push(',');
        push_fixed(out, ask_size, 4);
        out.push(',');

        // 5. Trade with p = 0.3, buyer-initiated (at the ask) 50/50, tilted 70/30 towards the
        //    direction of the last mid move.
        if rng.uniform() < TRADE_PROBABILITY {
            let p_buy = 0.5 + 0.2 * state.last_move as f64;
            let buy = rng.uniform() < p_buy;
            let qty = lot_units(
                inst,
                rng.lognormal(0.2 * inst.median_size, TRADE_SIZE_SIGMA),
            );
            let price_ticks = if buy { ask_ticks } else { bid_ticks };
            push_fixed(out, price_ticks * inst.tick_units, inst.decimals);
            out.push(',');
            push_fixed(out, qty, 4);
        } else {
            out.push(',');
        }
    }

    /// Appends `count` lines, each ending in `\n`, to `out` (which the caller clears and reuses,
    /// so a whole run allocates one buffer).
    pub fn fill_chunk(&mut self, out: &mut String, count: usize) {
        for _ in 0..count {
            self.next_line(out);
            out.push('\n');
        }
    }
}

/// A size in integer units of 0.0001: floored at 1 % of the median, rounded to whole lots
/// (at least one).
fn lot_units(inst: &Instrument, raw: f64) -> i64 {
    let size = raw.max(0.01 * inst.median_size);
    let lots = (size / inst.lot).round().max(1.0);
    (lots * (inst.lot * SIZE_SCALE).round()) as i64
}

/// Writes a non-negative integer, zero-padded to at least `min_width` digits (≤ 20). By hand
/// rather than through `fmt`: this runs ~8 times per line and `write!` was a third of the
/// generator's time.
fn push_digits(out: &mut String, mut value: u64, min_width: usize) {
    let mut buf = [b'0'; 20];
    let mut start = buf.len();
    while value > 0 || buf.len() - start < min_width.clamp(1, 20) {
        start -= 1;
        buf[start] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    for &digit in &buf[start..] {
        out.push(char::from(digit));
    }
}

/// Writes a non-negative integer.
fn push_u64(out: &mut String, value: u64) {
    push_digits(out, value, 1);
}

/// Writes `units` × 10^-`decimals` as a decimal with exactly `decimals` digits after the point.
fn push_fixed(out: &mut String, units: i64, decimals: u32) {
    if units < 0 {
        out.push('-');
    }
    let units = units.unsigned_abs();
    let scale = 10u64.pow(decimals);
    push_u64(out, units / scale);
    if decimals > 0 {
        out.push('.');
        push_digits(out, units % scale, decimals as usize);
    }
}

/// FNV-1a, 64-bit: a tiny stable hash for golden tests and run digests (std's hashers are
/// allowed to change between releases).
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Feeds bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Feeds a `u64` (little-endian).
    pub fn write_u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }

    /// Feeds an `f64` by its bit pattern (exact, no formatting).
    pub fn write_f64(&mut self, value: f64) {
        self.write_u64(value.to_bits());
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_lines(seed: u64, n: usize) -> String {
        let mut generator = Generator::new(seed);
        let mut buf = String::new();
        generator.fill_chunk(&mut buf, n);
        buf
    }

    #[test]
    fn splitmix_and_xoshiro_match_reference_vectors() {
        // SplitMix64 from seed 0: first outputs of the reference C implementation.
        let mut sm = SplitMix64::new(0);
        assert_eq!(sm.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(sm.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        // xoshiro256** with state [1, 2, 3, 4]: reference outputs 11520, 0, 1509978240.
        let mut rng = Rng {
            s: [1, 2, 3, 4],
            spare_normal: None,
        };
        assert_eq!(rng.next_u64(), 11520);
        assert_eq!(rng.next_u64(), 0);
        assert_eq!(rng.next_u64(), 1_509_978_240);
    }

    #[test]
    fn golden_hash_of_first_1000_lines_seed_42() {
        let text = first_lines(42, 1000);
        let mut h = Fnv1a::default();
        h.write(text.as_bytes());
        assert_eq!(text.lines().count(), 1000);
        assert_eq!(h.finish(), GOLDEN_SEED_42, "hash {:#018x}", h.finish());
    }

    /// FNV-1a 64 of the first 1,000 lines (each with `\n`) for seed 42. A change here means the
    /// data changed: every published figure and digest changes with it.
    const GOLDEN_SEED_42: u64 = 0xe372_fab4_29d8_9097;

    #[test]
    fn same_seed_same_lines_other_seed_other_lines() {
        assert_eq!(first_lines(7, 200), first_lines(7, 200));
        assert_ne!(first_lines(7, 200), first_lines(8, 200));
    }

    #[test]
    fn lines_are_well_formed() {
        let text = first_lines(42, 5000);
        let mut last_ts = 0u64;
        let mut trades = 0;
        for line in text.lines() {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 8, "{line}");
            let ts: u64 = fields[0].parse().unwrap();
            assert!(ts > last_ts, "timestamps strictly increase: {line}");
            last_ts = ts;
            let bid: f64 = fields[2].parse().unwrap();
            let ask: f64 = fields[3].parse().unwrap();
            assert!(ask > bid && bid > 0.0, "{line}");
            assert_eq!(fields[6].is_empty(), fields[7].is_empty(), "{line}");
            if !fields[6].is_empty() {
                trades += 1;
            }
        }
        // 30 % trades: 1,500 expected, σ ≈ 32.
        assert!((1300..1700).contains(&trades), "{trades} trades");
    }

    #[test]
    fn fixed_point_formatting() {
        let mut s = String::new();
        push_fixed(&mut s, 108_501, 5);
        s.push(' ');
        push_fixed(&mut s, 500_025, 2);
        s.push(' ');
        push_fixed(&mut s, 7, 4);
        s.push(' ');
        push_u64(&mut s, 0);
        s.push(' ');
        push_u64(&mut s, u64::MAX);
        s.push(' ');
        push_fixed(&mut s, -1_234_500, 2);
        assert_eq!(s, "1.08501 5000.25 0.0007 0 18446744073709551615 -12345.00");
    }

    #[test]
    fn distributions_have_the_right_moments() {
        let mut rng = Rng::seed_from_u64(1);
        let n = 200_000;
        let (mut sum, mut sum2, mut exp_sum, mut geo_zero) = (0.0, 0.0, 0.0, 0);
        for _ in 0..n {
            let z = rng.normal();
            sum += z;
            sum2 += z * z;
            exp_sum += rng.exponential(2.0);
            if rng.geometric(0.7) == 0 {
                geo_zero += 1;
            }
        }
        let n = n as f64;
        assert!((sum / n).abs() < 0.01);
        assert!((sum2 / n - 1.0).abs() < 0.02);
        assert!((exp_sum / n - 2.0).abs() < 0.03);
        assert!((geo_zero as f64 / n - 0.7).abs() < 0.01);
    }
}
