//! The metric vocabulary: the names, units and better direction of every quantity of a report
//! that a gate ([`thresholds`](crate::thresholds)) or a comparison ([`compare`](crate::compare))
//! judges.
//!
//! Both judge the same quantities under the same names, so the names are defined once, here,
//! and neither module depends on the other.
//!
//! Metric names, as printed and as used in `[baseline.metrics]`:
//!
//! | metric | unit | better |
//! |---|---|---|
//! | `ticks.count` | ticks | higher |
//! | `ticks.throughput_per_s` | ticks/s | higher |
//! | `ticks.{mean,trimmed_mean,p50,p90,p95,p99,p999}_us` | µs | lower |
//! | `unattributed.{mean,trimmed_mean,p50,…,p999}_us` | µs | lower |
//! | `components.<name>.count` | spans | higher |
//! | `components.<name>.{mean,trimmed_mean,p50,…,p999}_us` | µs | lower |
//! | `memory.peak_rss_mb` | 10⁶ bytes | lower |
//! | `cpu.percent_of_one_core` | % (mean) | lower |
//! | `cpu.percent_of_machine` | % (mean) | lower |
//! | `cpu.time_per_tick_us` | µs of CPU | lower |
//! | `ticks.allocations.{mean,p50,p99,max}` | allocations per tick | lower |
//! | `ticks.allocations.{mean,p50,p99,max}_bytes` | bytes per tick | lower |
//! | `ticks.allocations.share_allocating_pct` | % of ticks that allocated | lower |
//! | `components.<name>.allocations.<the same>` | per span, children excluded | lower |
//!
//! `trimmed_mean_us` is the mean of the middle 90 % of the values (5 % trimmed off each end),
//! computed from the histogram: unlike the plain mean, one preempted tick cannot move it, and
//! unlike the median it still moves when any part of the bulk of the distribution does. It is
//! what the gates compare by default ([`thresholds`](crate::thresholds)).
//!
//! The allocation metrics (a report's `ticks.allocations` and `components.<name>.allocations`,
//! present when the run's binary installed a [`CountingAllocator`](crate::CountingAllocator))
//! are single values compared exactly: a deterministic workload makes the same allocations in
//! every run, so `max_p99 = 0` fails on the first tick that allocates in the figures, whatever
//! the machine. With sampling they are the timed (or recorded) spans' figures.

use std::fmt;

use crate::gate::histogram::Cdf;
use crate::report::{AllocationStats, LatencyStats, Report, Resources};

/// Which side of its limit a value must stay on; for a comparison, which direction is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `value <= limit` (latencies, memory, CPU): lower is better.
    AtMost,
    /// `value >= limit` (throughput, counts): higher is better.
    AtLeast,
}

impl Bound {
    /// `≤` or `≥`.
    pub fn symbol(self) -> &'static str {
        match self {
            Bound::AtMost => "≤",
            Bound::AtLeast => "≥",
        }
    }
}

/// The unit of a metric's value (and of a limit or a difference of it).
///
/// An enum rather than the printed symbol, so code decides by the kind of quantity (is this a
/// span's latency?) and not by comparing strings; [`Unit::symbol`] is only for printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// A number of ticks or spans; printed without a unit.
    Count,
    /// Ticks per second of wall time.
    TicksPerSec,
    /// Microseconds of a span's busy time (tick, component, unattributed latencies).
    Micros,
    /// Microseconds of CPU time (user + system), from the process CPU clock, not from spans.
    CpuMicros,
    /// Megabytes of 10⁶ bytes.
    Megabytes,
    /// Percent.
    Percent,
    /// Allocations (per tick or per span).
    Allocations,
    /// Bytes (allocated per tick or per span).
    Bytes,
}

impl Unit {
    /// The symbol printed after a value: `µs`, `ticks/s`, `MB`, `%`, or empty for counts.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Count => "",
            Unit::TicksPerSec => "ticks/s",
            Unit::Micros | Unit::CpuMicros => "µs",
            Unit::Megabytes => "MB",
            Unit::Percent => "%",
            Unit::Allocations => "allocations",
            Unit::Bytes => "B",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A latency statistic of a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stat {
    Mean,
    TrimmedMean,
    P50,
    P90,
    P95,
    P99,
    P999,
}

impl Stat {
    /// Every statistic, in the order they are checked and printed.
    pub(crate) const ALL: [Stat; 7] = [
        Stat::Mean,
        Stat::TrimmedMean,
        Stat::P50,
        Stat::P90,
        Stat::P95,
        Stat::P99,
        Stat::P999,
    ];

