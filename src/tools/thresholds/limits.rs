//! The sections of a thresholds file, read strictly: every key optional, an unknown key, a
//! limit that no limit can be (negative, NaN, infinite) or an unknown metric name is an error
//! the TOML parser points at.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::metric::{AllocStat, METRIC_NAMES, Metric, Stat};

/// Declares a section with its own fields followed by the seven latency limits
/// `max_{mean,trimmed_mean,p50,p90,p95,p99,p999}_us`, and `latency_limits()` pairing each with
/// its [`Stat`].
///
/// `[ticks]`, `[unattributed]` and `[components.<name>]` share the seven keys; writing them once
/// keeps the keys, their validation and the statistic each one limits from drifting apart.
macro_rules! with_latency_limits {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                pub $field:ident: $ty:ty,
            )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$field_attr])*
                pub $field: $ty,
            )*
            /// Highest acceptable mean, µs.
            #[serde(default, deserialize_with = "limit")]
            pub max_mean_us: Option<f64>,
            /// Highest acceptable trimmed mean (of the middle 90 % of values), µs.
            #[serde(default, deserialize_with = "limit")]
            pub max_trimmed_mean_us: Option<f64>,
            /// Highest acceptable median, µs.
            #[serde(default, deserialize_with = "limit")]
            pub max_p50_us: Option<f64>,
            /// Highest acceptable 90th percentile, µs.
            #[serde(default, deserialize_with = "limit")]
            pub max_p90_us: Option<f64>,
            /// Highest acceptable 95th percentile, µs.
            #[serde(default, deserialize_with = "limit")]
            pub max_p95_us: Option<f64>,
            /// Highest acceptable 99th percentile, µs.
            #[serde(default, deserialize_with = "limit")]
            pub max_p99_us: Option<f64>,
            /// Highest acceptable 99.9th percentile, µs.
            #[serde(default, deserialize_with = "limit")]
            pub max_p999_us: Option<f64>,
        }

        impl $name {
            /// The seven latency limits, each with the statistic it limits, in [`Stat::ALL`]
            /// order.
            pub(crate) fn latency_limits(&self) -> [(Stat, Option<f64>); 7] {
                [
                    (Stat::Mean, self.max_mean_us),
                    (Stat::TrimmedMean, self.max_trimmed_mean_us),
                    (Stat::P50, self.max_p50_us),
                    (Stat::P90, self.max_p90_us),
                    (Stat::P95, self.max_p95_us),
                    (Stat::P99, self.max_p99_us),
                    (Stat::P999, self.max_p999_us),
                ]
            }
        }
    };
}

with_latency_limits! {
    /// `[ticks]` limits; the latency limits are on the tick spans' busy time.
    pub struct TickLimits {
        /// Fewest tick spans the run must have closed.
        #[serde(default)]
        pub min_count: Option<u64>,
        /// Lowest acceptable `ticks.throughput_per_s`.
        #[serde(default, deserialize_with = "limit")]
        pub min_throughput_per_s: Option<f64>,
        /// `[ticks.allocations]`: limits on the allocations per tick.
        #[serde(default)]
        pub allocations: AllocationLimits,
    }
}

with_latency_limits! {
    /// Latency limits (`[unattributed]`: the tick time no component span accounts for), µs.
    pub struct LatencyLimits {}
}

with_latency_limits! {
    /// `[components.<name>]` limits; the latency limits are on the spans' busy time.
    pub struct ComponentLimits {
        /// Fewest spans of this name the run must have closed.
        #[serde(default)]
        pub min_count: Option<u64>,
        /// `[components.<name>.allocations]`: limits on the allocations per span, its
        /// children's excluded.
        #[serde(default)]
        pub allocations: AllocationLimits,
    }
}

/// `[ticks.allocations]` and `[components.<name>.allocations]`: limits on what one span
/// allocates on its thread (a report's `ticks.allocations`, `components.<name>.allocations`),
/// compared exactly. `[ticks.allocations] max_p99 = 0` is the gate for an allocation-free hot
/// path: the tick figures hold the ticks `ticks.latency` holds, after each thread's warm-up
/// ticks (where caches fill and buffers grow), and more than one tick in a hundred that
/// allocates after them fails it; `max_max = 0` fails on any one.
///
/// A report without allocation figures (no counting allocator installed) fails every limit
/// set here: a gate that passes because it measured nothing is not a gate.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AllocationLimits {
    /// Highest acceptable mean allocations per span.
    #[serde(default, deserialize_with = "limit")]
    pub max_mean: Option<f64>,
    /// Highest acceptable median allocations per span.
    #[serde(default, deserialize_with = "limit")]
    pub max_p50: Option<f64>,
    /// Highest acceptable 99th percentile of allocations per span.
    #[serde(default, deserialize_with = "limit")]
    pub max_p99: Option<f64>,
    /// Highest acceptable allocations in any one span measured.
    #[serde(default, deserialize_with = "limit")]
    pub max_max: Option<f64>,
    /// Highest acceptable mean bytes allocated per span.
    #[serde(default, deserialize_with = "limit")]
    pub max_mean_bytes: Option<f64>,
    /// Highest acceptable median bytes allocated per span.
    #[serde(default, deserialize_with = "limit")]
    pub max_p50_bytes: Option<f64>,
    /// Highest acceptable 99th percentile of bytes allocated per span.
    #[serde(default, deserialize_with = "limit")]
    pub max_p99_bytes: Option<f64>,
    /// Highest acceptable bytes allocated in any one span measured.
    #[serde(default, deserialize_with = "limit")]
    pub max_max_bytes: Option<f64>,
    /// Highest acceptable share of spans that allocated at all, in %.
    #[serde(default, deserialize_with = "limit")]
    pub max_share_allocating_pct: Option<f64>,
}

