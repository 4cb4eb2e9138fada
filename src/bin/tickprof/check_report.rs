//! `check`'s outputs: aligned text, Markdown for a PR comment or job summary, JUnit XML. Each
//! check shows its estimate, the change and its interval (against a baseline), the effective
//! limit and why it passed, failed or was inconclusive.

use std::fmt::Write as _;

use tickprof::gate::{Noise, Outcome};
use tickprof::metric::Bound;
use tickprof::thresholds::{Check, CheckKind, Verdict};

use crate::format::{change, interval, mark, md_cell, nanos, runs, value, xml_escape};

/// One build's verdict, with what it was judged against.
pub(crate) struct Judged {
    /// The runs' paths.
    pub(crate) label: String,
    /// The report name they share.
    pub(crate) name: String,
    /// The baseline's runs, when there was one.
    pub(crate) baseline: Option<String>,
    pub(crate) verdict: Verdict,
}

impl Judged {
    /// What the runs were judged against and how: `1 run vs baseline base.json (1 run);
    /// run-to-run noise assumed ±25% (one run per side); 3 of 4 checks tested for
    /// significance (1% false-alarm rate, Holm)`.
    fn context(&self, run_noise_pct: f64) -> String {
        let v = &self.verdict;
        let mut out = runs(v.runs.0);
        if let Some(base) = &self.baseline {
            let _ = write!(out, " vs baseline {base} ({})", runs(v.runs.1));
            let noise = v.checks.iter().find_map(|c| match c.judgement.noise {
                Noise::Measured {
                    assumed_for_one_run,
                    ..
                } => Some(assumed_for_one_run),
                Noise::Assumed { .. } | Noise::WithinRuns => None,
            });
            let _ = write!(out, "; {}", noise_words(noise, run_noise_pct));
        }
        let _ = write!(out, "; {}", tested_words(v));
        out
    }
}

/// How many of the checks were tested for significance, in the noun and form of the counts line
/// (`0 of 6 checks failed`): `3 of 6 checks tested for significance (1% false-alarm rate, Holm)`.
/// It said "3 tests" above "0 of 6 checks failed", two nouns for one list. The other checks
/// (counts, single values against an absolute limit, missing values) are compared exactly or
/// not at all, and spend none of the false-alarm rate.
fn tested_words(v: &Verdict) -> String {
    let tested = of_checks(v.tested, v.checks.len());
    if v.tested == 0 {
        return format!("{tested} tested for significance");
    }
    format!(
        "{tested} tested for significance ({}% false-alarm rate, Holm)",
        v.false_alarm_pct
    )
}

/// `3 of 6 checks`, `0 of 1 check`: the one form every count of checks takes.
fn of_checks(k: usize, n: usize) -> String {
    format!("{k} of {n} check{}", if n == 1 { "" } else { "s" })
}

/// How the run-to-run noise was obtained: `Some(false)` measured on both sides, `Some(true)`
/// measured on one and assumed for a side of one run, `None` assumed.
pub(crate) fn noise_words(measured: Option<bool>, run_noise_pct: f64) -> String {
    match measured {
        Some(false) => "run-to-run noise measured from the runs' spread".to_owned(),
        Some(true) => format!(
            "run-to-run noise measured from the runs' spread, assumed ±{run_noise_pct}% for the \
             side of one run (run ≥ 3 on it to measure it)"
        ),
        None => format!(
            "run-to-run noise assumed ±{run_noise_pct}% (one run per side: run more to measure it)"
        ),
    }
}

/// The estimate, or why there is none (missing, or too few samples to judge).
fn value_cell(c: &Check, false_alarm_pct: f64) -> String {
    match c.value() {
        Some(v) => value(v, c.unit),
        None => c.judgement.explain(false_alarm_pct),
    }
}

/// The estimate, or `—` (the verdict column says why there is none).
fn value_only(c: &Check) -> String {
    c.value()
        .map_or_else(|| "—".to_owned(), |v| value(v, c.unit))
}

