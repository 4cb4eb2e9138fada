//! The report's JSON: round trip, histogram blobs, lenient reading, schema check, atomic save.

use tickprof::{Error, MetricsCollector, Report, SCHEMA_VERSION, Sampling};
use tracing_subscriber::prelude::*;

fn sample_report() -> Report {
    let collector = MetricsCollector::builder()
        .warmup_ticks(0) // every tick in the latency histograms
        .sampling(Sampling::full())
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("json").unwrap();
        for i in 0..1_234u64 {
            let _tick = tracing::info_span!("tick").entered();
            let _parse = tracing::info_span!("parse").entered();
            std::hint::black_box(i);
        }
        collector.stop_profiling().unwrap()
    })
}

#[test]
fn round_trip_and_histogram_blob_counts() {
    let report = sample_report();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/run.json");
    report.save_json(&path).unwrap();
    let loaded = Report::load(&path).unwrap();
    assert_eq!(loaded, report);
    assert_eq!(loaded.schema_version, SCHEMA_VERSION);
    let ticks = loaded.ticks.latency.decode_histogram("ticks").unwrap();
    assert_eq!(ticks.len(), 1_234);
    assert_eq!(ticks.value_at_quantile(0.99), loaded.ticks.latency.p99_ns);
    let parse = loaded.components["parse"]
        .latency
        .decode_histogram("parse")
        .unwrap();
    assert_eq!(parse.len(), loaded.components["parse"].count);
    // Exact field names other tools read.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for field in [
        "schema_version",
        "name",
        "started_at",
        "total_time_s",
        "ticks",
        "components",
        "unattributed",
        "overhead",
        "dropped",
        "environment",
    ] {
        assert!(json.get(field).is_some(), "missing field {field}");
    }
    assert!(json["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(json["ticks"]["latency"]["p999_ns"].is_u64());
    assert!(json["overhead"]["per_span_ns"].as_f64().unwrap() >= 0.0);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn reading_is_lenient_but_rejects_newer_schema_and_bad_json() {
    let report = sample_report();
    let dir = tempfile::tempdir().unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&report.to_json_string()).unwrap();
    json["a_field_from_the_future"] = serde_json::json!({"x": 1});
    let lenient = dir.path().join("lenient.json");
    std::fs::write(&lenient, json.to_string()).unwrap();
    assert_eq!(Report::load(&lenient).unwrap(), report);

    json["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, json.to_string()).unwrap();
    let err = Report::load(&newer).unwrap_err();
    assert!(matches!(err, Error::UnsupportedSchema { found, .. } if found == SCHEMA_VERSION + 1));
    assert!(err.to_string().contains("newer.json"), "{err}");

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"schema_version\": 1,\n  \"name\": oops\n}").unwrap();
    let err = Report::load(&broken).unwrap_err();
    assert!(matches!(err, Error::Parse { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("broken.json: line 3"), "{err}");

    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    assert!(
        Report::load(&empty)
            .unwrap_err()
            .to_string()
            .contains("empty.json: file is empty")
    );
    assert!(
        Report::load(dir.path()).is_err(),
        "a directory is not a report"
    );
}

#[test]
fn failed_save_names_the_path_and_keeps_the_old_file() {
    let report = sample_report();
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not_a_dir");
    std::fs::write(&blocker, "a file").unwrap();
    let err = report.save_json(blocker.join("run.json")).unwrap_err();
    assert!(err.to_string().contains("not_a_dir"), "{err}");

    let target = dir.path().join("run.json");
    report.save_json(&target).unwrap();
    let before = std::fs::read_to_string(&target).unwrap();
    // Overwriting goes through a rename: the file is always a whole report.
    report.save_json(&target).unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), before);
}

#[test]
fn summary_has_the_seed_block() {
    let summary = sample_report().summary();
    for line in [
        "Performance Metrics: json",
        "Total Ticks: 1,234",
        "Ticks/second:",
        "Mean Time:",
        "Median Time:",
        "Min/Max:",
        "p99_us:",
        "p99.9_us:",
        "parse",
        "(unattributed)",
    ] {
        assert!(summary.contains(line), "summary lacks {line:?}:\n{summary}");
    }
}