    /// The last part of the metric name (`p99_us`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Stat::Mean => "mean_us",
            Stat::TrimmedMean => "trimmed_mean_us",
            Stat::P50 => "p50_us",
            Stat::P90 => "p90_us",
            Stat::P95 => "p95_us",
            Stat::P99 => "p99_us",
            Stat::P999 => "p999_us",
        }
    }

    /// The quantile, `None` for the means.
    pub(crate) fn quantile(self) -> Option<f64> {
        match self {
            Stat::Mean | Stat::TrimmedMean => None,
            Stat::P50 => Some(0.50),
            Stat::P90 => Some(0.90),
            Stat::P95 => Some(0.95),
            Stat::P99 => Some(0.99),
            Stat::P999 => Some(0.999),
        }
    }

    /// The fewest values one run must hold for this statistic to be judged: 20 for the
    /// means and the median, and ten values beyond a percentile for the others (p99: 1,000,
    /// p99.9: 10,000). Below that a percentile is one of the few largest values, and its
    /// interval says little more than "somewhere in the tail".
    pub(crate) fn min_samples(self) -> u64 {
        match self.quantile() {
            None => 20,
            Some(q) => ((10.0 / (1.0 - q)).round() as u64).max(20),
        }
    }

    /// The statistic in µs: the report's own figure, or for the trimmed mean, computed from
    /// its histogram (`field` names the histogram in errors).
    pub(crate) fn of(self, l: &LatencyStats, field: &str) -> std::result::Result<f64, String> {
        let ns = match self {
            Stat::Mean => l.mean_ns,
            Stat::TrimmedMean => {
                let h = l.decode_histogram(field).map_err(|e| e.to_string())?;
                Cdf::new(&h).trimmed_mean().map_or(0.0, |(mean, _)| mean)
            }
            Stat::P50 => l.p50_ns as f64,
            Stat::P90 => l.p90_ns as f64,
            Stat::P95 => l.p95_ns as f64,
            Stat::P99 => l.p99_ns as f64,
            Stat::P999 => l.p999_ns as f64,
        };
        Ok(ns / 1_000.0)
    }

    fn parse(key: &str) -> Option<Stat> {
        Stat::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// A figure of a report's allocation statistics ([`AllocationStats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AllocStat {
    Mean,
    P50,
    P99,
    Max,
    MeanBytes,
    P50Bytes,
    P99Bytes,
    MaxBytes,
    ShareAllocatingPct,
}

impl AllocStat {
    /// Every figure, in the order they are checked and printed.
    pub(crate) const ALL: [AllocStat; 9] = [
        AllocStat::Mean,
        AllocStat::P50,
        AllocStat::P99,
        AllocStat::Max,
        AllocStat::MeanBytes,
        AllocStat::P50Bytes,
        AllocStat::P99Bytes,
        AllocStat::MaxBytes,
        AllocStat::ShareAllocatingPct,
    ];

    /// The last part of the metric name (`p99`, `p99_bytes`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            AllocStat::Mean => "mean",
            AllocStat::P50 => "p50",
            AllocStat::P99 => "p99",
            AllocStat::Max => "max",
            AllocStat::MeanBytes => "mean_bytes",
            AllocStat::P50Bytes => "p50_bytes",
            AllocStat::P99Bytes => "p99_bytes",
            AllocStat::MaxBytes => "max_bytes",
            AllocStat::ShareAllocatingPct => "share_allocating_pct",
        }
    }

    fn parse(key: &str) -> Option<AllocStat> {
        AllocStat::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The figure in its unit (the share in %).
    pub(crate) fn of(self, a: &AllocationStats) -> f64 {
        match self {
            AllocStat::Mean => a.mean,
            AllocStat::P50 => a.p50 as f64,
            AllocStat::P99 => a.p99 as f64,
            AllocStat::Max => a.max as f64,
            AllocStat::MeanBytes => a.mean_bytes,
            AllocStat::P50Bytes => a.p50_bytes as f64,
            AllocStat::P99Bytes => a.p99_bytes as f64,
            AllocStat::MaxBytes => a.max_bytes as f64,
            AllocStat::ShareAllocatingPct => 100.0 * a.share_allocating,
        }
    }

    fn unit(self) -> Unit {
        match self {
            AllocStat::Mean | AllocStat::P50 | AllocStat::P99 | AllocStat::Max => Unit::Allocations,
            AllocStat::MeanBytes
            | AllocStat::P50Bytes
            | AllocStat::P99Bytes
            | AllocStat::MaxBytes => Unit::Bytes,
            AllocStat::ShareAllocatingPct => Unit::Percent,
        }
    }
}