/// The change against the baseline and its interval; for an absolute limit, the value's
/// interval.
fn change_cell(c: &Check) -> String {
    let j = &c.judgement;
    if j.value.is_none() {
        return String::new();
    }
    match c.kind {
        CheckKind::Absolute { .. } => interval(j, c.unit, false),
        CheckKind::Baseline { .. } if j.interval.is_none() => change(j, c.unit),
        CheckKind::Baseline { .. } => {
            format!("{} {}", change(j, c.unit), interval(j, c.unit, true))
        }
    }
}

/// The effective limit and where it comes from: `≤ 10.000 µs`, `+0.012 µs (5% of 0.241 µs)`,
/// `+0.020 µs (to reach the 40 ns resolution; 5% of 0.020 µs is less)` (the baseline's figure
/// is below the reports' resolution, where the summary prints `<0.040`: a change that leaves
/// the new one there too is none), `+0.010 µs (10 ns clock-step floor; …)`.
fn limit_cell(c: &Check) -> String {
    let j = &c.judgement;
    match c.kind {
        CheckKind::Absolute { limit } => format!("{} {}", c.bound.symbol(), value(limit, c.unit)),
        CheckKind::Baseline { max_regression_pct } => {
            let Some(threshold) = j.threshold else {
                return format!("{max_regression_pct}% of the baseline");
            };
            // The largest change allowed, signed the way it would go wrong.
            let change = match c.bound {
                Bound::AtMost => format!("+{}", value(threshold, c.unit)),
                Bound::AtLeast => format!("-{}", value(threshold, c.unit)),
            };
            let base = j.base.map_or_else(|| "—".to_owned(), |b| value(b, c.unit));
            match (j.floor, j.resolution) {
                (Some(_), Some(resolution)) => format!(
                    "{change} (to reach the {} resolution; {max_regression_pct}% of {base} is less)",
                    nanos(resolution)
                ),
                (Some(floor), None) => format!(
                    "{change} ({} clock-step floor; {max_regression_pct}% of {base} is less)",
                    nanos(floor)
                ),
                (None, _) => format!("{change} ({max_regression_pct}% of {base})"),
            }
        }
    }
}

fn counts(v: &Verdict) -> String {
    let failed = v.violations().count();
    let inconclusive = v.inconclusive().count();
    let mut out = format!("{} failed", of_checks(failed, v.checks.len()));
    if inconclusive > 0 {
        let _ = write!(out, " ({inconclusive} inconclusive)");
    }
    out
}

fn total_line(judged: &[Judged]) -> (bool, String) {
    let total: usize = judged.iter().map(|j| j.verdict.checks.len()).sum();
    let failed: usize = judged.iter().map(|j| j.verdict.violations().count()).sum();
    let inconclusive: usize = judged
        .iter()
        .map(|j| j.verdict.inconclusive().count())
        .sum();
    let reports: usize = judged.iter().map(|j| j.verdict.runs.0).sum();
    let what = if reports == judged.len() {
        runs_of("report", reports)
    } else {
        format!(
            "{} ({})",
            runs_of("build", judged.len()),
            runs_of("report", reports)
        )
    };
    let mut line = format!("{} failed", of_checks(failed, total));
    if inconclusive > 0 {
        let _ = write!(line, " ({inconclusive} inconclusive)");
    }
    let _ = write!(line, " in {what}");
    (failed == 0, line)
}

fn runs_of(what: &str, n: usize) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

