//! Schema 2 says what was sampled; schema 1 reports (every tick timed, nothing compensated)
//! still load, summarize and merge; merging reports sampled at different rates weighs each
//! by the ticks it stands for.

#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{report, stdout, tickprof};
use tickprof::{Report, SamplingKind, SamplingStats, Shards};

/// A schema 2 report as JSON, rewritten as schema 1 wrote it.
fn as_schema_1(r: &Report) -> String {
    let mut json: serde_json::Value = serde_json::from_str(&r.to_json_string()).unwrap();
    let obj = json.as_object_mut().unwrap();
    obj.insert("schema_version".into(), 1.into());
    for v2 in ["sampling", "unattributed_mean_ns", "loop_comparison"] {
        obj.remove(v2);
    }
    obj["ticks"].as_object_mut().unwrap().remove("latency_raw");
    for c in obj["components"].as_object_mut().unwrap().values_mut() {
        c.as_object_mut().unwrap().remove("per_tick");
    }
    let overhead = obj["overhead"].as_object_mut().unwrap();
    for v2 in [
        "nested_span_ns",
        "layer_ns_per_span",
        "tick_check_ns",
        "measured_on",
    ] {
        overhead.remove(v2);
    }
    serde_json::to_string_pretty(&json).unwrap()
}

#[test]
fn a_schema_1_report_loads_and_summarizes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    let v1 = as_schema_1(&report(
        "old",
        &[1_000, 2_000, 3_000],
        &[("parse", &[500; 3])],
    ));
    assert!(!v1.contains("\"sampling\""));
    std::fs::write(&path, v1).unwrap();
    let loaded = Report::load(&path).unwrap();
    assert_eq!(loaded.schema_version, 1);
    assert_eq!(loaded.sampling, None);
    assert_eq!(loaded.ticks.latency_raw, None);
    let summary = loaded.summary();
    assert!(
        summary.contains("every tick timed and recorded (schema 1 report)"),
        "{summary}"
    );
    let out = tickprof(dir.path(), &["summary", "old.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Total Ticks: 3"));
}

#[test]
fn reports_sampled_at_different_rates_merge_by_the_ticks_they_stand_for() {
    let sampled = |name: &str, tick_ns: u64, timed: u64| {
        let mut r = report(name, &vec![tick_ns; timed as usize], &[]);
        // 1,000 ticks ran; `timed` of them were timed.
        r.ticks.count = 1_000;
        let mut s = SamplingStats::every_tick(0);
        s.mode = SamplingKind::Budget;
        s.budget_fraction = Some(0.03);
        s.ticks_timed = timed;
        s.cost_ns_per_tick = 10.0;
        r.sampling = Some(s);
        r
    };
    // Equal populations: 1 in 10 at 1 µs, 1 in 100 at 2 µs.
    let a = sampled("a", 1_000, 100);
    let b = sampled("b", 2_000, 10);
    let merged = Report::merge(&[a, b], Shards::Parallel).unwrap();
    assert_eq!(merged.ticks.count, 2_000);
    let l = &merged.ticks.latency;
    assert_eq!(l.samples, 110, "samples stay what was measured");
    assert!(
        (l.mean_ns - 1_500.0).abs() < 5.0,
        "each report weighs as its 1,000 ticks: mean {} (unweighted it would be 1,091)",
        l.mean_ns
    );
    let s = merged.sampling.unwrap();
    assert_eq!((s.mode, s.ticks_timed), (SamplingKind::Budget, 110));

    // Same rates: the merge is the plain sum of the histograms.
    let c = sampled("c", 1_000, 100);
    let d = sampled("d", 3_000, 100);
    let merged = Report::merge(&[c, d], Shards::Parallel).unwrap();
    assert_eq!(merged.ticks.latency.samples, 200);
    assert_eq!(
        merged.ticks.latency.decode_histogram("m").unwrap().len(),
        200
    );
}

/// Schema 2 wrote CPU figures as plain numbers; they load as figures (schema 3 may write null).
#[test]
fn a_schema_2_report_s_cpu_figures_load() {
    let r = common::with_resources(report("v2", &[1_000, 2_000], &[]), 10.0, 97.0);
    let mut json: serde_json::Value = serde_json::from_str(&r.to_json_string()).unwrap();
    json["schema_version"] = 2.into();
    assert!(json["resources"]["cpu_percent"]["mean"].is_number());
    let loaded = Report::from_json_str(&json.to_string(), std::path::Path::new("v2.json")).unwrap();
    assert_eq!(loaded.schema_version, 2);
    assert_eq!(loaded.resources.unwrap().cpu_percent.mean, Some(97.0));
}