/// One quantity of a report; see the module docs for the names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Metric {
    TickCount,
    Throughput,
    Tick(Stat),
    Unattributed(Stat),
    PeakRssMb,
    CpuOfOneCore,
    CpuOfMachine,
    CpuTimePerTick,
    ComponentCount(String),
    Component(String, Stat),
    /// A figure of `ticks.allocations`.
    TickAllocations(AllocStat),
    /// A figure of `components.<name>.allocations`.
    ComponentAllocations(String, AllocStat),
    /// A name that does not parse (only from hand-built thresholds); always missing.
    Unknown(String),
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::TickCount => f.write_str("ticks.count"),
            Metric::Throughput => f.write_str("ticks.throughput_per_s"),
            Metric::Tick(s) => write!(f, "ticks.{}", s.key()),
            Metric::Unattributed(s) => write!(f, "unattributed.{}", s.key()),
            Metric::PeakRssMb => f.write_str("memory.peak_rss_mb"),
            Metric::CpuOfOneCore => f.write_str("cpu.percent_of_one_core"),
            Metric::CpuOfMachine => f.write_str("cpu.percent_of_machine"),
            Metric::CpuTimePerTick => f.write_str("cpu.time_per_tick_us"),
            Metric::ComponentCount(name) => write!(f, "components.{name}.count"),
            Metric::Component(name, s) => write!(f, "components.{name}.{}", s.key()),
            Metric::TickAllocations(s) => write!(f, "ticks.allocations.{}", s.key()),
            Metric::ComponentAllocations(name, s) => {
                write!(f, "components.{name}.allocations.{}", s.key())
            }
            Metric::Unknown(name) => f.write_str(name),
        }
    }
}

/// Every metric name, for the message that rejects an unknown one.
pub(crate) const METRIC_NAMES: &str = "ticks.count, ticks.throughput_per_s, ticks.<stat>, \
     unattributed.<stat>, components.<name>.count, components.<name>.<stat>, \
     memory.peak_rss_mb, cpu.percent_of_one_core, cpu.percent_of_machine, \
     cpu.time_per_tick_us, ticks.allocations.<figure>, components.<name>.allocations.<figure> \
     (<stat>: mean_us, trimmed_mean_us, p50_us, p90_us, p95_us, p99_us, p999_us; <figure>: \
     mean, p50, p99, max, mean_bytes, p50_bytes, p99_bytes, max_bytes, share_allocating_pct)";

impl Metric {
    /// Parses a metric name; component names may contain dots (the statistic is the last part).
    pub(crate) fn parse(name: &str) -> Option<Metric> {
        let fixed = match name {
            "ticks.count" => Some(Metric::TickCount),
            "ticks.throughput_per_s" => Some(Metric::Throughput),
            "memory.peak_rss_mb" => Some(Metric::PeakRssMb),
            "cpu.percent_of_one_core" => Some(Metric::CpuOfOneCore),
            "cpu.percent_of_machine" => Some(Metric::CpuOfMachine),
            "cpu.time_per_tick_us" => Some(Metric::CpuTimePerTick),
            _ => None,
        };
        if fixed.is_some() {
            return fixed;
        }
        if let Some(figure) = name.strip_prefix("ticks.allocations.") {
            return AllocStat::parse(figure).map(Metric::TickAllocations);
        }
        if let Some(stat) = name.strip_prefix("ticks.") {
            return Stat::parse(stat).map(Metric::Tick);
        }
        if let Some(stat) = name.strip_prefix("unattributed.") {
            return Stat::parse(stat).map(Metric::Unattributed);
        }
        let rest = name.strip_prefix("components.")?;
        let (component, stat) = rest.rsplit_once('.')?;
        if component.is_empty() {
            return None;
        }
        // `<name>.allocations.<figure>`; the figures' names are no latency statistic's, so a
        // component named `x.allocations` keeps its `…p99_us`.
        if let Some(figure) = AllocStat::parse(stat)
            && let Some(name) = component.strip_suffix(".allocations")
            && !name.is_empty()
        {
            return Some(Metric::ComponentAllocations(name.to_owned(), figure));
        }
        if stat == "count" {
            return Some(Metric::ComponentCount(component.to_owned()));
        }
        Stat::parse(stat).map(|s| Metric::Component(component.to_owned(), s))
    }

