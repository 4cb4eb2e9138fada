//! Schema 2 says what was sampled; schema 1 reports (every tick timed, nothing compensated)
//! still load, summarize and merge; merging reports sampled at different rates weighs each
//! by the ticks it stands for.

use crate::common;

use crate::common::{allocations, report, stdout, tickprof};
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

/// Schema 6 says what the ticks leave out: `inside_ticks`, `outside_ticks` and the loops'
/// times. A schema 5 report (none of them) loads without them, summarizes, and merges with a
/// schema 6 one; the spans outside ticks are summed in a merge and printed when there are any.
#[test]
fn schema_6_adds_what_the_ticks_leave_out_and_schema_5_still_loads() {
    let mut r = report("v6", &tickprof_ticks(), &[("parse", &[500; 100])]);
    r.inside_ticks = tickprof::InsideTicks::estimate(&r, Some(r.total_time_s / 2.0));
    let inside = r.inside_ticks.clone().unwrap();
    assert!((inside.wall_fraction - 1.0).abs() < 0.01, "{inside:?}");
    assert!(
        (inside.cpu_fraction.unwrap() - 2.0).abs() < 0.02,
        "{inside:?}"
    );
    let mut exchange = r.components["parse"].clone();
    // Seen 120, of which the 100 of `parse` recorded.
    exchange.seen = Some(120);
    r.outside_ticks.insert("mock_exchange".to_owned(), exchange);
    r.loop_comparison = Some(tickprof::LoopComparison::from_times(tickprof::LoopTimes {
        ticks: 100,
        warmup_ticks: 10,
        bare_s: [0.001, 0.001],
        profiled_s: 0.0012,
        bare_after_warmup_s: [0.0009, 0.0009],
        profiled_after_warmup_s: 0.0011,
    }));
    let back = Report::from_json_str(&r.to_json_string(), std::path::Path::new("v6.json")).unwrap();
    assert_eq!(back, r);
    let summary = back.summary();
    assert!(
        summary.contains("Inside ticks: 100.0% of the run's wall time"),
        "{summary}"
    );
    // Busy twice its CPU time (the ticks waited off the CPU): a ratio, not a share over 100 %.
    assert!(
        summary.contains("2.00× its CPU time (the ticks also waited off the CPU)"),
        "{summary}"
    );
    assert!(
        summary.contains("Outside ticks (spans under no tick, net busy time per span):"),
        "{summary}"
    );
    let row = summary
        .lines()
        .find(|l| l.trim_start().starts_with("mock_exchange"))
        .unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            "mock_exchange",
            "120",
            "100",
            "0.500",
            "0.500",
            "0.500",
            "0.500"
        ]
    );

    // The same report as schema 5 wrote it.
    let mut json: serde_json::Value = serde_json::from_str(&r.to_json_string()).unwrap();
    json["schema_version"] = 5.into();
    json["name"] = "v5".into();
    let obj = json.as_object_mut().unwrap();
    for v6 in ["inside_ticks", "outside_ticks"] {
        assert!(obj.remove(v6).is_some(), "{v6}");
    }
    obj["loop_comparison"]
        .as_object_mut()
        .unwrap()
        .remove("times");
    let v5 = Report::from_json_str(&json.to_string(), std::path::Path::new("v5.json")).unwrap();
    assert_eq!(v5.schema_version, 5);
    assert_eq!(v5.inside_ticks, None);
    assert!(v5.outside_ticks.is_empty());
    assert_eq!(v5.loop_comparison.as_ref().unwrap().times, None);
    let summary = v5.summary();
    assert!(!summary.contains("Inside ticks"), "{summary}");
    assert!(!summary.contains("Outside ticks"), "{summary}");

    // Merged: the spans outside ticks add up; the time inside ticks needs every part's.
    let merged = Report::merge(&[r.clone(), r.clone()], Shards::Parallel);
    assert!(merged.is_err(), "one run twice is refused");
    let mut other = r.clone();
    other.name = "v6b".to_owned();
    let merged = Report::merge(&[r.clone(), other], Shards::Sequential).unwrap();
    assert_eq!(merged.outside_ticks["mock_exchange"].count, 200);
    assert_eq!(merged.outside_ticks["mock_exchange"].per_tick, None);
    let m = merged.inside_ticks.unwrap();
    assert!((m.busy_s - 2.0 * inside.busy_s).abs() < 1e-12, "{m:?}");
    assert!(
        (m.wall_fraction - inside.wall_fraction).abs() < 1e-9,
        "{m:?}"
    );
    let merged = Report::merge(&[r, v5], Shards::Sequential).unwrap();
    assert_eq!(merged.inside_ticks, None, "a schema 5 part has none");
    assert_eq!(merged.outside_ticks["mock_exchange"].count, 100);
}

/// 100 ticks of 1 µs.
fn tickprof_ticks() -> Vec<u64> {
    vec![1_000; 100]
}

