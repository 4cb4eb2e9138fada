//! CSV line → [`Tick`], the `parse` component.
//!
//! Numbers are decoded by hand (integer digits + fraction digits → one exact division), which
//! is what fast engines do and gives the same `f64` as `str::parse` for the ≤ 15 significant
//! digits the feed carries. Anything malformed is an error naming the line and the field, never
//! a silently skipped tick: a backtest that drops data quietly gives quietly wrong results.

use std::fmt;

use crate::generator::INSTRUMENTS;

/// One market data event, as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// Exchange timestamp, ns since the epoch.
    pub ts_ns: u64,
    /// Interned symbol: index into [`INSTRUMENTS`].
    pub symbol: u16,
    /// Best bid.
    pub bid: f64,
    /// Best ask.
    pub ask: f64,
    /// Size at the best bid.
    pub bid_size: f64,
    /// Size at the best ask.
    pub ask_size: f64,
    /// Last trade price; NaN when this tick carries no trade.
    pub last: f64,
    /// Last trade size; 0 when this tick carries no trade.
    pub last_size: f64,
}

impl Tick {
    /// Whether this tick carries a trade.
    pub fn has_trade(&self) -> bool {
        !self.last.is_nan()
    }
}

/// The CSV columns, in order; used to name the field at fault.
pub const FIELDS: [&str; 8] = [
    "ts_ns",
    "symbol",
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "last",
    "last_size",
];

/// A rejected line: which line, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number in the stream.
    pub line: u64,
    /// The column at fault (one of [`FIELDS`], or `line` for a wrong field count).
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: field `{}`: {}",
            self.line, self.field, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses one CSV line (without its newline); `line_no` is 1-based and only used in errors.
///
/// # Errors
/// [`ParseError`] for a wrong number of fields, an unknown symbol, a number that does not
/// parse, a non-positive price or size, a crossed quote, or a half-present trade.
pub fn parse_line(line: &str, line_no: u64) -> Result<Tick, ParseError> {
    let err = |field: usize, message: String| ParseError {
        line: line_no,
        field: FIELDS[field],
        message,
    };
    let mut parts = line.split(',');
    let mut fields = [""; 8];
    for (i, slot) in fields.iter_mut().enumerate() {
        *slot = parts.next().ok_or_else(|| ParseError {
            line: line_no,
            field: "line",
            message: format!("expected 8 fields, found {i}"),
        })?;
    }
    if parts.next().is_some() {
        return Err(ParseError {
            line: line_no,
            field: "line",
            message: format!("expected 8 fields, found {}", 9 + parts.count()),
        });
    }

    let ts_ns = parse_u64(fields[0]).ok_or_else(|| err(0, bad_number(fields[0])))?;
    let symbol = INSTRUMENTS
        .iter()
        .position(|inst| inst.symbol == fields[1])
        .ok_or_else(|| err(1, format!("unknown symbol {:?}", fields[1])))? as u16;
    let positive = |i: usize| -> Result<f64, ParseError> {
        let v = parse_decimal(fields[i]).ok_or_else(|| err(i, bad_number(fields[i])))?;
        if v > 0.0 {
            Ok(v)
        } else {
            Err(err(i, format!("must be positive, found {}", fields[i])))
        }
    };
    let bid = positive(2)?;
    let ask = positive(3)?;
    let bid_size = positive(4)?;
    let ask_size = positive(5)?;
    let (last, last_size) = match (fields[6].is_empty(), fields[7].is_empty()) {
        (true, true) => (f64::NAN, 0.0),
        (false, false) => (positive(6)?, positive(7)?),
        (true, false) => return Err(err(6, "empty while last_size is set".to_owned())),
        (false, true) => return Err(err(7, "empty while last is set".to_owned())),
    };
    if ask <= bid {
        return Err(err(3, format!("ask {ask} is not above bid {bid}")));
    }
    Ok(Tick {
        ts_ns,
        symbol,
        bid,
        ask,
        bid_size,
        ask_size,
        last,
        last_size,
    })
}

fn bad_number(text: &str) -> String {
    if text.is_empty() {
        "empty".to_owned()
    } else {
        format!("not a number: {text:?}")
    }
}

