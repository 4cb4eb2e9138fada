//! `tickprof check`: exit codes, one line per check, Markdown and JUnit outputs.

use crate::common;

use std::path::Path;

use crate::common::{assert_expected, report, stderr, stdout, tickprof, ticks, with_resources};

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

/// The line above the checks counts them in the noun and form of the line below (it said
/// "3 tests" beside "6 checks"): 3 of the 6 (the latencies, judged with an interval) are
/// tested for significance; throughput, memory and CPU are single values compared exactly.
#[test]
fn the_tested_checks_are_counted_as_checks() {
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
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1], "  1 run; 3 of 6 checks tested for significance (1% false-alarm rate, Holm)",
        "{text}"
    );
    assert_eq!(lines[8], "  0 of 6 checks failed", "{text}");
    // slow.json has no `strategy`: its p99 is missing, so 2 of its 6 are tested.
    assert_eq!(
        lines[10], "  1 run; 2 of 6 checks tested for significance (1% false-alarm rate, Holm)",
        "{text}"
    );
    assert!(
        !text.contains(" test,") && !text.contains(" tests,"),
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

/// `n` runs of one build named `name`, each its own report: ticks around `center_ns` × a
/// few per mille apart from run to run (as runs of one binary are), written as
/// `<stem>-<i>.json`.
fn runs(dir: &Path, stem: &str, name: &str, center_ns: u64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let center = center_ns * (1_000 + [0, 4, 2, 6, 1, 5][i % 6]) / 1_000;
            let mut r = report(name, &ticks(center, 2_000), &[]);
            r.started_at = format!("2026-01-01T00:{i:02}:00Z");
            let file = format!("{stem}-{i}.json");
            r.save_json(dir.join(&file)).unwrap();
            file
        })
        .collect()
}

