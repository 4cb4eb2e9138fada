//! `tickprof merge`: two halves of a run merge into the whole, exactly.

use crate::common::{histogram, report, stderr, stdout, tickprof, ticks};
use tickprof::{LatencyStats, Report, RunPart};

#[test]
fn two_halves_merge_into_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let all = ticks(5_000, 10_001);
    let parse: Vec<u64> = all.iter().map(|t| t / 3).collect();
    let (a, b) = all.split_at(4_321);
    let (pa, pb) = parse.split_at(4_321);
    report("run", a, &[("parse", pa)])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    report("run", b, &[("parse", pb)])
        .save_json(dir.path().join("b.json"))
        .unwrap();
    let out = tickprof(
        dir.path(),
        &[
            "merge",
            "a.json",
            "b.json",
            "-o",
            "merged/run.json",
            "--shards",
            "sequential",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "merged 2 reports (10,001 ticks) into merged/run.json\n"
    );

    let merged = Report::load(dir.path().join("merged/run.json")).unwrap();
    // Through JSON like the merge, so both sides carry the same float rounding.
    report("run", &all, &[("parse", &parse)])
        .save_json(dir.path().join("whole.json"))
        .unwrap();
    let whole = Report::load(dir.path().join("whole.json")).unwrap();
    assert_eq!(merged.name, "run");
    assert_eq!(merged.ticks.count, 10_001);
    assert_eq!(merged.ticks.latency, whole.ticks.latency);
    assert_eq!(merged.components["parse"].count, 10_001);
    assert_eq!(
        merged.components["parse"].latency,
        whole.components["parse"].latency
    );
    assert_eq!(merged.unattributed, whole.unattributed);
    assert!((merged.total_time_s - whole.total_time_s).abs() < 1e-12);
    assert!((merged.ticks.throughput_per_s - whole.ticks.throughput_per_s).abs() < 1e-6);
    let l = &merged.ticks.latency;
    assert!(l.p50_ns <= l.p90_ns && l.p90_ns <= l.p99_ns && l.p99_ns <= l.max_ns);
}

