//! Numbers and cells as every output prints them. Deterministic: no timings, no absolute paths
//! beyond what the user passed.

use tickprof::gate::{Judgement, Outcome};
use tickprof::metric::Unit;

pub(crate) fn value(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    match unit {
        Unit::TicksPerSec => format!("{} {unit}", thousands(v.round().max(0.0) as u64)),
        Unit::Micros | Unit::CpuMicros => format!("{v:.3} {unit}"),
        Unit::Megabytes => format!("{v:.1} {unit}"),
        Unit::Percent => format!("{v:.1}{unit}"),
        // Allocations and bytes per span: whole figures (percentiles, maxima) as they are, means
        // to two decimals (0.02 allocations per tick is not 0).
        Unit::Allocations | Unit::Bytes if v.fract() == 0.0 => {
            format!("{} {unit}", thousands(v.max(0.0) as u64))
        }
        Unit::Allocations | Unit::Bytes => format!("{v:.2} {unit}"),
        // Counts, and any unit added later: a whole number, without a symbol.
        _ => thousands(v.round().max(0.0) as u64),
    }
}

pub(crate) fn signed(v: f64, unit: Unit) -> String {
    let magnitude = value(v.abs(), unit);
    // A value that rounds to zero keeps `+`: `-0.000` would read as a change.
    if v < 0.0 && magnitude.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("-{magnitude}")
    } else {
        format!("+{magnitude}")
    }
}

/// A resolution floor, held in µs like the latencies, printed in ns: it is tens of ns.
pub(crate) fn nanos(us: f64) -> String {
    let ns = us * 1_000.0;
    if (ns - ns.round()).abs() < 0.05 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    }
}

pub(crate) fn mark(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "✅",
        Outcome::Fail => "❌",
        Outcome::Inconclusive => "➖",
    }
}

/// `[lo, hi]` of a change (signed) or of a value.
pub(crate) fn interval(j: &Judgement, unit: Unit, of_change: bool) -> String {
    match j.interval {
        Some((lo, hi)) if of_change => format!("[{}, {}]", signed(lo, unit), signed(hi, unit)),
        Some((lo, hi)) => format!("[{}, {}]", value(lo, unit), value(hi, unit)),
        None => "—".to_owned(),
    }
}

/// `+0.024 µs (+10.0%)`: a change and, when the base is not 0, its share of the base.
pub(crate) fn change(j: &Judgement, unit: Unit) -> String {
    match (j.value, j.base) {
        (Some(v), Some(b)) if b != 0.0 => {
            format!("{} ({:+.1}%)", signed(v - b, unit), 100.0 * (v - b) / b)
        }
        (Some(v), Some(b)) => signed(v - b, unit),
        _ => "—".to_owned(),
    }
}

pub(crate) fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// `1 run` / `5 runs`.
pub(crate) fn runs(n: usize) -> String {
    if n == 1 {
        "1 run".to_owned()
    } else {
        format!("{n} runs")
    }
}

/// `1234567` as `1,234,567`, as the summary prints counts.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