/// One run per side cannot see how far apart two runs of one build land: a 20 % slower run
/// is past the 10 % threshold but within the run-to-run noise assumed for a single run,
/// inconclusive (exit 0, saying so). Three runs per side measure the noise, and the same
/// slowdown fails. Identical builds pass either way.
#[test]
fn a_baseline_regression_is_decided_by_pooled_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = runs(d, "base", "bench", 5_000, 3);
    let same = runs(d, "same", "bench", 5_001, 3);
    let slower = runs(d, "slower", "bench", 6_000, 3);
    std::fs::write(d.join("rel.toml"), "[baseline]\nmax_regression_pct = 10\n").unwrap();
    let check = |new: &[String], base: &[String]| {
        let mut args = vec!["check"];
        args.extend(new.iter().map(String::as_str));
        args.extend(["--thresholds", "rel.toml", "--baseline"]);
        args.extend(base.iter().map(String::as_str));
        tickprof(d, &args)
    };

    let out = check(&slower[..1], &base[..1]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let line = text
        .lines()
        .find(|l| l.contains("ticks.trimmed_mean_us vs baseline"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.starts_with("  ➖ "), "{text}");
    assert!(line.contains("(+20.1%)"), "{line}");
    assert!(line.contains("limit +0.500 µs (10% of 5.000 µs)"), "{line}");
    assert!(
        line.ends_with("inconclusive: run-to-run noise; run ≥ 3 per side to measure the noise"),
        "{line}"
    );
    assert!(
        text.contains("run-to-run noise assumed ±25% (one run per side"),
        "{text}"
    );
    assert!(
        text.ends_with("PASSED: 0 of 1 check failed (1 inconclusive) in 1 report\n"),
        "{text}"
    );

    let out = check(&slower, &base);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.starts_with("slower-0.json, slower-1.json, slower-2.json (bench)\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "3 runs vs baseline base-0.json, base-1.json, base-2.json (3 runs); run-to-run \
             noise measured from the runs' spread"
        ),
        "{text}"
    );
    assert!(
        text.contains("  ❌ ticks.trimmed_mean_us vs baseline"),
        "{text}"
    );
    assert!(text.contains("beyond (p = "), "{text}");
    assert!(
        text.ends_with("FAILED: 1 of 1 check failed in 1 build (3 reports)\n"),
        "{text}"
    );

    let out = check(&same, &base);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("  ✅ ticks.trimmed_mean_us vs baseline"));

    // Baseline limits without a baseline: skipped with a note, nothing left to check fails.
    let out = tickprof(d, &["check", &slower[0], "--thresholds", "rel.toml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("skipped: no --baseline given"));
}

/// `--save-baseline NAME` keeps the checked runs under `--baseline-dir`; `--baseline NAME`
/// reads them back, and a later save replaces them. A name that was never saved is an error
/// naming where it was looked for.
#[test]
fn a_saved_baseline_is_read_back_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = runs(d, "base", "bench", 5_000, 3);
    let slower = runs(d, "slower", "bench", 6_000, 3);
    std::fs::write(d.join("rel.toml"), "[baseline]\nmax_regression_pct = 10\n").unwrap();
    let mut args = vec!["check"];
    args.extend(base.iter().map(String::as_str));
    args.extend(["--thresholds", "rel.toml", "--save-baseline", "main"]);
    let out = tickprof(d, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("saved 3 reports as baseline `main` in target/tickprof/baselines/main"),
        "{}",
        stderr(&out)
    );
    let saved = d.join("target/tickprof/baselines/main");
    for i in 1..=3 {
        assert!(saved.join(format!("bench-{i}.json")).is_file());
    }

    let mut args = vec!["check"];
    args.extend(slower.iter().map(String::as_str));
    args.extend(["--thresholds", "rel.toml", "--baseline", "main"]);
    let out = tickprof(d, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("vs baseline target/tickprof/baselines/main/bench-1.json"),
        "{}",
        stdout(&out)
    );

    // Saving again replaces the baseline's runs.
    let out = tickprof(
        d,
        &[
            "check",
            &slower[0],
            "--thresholds",
            "rel.toml",
            "--save-baseline",
            "main",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(saved.join("bench-1.json").is_file());
    assert!(!saved.join("bench-2.json").exists());

    let out = tickprof(
        d,
        &[
            "check",
            &slower[0],
            "--thresholds",
            "rel.toml",
            "--baseline",
            "nightly",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "nightly: no such report, directory or saved baseline (looked for \
             target/tickprof/baselines/nightly)"
        ),
        "{}",
        stderr(&out)
    );
    let out = tickprof(
        d,
        &[
            "check",
            &slower[0],
            "--thresholds",
            "rel.toml",
            "--save-baseline",
            "../x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("one plain word"), "{}", stderr(&out));
}

/// A baseline of several report names is matched by name; a build it has no runs of is an
/// error, not a comparison with another program's runs.
#[test]
fn baselines_match_by_report_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = runs(d, "a", "small", 5_000, 1);
    let b = runs(d, "b", "large", 9_000, 1);
    let c = runs(d, "c", "other", 5_000, 1);
    std::fs::write(d.join("rel.toml"), "[baseline]\nmax_regression_pct = 10\n").unwrap();
    let out = tickprof(
        d,
        &[
            "check",
            &a[0],
            &b[0],
            "--thresholds",
            "rel.toml",
            "--baseline",
            &a[0],
            &b[0],
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("a-0.json (small)\n  1 run vs baseline a-0.json (1 run)"),
        "{text}"
    );
    assert!(
        text.contains("b-0.json (large)\n  1 run vs baseline b-0.json (1 run)"),
        "{text}"
    );
    let out = tickprof(
        d,
        &[
            "check",
            &c[0],
            "--thresholds",
            "rel.toml",
            "--baseline",
            &a[0],
            &b[0],
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the baseline has no runs named `other` (it has `small`, `large`)"),
        "{}",
        stderr(&out)
    );
    // A baseline of one name serves every build, whatever its name.
    let out = tickprof(
        d,
        &[
            "check",
            &c[0],
            "--thresholds",
            "rel.toml",
            "--baseline",
            &a[0],
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A latency's threshold is never below what the runs resolve: from a baseline figure below
/// the reports' resolution (40 ns here: an empty span reads 20 ns), the distance to it, so a
/// change that leaves both figures where the summary prints `<0.040` is none; otherwise one
/// step of their clock (10 ns here), plus any difference in what they subtracted. Every output
/// says when the floor and not the percentage set the limit. One clock step on a tiny
/// component passes as below resolution; the same component grown to 110 ns fails, even with
/// one run per side.
#[test]
fn a_baseline_limit_set_by_the_resolution_floor_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tens = |v: u64| -> Vec<u64> { (0..1_000).map(|i| v + 10 * (i % 3)).collect() };
    let base = report("base", &ticks(5_000, 1_000), &[("tiny", &tens(10))]);
    let mut new = report("new", &ticks(5_000, 1_000), &[("tiny", &tens(20))]);
    new.started_at = "2026-01-01T00:05:00Z".to_owned();
    let mut worse = report("worse", &ticks(5_000, 1_000), &[("tiny", &tens(100))]);
    worse.started_at = "2026-01-01T00:10:00Z".to_owned();
    base.save_json(d.join("base.json")).unwrap();
    new.save_json(d.join("new.json")).unwrap();
    worse.save_json(d.join("worse.json")).unwrap();
    std::fs::write(
        d.join("rel.toml"),
        "[baseline]\nmax_regression_pct = 10\n[baseline.metrics]\n\"ticks.count\" = 0\n\
         \"components.tiny.p50_us\" = 10\n",
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
    let floored = "limit +0.020 µs (to reach the 40 ns resolution; 10% of 0.020 µs is less)";
    let l = line("new", "components.tiny.trimmed_mean_us vs baseline");
    assert!(l.starts_with("  ✅ ") && l.contains(floored), "{text}");
    assert!(l.ends_with("within: below resolution"), "{l}");
    let l = line("worse", "components.tiny.p50_us vs baseline");
    assert!(
        l.starts_with("  ❌ ") && l.contains("(to reach the 40 ns resolution; 10% of"),
        "{text}"
    );
    // 10 % of 5 µs is more than the floor: the percentage set the limit, and the line says that.
    assert!(
        line("new", "ticks.trimmed_mean_us vs baseline")
            .contains("limit +0.500 µs (10% of 5.000 µs)"),
        "{text}"
    );
    // Counts have no floor, and no noise: compared exactly.
    assert!(
        line("new", "ticks.count vs baseline").contains("limit -0 (0% of 1,000)"),
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
            "+0.020 µs (to reach the 40 ns resolution; 10% of 0.020 µs is less) | within: \
             below resolution |"
        ),
        "{markdown}"
    );
    assert_expected("check_baseline_floor.md", &markdown);
    let junit = std::fs::read_to_string(d.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure type=\"threshold\" message=\"0.110 µs"),
        "{junit}"
    );
    assert_expected("check_baseline_floor.junit.xml", &junit);
}

/// The README's own example, `check … --thresholds reports/thresholds.toml --baseline
/// base.json`, gates against the baseline with the shipped file: a build against itself
/// passes; a 20 % slower build is inconclusive from one run per side and fails from three.
#[test]
fn the_shipped_thresholds_gate_against_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/thresholds.toml");
    let run = |stem: &str, center: u64, i: usize| -> String {
        let mut r = with_resources(
            report(
                "bench",
                &ticks(center * (1_000 + 3 * i as u64) / 1_000, 1_000),
                &[("strategy", &ticks(2_000, 1_000))],
            ),
            120.0,
            99.0,
        );
        r.started_at = format!("2026-01-01T00:{i:02}:00Z");
        let file = format!("{stem}-{i}.json");
        r.save_json(d.join(&file)).unwrap();
        file
    };
    let base: Vec<String> = (0..3).map(|i| run("base", 5_000, i)).collect();
    let slower: Vec<String> = (0..3).map(|i| run("slower", 6_000, i)).collect();
    let check = |new: &[String], base: &[String]| {
        let mut args = vec!["check"];
        args.extend(new.iter().map(String::as_str));
        args.extend(["--thresholds", shipped, "--baseline"]);
        args.extend(base.iter().map(String::as_str));
        tickprof(d, &args)
    };
    let out = check(&base[..1], &base[..1]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("✅ ticks.trimmed_mean_us vs baseline"),
        "{}",
        stdout(&out)
    );
    let out = check(&slower[..1], &base[..1]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("➖ ticks.trimmed_mean_us vs baseline"),
        "{}",
        stdout(&out)
    );
    let out = check(&slower, &base);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("❌ ticks.trimmed_mean_us vs baseline"),
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
