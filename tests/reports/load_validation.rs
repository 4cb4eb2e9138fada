//! `Report::load` checks what a report promises: every histogram blob decodes (bounded by its
//! size) and every number is finite and in its unit's range. A report that breaks either is an
//! error at load naming the file, the field and the value, so `summary` and `check` exit 2 on
//! it instead of passing and leaving `compare` or `plot` to fail later without the file name.

use crate::common;

use std::path::Path;

use crate::common::{report, stderr, stdout, tickprof, ticks, with_resources};
use serde_json::{Value, json};
use tickprof::{Error, Report, ResourceSample};

/// A good report with a component (with wall time) and a resource sample, as JSON.
fn good() -> Value {
    let mut r = with_resources(
        report("good", &ticks(5_000, 500), &[("parse", &ticks(800, 500))]),
        12.0,
        99.0,
    );
    r.components.get_mut("parse").unwrap().wall = Some(common::latency(&ticks(900, 500)));
    r.resources
        .as_mut()
        .unwrap()
        .samples
        .push(ResourceSample::new(0.4, 98.0, 12_000_000, 400));
    serde_json::to_value(&r).unwrap()
}

fn write(dir: &Path, name: &str, json: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(json).unwrap()).unwrap();
    path
}

/// (file, JSON pointer, replacement, field named in the error, words of the reason)
fn cases() -> Vec<(
    &'static str,
    &'static str,
    Value,
    &'static str,
    &'static str,
)> {
    vec![
        (
            "b64.json",
            "/ticks/latency/histogram",
            json!("not base64!"),
            "ticks.latency.histogram",
            "not base64 (character ' ' at offset 3)",
        ),
        (
            "text.json",
            "/components/parse/latency/histogram",
            json!("aGVsbG8gd29ybGQ="),
            "components.parse.latency.histogram",
            "not an HdrHistogram V2 blob",
        ),
        (
            "wall.json",
            "/components/parse/wall/histogram",
            json!("HISTFAAAAE14"),
            "components.parse.wall.histogram",
            "compressed",
        ),
        (
            "unattr.json",
            "/unattributed/histogram",
            json!(""),
            "unattributed.histogram",
            "too short",
        ),
        (
            "huge_time.json",
            "/total_time_s",
            json!(1.7e308),
            "total_time_s",
            "must be a number of seconds in 0 ..= 1e10, got 1.7e308",
        ),
        (
            "neg_mean.json",
            "/ticks/latency/mean_ns",
            json!(-1.0),
            "ticks.latency.mean_ns",
            "got -1.0",
        ),
        (
            "huge_rate.json",
            "/ticks/throughput_per_s",
            json!(1e300),
            "ticks.throughput_per_s",
            "ticks per second in 0 ..= 1e12, got 1e300",
        ),
        (
            "cpu_sample.json",
            "/resources/samples/0/cpu_percent",
            json!(1.6e308),
            "resources.samples[0].cpu_percent",
            "got 1.6e308",
        ),
        (
            "elapsed.json",
            "/resources/samples/0/elapsed_ms",
            json!(-0.5),
            "resources.samples[0].elapsed_ms",
            "got -0.5",
        ),
        (
            "cpu_max.json",
            "/resources/cpu_percent/max",
            json!(1e7),
            "resources.cpu_percent.max",
            "percent in 0 ..= 1e6, got 10000000.0",
        ),
        (
            "overhead.json",
            "/overhead/per_span_ns",
            json!(-3.0),
            "overhead.per_span_ns",
            "got -3.0",
        ),
    ]
}

#[test]
fn every_broken_promise_is_an_error_naming_file_field_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "good.json", &good());
    Report::load(&path).unwrap();
    for (file, pointer, value, field, reason) in cases() {
        let mut json = good();
        *json.pointer_mut(pointer).unwrap() = value;
        let path = write(dir.path(), file, &json);
        let err = match Report::load(&path) {
            Ok(_) => panic!("{file}: loaded"),
            Err(e) => e,
        };
        assert!(
            matches!(err, Error::InvalidReport { .. }),
            "{file}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{}: {field}: ", path.display()))
                && message.contains(reason),
            "{file}: {message}"
        );
        assert!(!message.ends_with('.'), "{message}");
    }
}

#[test]
fn summary_and_check_exit_2_naming_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut json = good();
    *json.pointer_mut("/ticks/latency/histogram").unwrap() = json!("aGVsbG8gd29ybGQ=");
    write(dir.path(), "bad.json", &json);
    std::fs::write(dir.path().join("gate.toml"), "[ticks]\nmax_mean_us = 100\n").unwrap();
    for args in [
        &["summary", "bad.json"][..],
        &["check", "bad.json", "--thresholds", "gate.toml"][..],
        &["compare", "bad.json", "bad.json"][..],
    ] {
        let out = tickprof(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("bad.json: ticks.latency.histogram: not an HdrHistogram V2 blob"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// A value of the wrong type names its field too, not only the line and column (on a
/// one-line file those say nothing).
#[test]
fn a_wrong_type_names_its_field() {
    let dir = tempfile::tempdir().unwrap();
    for (pointer, value, field) in [
        ("/ticks/count", json!("many"), "field `ticks.count`"),
        (
            "/ticks/latency/p99_ns",
            json!(-5),
            "field `ticks.latency.p99_ns`",
        ),
        (
            "/components/parse/latency/samples",
            json!(1.5),
            "field `components.parse.latency.samples`",
        ),
    ] {
        let mut json = good();
        *json.pointer_mut(pointer).unwrap() = value;
        let path = dir.path().join("wrongtype.json");
        std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
        let err = Report::load(&path).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::Parse { .. }), "{err:?}");
        assert!(message.contains("wrongtype.json"), "{message}");
        assert!(message.contains(field), "{pointer}: {message}");
    }
}
