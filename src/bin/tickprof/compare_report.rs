//! `compare`'s outputs: aligned text and Markdown, one row per metric with both estimates, the
//! change, its interval and the call with its reason.

use std::fmt::Write as _;

use tickprof::compare::{Call, CompareOptions, Comparison, Row};
use tickprof::gate::{Noise, Reason, p_value_text};

use crate::check_report::noise_words;
use crate::format::{md_cell, nanos, signed, value};

/// What the comparison judged and how, for the header.
pub(crate) fn header(base: &str, new: &str, c: &Comparison, options: &CompareOptions) -> String {
    let measured = c.rows.iter().find_map(|r| match r.judgement.noise {
        Noise::Measured {
            assumed_for_one_run,
            ..
        } => Some(assumed_for_one_run),
        _ => None,
    });
    let noise = noise_words(measured, options.gate.run_noise_pct);
    format!(
        "base: {base}, new: {new}; changes within ±{}% are noise; {noise}; \
         --fail-on-slower tests {} gated rows, {}% false-alarm rate (Holm)",
        options.noise_pct, c.tested, options.gate.false_alarm_pct
    )
}

fn cells(row: &Row) -> [String; 6] {
    let v = |x: Option<f64>| x.map_or_else(|| "—".to_owned(), |x| value(x, row.unit));
    let diff = row
        .diff()
        .map_or_else(|| "—".to_owned(), |d| signed(d, row.unit));
    let pct = row
        .diff_pct()
        .map_or_else(|| "—".to_owned(), |p| format!("{p:+.1}%"));
    let interval = row.interval.map_or_else(
        || "—".to_owned(),
        |(lo, hi)| format!("[{}, {}]", signed(lo, row.unit), signed(hi, row.unit)),
    );
    [
        row.metric.clone(),
        v(row.base),
        v(row.new),
        diff,
        pct,
        interval,
    ]
}

/// The call and why: `slower (p = 2e-6)`, `within noise (not past the 40 ns resolution)`,
/// `inconclusive: run-to-run noise; …`, `faster (not gated)`.
fn call_cell(row: &Row, options: &CompareOptions) -> String {
    let j = &row.judgement;
    let word = row.call_word();
    let mut out = match (row.call, &j.reason) {
        (Call::Worse | Call::Better, _) => match j.p_value {
            Some(p) => format!("{word} ({})", p_value_text(p)),
            None => word.to_owned(),
        },
        (Call::WithinNoise, Reason::BelowResolution) => match (j.floor, j.resolution) {
            (_, Some(resolution)) => {
                format!("{word} (not past the {} resolution)", nanos(resolution))
            }
            (Some(floor), None) => format!("{word} (within the {} clock-step floor)", nanos(floor)),
            (None, None) => word.to_owned(),
        },
        (Call::Inconclusive, _) | (Call::Missing, _) => j.explain(options.gate.false_alarm_pct),
        _ => word.to_owned(),
    };
    let decided = matches!(row.call, Call::Worse | Call::Better) || j.undecided();
    if !row.gated && decided {
        out.push_str(" (not gated)");
    }
    out
}

const HEADER: [&str; 7] = ["metric", "base", "new", "diff", "%", "interval", "call"];

pub(crate) fn text(header: &str, comparison: &Comparison, options: &CompareOptions) -> String {
    let mut rows: Vec<[String; 7]> = vec![HEADER.map(str::to_owned)];
    for row in &comparison.rows {
        let [a, b, c, d, e, f] = cells(row);
        rows.push([a, b, c, d, e, f, call_cell(row, options)]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("{header}\n");
    for r in &rows {
        let mut line = format!("{:<w$}", r[0], w = widths[0]);
        for i in 1..6 {
            let _ = write!(line, "  {:>w$}", r[i], w = widths[i]);
        }
        let _ = write!(line, "  {}", r[6]);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

pub(crate) fn markdown(header: &str, comparison: &Comparison, options: &CompareOptions) -> String {
    let mut out = format!("## tickprof compare\n\n{}\n\n", md_cell(header));
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|---|");
    for row in &comparison.rows {
        let cells = cells(row);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            md_cell(&cells[0]),
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            md_cell(&call_cell(row, options))
        );
    }
    out
}
