//! `tickprof check`: exit codes, one line per check, Markdown and JUnit outputs.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{assert_expected, report, stderr, stdout, tickprof, ticks, with_resources};

const GATE: &str = "\
[ticks]
min_throughput_per_s = 100_000
max_mean_us = 10
max_p99_us = 12
[memory]
max_peak_rss_mb = 500
[cpu]
max_percent_of_one_core = 150
[components.strategy]
max_p99_us = 3
";

/// `fast.json` passes every limit of GATE; `slow.json` misses the latency limits and has no
/// resources and no `strategy` component.
fn fixtures(dir: &Path) {
    let fast = with_resources(
        report(
            "fast",
            &ticks(5_000, 1_000),
            &[("strategy", &ticks(2_000, 1_000))],
        ),
        120.0,
        99.0,
    );
    fast.save_json(dir.join("fast.json")).unwrap();
    report("slow", &ticks(20_000, 1_000), &[])
        .save_json(dir.join("slow.json"))
        .unwrap();
    std::fs::write(dir.join("gate.toml"), GATE).unwrap();
}

#[test]
fn all_pass_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let out = tickprof(
        dir.path(),
        &["check", "fast.json", "--thresholds", "gate.toml"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert_eq!(text.matches('✅').count(), 6, "{text}");
    assert!(!text.contains('❌'), "{text}");
    assert!(text.contains("✅ ticks.throughput_per_s"), "{text}");
    assert!(
        text.ends_with("PASSED: 0 of 6 checks failed in 1 report\n"),
        "{text}"
    );
}

#[test]
fn a_failed_or_missing_metric_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let out = tickprof(
        dir.path(),
        &[
            "check",
            "fast.json",
            "slow.json",
            "--thresholds",
            "gate.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("❌ ticks.mean_us"), "{text}");
    assert!(
        text.contains("missing (resources are null: sampler off)"),
        "{text}"
    );
    assert!(
        text.contains("missing (component `strategy` is not in the report)"),
        "{text}"
    );
    assert!(
        text.contains("FAILED: 6 of 12 checks failed in 2 reports"),
        "{text}"
    );
}

#[test]
fn markdown_and_junit_match_the_expected_files() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let out = tickprof(
        dir.path(),
        &[
            "check",
            "fast.json",
            "slow.json",
            "--thresholds",
            "gate.toml",
            "--format",
            "markdown",
            "--junit",
            "fast.json/junit.xml",
        ],
    );
    // An output directory that cannot be created is an error naming it, not a crash. (A
    // missing one is created: every output goes through the same atomic write.)
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("fast.json/junit.xml: cannot create directory fast.json"),
        "{}",
        stderr(&out)
    );

    let out = tickprof(
        dir.path(),
        &[
            "check",
            "fast.json",
            "slow.json",
            "--thresholds",
            "gate.toml",
            "--format",
            "markdown",
            "--junit",
            "out/junit.xml",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_expected("check.md", &stdout(&out));
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert_expected("check.junit.xml", &junit);
}

#[test]
fn baseline_regression_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let base = report("base", &ticks(5_000, 1_000), &[]);
    let same = report("same", &ticks(5_000, 1_000), &[]);
    let slower = report("slower", &ticks(6_000, 1_000), &[]);
    base.save_json(dir.path().join("base.json")).unwrap();
    same.save_json(dir.path().join("same.json")).unwrap();
    slower.save_json(dir.path().join("slower.json")).unwrap();
    std::fs::write(
        dir.path().join("rel.toml"),
        "[baseline]\nmax_regression_pct = 10\n",
    )
    .unwrap();
    let args = |new: &'static str| {
        [
            "check",
            new,
            "--thresholds",
            "rel.toml",
            "--baseline",
            "base.json",
        ]
    };
    let out = tickprof(dir.path(), &args("same.json"));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = tickprof(dir.path(), &args("slower.json"));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("❌ ticks.mean_us vs baseline") && text.contains("(baseline 5.000 µs +10%)"),
        "{text}"
    );

    // Baseline limits without a baseline: skipped with a note, nothing left to check fails.
    let out = tickprof(
        dir.path(),
        &["check", "slower.json", "--thresholds", "rel.toml"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("skipped: no --baseline given"));
}

