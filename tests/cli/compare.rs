//! `tickprof compare`: faster, slower or within noise, from the histograms.

use crate::common::{assert_expected, report, stderr, stdout, tickprof, ticks, with_resources};

fn line<'a>(text: &'a str, metric: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("{metric} ")))
        .unwrap_or_else(|| panic!("no `{metric}` line in:\n{text}"))
}

/// `n` runs of a build in directory `dir`: ticks around `tick_ns` and `risk` spans around 1 µs,
/// each run a few per mille apart from the others (as runs of one binary are).
fn runs(dir: &std::path::Path, tick_ns: u64, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        let scale = |v: u64| v * (1_000 + [0, 4, 2, 6, 1][i % 5]) / 1_000;
        let mut r = with_resources(
            report(
                "bench",
                &ticks(scale(tick_ns), 2_000),
                &[("risk", &ticks(scale(1_000), 2_000))],
            ),
            100.0 + i as f64 * 0.1,
            99.0,
        );
        r.started_at = format!("2026-01-01T00:{i:02}:00Z");
        r.save_json(dir.join(format!("run-{i}.json"))).unwrap();
    }
}

/// A 20 % slower build, one run per side: the change is past the 5 % noise threshold but
/// within what two runs of one build can differ by: inconclusive, and `--fail-on-slower`
/// does not fail. Four runs per side (directories) measure the noise: slower, exit 1;
/// the other way round, faster.
#[test]
fn a_slower_build_is_called_slower_from_pooled_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    runs(&d.join("base"), 5_000, 4);
    runs(&d.join("new"), 6_000, 4);

    let out = tickprof(d, &["compare", "base/run-0.json", "new/run-0.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "base: base/run-0.json (bench), new: new/run-0.json (bench); changes within ±5% \
             are noise; run-to-run noise assumed ±25% (one run per side"
        ),
        "{text}"
    );
    let tmean = line(&text, "ticks.trimmed_mean_us");
    assert!(tmean.contains("+20."), "{text}");
    assert!(
        tmean.ends_with("inconclusive: run-to-run noise; run ≥ 3 per side to measure the noise"),
        "{text}"
    );
    assert!(
        line(&text, "components.risk.p50_us").ends_with("within noise"),
        "{text}"
    );
    let out = tickprof(
        d,
        &[
            "compare",
            "base/run-0.json",
            "new/run-0.json",
            "--fail-on-slower",
        ],
    );
    assert_eq!(out.status.code(), Some(0));

    let out = tickprof(d, &["compare", "base", "new", "--fail-on-slower"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("base: base (4 runs of bench), new: new (4 runs of bench);"),
        "{text}"
    );
    assert!(
        text.contains("run-to-run noise measured from the runs' spread"),
        "{text}"
    );
    assert!(
        line(&text, "ticks.trimmed_mean_us").contains("slower (p = "),
        "{text}"
    );
    assert!(
        line(&text, "ticks.p50_us").contains("slower (p = "),
        "{text}"
    );
    // Shown, not gated: the plain mean and the tails.
    assert!(
        line(&text, "ticks.mean_us").ends_with("(not gated)"),
        "{text}"
    );
    assert!(
        line(&text, "components.risk.trimmed_mean_us").ends_with("within noise"),
        "{text}"
    );
    let out = tickprof(d, &["compare", "new", "base", "--fail-on-slower"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(line(&stdout(&out), "ticks.p50_us").contains("faster (p = "));

    // A noise threshold above the change: nothing is called.
    let out = tickprof(d, &["compare", "base", "new", "--noise-pct", "30"]);
    let text = stdout(&out);
    // The header names --fail-on-slower; no row is called slower.
    assert!(
        !text.lines().skip(1).any(|l| l.contains("slower")),
        "{text}"
    );
}

/// A latency's threshold is never below what the runs resolve, and a row the floor decided says
/// so: a tiny component one clock step slower (20 → 30 ns) is within noise, both figures below
/// the reports' 40 ns resolution, where `tickprof summary` prints both as `<0.040`; grown to
/// 110 ns, a figure the summary states, it is slower even from one run per side.
#[test]
fn a_row_judged_by_the_resolution_floor_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tens = |v: u64| -> Vec<u64> { (0..1_000).map(|i| v + 10 * (i % 3)).collect() };
    let base = report("base", &ticks(5_000, 1_000), &[("tiny", &tens(10))]);
    let new = report("new", &ticks(5_000, 1_000), &[("tiny", &tens(20))]);
    let tenfold = report("tenfold", &ticks(5_000, 1_000), &[("tiny", &tens(100))]);
    base.save_json(d.join("base.json")).unwrap();
    new.save_json(d.join("new.json")).unwrap();
    tenfold.save_json(d.join("tenfold.json")).unwrap();

    let out = tickprof(d, &["compare", "base.json", "new.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let tiny = line(&text, "components.tiny.trimmed_mean_us");
    assert!(tiny.contains(" +50.0% "), "{text}");
    assert!(
        tiny.ends_with("within noise (not past the 40 ns resolution)"),
        "{text}"
    );
    // The tick rows (5 µs: 5 % is 250 ns, above the floor) keep the plain call.
    assert!(
        line(&text, "ticks.trimmed_mean_us").ends_with("  within noise"),
        "{text}"
    );
    assert_expected("compare_floor.txt", &text);
    // What `tickprof summary` prints for the component's mean on each side: below the
    // resolution in both runs compare called within it, stated where compare calls a change.
    let printed_mean = |file: &str| -> String {
        let out = tickprof(d, &["summary", file]);
        let text = stdout(&out);
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with("tiny "))
            .unwrap_or_else(|| panic!("no `tiny` row in:\n{text}"));
        row.split_whitespace().nth(3).unwrap_or_default().to_owned()
    };
    assert_eq!(printed_mean("base.json"), "<0.040");
    assert_eq!(printed_mean("new.json"), "<0.040");
    assert_eq!(printed_mean("tenfold.json"), "0.110");

    let out = tickprof(
        d,
        &["compare", "base.json", "tenfold.json", "--fail-on-slower"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        line(&stdout(&out), "components.tiny.trimmed_mean_us").ends_with("slower (p = 5e-12)"),
        "{}",
        stdout(&out)
    );

    let out = tickprof(
        d,
        &["compare", "base.json", "new.json", "--format", "markdown"],
    );
    let markdown = stdout(&out);
    assert!(
        markdown.contains(
            "| +0.010 µs | +50.0% | [-0.018 µs, +0.038 µs] | within noise (not past the 40 ns \
             resolution) |"
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
    // Memory: no resources in either.
    assert!(
        first.contains("| missing (resources are null: sampler off) |"),
        "{first}"
    );
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
        &["compare", "a.json", "a.json", "--false-alarm-pct", "0"][..],
        &["compare", "a.json", "nightly"][..],
    ] {
        let out = tickprof(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = tickprof(dir.path(), &["compare", "a.json", "nothere.json"]);
    assert!(stderr(&out).contains("nothere.json"));
    let out = tickprof(dir.path(), &["compare", "a.json", "nightly"]);
    assert!(
        stderr(&out).contains("nightly: no such report, directory or saved baseline"),
        "{}",
        stderr(&out)
    );
}
