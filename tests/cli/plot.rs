//! `tickprof plot DIR`: the driver's graphs from saved reports alone.

use crate::common;

use crate::common::{report, slow_tick, stdout, tickprof};
use tickprof::SlowestTicks;

/// Two runs of a sweep, the 1,000-tick one with slow ticks, the 10,000-tick one without (a
/// report from before schema 4): every graph is drawn and listed, except the slow ticks of the
/// run that has none, which stdout says.
#[test]
fn plot_draws_every_graph_beside_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1_000u64, 10_000] {
        let ticks: Vec<u64> = (0..n).map(|i| 1_000 + i % 500).collect();
        let parse: Vec<u64> = (0..n).map(|i| 100 + i % 50).collect();
        let mut r = report(&format!("scalability_{n}"), &ticks, &[("parse", &parse)]);
        r.total_time_s = n as f64 / 500_000.0;
        if n == 1_000 {
            let slow = [(499, 1_499), (999, 1_499)].map(|(o, ns)| slow_tick(o, "main", ns));
            r.slowest_ticks = Some(SlowestTicks::from_ticks(10, 0, slow));
        }
        r.save_json(dir.path().join(format!("scalability_{n}.json")))
            .unwrap();
    }
    let out = tickprof(dir.path(), &["plot", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let said = stdout(&out);
    for png in [
        "scalability_metrics.png",
        "latency_1000.png",
        "latency_10000.png",
        "resources_1000.png",
        "resources_10000.png",
        "slow_ticks_1000.png",
    ] {
        let bytes = std::fs::read(dir.path().join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{png} is not a PNG");
        assert!(
            said.contains(&format!("wrote ./{png}\n")),
            "{png} not reported"
        );
    }
    assert_eq!(said.lines().filter(|l| l.starts_with("wrote ")).count(), 6);
    assert!(!dir.path().join("slow_ticks_10000.png").exists());
    assert!(
        said.contains(
            "\nno slow_ticks_10000.png for `scalability_10000`: the report keeps no slow ticks \
             (written before schema 4, or with slowest_ticks(0))\n"
        ),
        "{said}"
    );
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

/// One truncated report among good ones: every graph that can be drawn is drawn, each bad file
/// is reported once on stderr (line and column said once), and the exit code is 2 at the end.
#[test]
fn plot_draws_what_it_can_and_reports_each_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1_000u64, 10_000] {
        let ticks: Vec<u64> = (0..n).map(|i| 1_000 + i % 500).collect();
        let mut r = report(&format!("scalability_{n}"), &ticks, &[]);
        r.total_time_s = n as f64 / 500_000.0;
        r.save_json(dir.path().join(format!("scalability_{n}.json")))
            .unwrap();
    }
    let whole = std::fs::read_to_string(dir.path().join("scalability_1000.json")).unwrap();
    std::fs::write(
        dir.path().join("scalability_truncated.json"),
        &whole[..whole.len() / 2],
    )
    .unwrap();
    let mut bad_blob = report("bad_blob", &[1_000], &[]);
    bad_blob.ticks.latency.histogram = "aGVsbG8gd29ybGQ=".to_owned();
    std::fs::write(dir.path().join("bad_blob.json"), bad_blob.to_json_string()).unwrap();

    let out = tickprof(dir.path(), &["plot", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    let drawn = stdout(&out);
    for png in [
        "scalability_metrics.png",
        "latency_1000.png",
        "latency_10000.png",
        "resources_1000.png",
        "resources_10000.png",
    ] {
        assert!(drawn.contains(png), "{png} not drawn: {drawn}");
        assert!(dir.path().join(png).exists(), "{png}");
    }
    assert!(
        !drawn.contains("truncated") && !drawn.contains("bad_blob"),
        "{drawn}"
    );
    let err = common::stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].starts_with(
            "tickprof: error: ./bad_blob.json: ticks.latency.histogram: not an HdrHistogram"
        ),
        "{err}"
    );
    assert!(
        lines[1].starts_with("tickprof: error: ./scalability_truncated.json: line ")
            && lines[1].contains("EOF while parsing")
            && !lines[1].contains(" at line "),
        "{err}"
    );
    assert_eq!(
        lines[2],
        "tickprof: error: 2 files in . could not be drawn; every other graph was"
    );
}

/// A sweep and a user's own report: stdout names the reports the scalability graph was drawn
/// from, and says why the other report has none; a directory of one report draws none.
#[test]
fn plot_says_which_reports_each_scalability_graph_used() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1_000u64, 10_000] {
        let ticks: Vec<u64> = (0..n).map(|i| 1_000 + i % 500).collect();
        report(&format!("scalability_{n}"), &ticks, &[])
            .save_json(dir.path().join(format!("scalability_{n}.json")))
            .unwrap();
    }
    report("my_backtest", &[900, 1_000, 1_100], &[])
        .save_json(dir.path().join("my_backtest.json"))
        .unwrap();
    let out = tickprof(dir.path(), &["plot", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("wrote ")).count(),
        7,
        "{lines:?}"
    );
    assert_eq!(
        lines[7..],
        [
            "no slow_ticks_my_backtest.png for `my_backtest`: the report keeps no slow ticks \
             (written before schema 4, or with slowest_ticks(0))",
            "no slow_ticks_1000.png for `scalability_1000`: the report keeps no slow ticks \
             (written before schema 4, or with slowest_ticks(0))",
            "no slow_ticks_10000.png for `scalability_10000`: the report keeps no slow ticks \
             (written before schema 4, or with slowest_ticks(0))",
            "no scalability graph for `my_backtest`: 1 run (my_backtest.json, 3 ticks); a \
             scalability graph compares runs of at least 2 sizes (a sweep's runs are named \
             my_backtest_<ticks>)",
            "scalability_metrics.png: sweep `scalability`, 2 runs: scalability_1000.json \
             (1,000 ticks), scalability_10000.json (10,000 ticks)",
        ]
    );

    let single = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("my_backtest.json"),
        single.path().join("my_backtest.json"),
    )
    .unwrap();
    let out = tickprof(single.path(), &["plot", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(
        stdout(&out),
        "wrote ./latency_my_backtest.png\nwrote ./resources_my_backtest.png\n\
         no slow_ticks_my_backtest.png for `my_backtest`: the report keeps no slow ticks \
         (written before schema 4, or with slowest_ticks(0))\n\
         no scalability graph for `my_backtest`: 1 run (my_backtest.json, 3 ticks); a \
         scalability graph compares runs of at least 2 sizes (a sweep's runs are named \
         my_backtest_<ticks>)\n"
    );
    let pngs: Vec<String> = std::fs::read_dir(single.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    assert_eq!(pngs.len(), 2, "{pngs:?}");
}
