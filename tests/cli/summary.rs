//! `tickprof summary`: the summary block of a saved report.

use crate::common::{report, stderr, stdout, tickprof, ticks};

#[test]
fn summary_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    report(
        "fast",
        &ticks(5_000, 1_000),
        &[("strategy", &ticks(2_000, 1_000))],
    )
    .save_json(dir.path().join("fast.json"))
    .unwrap();
    let out = tickprof(dir.path(), &["summary", "fast.json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("Performance Metrics: fast"), "{text}");
    assert!(text.contains("Total Ticks: 1,000"), "{text}");
}

#[test]
fn a_missing_report_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = tickprof(dir.path(), &["summary", "nothere.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothere.json"));
}