    /// The fewest values one run must hold for this metric to be judged (see
    /// [`Stat::min_samples`]); `None` for single values.
    pub(crate) fn min_samples(&self) -> Option<u64> {
        match self {
            Metric::Tick(s) | Metric::Unattributed(s) | Metric::Component(_, s) => {
                Some(s.min_samples())
            }
            _ => None,
        }
    }

    /// Whether the metric is a count, which runs of one workload repeat exactly: compared
    /// without noise, against an absolute limit or a baseline alike.
    pub(crate) fn is_exact(&self) -> bool {
        matches!(
            self,
            Metric::TickCount
                | Metric::ComponentCount(_)
                | Metric::TickAllocations(_)
                | Metric::ComponentAllocations(..)
        )
    }

    /// Which direction is better: counts and throughput must be high, everything else low.
    pub(crate) fn bound(&self) -> Bound {
        match self {
            Metric::TickCount | Metric::Throughput | Metric::ComponentCount(_) => Bound::AtLeast,
            _ => Bound::AtMost,
        }
    }

    pub(crate) fn unit(&self) -> Unit {
        match self {
            Metric::TickCount | Metric::ComponentCount(_) | Metric::Unknown(_) => Unit::Count,
            Metric::Throughput => Unit::TicksPerSec,
            Metric::Tick(_) | Metric::Unattributed(_) | Metric::Component(..) => Unit::Micros,
            Metric::CpuTimePerTick => Unit::CpuMicros,
            Metric::PeakRssMb => Unit::Megabytes,
            Metric::CpuOfOneCore | Metric::CpuOfMachine => Unit::Percent,
            Metric::TickAllocations(s) | Metric::ComponentAllocations(_, s) => s.unit(),
        }
    }

    /// The metric's value in `report`, or why it has none. Latencies of spans that never closed
    /// and CPU figures without samples are missing, not zero: zero would pass every limit.
    pub(crate) fn value(&self, report: &Report) -> std::result::Result<f64, String> {
        if let Some((stat, distribution)) = self.distribution(report) {
            let (field, stats) = distribution?;
            return stat.of(stats, &field);
        }
        let ticks = report.ticks.count;
        let no_ticks = || "no tick spans were recorded".to_owned();
        match self {
            Metric::TickCount => Ok(ticks as f64),
            Metric::Throughput => Ok(report.ticks.throughput_per_s),
            Metric::ComponentCount(name) => {
                Ok(report.components.get(name).map_or(0, |c| c.count) as f64)
            }
            Metric::PeakRssMb => resources(report).map(|r| r.peak_rss_bytes as f64 / 1e6),
            Metric::CpuOfOneCore | Metric::CpuOfMachine | Metric::CpuTimePerTick => {
                let r = resources(report)?;
                // No mean: too short a run (or no CPU clock and no samples) for any CPU figure.
                let too_short = || {
                    format!(
                        "CPU is n/a: the run lasted {:.3} ms, too short for a CPU figure (10 ms or \
                         more)",
                        report.total_time_s * 1e3
                    )
                };
                match self {
                    Metric::CpuOfOneCore => r.cpu_percent.mean.ok_or_else(too_short),
                    Metric::CpuOfMachine => r.cpu_percent_of_machine.mean.ok_or_else(too_short),
                    _ if r.cpu_percent.mean.is_none() => Err(too_short()),
                    _ if ticks > 0 => Ok(r.cpu_time_s * 1e6 / ticks as f64),
                    _ => Err(no_ticks()),
                }
            }
            Metric::TickAllocations(figure) => match &report.ticks.allocations {
                Some(a) => Ok(figure.of(a)),
                None if ticks == 0 => Err(no_ticks()),
                None => Err(format!("ticks.allocations is absent: {}", NO_ALLOCATIONS)),
            },
            Metric::ComponentAllocations(name, figure) => match report.components.get(name) {
                Some(c) => match &c.allocations {
                    Some(a) => Ok(figure.of(a)),
                    None if c.count == 0 => Err(format!("component `{name}` has no closed spans")),
                    // The run counted allocations, but none of this component's spans was
                    // measured after the warm-up (its recorded ticks were all warm-up ticks).
                    None if report.ticks.allocations.is_some() => Err(format!(
                        "components.{name}.allocations is absent: none of its {} spans was \
                         recorded after the warm-up (run more ticks, or lower warmup_ticks)",
                        c.count
                    )),
                    None => Err(format!(
                        "components.{name}.allocations is absent: {NO_ALLOCATIONS}"
                    )),
                },
                None => Err(format!("component `{name}` is not in the report")),
            },
            Metric::Unknown(name) => Err(format!("unknown metric `{name}`")),
            Metric::Tick(_) | Metric::Unattributed(_) | Metric::Component(..) => {
                unreachable_latency()
            }
        }
    }

