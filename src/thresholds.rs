//! Performance gates: limits read strictly from TOML, evaluated against a [`Report`] (and
//! optionally a baseline report) into a [`Verdict`].
//!
//! Pure functions: no I/O, no printing. A limit that is missed is a result (a failed [`Check`]),
//! never an error; errors are for thresholds that cannot be read. A metric the thresholds name
//! but the report lacks (a component that never ran, `resources: null`, a run without ticks) is
//! a failed check too: a gate that passes because it measured nothing is not a gate.
//!
//! Metric names, as printed and as used in `[baseline.metrics]`, are listed in
//! [`metric`](crate::metric).

mod limits;
mod verdict;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::metric::{Metric, Stat, Unit};
use crate::report::Report;

pub use crate::metric::Bound;
pub use limits::{
    BaselineLimits, ComponentLimits, CpuLimits, LatencyLimits, MemoryLimits, TickLimits,
};
pub use verdict::{Check, CheckKind, Verdict};

/// Every limit of a gate, as written in a thresholds TOML file.
///
/// Every section and key is optional; unknown keys are rejected, so a typo fails loudly instead
/// of silently disabling a limit. Units are in the key names.
///
/// # Example
/// ```
/// # #[cfg(feature = "cli")] {
/// use std::path::Path;
/// use tickprof::thresholds::Thresholds;
///
/// let thresholds = Thresholds::from_toml_str(
///     "[ticks]\nmin_throughput_per_s = 100_000\nmax_mean_us = 10\n",
///     Path::new("thresholds.toml"),
/// )?;
/// assert_eq!(thresholds.ticks.max_mean_us, Some(10.0));
/// # }
/// # Ok::<(), tickprof::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Thresholds {
    /// `[ticks]`: limits on the tick spans.
    #[serde(default)]
    pub ticks: TickLimits,
    /// `[unattributed]`: limits on the tick time no component span accounts for.
    #[serde(default)]
    pub unattributed: LatencyLimits,
    /// `[memory]`: limits on resident memory.
    #[serde(default)]
    pub memory: MemoryLimits,
    /// `[cpu]`: limits on CPU use.
    #[serde(default)]
    pub cpu: CpuLimits,
    /// `[components.<name>]`: limits per component span name.
    #[serde(default)]
    pub components: BTreeMap<String, ComponentLimits>,
    /// `[baseline]`: limits relative to a baseline report.
    #[serde(default)]
    pub baseline: Option<BaselineLimits>,
}

impl Thresholds {
    /// Parses a thresholds file strictly; `origin` names it in errors.
    ///
    /// # Errors
    /// [`Error::Parse`](crate::Error::Parse) with `origin`, line and column for malformed TOML,
    /// an unknown key (named in the message), a negative or non-finite limit, or an unknown
    /// metric name in `[baseline.metrics]`.
    #[cfg(feature = "cli")]
    pub fn from_toml_str(text: &str, origin: &std::path::Path) -> crate::Result<Self> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            crate::Error::Parse {
                path: origin.to_path_buf(),
                line,
                column,
                message: e.message().trim_end().to_owned(),
            }
        })
    }

    /// Whether no limit at all is set: a gate that would pass anything.
    pub fn is_empty(&self) -> bool {
        self.absolute_limits().is_empty() && !self.has_baseline_limits()
    }

    /// Whether `[baseline]` sets any limit (and so needs a baseline report).
    pub fn has_baseline_limits(&self) -> bool {
        self.baseline
            .as_ref()
            .is_some_and(|b| b.max_regression_pct.is_some() || !b.metrics.is_empty())
    }

    /// Checks `report` against every limit; relative limits only when `baseline` is given.
    pub fn evaluate(&self, report: &Report, baseline: Option<&Report>) -> Verdict {
        let mut checks: Vec<Check> = self
            .absolute_limits()
            .into_iter()
            .map(|(metric, limit)| {
                let value = metric.value(report);
                make_check(&metric, value, limit, CheckKind::Absolute)
            })
            .collect();
        if let (Some(limits), Some(base)) = (&self.baseline, baseline) {
            checks.extend(baseline_checks(limits, report, base));
        }
        Verdict { checks }
    }

    /// Every absolute limit, in file order of sections.
    fn absolute_limits(&self) -> Vec<(Metric, f64)> {
        let mut out = Vec::new();
        let t = &self.ticks;
        if let Some(n) = t.min_count {
            out.push((Metric::TickCount, n as f64));
        }
        if let Some(v) = t.min_throughput_per_s {
            out.push((Metric::Throughput, v));
        }
        push_latency(&mut out, t.latency_limits(), Metric::Tick);
        push_latency(
            &mut out,
            self.unattributed.latency_limits(),
            Metric::Unattributed,
        );
        if let Some(v) = self.memory.max_peak_rss_mb {
            out.push((Metric::PeakRssMb, v));
        }
        if let Some(v) = self.cpu.max_percent_of_one_core {
            out.push((Metric::CpuOfOneCore, v));
        }
        if let Some(v) = self.cpu.max_percent_of_machine {
            out.push((Metric::CpuOfMachine, v));
        }
        if let Some(v) = self.cpu.max_cpu_time_per_tick_us {
            out.push((Metric::CpuTimePerTick, v));
        }
        for (name, c) in &self.components {
            if let Some(n) = c.min_count {
                out.push((Metric::ComponentCount(name.clone()), n as f64));
            }
            push_latency(&mut out, c.latency_limits(), |stat| {
                Metric::Component(name.clone(), stat)
            });
        }
        out
    }
}