pub(crate) fn text(judged: &[Judged], run_noise_pct: f64) -> String {
    let mut out = String::new();
    for j in judged {
        let _ = writeln!(out, "{} ({})", j.label, j.name);
        let _ = writeln!(out, "  {}", j.context(run_noise_pct));
        let checks = &j.verdict.checks;
        let rows: Vec<[String; 5]> = checks
            .iter()
            .map(|c| {
                [
                    c.name(),
                    value_cell(c, j.verdict.false_alarm_pct),
                    change_cell(c),
                    limit_cell(c),
                    c.judgement.explain(j.verdict.false_alarm_pct),
                ]
            })
            .collect();
        let width = |i: usize, only_values: bool| {
            rows.iter()
                .zip(checks)
                // A missing value's reason is a sentence: aligning every figure to it would
                // push the whole table right, so only figures set the column's width.
                .filter(|(_, c)| !only_values || c.value().is_some())
                .map(|(r, _)| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2, w3) = (
            width(0, false),
            width(1, true),
            width(2, true),
            width(3, true),
        );
        for (c, [name, v, ch, limit, why]) in checks.iter().zip(&rows) {
            let line = if c.value().is_none() {
                format!("  {} {name:<w0$}  {v}", mark(c.outcome()))
            } else {
                format!(
                    "  {} {name:<w0$}  {v:>w1$}  {ch:>w2$}  limit {limit:<w3$}  {why}",
                    mark(c.outcome())
                )
            };
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let _ = writeln!(out, "  {}", counts(&j.verdict));
    }
    let (passed, line) = total_line(judged);
    let _ = writeln!(out, "{}: {line}", if passed { "PASSED" } else { "FAILED" });
    out
}

pub(crate) fn markdown(judged: &[Judged], run_noise_pct: f64) -> String {
    let mut out = String::from("## tickprof check\n");
    for j in judged {
        let status = mark(match j.verdict.outcome() {
            Outcome::Fail => Outcome::Fail,
            _ if j.verdict.inconclusive().count() > 0 => Outcome::Inconclusive,
            _ => Outcome::Pass,
        });
        let _ = writeln!(
            out,
            "\n### {status} `{}` ({}): {}\n\n{}\n",
            md_cell(&j.label),
            md_cell(&j.name),
            counts(&j.verdict),
            md_cell(&j.context(run_noise_pct))
        );
        let _ = writeln!(
            out,
            "| | metric | value | change or interval | limit | verdict |\n|:-:|---|--:|--:|--:|---|"
        );
        for c in &j.verdict.checks {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} |",
                mark(c.outcome()),
                md_cell(&c.name()),
                md_cell(&value_only(c)),
                md_cell(&change_cell(c)),
                md_cell(&limit_cell(c)),
                md_cell(&c.judgement.explain(j.verdict.false_alarm_pct))
            );
        }
    }
    let (passed, line) = total_line(judged);
    let _ = writeln!(
        out,
        "\n**{}**: {line}",
        if passed { "passed" } else { "failed" }
    );
    out
}

/// JUnit XML: one test suite per build, one test case per check; an inconclusive check is
/// `skipped` (neither a failure nor a pass). No timestamps or durations, so the file is
/// reproducible.
pub(crate) fn junit(judged: &[Judged]) -> String {
    let total: usize = judged.iter().map(|j| j.verdict.checks.len()).sum();
    let failed: usize = judged.iter().map(|j| j.verdict.violations().count()).sum();
    let skipped: usize = judged
        .iter()
        .map(|j| j.verdict.inconclusive().count())
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tickprof check\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\" \
         skipped=\"{skipped}\">"
    );
    for j in judged {
        let label = xml_escape(&j.label);
        let v = &j.verdict;
        let _ = writeln!(
            out,
            "  <testsuite name=\"{label}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            v.checks.len(),
            v.violations().count(),
            v.inconclusive().count()
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"report.name\" value=\"{}\"/></properties>",
            xml_escape(&j.name)
        );
        for c in &v.checks {
            let case = format!(
                "    <testcase name=\"{}\" classname=\"{label}\"",
                xml_escape(&c.name())
            );
            let detail = if c.value().is_some() {
                format!(
                    "{} {}, limit {}: {}",
                    value_cell(c, j.verdict.false_alarm_pct),
                    change_cell(c),
                    limit_cell(c),
                    c.judgement.explain(v.false_alarm_pct)
                )
            } else {
                value_cell(c, v.false_alarm_pct)
            };
            let detail = xml_escape(&detail);
            let _ = match c.outcome() {
                Outcome::Pass => writeln!(
                    out,
                    "{case}>\n      <system-out>{detail}</system-out>\n    </testcase>"
                ),
                Outcome::Fail => writeln!(
                    out,
                    "{case}>\n      <failure type=\"threshold\" message=\"{detail}\"/>\n    </testcase>"
                ),
                Outcome::Inconclusive => writeln!(
                    out,
                    "{case}>\n      <skipped message=\"{detail}\"/>\n    </testcase>"
                ),
            };
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    let _ = writeln!(out, "</testsuites>");
    out
}
