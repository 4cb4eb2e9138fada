//! `tickprof trace` writes the slow ticks as a Chrome trace; `tickprof summary` prints them;
//! `tickprof merge` keeps the top-K of the merged reports.

use crate::common::{report, slow_tick, stderr, stdout, tickprof, ticks};
use tickprof::{Report, SlowestTicks, TickFieldValue};

fn with_slow(name: &str, slow: &[(u64, &str, u64)], limit: usize) -> Report {
    let mut r = report(
        name,
        &ticks(5_000, 1_000),
        &[("parse", &ticks(4_000, 1_000))],
    );
    r.slowest_ticks = Some(SlowestTicks::from_ticks(
        limit,
        0,
        slow.iter().map(|&(o, t, ns)| slow_tick(o, t, ns)),
    ));
    r
}

#[test]
fn trace_writes_one_track_per_slow_tick() {
    let dir = tempfile::tempdir().unwrap();
    with_slow(
        "run",
        &[(904_211, "main", 4_160_000), (12, "main", 90_000)],
        10,
    )
    .save_json(dir.path().join("run.json"))
    .unwrap();
    let out = tickprof(dir.path(), &["trace", "run.json", "-o", "out/slow.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "wrote out/slow.json (2 slow ticks, 2 with timelines)\n"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/slow.json")).unwrap())
            .unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    let complete: Vec<_> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(complete.len(), 4, "two ticks, one span each");
    assert_eq!(complete[0]["name"], "tick");
    assert_eq!(complete[0]["dur"], 4_160.0, "µs");
    assert_eq!(complete[1]["name"], "parse");
    // µs from the earliest tick listed (tick 12, 9,041,990 µs earlier); parse at +208 µs.
    assert_eq!(complete[0]["ts"], 9_041_990.0);
    assert_eq!(complete[1]["ts"], 9_042_198.0);
    assert_eq!(complete[2]["ts"], 0.0);
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "#1 tick 904,211 seq=904210 (main): 4.16 ms",
            "#2 tick 12 seq=11 (main): 90.0 µs"
        ]
    );
}

#[test]
fn trace_of_a_report_without_slow_ticks_says_why() {
    let dir = tempfile::tempdir().unwrap();
    report("old", &ticks(5_000, 100), &[])
        .save_json(dir.path().join("old.json"))
        .unwrap();
    let out = tickprof(dir.path(), &["trace", "old.json", "-o", "t.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "tickprof: error: report `old` has no slowest ticks (written before schema 4, or with \
         slowest_ticks(0))\n"
    );
    assert!(!dir.path().join("t.json").exists());
}

#[test]
fn summary_prints_the_slowest_ticks_block() {
    let dir = tempfile::tempdir().unwrap();
    with_slow("run", &[(904_211, "main", 4_160_000)], 10)
        .save_json(dir.path().join("run.json"))
        .unwrap();
    let out = tickprof(dir.path(), &["summary", "run.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "Slowest ticks (net busy time):\n  tick #904,211 seq=904210 (main, +9.042 s): 4.16 ms \
             — parse 3.74 ms (90 %)\n"
        ),
        "{text}"
    );
}

#[test]
fn merge_keeps_the_top_k_of_the_merged_reports() {
    let dir = tempfile::tempdir().unwrap();
    with_slow(
        "a",
        &[(1, "main", 500), (2, "main", 300), (3, "main", 100)],
        3,
    )
    .save_json(dir.path().join("a.json"))
    .unwrap();
    with_slow(
        "b",
        &[(1, "main", 400), (2, "main", 200), (3, "main", 50)],
        3,
    )
    .save_json(dir.path().join("b.json"))
    .unwrap();
    let out = tickprof(
        dir.path(),
        &[
            "merge", "a.json", "b.json", "-o", "m.json", "--shards", "parallel",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = Report::load(dir.path().join("m.json")).unwrap();
    let slow = merged.slowest_ticks.unwrap();
    assert_eq!(slow.limit, 3);
    let got: Vec<(&str, u64, u64)> = slow
        .ticks
        .iter()
        .map(|t| (t.run.as_deref().unwrap(), t.ordinal, t.latency_ns))
        .collect();
    assert_eq!(got, [("a", 1, 500), ("b", 1, 400), ("a", 2, 300)]);
    assert!(
        slow.ticks
            .iter()
            .all(|t| t.fields[0].value == TickFieldValue::U64(t.ordinal - 1)),
        "the merge keeps each tick's fields"
    );
    assert!(slow.recorded.is_empty());
}

#[test]
fn a_slow_tick_with_a_broken_number_fails_to_load_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    with_slow("run", &[(7, "main", 1_000)], 10)
        .save_json(&path)
        .unwrap();
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    report["slowest_ticks"]["ticks"][0]["offset_s"] = serde_json::json!(-1.0);
    let text = serde_json::to_string(&report).unwrap();
    std::fs::write(&path, text).unwrap();
    let err = Report::load(&path).unwrap_err().to_string();
    assert!(err.contains("slowest_ticks.ticks[0].offset_s"), "{err}");
}