/// A time inside ticks that no run can have is refused at load, naming the field.
#[test]
fn a_broken_inside_ticks_figure_fails_to_load_naming_it() {
    let mut r = report("bad", &tickprof_ticks(), &[]);
    r.inside_ticks = tickprof::InsideTicks::estimate(&r, None);
    let mut json: serde_json::Value = serde_json::from_str(&r.to_json_string()).unwrap();
    json["inside_ticks"]["wall_fraction"] = (-0.5).into();
    let err = Report::from_json_str(&json.to_string(), std::path::Path::new("bad.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("inside_ticks.wall_fraction"), "{err}");
    assert!(err.contains("-0.5"), "{err}");
    // A thread's figure: named by its index and thread.
    let mut json: serde_json::Value = serde_json::from_str(&r.to_json_string()).unwrap();
    json["inside_ticks"]["threads"] = serde_json::json!([
        {"thread": "main", "ticks": 10, "timed": 10, "busy_s": 0.001, "wall_fraction": 0.5},
        {"thread": "feed", "ticks": 10, "timed": 10, "busy_s": "NaN", "wall_fraction": 0.5}
    ]);
    let err = Report::from_json_str(&json.to_string(), std::path::Path::new("bad.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.json"), "{err}");
    assert!(err.contains("busy_s"), "{err}");
    json["inside_ticks"]["threads"][1]["busy_s"] = (-2.0).into();
    let err = Report::from_json_str(&json.to_string(), std::path::Path::new("bad.json"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("inside_ticks.threads[1] (feed).busy_s"),
        "{err}"
    );
    assert!(err.contains("-2"), "{err}");
}

/// Schema 7 counts allocations: `ticks.allocations` and `components.<name>.allocations` round
/// trip, print, merge exactly; a schema 6 report (none of them) loads without them and
/// summarizes as before.
#[test]
fn schema_7_counts_allocations_and_schema_6_still_loads() {
    let mut r = report(
        "v7",
        &tickprof_ticks(),
        &[("parse", &[500; 100]), ("risk", &[200; 100])],
    );
    let mut spans = vec![(0, 0); 98];
    spans.extend([(3, 96), (5, 2_000)]);
    r.ticks.allocations = Some(allocations(&spans));
    r.components.get_mut("parse").unwrap().allocations = Some(allocations(&spans));
    r.components.get_mut("risk").unwrap().allocations = Some(allocations(&[(0, 0); 100]));
    let json = r.to_json_string();
    let back = Report::from_json_str(&json, std::path::Path::new("v7.json")).unwrap();
    assert_eq!(back, r);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema_version"], 7);
    assert_eq!(value["ticks"]["allocations"]["p99"], 3);
    assert_eq!(value["ticks"]["allocations"]["max_bytes"], 2_000);
    assert_eq!(
        value["components"]["parse"]["allocations"]["share_allocating"],
        0.02
    );
    let summary = back.summary();
    assert!(summary.contains("Allocations (per span"), "{summary}");
    assert!(
        summary.contains("components that allocated in a recorded tick: parse\n"),
        "{summary}"
    );

    // The same report as schema 6 wrote it.
    let mut v6: serde_json::Value = value.clone();
    v6["schema_version"] = 6.into();
    v6["name"] = "v6".into();
    assert!(
        v6["ticks"]
            .as_object_mut()
            .unwrap()
            .remove("allocations")
            .is_some()
    );
    for c in v6["components"].as_object_mut().unwrap().values_mut() {
        assert!(c.as_object_mut().unwrap().remove("allocations").is_some());
    }
    let v6 = Report::from_json_str(&v6.to_string(), std::path::Path::new("v6.json")).unwrap();
    assert_eq!(v6.schema_version, 6);
    assert_eq!(v6.ticks.allocations, None);
    assert!(v6.components.values().all(|c| c.allocations.is_none()));
    assert!(!v6.summary().contains("Allocations"));

    // Merged with another run of the same figures: the histograms add, exactly.
    let mut other = r.clone();
    other.name = "v7b".to_owned();
    let merged = Report::merge(&[r.clone(), other], Shards::Sequential).unwrap();
    let doubled: Vec<(u64, u64)> = spans.iter().chain(&spans).copied().collect();
    assert_eq!(merged.ticks.allocations, Some(allocations(&doubled)));
    assert_eq!(
        merged.components["parse"].allocations,
        Some(allocations(&doubled))
    );
    // With the schema 6 run, whose ticks were measured without counting: no figure.
    let merged = Report::merge(&[r, v6], Shards::Sequential).unwrap();
    assert_eq!(merged.ticks.allocations, None);
    assert_eq!(merged.components["parse"].allocations, None);
}

/// An allocation figure no run can have is refused at load, naming the field.
#[test]
fn a_broken_allocation_figure_fails_to_load_naming_it() {
    let mut r = report("bad", &tickprof_ticks(), &[("parse", &[500; 100])]);
    r.components.get_mut("parse").unwrap().allocations = Some(allocations(&[(1, 8); 100]));
    for (field, value, needle) in [
        (
            "share_allocating",
            serde_json::json!(1.5),
            "components.parse.allocations.share_allocating",
        ),
        (
            "mean_bytes",
            serde_json::json!(-1.0),
            "components.parse.allocations.mean_bytes",
        ),
        (
            "histogram",
            serde_json::json!("!!!!"),
            "components.parse.allocations.histogram",
        ),
    ] {
        let mut json: serde_json::Value = serde_json::from_str(&r.to_json_string()).unwrap();
        json["components"]["parse"]["allocations"][field] = value.clone();
        let err = Report::from_json_str(&json.to_string(), std::path::Path::new("bad.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{field}: {err}");
    }
}