#[test]
fn parallel_shards_take_the_longest_and_can_be_renamed() {
    let dir = tempfile::tempdir().unwrap();
    report("shard-1", &ticks(5_000, 100), &[])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    report("shard-2", &ticks(5_000, 300), &[])
        .save_json(dir.path().join("b.json"))
        .unwrap();
    let out = tickprof(
        dir.path(),
        &[
            "merge", "a.json", "b.json", "-o", "m.json", "--shards", "parallel", "--name", "job",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m = Report::load(dir.path().join("m.json")).unwrap();
    let b = Report::load(dir.path().join("b.json")).unwrap();
    assert_eq!(m.name, "job");
    assert_eq!(m.ticks.count, 400);
    assert_eq!(m.total_time_s, b.total_time_s);
    assert!(m.resources.is_none() && m.resources_unavailable.is_some());
}

#[test]
fn different_histogram_settings_exit_2_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    report("a", &ticks(5_000, 100), &[])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    let mut b = report("b", &ticks(5_000, 100), &[]);
    let mut coarse = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1_000_000, 2).unwrap();
    coarse.record(5_000).unwrap();
    b.ticks.latency = LatencyStats::from_histogram(&coarse, "t").unwrap();
    b.save_json(dir.path().join("b.json")).unwrap();
    let out = tickprof(
        dir.path(),
        &[
            "merge",
            "a.json",
            "b.json",
            "-o",
            "m.json",
            "--shards",
            "sequential",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("a.json") && err.contains("b.json"), "{err}");
    assert!(err.contains("ticks.latency"), "{err}");
    assert!(!dir.path().join("m.json").exists());
    let _ = histogram(&[]);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    report("a", &ticks(5_000, 10), &[])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    for args in [
        &["merge", "a.json", "-o", "m.json"][..],
        &["merge", "--shards", "sequential", "-o", "m.json"][..],
        &["merge", "a.json", "--shards", "sequential"][..],
        &["merge", "a.json", "-o", "m.json", "--shards", "diagonal"][..],
    ] {
        let out = tickprof(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// The same run twice (the same file, or a copy) would count its ticks twice: exit 2 naming both
/// files, and nothing written.
#[test]
fn the_same_run_twice_is_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    report("run", &ticks(5_000, 100), &[])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    std::fs::copy(dir.path().join("a.json"), dir.path().join("copy.json")).unwrap();
    for (args, both) in [
        (&["merge", "a.json", "a.json"][..], "a.json and a.json"),
        (
            &["merge", "a.json", "copy.json"][..],
            "a.json and copy.json",
        ),
    ] {
        let mut args = args.to_vec();
        args.extend(["-o", "m.json", "--shards", "parallel"]);
        let out = tickprof(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "{both} are the same run (`run`, started 2026-01-01T00:00:00Z"
            )),
            "{err}"
        );
        assert!(!dir.path().join("m.json").exists());
    }
}

/// A checkpoint or a snapshot holds its run from the start, as the final report does: merged
/// with the final report, with another such part or with an interval of the same run, it would
/// count ticks twice (48,000 = 24,000 + 24,000 was read as a final report). Refused naming both
/// files, nothing written. Two intervals of one run are disjoint parts: merged exactly.
#[test]
fn a_part_of_the_same_run_is_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let all = ticks(5_000, 24_000);
    let save = |file: &str, values: &[u64], part: Option<RunPart>| {
        let mut r = report("run", values, &[]);
        r.part = part;
        r.save_json(dir.path().join(file)).unwrap();
        r
    };
    let final_report = save("final.json", &all, None);
    save("checkpoint.json", &all[..12_000], Some(RunPart::Checkpoint));
    save("snapshot.json", &all[..20_000], Some(RunPart::Snapshot));
    let first = save(
        "i1.json",
        &all[..8_000],
        Some(RunPart::Interval {
            index: 1,
            offset_s: 0.0,
        }),
    );
    save(
        "i2.json",
        &all[8_000..],
        Some(RunPart::Interval {
            index: 2,
            offset_s: first.total_time_s,
        }),
    );
    save(
        "i1-again.json",
        &all[..7_999],
        Some(RunPart::Interval {
            index: 1,
            offset_s: 0.0,
        }),
    );
    for (a, b) in [
        ("final.json", "checkpoint.json"),
        ("checkpoint.json", "final.json"),
        ("final.json", "snapshot.json"),
        ("snapshot.json", "checkpoint.json"),
        ("final.json", "i2.json"),
        ("i1.json", "checkpoint.json"),
        ("i1.json", "i1-again.json"),
    ] {
        for shards in ["sequential", "parallel"] {
            let out = tickprof(
                dir.path(),
                &["merge", a, b, "-o", "m.json", "--shards", shards],
            );
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{a} {b}: {err}");
            assert!(
                err.contains(a) && err.contains(b) && err.contains("parts of the same run (`run`"),
                "{a} {b}: {err}"
            );
            assert!(!dir.path().join("m.json").exists(), "{a} {b}");
        }
    }
    let out = tickprof(
        dir.path(),
        &[
            "merge",
            "i1.json",
            "i2.json",
            "-o",
            "m.json",
            "--shards",
            "sequential",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = Report::load(dir.path().join("m.json")).unwrap();
    assert_eq!(merged.ticks.count, final_report.ticks.count);
    assert_eq!(
        merged.ticks.latency.decode_histogram("m").unwrap(),
        Report::load(dir.path().join("final.json"))
            .unwrap()
            .ticks
            .latency
            .decode_histogram("f")
            .unwrap()
    );
}

/// Reports whose component sets differ are merged (the union), with a warning naming the file
/// and what it lacks: they may be runs of different programs.
#[test]
fn different_components_merge_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let t = ticks(5_000, 100);
    let c = ticks(500, 100);
    report("run", &t, &[("parse", &c), ("strategy", &c)])
        .save_json(dir.path().join("a.json"))
        .unwrap();
    let mut b = report("run", &t[..50], &[("parse", &c[..50])]);
    b.started_at = "2026-01-01T00:01:00Z".to_owned();
    b.save_json(dir.path().join("b.json")).unwrap();
    let args = [
        "merge",
        "a.json",
        "b.json",
        "-o",
        "m.json",
        "--shards",
        "sequential",
    ];
    let out = tickprof(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "tickprof: warning: b.json has no `strategy` component, which other reports have: \
         runs of different programs?\n"
    );
    let m = Report::load(dir.path().join("m.json")).unwrap();
    assert_eq!(m.components["strategy"].count, 100);
    assert_eq!(m.components["parse"].count, 150);

    // The same components: no warning.
    let mut c2 = report("run", &t, &[("parse", &c), ("strategy", &c)]);
    c2.started_at = "2026-01-01T00:02:00Z".to_owned();
    c2.save_json(dir.path().join("c.json")).unwrap();
    let out = tickprof(
        dir.path(),
        &[
            "merge",
            "a.json",
            "c.json",
            "-o",
            "m.json",
            "--shards",
            "sequential",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
}
