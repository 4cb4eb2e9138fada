//! `tickprof compare`: faster, slower or within noise, from the histograms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{report, stderr, stdout, tickprof, ticks, with_resources};

fn line<'a>(text: &'a str, metric: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("{metric} ")))
        .unwrap_or_else(|| panic!("no `{metric}` line in:\n{text}"))
}

#[test]
fn slower_run_is_called_slower() {
    let dir = tempfile::tempdir().unwrap();
    let base = with_resources(
        report(
            "base",
            &ticks(5_000, 2_000),
            &[("risk", &ticks(1_000, 2_000))],
        ),
        100.0,
        99.0,
    );
    let new = with_resources(
        report(
            "new",
            &ticks(6_000, 2_000),
            &[("risk", &ticks(1_000, 2_000))],
        ),
        101.0,
        99.0,
    );
    base.save_json(dir.path().join("base.json")).unwrap();
    new.save_json(dir.path().join("new.json")).unwrap();

    let out = tickprof(dir.path(), &["compare", "base.json", "new.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("base: base.json (base), new: new.json (new); 5% noise floor"),
        "{text}"
    );
    assert!(line(&text, "ticks.mean_us").ends_with("slower"), "{text}");
    assert!(line(&text, "ticks.p99_us").ends_with("slower"), "{text}");
    assert!(line(&text, "ticks.mean_us").contains("+20."), "{text}");
    assert!(
        line(&text, "ticks.throughput_per_s").ends_with("slower"),
        "{text}"
    );
    assert!(
        line(&text, "components.risk.p50_us").ends_with("within noise"),
        "{text}"
    );
    assert!(
        line(&text, "memory.peak_rss_mb").ends_with("within noise"),
        "{text}"
    );

    let out = tickprof(
        dir.path(),
        &["compare", "base.json", "new.json", "--fail-on-slower"],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = tickprof(
        dir.path(),
        &["compare", "new.json", "base.json", "--fail-on-slower"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(line(&stdout(&out), "ticks.p50_us").ends_with("faster"));

    // A noise floor above the change: nothing is called.
    let out = tickprof(
        dir.path(),
        &["compare", "base.json", "new.json", "--noise-pct", "30"],
    );
    assert!(!stdout(&out).contains("slower"), "{}", stdout(&out));
}

#[test]
fn output_is_deterministic_and_markdown_works() {
    let dir = tempfile::tempdir().unwrap();
    report("a", &ticks(5_000, 500), &[])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    report("b", &ticks(5_100, 500), &[])
        .save_json(dir.path().join("b.json"))
        .unwrap();
    let args = ["compare", "a.json", "b.json", "--format", "markdown"];
    let first = stdout(&tickprof(dir.path(), &args));
    assert_eq!(first, stdout(&tickprof(dir.path(), &args)));
    assert!(first.starts_with("## tickprof compare\n"), "{first}");
    assert!(first.contains("| `ticks.p99_us` |"), "{first}");
    assert!(first.contains("| missing |"), "{first}"); // memory: no resources in either
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    report("a", &ticks(5_000, 10), &[])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    for args in [
        &["compare", "a.json"][..],
        &["compare", "a.json", "nothere.json"][..],
        &["compare", "a.json", "a.json", "--noise-pct", "-1"][..],
    ] {
        let out = tickprof(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = tickprof(dir.path(), &["compare", "a.json", "nothere.json"]);
    assert!(stderr(&out).contains("nothere.json"));
}