fn push_latency(
    out: &mut Vec<(Metric, f64)>,
    limits: [(Stat, Option<f64>); 6],
    metric: impl Fn(Stat) -> Metric,
) {
    for (stat, limit) in limits {
        if let Some(limit) = limit {
            out.push((metric(stat), limit));
        }
    }
}

fn make_check(
    metric: &Metric,
    value: std::result::Result<f64, String>,
    limit: f64,
    kind: CheckKind,
) -> Check {
    let bound = metric.bound();
    let (value, note) = match value {
        Ok(v) => (Some(v), None),
        Err(why) => (None, Some(why)),
    };
    Check {
        metric: metric.to_string(),
        passed: value.is_some_and(|v| bound.holds(v, limit)),
        value,
        limit,
        bound,
        unit: metric.unit(),
        kind,
        note,
    }
}

/// The relative checks: the default set under a global `max_regression_pct`, then the
/// per-metric overrides (which replace a default entry of the same name).
fn baseline_checks(limits: &BaselineLimits, report: &Report, base: &Report) -> Vec<Check> {
    let resolution_us = base
        .latency_resolution_ns()
        .max(report.latency_resolution_ns())
        / 1_000.0;
    let mut wanted: BTreeMap<Metric, f64> = BTreeMap::new();
    if let Some(pct) = limits.max_regression_pct {
        let mut defaults = vec![
            Metric::Throughput,
            Metric::Tick(Stat::Mean),
            Metric::Tick(Stat::P50),
            Metric::Tick(Stat::P99),
        ];
        if base.resources.is_some() {
            defaults.push(Metric::PeakRssMb);
        }
        for name in base.components.keys() {
            defaults.push(Metric::Component(name.clone(), Stat::Mean));
            defaults.push(Metric::Component(name.clone(), Stat::P99));
        }
        wanted.extend(defaults.into_iter().map(|m| (m, pct)));
    }
    for (name, pct) in &limits.metrics {
        // Names were validated when the TOML was read; a hand-built one that does not parse is
        // reported as a failed check rather than dropped.
        match Metric::parse(name) {
            Some(metric) => {
                wanted.insert(metric, *pct);
            }
            None => {
                wanted.insert(Metric::Unknown(name.clone()), *pct);
            }
        }
    }
    wanted
        .into_iter()
        .map(|(metric, pct)| {
            let kind = |baseline, resolution_floor| CheckKind::Baseline {
                baseline,
                max_regression_pct: pct,
                resolution_floor,
            };
            match metric.value(base) {
                Ok(b) => {
                    let relative = match metric.bound() {
                        Bound::AtMost => b * (1.0 + pct / 100.0),
                        Bound::AtLeast => b * (1.0 - pct / 100.0),
                    };
                    // A latency cannot regress by less than the reports can resolve: one
                    // 10 ns clock step on a 30 ns component is not a 33 % regression. CPU time
                    // per tick (µs too) gets the same floor, as it did when units were strings,
                    // although it is read from the process CPU clock, not from spans.
                    let floored = matches!(metric.unit(), Unit::Micros | Unit::CpuMicros)
                        && metric.bound() == Bound::AtMost;
                    let floor = Some(resolution_us).filter(|r| floored && b + r > relative);
                    let limit = floor.map_or(relative, |r| b + r);
                    make_check(&metric, metric.value(report), limit, kind(b, floor))
                }
                Err(why) => make_check(
                    &metric,
                    Err(format!("not in the baseline: {why}")),
                    f64::NAN,
                    kind(f64::NAN, None),
                ),
            }
        })
        .collect()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
#[cfg(feature = "cli")]
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::test_support::{report, resources};

    fn parse(toml: &str) -> crate::Result<Thresholds> {
        Thresholds::from_toml_str(toml, Path::new("gate.toml"))
    }

    /// Ticks of 2, 4, 6, 8 µs (mean 5 µs, 200,000 ticks/s); `strategy` spans of 1 µs;
    /// 100 MB peak; 100% of one core on 2 cores.
    fn run() -> Report {
        let mut r = report(
            "run",
            &[2_000, 4_000, 6_000, 8_000],
            &[("strategy", &[1_000, 1_000])],
        );
        r.resources = Some(resources(100.0, 100.0, 2.0));
        r.resources_unavailable = None;
        r
    }

    fn no_resources() -> Report {
        report("bare", &[2_000, 4_000, 6_000, 8_000], &[])
    }

    fn slower() -> Report {
        let mut r = report(
            "slower",
            &[2_400, 4_800, 7_200, 9_600],
            &[("strategy", &[1_050, 1_050])],
        );
        r.resources = Some(resources(100.0, 100.0, 2.0));
        r.resources_unavailable = None;
        r
    }

    #[test]
    fn checks_table() {
        type Case = (
            &'static str,
            &'static str,
            fn() -> Report,
            Option<fn() -> Report>,
            &'static [(&'static str, bool)],
        );
        let cases: &[Case] = &[
            (
                "pass",
                "[ticks]\nmin_throughput_per_s = 100_000\nmax_mean_us = 10\nmax_p99_us = 9\n\
                 [memory]\nmax_peak_rss_mb = 500\n[cpu]\nmax_percent_of_one_core = 150\n\
                 [components.strategy]\nmax_mean_us = 2\nmin_count = 2\n",
                run,
                None,
                &[
                    ("ticks.throughput_per_s", true),
                    ("ticks.mean_us", true),
                    ("ticks.p99_us", true),
                    ("memory.peak_rss_mb", true),
                    ("cpu.percent_of_one_core", true),
                    ("components.strategy.count", true),
                    ("components.strategy.mean_us", true),
                ],
            ),
            (
                "fail",
                "[ticks]\nmin_throughput_per_s = 300_000\nmax_mean_us = 4.9\nmax_p50_us = 4.1\n\
                 [memory]\nmax_peak_rss_mb = 99\n[cpu]\nmax_percent_of_machine = 40\n",
                run,
                None,
                &[
                    ("ticks.throughput_per_s", false),
                    ("ticks.mean_us", false),
                    ("ticks.p50_us", true),
                    ("memory.peak_rss_mb", false),
                    ("cpu.percent_of_machine", false),
                ],
            ),
            (
                "missing metric",
                "[memory]\nmax_peak_rss_mb = 500\n[cpu]\nmax_percent_of_one_core = 150\n\
                 [components.risk]\nmax_p99_us = 100\n",
                no_resources,
                None,
                &[
                    ("memory.peak_rss_mb", false),
                    ("cpu.percent_of_one_core", false),
                    ("components.risk.p99_us", false),
                ],
            ),
            (
                "baseline regression",
                "[baseline]\nmax_regression_pct = 10\n[baseline.metrics]\n\"ticks.p99_us\" = 25\n",
                slower,
                Some(run),
                &[
                    ("ticks.throughput_per_s vs baseline", false),
                    ("ticks.mean_us vs baseline", false),
                    ("ticks.p50_us vs baseline", false),
                    ("ticks.p99_us vs baseline", true),
                    ("memory.peak_rss_mb vs baseline", true),
                    ("components.strategy.mean_us vs baseline", true),
                    ("components.strategy.p99_us vs baseline", true),
                ],
            ),
            (
                "baseline limits without a baseline report",
                "[baseline]\nmax_regression_pct = 10\n",
                slower,
                None,
                &[],
            ),
        ];
        for (name, toml, report, baseline, expected) in cases {
            let thresholds = parse(toml).unwrap_or_else(|e| panic!("{name}: {e}"));
            let base = baseline.map(|b| b());
            let verdict = thresholds.evaluate(&report(), base.as_ref());
            let got: Vec<(String, bool)> = verdict
                .checks
                .iter()
                .map(|c| (c.name(), c.passed))
                .collect();
            let want: Vec<(String, bool)> = expected
                .iter()
                .map(|(m, p)| ((*m).to_owned(), *p))
                .collect();
            assert_eq!(got, want, "case `{name}`");
            assert_eq!(verdict.passed(), want.iter().all(|w| w.1), "case `{name}`");
        }
    }

    #[test]
    fn missing_metric_says_why() {
        let t = parse("[memory]\nmax_peak_rss_mb = 500\n").unwrap();
        let verdict = t.evaluate(&no_resources(), None);
        let check = &verdict.checks[0];
        assert_eq!(check.value, None);
        assert_eq!(
            check.note.as_deref(),
            Some("resources are null: sampler off")
        );
    }

    #[test]
    fn empty_run_fails_latency_limits() {
        let t = parse("[ticks]\nmax_mean_us = 10\n").unwrap();
        let verdict = t.evaluate(&report("empty", &[], &[]), None);
        assert!(!verdict.passed());
    }

    #[test]
    fn parse_errors_table() {
        let cases: &[(&str, &str, usize, usize, &str)] = &[
            (
                "[ticks]\nmax_p99 = 5\n",
                "unknown key",
                2,
                1,
                "unknown field `max_p99`",
            ),
            (
                "[tick]\nmax_mean_us = 5\n",
                "unknown section",
                1,
                2,
                "unknown field `tick`",
            ),
            (
                "[components.parse]\nmean_us = 5\n",
                "unknown component key",
                2,
                1,
                "unknown field `mean_us`",
            ),
            (
                "[ticks]\nmax_mean_us = -1\n",
                "negative limit",
                2,
                15,
                ">= 0",
            ),
            ("[ticks]\nmax_mean_us = nan\n", "nan limit", 2, 15, ">= 0"),
            (
                "[ticks]\nmax_mean_us = \"5\"\n",
                "string limit",
                2,
                15,
                "string",
            ),
            (
                "[baseline.metrics]\n\"ticks.p99\" = 5\n",
                "unknown baseline metric",
                2,
                1,
                "unknown metric `ticks.p99`",
            ),
            ("[ticks\n", "malformed", 1, 7, ""),
        ];
        for (toml, name, line, column, needle) in cases {
            match parse(toml) {
                Err(crate::Error::Parse {
                    path,
                    line: l,
                    column: c,
                    message,
                }) => {
                    assert_eq!(path, Path::new("gate.toml"), "{name}");
                    assert_eq!((l, c), (*line, *column), "{name}: {message}");
                    assert!(message.contains(needle), "{name}: {message}");
                }
                other => panic!("{name}: expected a parse error, got {other:?}"),
            }
        }
    }

    /// The shipped gate parses and holds the seed's targets.
    #[test]
    fn shipped_thresholds_parse() {
        let t = Thresholds::from_toml_str(
            include_str!("../reports/thresholds.toml"),
            Path::new("reports/thresholds.toml"),
        )
        .unwrap();
        assert_eq!(t.ticks.min_throughput_per_s, Some(100_000.0));
        assert_eq!(t.ticks.max_mean_us, Some(10.0));
        assert_eq!(t.memory.max_peak_rss_mb, Some(500.0));
        assert_eq!(t.cpu.max_percent_of_one_core, Some(150.0));
        // The README's `--baseline base.json` example needs a [baseline] limit to gate with.
        assert!(t.has_baseline_limits());
        assert_eq!(
            t.baseline.as_ref().and_then(|b| b.max_regression_pct),
            Some(10.0)
        );
        assert!(t.evaluate(&run(), None).passed());
        assert!(t.evaluate(&run(), Some(&run())).passed());
    }

    #[test]
    fn emptiness() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("[ticks]\n").unwrap().is_empty());
        assert!(
            !parse("[baseline]\nmax_regression_pct = 5\n")
                .unwrap()
                .is_empty()
        );
    }

    /// Each generated latency key limits the statistic it names, in every section that has
    /// them: `max_p95_us` = 1 µs checks the p95 (a value of `p95_us`), not another percentile.
    #[test]
    fn every_latency_key_limits_its_own_statistic() {
        // Ticks and `c` spans of 1..=1000 µs: every statistic has a different value.
        let values: Vec<u64> = (1..=1_000).map(|us| us * 1_000).collect();
        let mut r = report("run", &values, &[("c", &values)]);
        r.unattributed = crate::test_support::latency(&values);
        for stat in Stat::ALL {
            let key = stat.key();
            for (section, metric) in [
                ("ticks", format!("ticks.{key}")),
                ("unattributed", format!("unattributed.{key}")),
                ("components.c", format!("components.c.{key}")),
            ] {
                let t = parse(&format!("[{section}]\nmax_{key} = 1\n")).unwrap();
                let checks = t.evaluate(&r, None).checks;
                assert_eq!(checks.len(), 1, "{section}.max_{key}");
                assert_eq!(checks[0].metric, metric);
                assert_eq!(checks[0].limit, 1.0);
                assert_eq!(checks[0].unit, Unit::Micros);
                let want = Metric::parse(&metric).unwrap().value(&r);
                assert_eq!(checks[0].value, want.ok(), "{metric}");
            }
        }
        let values_us: Vec<f64> = Stat::ALL.iter().map(|s| s.of(&r.ticks.latency)).collect();
        let mut distinct = values_us.clone();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            6,
            "the fixture must tell the statistics apart: {values_us:?}"
        );
    }

    /// The floor, not the percentage, sets a small latency's baseline limit, and the check
    /// says so; a large latency's limit is the percentage's, with no floor recorded.
    #[test]
    fn baseline_checks_record_the_resolution_floor_that_set_their_limit() {
        let base = report("base", &[5_000; 100], &[("tiny", &[56; 100])]);
        let new = report("new", &[5_000; 100], &[("tiny", &[84; 100])]);
        let t = parse("[baseline]\nmax_regression_pct = 10\n").unwrap();
        let verdict = t.evaluate(&new, Some(&base));
        let check = |name: &str| {
            verdict
                .checks
                .iter()
                .find(|c| c.metric == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        // 56 ns + 40 ns (twice the fixtures' 20 ns empty span) > 56 ns × 1.1.
        let tiny = check("components.tiny.mean_us");
        assert!((tiny.limit - 0.096).abs() < 1e-12, "{tiny:?}");
        assert!(tiny.passed, "{tiny:?}");
        match tiny.kind {
            CheckKind::Baseline {
                baseline,
                max_regression_pct,
                resolution_floor: Some(floor),
            } => {
                assert!((baseline - 0.056).abs() < 1e-12);
                assert_eq!(max_regression_pct, 10.0);
                assert!((floor - 0.040).abs() < 1e-12);
            }
            other => panic!("{other:?}"),
        }
        // 5 µs × 1.1 > 5 µs + 40 ns: the percentage decides.
        let mean = check("ticks.mean_us");
        match mean.kind {
            CheckKind::Baseline {
                baseline,
                resolution_floor: None,
                ..
            } => assert!((mean.limit - baseline * 1.1).abs() < 1e-12, "{mean:?}"),
            other => panic!("{other:?}"),
        }
        // Throughput has no floor, however small the change.
        assert!(matches!(
            check("ticks.throughput_per_s").kind,
            CheckKind::Baseline {
                resolution_floor: None,
                ..
            }
        ));
    }
}
