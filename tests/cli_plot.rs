//! `tickprof plot DIR`: the driver's graphs from saved reports alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{report, stdout, tickprof};

#[test]
fn plot_draws_every_graph_beside_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1_000u64, 10_000] {
        let ticks: Vec<u64> = (0..n).map(|i| 1_000 + i % 500).collect();
        let parse: Vec<u64> = (0..n).map(|i| 100 + i % 50).collect();
        let mut r = report(&format!("scalability_{n}"), &ticks, &[("parse", &parse)]);
        r.total_time_s = n as f64 / 500_000.0;
        r.save_json(dir.path().join(format!("scalability_{n}.json")))
            .unwrap();
    }
    let out = tickprof(dir.path(), &["plot", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    for png in [
        "scalability_metrics.png",
        "latency_1000.png",
        "latency_10000.png",
        "resources_1000.png",
        "resources_10000.png",
    ] {
        let bytes = std::fs::read(dir.path().join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png} is not a PNG");
        assert!(stdout(&out).contains(png), "{png} not reported");
    }
}

#[test]
fn plot_of_a_directory_without_reports_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = tickprof(dir.path(), &["plot", "."]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn plot_names_a_malformed_json_file_instead_of_skipping_it() {
    let dir = tempfile::tempdir().unwrap();
    let ticks: Vec<u64> = (0..100).map(|i| 1_000 + i).collect();
    report("scalability_100", &ticks, &[])
        .save_json(dir.path().join("scalability_100.json"))
        .unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        "{\n  \"schema_version\": 1,\n  oops\n}",
    )
    .unwrap();
    let out = tickprof(dir.path(), &["plot", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(err.contains("bad.json") && err.contains("line 3"), "{err}");
}