    /// For a latency metric, its statistic and the distribution it is taken from (the field's
    /// name in the report, for errors, and its stats), or why the report has none; `None` for
    /// the single-valued metrics. An empty distribution is missing, not zero: zero would pass
    /// every upper limit.
    pub(crate) fn distribution<'r>(&self, report: &'r Report) -> Option<(Stat, Distribution<'r>)> {
        let ticks = report.ticks.count;
        let no_ticks = || "no tick spans were recorded".to_owned();
        let found = match self {
            Metric::Tick(stat) => (
                *stat,
                if has_values(report, &report.ticks.latency) {
                    Ok(("ticks.latency".to_owned(), &report.ticks.latency))
                } else if ticks == 0 {
                    Err(no_ticks())
                } else {
                    Err(no_timed_ticks(report))
                },
            ),
            Metric::Unattributed(stat) => (
                *stat,
                if has_values(report, &report.unattributed) {
                    Ok(("unattributed".to_owned(), &report.unattributed))
                } else if ticks == 0 {
                    Err(no_ticks())
                } else {
                    Err("no tick was recorded with its components".to_owned())
                },
            ),
            Metric::Component(name, stat) => (
                *stat,
                match report.components.get(name) {
                    Some(c) if c.count > 0 => {
                        Ok((format!("components.{name}.latency"), &c.latency))
                    }
                    Some(_) => Err(format!("component `{name}` has no closed spans")),
                    None => Err(format!("component `{name}` is not in the report")),
                },
            ),
            _ => return None,
        };
        Some(found)
    }
}

/// Why a report with spans has no allocation figures for them.
const NO_ALLOCATIONS: &str = "the run counted no allocations (install tickprof::CountingAllocator \
     as the binary's #[global_allocator]; reports before schema 7 have none)";

/// The distribution a latency metric is read from: its field name in the report (for errors)
/// and its stats, or why the report has none.
pub(crate) type Distribution<'r> = std::result::Result<(String, &'r LatencyStats), String>;

/// `Metric::value` answers latency metrics through `Metric::distribution` before its match;
/// reaching the match with one is a bug, reported as a missing value rather than a panic.
fn unreachable_latency() -> std::result::Result<f64, String> {
    Err("internal error: a latency metric read as a single value".to_owned())
}

/// Whether a distribution holds values: its sample count (schema 2 on), or, in schema 1, which
/// has none, whether the run saw ticks. An empty one reads 0 everywhere, which would pass
/// every upper limit.
fn has_values(report: &Report, stats: &crate::report::LatencyStats) -> bool {
    if report.schema_version >= 2 {
        stats.samples > 0
    } else {
        report.ticks.count > 0
    }
}

/// Why a run with ticks has no tick latency.
fn no_timed_ticks(report: &Report) -> String {
    match &report.ticks.warmup {
        Some(w) if w.count > 0 => format!(
            "no tick timed after the warm-up: all {} measured ticks were warm-up (each thread's \
             first {}; `warmup_ticks` sets it)",
            w.count, w.ticks_per_thread
        ),
        _ => "no tick was timed".to_owned(),
    }
}