/// A baseline limit set by the resolution floor says so, in every output: a 56 ns component
/// may read 40 ns (twice the 20 ns empty-span floor) more before it fails, which is +71 %, not
/// the +10 % of the file; the line shows the effective limit and the rule that set it. A
/// latency large enough for the percentage to decide keeps the plain form.
#[test]
fn a_baseline_limit_set_by_the_resolution_floor_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = report("base", &ticks(5_000, 1_000), &[("tiny", &[56; 1_000])]);
    let mut new = report("new", &ticks(5_000, 1_000), &[("tiny", &[84; 1_000])]);
    new.started_at = "2026-01-01T00:05:00Z".to_owned();
    let mut worse = report("worse", &ticks(5_000, 1_000), &[("tiny", &[104; 1_000])]);
    worse.started_at = "2026-01-01T00:10:00Z".to_owned();
    base.save_json(d.join("base.json")).unwrap();
    new.save_json(d.join("new.json")).unwrap();
    worse.save_json(d.join("worse.json")).unwrap();
    std::fs::write(
        d.join("rel.toml"),
        "[baseline]\nmax_regression_pct = 10\n[baseline.metrics]\n\"ticks.count\" = 0\n",
    )
    .unwrap();
    let args = [
        "check",
        "new.json",
        "worse.json",
        "--thresholds",
        "rel.toml",
        "--baseline",
        "base.json",
    ];

    let out = tickprof(d, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |report: &str, metric: &str| {
        text.split(&format!("{report}.json ({report})\n"))
            .nth(1)
            .and_then(|rest| rest.lines().find(|l| l.contains(metric)))
            .unwrap_or_else(|| panic!("no `{metric}` line for {report} in:\n{text}"))
            .to_owned()
    };
    let floored = "limit ≤ 0.096 µs = max(+10%, 40 ns resolution floor) over baseline 0.056 µs";
    assert!(
        line("new", "components.tiny.mean_us vs baseline").starts_with("  ✅ ")
            && line("new", "components.tiny.mean_us vs baseline").ends_with(floored),
        "{text}"
    );
    assert!(
        line("worse", "components.tiny.p99_us vs baseline").starts_with("  ❌ ")
            && line("worse", "components.tiny.p99_us vs baseline").ends_with(floored),
        "{text}"
    );
    // 10 % of 5 µs is more than the floor: the percentage set the limit, and the line says that.
    assert!(
        line("new", "ticks.mean_us vs baseline")
            .ends_with("limit ≤ 5.500 µs (baseline 5.000 µs +10%)"),
        "{text}"
    );
    // Counts and throughput have no floor.
    assert!(
        line("new", "ticks.count vs baseline").ends_with("limit ≥ 1,000 (baseline 1,000 -0%)"),
        "{text}"
    );
    assert_expected("check_baseline_floor.txt", &text);

    let out = tickprof(
        d,
        &[&args[..], &["--format", "markdown", "--junit", "junit.xml"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let markdown = stdout(&out);
    assert!(
        markdown.contains(
            "| 0.084 µs | ≤ 0.096 µs = max(+10%, 40 ns resolution floor) over baseline 0.056 µs |"
        ),
        "{markdown}"
    );
    assert_expected("check_baseline_floor.md", &markdown);
    let junit = std::fs::read_to_string(d.join("junit.xml")).unwrap();
    assert!(
        junit.contains(
            "<failure type=\"threshold\" message=\"0.104 µs, limit ≤ 0.096 µs = max(+10%, \
             40 ns resolution floor) over baseline 0.056 µs\"/>"
        ),
        "{junit}"
    );
    assert_expected("check_baseline_floor.junit.xml", &junit);
}

/// The README's own example, `check … --thresholds reports/thresholds.toml --baseline
/// base.json`, gates against the baseline with the shipped file (it used to exit 2: "sets no
/// [baseline] limits").
#[test]
fn the_shipped_thresholds_gate_against_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/thresholds.toml");
    let mut slower = with_resources(
        report(
            "slower",
            &ticks(6_000, 1_000),
            &[("strategy", &ticks(2_000, 1_000))],
        ),
        120.0,
        99.0,
    );
    slower.started_at = "2026-01-01T00:05:00Z".to_owned();
    slower.save_json(dir.path().join("slower.json")).unwrap();
    let args = |new: &'static str| {
        [
            "check",
            new,
            "--thresholds",
            shipped,
            "--baseline",
            "fast.json",
        ]
    };
    let out = tickprof(dir.path(), &args("fast.json"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("✅ ticks.mean_us vs baseline"),
        "{}",
        stdout(&out)
    );
    let out = tickprof(dir.path(), &args("slower.json"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("❌ ticks.mean_us vs baseline"),
        "{}",
        stdout(&out)
    );
}

/// Every bad input exits 2 with a message naming the thing at fault.
#[test]
fn bad_input_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixtures(d);
    std::fs::write(
        d.join("typo.toml"),
        "[ticks]\nmax_mean_us = 10\nmax_p99 = 5\n",
    )
    .unwrap();
    std::fs::write(d.join("empty.toml"), "# nothing\n").unwrap();
    std::fs::write(
        d.join("broken.json"),
        "{\n  \"schema_version\": 1,\n  \"name\": \n}",
    )
    .unwrap();
    std::fs::write(d.join("blank.json"), "  \n").unwrap();
    std::fs::write(d.join("future.json"), "{\"schema_version\": 99}").unwrap();
    std::fs::write(d.join("scalability_summary.json"), "{\"runs\": []}").unwrap();
    std::fs::create_dir(d.join("adir.json")).unwrap();

    let cases: &[(&[&str], &[&str])] = &[
        (
            &["check", "fast.json", "--thresholds", "typo.toml"],
            &["typo.toml", "line 3, column 1", "unknown field `max_p99`"],
        ),
        (
            &["check", "fast.json", "--thresholds", "empty.toml"],
            &["empty.toml", "no limits set"],
        ),
        (
            &["check", "fast.json", "--thresholds", "nothere.toml"],
            &["nothere.toml"],
        ),
        (
            &["check", "broken.json", "--thresholds", "gate.toml"],
            &["broken.json", "line 4, column 1"],
        ),
        (
            &["check", "blank.json", "--thresholds", "gate.toml"],
            &["blank.json", "empty"],
        ),
        (
            &["check", "adir.json", "--thresholds", "gate.toml"],
            &["adir.json"],
        ),
        (
            &["check", "future.json", "--thresholds", "gate.toml"],
            &["future.json", "schema_version 99"],
        ),
        (
            &[
                "check",
                "scalability_summary.json",
                "--thresholds",
                "gate.toml",
            ],
            &["scalability_summary.json", "schema_version"],
        ),
        (
            &[
                "check",
                "fast.json",
                "--thresholds",
                "gate.toml",
                "--baseline",
                "fast.json",
            ],
            &["--baseline fast.json", "no [baseline] limits"],
        ),
        (&["check", "--thresholds", "gate.toml"], &["REPORTS"]),
        (&["check", "fast.json"], &["--thresholds"]),
        (&["summary", "nothere.json"], &["nothere.json"]),
        (&["frobnicate"], &["frobnicate"]),
    ];
    for (args, needles) in cases {
        let out = tickprof(d, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        for needle in *needles {
            assert!(err.contains(needle), "{args:?}: `{needle}` not in: {err}");
        }
    }
}

/// A thresholds path that never ends is refused before it is read (it is not a regular file),
/// and a regular file larger than any thresholds file is an error after a bounded read, not a
/// hang that fills memory.
#[cfg(target_os = "linux")]
#[test]
fn an_endless_thresholds_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let out = common::tickprof_within(
        dir.path(),
        &["check", "fast.json", "--thresholds", "/dev/zero"],
        std::time::Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/dev/zero: not a regular file (a character device)"),
        "{}",
        stderr(&out)
    );
    let mut huge = GATE.to_owned();
    huge.push_str(&"#".repeat(1 << 20));
    std::fs::write(dir.path().join("huge.toml"), huge).unwrap();
    let out = common::tickprof_within(
        dir.path(),
        &["check", "fast.json", "--thresholds", "huge.toml"],
        std::time::Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("huge.toml: larger than 1048576 bytes, more than any thresholds file"),
        "{}",
        stderr(&out)
    );
}