/// Decimal digits only, no sign, no overflow.
fn parse_u64(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    text.bytes().try_fold(0u64, |acc, b| {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Powers of ten exactly representable in `f64`.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `digits[.digits]`, unsigned. With at most 15 significant digits, mantissa and divisor are
/// both exact in `f64`, so the one division is correctly rounded: the same value `str::parse`
/// returns. Longer inputs fall back to `str::parse`.
fn parse_decimal(text: &str) -> Option<f64> {
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int_part.is_empty() || int_part.len() + frac_part.len() > 15 {
        return if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            text.parse().ok()
        } else {
            None
        };
    }
    let mut mantissa = parse_u64(int_part)?;
    if !frac_part.is_empty() {
        let frac = parse_u64(frac_part)?;
        mantissa = mantissa * 10u64.pow(frac_part.len() as u32) + frac;
    }
    Some(mantissa as f64 / POW10[frac_part.len()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::Generator;

    const GOOD: &str =
        "1700000000000355852,EURUSD,1.08499,1.08501,938894.9112,1546084.3623,1.08501,242900.8000";

    #[test]
    fn parses_a_line_with_and_without_trade() {
        let t = parse_line(GOOD, 1).unwrap();
        assert_eq!(t.ts_ns, 1_700_000_000_000_355_852);
        assert_eq!(t.symbol, 0);
        assert_eq!(t.bid, 1.08499);
        assert_eq!(t.ask, 1.08501);
        assert_eq!(t.bid_size, 938_894.911_2);
        assert_eq!(t.last, 1.08501);
        assert_eq!(t.last_size, 242_900.8);
        let t = parse_line("5,ESZ5,5000.00,5000.25,9,4.5,,", 2).unwrap();
        assert_eq!(t.symbol, 1);
        assert!(!t.has_trade());
        assert_eq!(t.last_size, 0.0);
    }

    /// Every generated line parses, and the hand-rolled decimals equal `str::parse` bit for bit.
    #[test]
    fn round_trips_generated_lines() {
        let mut generator = Generator::new(42);
        let mut buf = String::new();
        generator.fill_chunk(&mut buf, 20_000);
        for (i, line) in buf.lines().enumerate() {
            let t = parse_line(line, i as u64 + 1).unwrap();
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(t.ts_ns, f[0].parse::<u64>().unwrap());
            assert_eq!(INSTRUMENTS[t.symbol as usize].symbol, f[1]);
            for (value, text) in [
                (t.bid, f[2]),
                (t.ask, f[3]),
                (t.bid_size, f[4]),
                (t.ask_size, f[5]),
            ] {
                assert_eq!(
                    value.to_bits(),
                    text.parse::<f64>().unwrap().to_bits(),
                    "{line}"
                );
            }
            if f[6].is_empty() {
                assert!(t.last.is_nan());
            } else {
                assert_eq!(t.last, f[6].parse::<f64>().unwrap());
                assert_eq!(t.last_size, f[7].parse::<f64>().unwrap());
            }
        }
    }

    #[test]
    fn malformed_lines_name_line_and_field() {
        let cases: [(&str, &str); 10] = [
            ("1,EURUSD,1.1,1.2,1,1,,", ""),
            ("1,EURUSD,1.1,1.2,1,1,", "line"),
            ("1,EURUSD,1.1,1.2,1,1,,,", "line"),
            ("x1,EURUSD,1.1,1.2,1,1,,", "ts_ns"),
            ("1,GBPUSD,1.1,1.2,1,1,,", "symbol"),
            ("1,EURUSD,1.1.1,1.2,1,1,,", "bid"),
            ("1,EURUSD,1.1,,1,1,,", "ask"),
            ("1,EURUSD,1.1,1.2,0,1,,", "bid_size"),
            ("1,EURUSD,1.1,1.2,1,1,1.2,", "last_size"),
            ("1,EURUSD,1.2,1.1,1,1,,", "ask"),
        ];
        for (line, field) in cases {
            match parse_line(line, 77) {
                Ok(_) => assert!(field.is_empty(), "{line} should fail"),
                Err(e) => {
                    assert_eq!(e.line, 77);
                    assert_eq!(e.field, field, "{line}: {e}");
                    assert!(e.to_string().starts_with("line 77: field `"), "{e}");
                }
            }
        }
        let e = parse_line("1,EURUSD,-1.1,1.2,1,1,,", 3).unwrap_err();
        assert_eq!(e.to_string(), "line 3: field `bid`: not a number: \"-1.1\"");
    }
}