impl AllocationLimits {
    /// Each limit with the figure it limits, in [`AllocStat::ALL`] order.
    pub(crate) fn limits(&self) -> [(AllocStat, Option<f64>); 9] {
        [
            (AllocStat::Mean, self.max_mean),
            (AllocStat::P50, self.max_p50),
            (AllocStat::P99, self.max_p99),
            (AllocStat::Max, self.max_max),
            (AllocStat::MeanBytes, self.max_mean_bytes),
            (AllocStat::P50Bytes, self.max_p50_bytes),
            (AllocStat::P99Bytes, self.max_p99_bytes),
            (AllocStat::MaxBytes, self.max_max_bytes),
            (AllocStat::ShareAllocatingPct, self.max_share_allocating_pct),
        ]
    }
}

/// `[memory]` limits.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemoryLimits {
    /// Highest acceptable `resources.peak_rss_bytes`, in MB of 10⁶ bytes (as the summary prints).
    #[serde(default, deserialize_with = "limit")]
    pub max_peak_rss_mb: Option<f64>,
}

/// `[cpu]` limits, on the run's mean CPU: its CPU time over its wall time (the figure every
/// output states as the mean, not the average of the samples).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CpuLimits {
    /// Highest acceptable `resources.cpu_percent.mean` (100 = one core busy).
    #[serde(default, deserialize_with = "limit")]
    pub max_percent_of_one_core: Option<f64>,
    /// Highest acceptable `resources.cpu_percent_of_machine.mean` (100 = every core busy).
    #[serde(default, deserialize_with = "limit")]
    pub max_percent_of_machine: Option<f64>,
    /// Highest acceptable CPU time (user + system) per tick, µs: efficiency that does not
    /// depend on how many cores the machine has.
    #[serde(default, deserialize_with = "limit")]
    pub max_cpu_time_per_tick_us: Option<f64>,
}

/// `[baseline]`: how much worse than a baseline a build may be.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BaselineLimits {
    /// Largest acceptable regression in % of the baseline's value, for the default metric set:
    /// `ticks.trimmed_mean_us`, `memory.peak_rss_mb` (when the baseline has
    /// resources) and the `trimmed_mean_us` of every component in the baseline. A latency's
    /// threshold is never below the runs' resolution floor (see [`gate`](crate::gate)).
    #[serde(default, deserialize_with = "limit")]
    pub max_regression_pct: Option<f64>,
    /// `[baseline.metrics]`: per-metric overrides and additions, metric name → largest
    /// acceptable regression in %.
    #[serde(default, deserialize_with = "metric_pcts")]
    pub metrics: BTreeMap<String, f64>,
}

/// `[gate]`: how sure a failure must be. Both keys are optional (defaults in
/// [`GateOptions`](crate::gate::GateOptions)).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GateLimits {
    /// The chance, in %, that two runs of one build fail any check of one verdict (the
    /// family-wise false-alarm rate); more than 0, at most 50.
    #[serde(default, deserialize_with = "false_alarm_pct")]
    pub false_alarm_pct: Option<f64>,
    /// The run-to-run noise assumed when one run per side cannot measure it, in % of the
    /// baseline's value (one standard deviation).
    #[serde(default, deserialize_with = "limit")]
    pub run_noise_pct: Option<f64>,
}

fn false_alarm_pct<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    let value = f64::deserialize(d)?;
    if value.is_finite() && value > 0.0 && value <= 50.0 {
        Ok(Some(value))
    } else {
        Err(serde::de::Error::custom(format!(
            "a false-alarm rate must be a % above 0 and at most 50, got {value}"
        )))
    }
}

/// Reads an optional limit, rejecting what no limit can be (negative, NaN, infinite), so the
/// TOML parser can point at the offending value.
fn limit<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    let value = f64::deserialize(d)?;
    check_limit(value)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn check_limit(value: f64) -> std::result::Result<f64, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("a limit must be a finite number >= 0, got {value}"))
    }
}

/// A validated metric name, so an unknown one is reported at its key's position.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct MetricKey(String);

impl<'de> Deserialize<'de> for MetricKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        match Metric::parse(&name) {
            Some(_) => Ok(MetricKey(name)),
            None => Err(serde::de::Error::custom(format!(
                "unknown metric `{name}`; expected one of {METRIC_NAMES}"
            ))),
        }
    }
}

/// A validated percentage.
struct Pct(f64);

impl<'de> Deserialize<'de> for Pct {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        check_limit(value)
            .map(Pct)
            .map_err(serde::de::Error::custom)
    }
}

fn metric_pcts<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, f64>, D::Error> {
    let map = BTreeMap::<MetricKey, Pct>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (k.0, v.0)).collect())
}
