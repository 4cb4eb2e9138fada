//! `tickprof compare`: faster, slower or within noise, from the histograms.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_expected, report, stderr, stdout, tickprof, ticks, with_resources};

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

/// A row judged with the resolution floor instead of `--noise-pct` says so: a 56 ns component
/// that reads 84 ns is +50 %, yet within noise, because 40 ns (twice the 20 ns empty-span
/// floor) is ±71.4 % of its base. Rows the percentage decides keep the plain call.
#[test]
fn a_row_judged_by_the_resolution_floor_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = report("base", &ticks(5_000, 1_000), &[("tiny", &[56; 1_000])]);
    let new = report("new", &ticks(5_000, 1_000), &[("tiny", &[84; 1_000])]);
    base.save_json(d.join("base.json")).unwrap();
    new.save_json(d.join("new.json")).unwrap();

    let out = tickprof(d, &["compare", "base.json", "new.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let tiny = line(&text, "components.tiny.mean_us");
    assert!(tiny.contains(" +50.0% "), "{text}");
    assert!(
        tiny.ends_with("within noise (floor ±71.4% = max(5%, 40 ns resolution floor))"),
        "{text}"
    );
    // The tick rows (5 µs: 5 % is 250 ns, above the floor) and throughput keep the plain call.
    assert!(
        line(&text, "ticks.mean_us").ends_with("  within noise"),
        "{text}"
    );
    assert!(
        line(&text, "ticks.throughput_per_s").ends_with("  within noise"),
        "{text}"
    );
    assert_expected("compare_floor.txt", &text);

    // A larger --noise-pct than the floor: the percentage decides again.
    let out = tickprof(
        d,
        &["compare", "base.json", "new.json", "--noise-pct", "80"],
    );
    let tiny = line(&stdout(&out), "components.tiny.mean_us").to_owned();
    assert!(tiny.ends_with("  within noise"), "{tiny}");

    let out = tickprof(
        d,
        &["compare", "base.json", "new.json", "--format", "markdown"],
    );
    let markdown = stdout(&out);
    assert!(
        markdown.contains(
            "| +50.0% | [+0.028 µs, +0.028 µs] | within noise (floor ±71.4% = max(5%, 40 ns \
             resolution floor)) |"
        ),
        "{markdown}"
    );
    assert_expected("compare_floor.md", &markdown);
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