fn resources(report: &Report) -> std::result::Result<&Resources, String> {
    report
        .resources
        .as_ref()
        .ok_or_else(|| match &report.resources_unavailable {
            Some(reason) => format!("resources are null: {reason}"),
            None => "resources are null".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component without allocation figures in a run that counted them says why (no span
    /// of it after the warm-up), not "install the allocator".
    #[test]
    fn a_component_without_allocation_figures_says_why() {
        let mut report = crate::test_support::report("r", &[1_000; 10], &[("parse", &[500; 10])]);
        let metric = Metric::parse("components.parse.allocations.mean").unwrap();
        let without = metric.value(&report).unwrap_err();
        assert!(
            without.contains("install tickprof::CountingAllocator"),
            "{without}"
        );
        report.ticks.allocations = Some(crate::test_support::allocations(&[(0, 0); 10]));
        let warmup_only = metric.value(&report).unwrap_err();
        assert!(
            warmup_only.contains("none of its 10 spans was recorded after the warm-up"),
            "{warmup_only}"
        );
    }

    #[test]
    fn metric_names_round_trip() {
        for name in [
            "ticks.count",
            "ticks.throughput_per_s",
            "ticks.p999_us",
            "unattributed.mean_us",
            "components.risk.check.p99_us",
            "components.a.count",
            "memory.peak_rss_mb",
            "cpu.percent_of_one_core",
            "cpu.percent_of_machine",
            "cpu.time_per_tick_us",
            "ticks.allocations.p99",
            "ticks.allocations.max_bytes",
            "ticks.allocations.share_allocating_pct",
            "components.parse.allocations.mean",
            "components.risk.check.allocations.p99_bytes",
        ] {
            let metric = Metric::parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(metric.to_string(), name);
        }
        for bad in [
            "ticks.p99",
            "components..p99_us",
            "components.x",
            "cpu",
            "",
            "ticks.allocations.p99_us",
            "ticks.allocations",
            "components.allocations.p99",
            "components.x.allocations.p90",
        ] {
            assert_eq!(Metric::parse(bad), None, "{bad}");
        }
        // A component named `x.allocations` keeps its latency statistics.
        assert_eq!(
            Metric::parse("components.x.allocations.p99_us"),
            Some(Metric::Component("x.allocations".to_owned(), Stat::P99))
        );
        assert_eq!(
            Metric::parse("components.x.allocations.p99"),
            Some(Metric::ComponentAllocations("x".to_owned(), AllocStat::P99))
        );
    }

    /// Units and directions as the module docs' table states them.
    #[test]
    fn units_and_directions() {
        let cases = [
            ("ticks.count", Unit::Count, Bound::AtLeast),
            ("ticks.throughput_per_s", Unit::TicksPerSec, Bound::AtLeast),
            ("ticks.p99_us", Unit::Micros, Bound::AtMost),
            ("unattributed.mean_us", Unit::Micros, Bound::AtMost),
            ("components.a.count", Unit::Count, Bound::AtLeast),
            ("components.a.p50_us", Unit::Micros, Bound::AtMost),
            ("memory.peak_rss_mb", Unit::Megabytes, Bound::AtMost),
            ("cpu.percent_of_one_core", Unit::Percent, Bound::AtMost),
            ("cpu.percent_of_machine", Unit::Percent, Bound::AtMost),
            ("cpu.time_per_tick_us", Unit::CpuMicros, Bound::AtMost),
            ("ticks.allocations.p99", Unit::Allocations, Bound::AtMost),
            ("ticks.allocations.mean_bytes", Unit::Bytes, Bound::AtMost),
            (
                "components.a.allocations.share_allocating_pct",
                Unit::Percent,
                Bound::AtMost,
            ),
        ];
        for (name, unit, bound) in cases {
            let metric = Metric::parse(name).unwrap();
            assert_eq!((metric.unit(), metric.bound()), (unit, bound), "{name}");
        }
        assert_eq!(Unit::CpuMicros.symbol(), "µs");
        assert_eq!(Unit::Count.to_string(), "");
    }
}
