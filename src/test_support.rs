//! Report fixtures built from known values, for the unit tests of the crate's pure modules
//! (`compare`, `thresholds`, `merge`). Integration tests have their own fixtures in
//! `tests/common/mod.rs`: they see the crate only through its public API, this module does not
//! exist for them.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::report::{
    AllocationStats, ComponentStats, Dropped, Environment, LatencyStats, MeanMax, MemoryStats,
    Overhead, Report, Resources, SCHEMA_VERSION, TickStats,
};

/// A histogram of `values_ns`, 1 ns … 60 s at 3 significant figures.
pub(crate) fn hist(values_ns: &[u64]) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for &v in values_ns {
        h.record(v).unwrap();
    }
    h
}

/// The statistics of [`hist`]`(values_ns)`.
pub(crate) fn latency(values_ns: &[u64]) -> LatencyStats {
    LatencyStats::from_histogram(&hist(values_ns), "test").unwrap()
}

/// The allocation figures of spans that made `(allocations, bytes)` each.
pub(crate) fn allocations(spans: &[(u64, u64)]) -> AllocationStats {
    let mut count = AllocationStats::new_histogram().unwrap();
    let mut bytes = AllocationStats::new_histogram().unwrap();
    for &(n, b) in spans {
        count.record(n).unwrap();
        bytes.record(b).unwrap();
    }
    AllocationStats::from_histograms(&count, &bytes).unwrap()
}

/// A run whose ticks took `tick_ns` back to back, with `components` inside them; no resources,
/// no unattributed time, an empty span reading 20 ns.
pub(crate) fn report(name: &str, tick_ns: &[u64], components: &[(&str, &[u64])]) -> Report {
    let total_time_s = tick_ns.iter().sum::<u64>() as f64 / 1e9;
    let count = tick_ns.len() as u64;
    Report {
        schema_version: SCHEMA_VERSION,
        name: name.to_owned(),
        started_at: "2026-01-01T00:00:00Z".to_owned(),
        total_time_s,
        ticks: TickStats {
            count,
            throughput_per_s: if total_time_s > 0.0 {
                count as f64 / total_time_s
            } else {
                0.0
            },
            latency: latency(tick_ns),
            latency_raw: None,
            wall: None,
            warmup: None,
            recorded: None,
            allocations: None,
        },
        components: components
            .iter()
            .map(|(n, v)| {
                let stats = ComponentStats {
                    count: v.len() as u64,
                    latency: latency(v),
                    self_time: None,
                    wall: None,
                    per_tick: None,
                    allocations: None,
                    seen: None,
                };
                ((*n).to_owned(), stats)
            })
            .collect::<BTreeMap<_, _>>(),
        inside_ticks: None,
        outside_ticks: BTreeMap::new(),
        unattributed: latency(&[]),
        unattributed_mean_ns: None,
        sampling: None,
        overhead: Overhead {
            per_span_ns: 50.0,
            empty_span_busy_ns: 20.0,
            calibration_ticks: 1000,
            ..Overhead::default()
        },
        dropped: Dropped::default(),
        environment: Environment {
            crate_version: "0.1.0".to_owned(),
            os: "linux".to_owned(),
            arch: "x86_64".to_owned(),
            logical_cores: 2,
            cpu_model: None,
        },
        resources: None,
        resources_unavailable: Some("sampler off".to_owned()),
        loop_comparison: None,
        slowest_ticks: None,
        part: None,
        checkpoints: None,
        interval_log: None,
    }
}

/// Sampled resources: `peak_mb` MB peak, `cpu_one_core` % of one core on `cores` cores.
pub(crate) fn resources(peak_mb: f64, cpu_one_core: f64, cores: f64) -> Resources {
    Resources {
        sample_interval_ms: 100,
        samples_taken: 10,
        samples_failed: 0,
        cpu_percent: MeanMax {
            mean: Some(cpu_one_core),
            max: Some(cpu_one_core),
        },
        cpu_percent_of_machine: MeanMax {
            mean: Some(cpu_one_core / cores),
            max: Some(cpu_one_core / cores),
        },
        cpu_time_s: 1.0,
        memory_bytes: MemoryStats {
            mean: peak_mb * 1e6,
            peak: (peak_mb * 1e6) as u64,
        },
        peak_rss_bytes: (peak_mb * 1e6) as u64,
        samples: Vec::new(),
        threads: None,
    }
}
