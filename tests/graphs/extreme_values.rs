//! Graphs always get finite axis ranges: a report with absurd values (1.7e308 s, a CPU sample of
//! 1.6e308 %, NaN) is refused with an error naming the field, quickly, instead of plotters'
//! tick-mark loop spinning forever on an infinite range; extreme but valid values (u64::MAX
//! bytes, 10^12 ticks/s next to 1e-300 ticks/s, zero ticks) draw, quickly. `tickprof plot` on
//! such a report exits 2 naming the file and the field.

use std::time::Duration;

use crate::common::{report, stderr, tickprof_within, ticks, with_resources, within};
use tickprof::graphs::{latency_distribution, resources, scalability_metrics};
use tickprof::{Error, Report, ResourceSample};

/// Far above what a debug build needs for these figures, far below forever.
const LIMIT: Duration = Duration::from_secs(60);

fn sampled(name: &str) -> Report {
    let mut r = with_resources(
        report(name, &ticks(5_000, 100), &[("parse", &ticks(700, 100))]),
        12.0,
        99.0,
    );
    r.resources.as_mut().unwrap().samples = (1..=3)
        .map(|i: u32| ResourceSample::new(0.1 * f64::from(i), 98.0, 12_000_000, 30 * u64::from(i)))
        .collect();
    r
}

/// Draws all three figures of `reports` into a fresh directory, on a watchdog thread.
fn draw_all(reports: Vec<Report>) -> Vec<tickprof::Result<()>> {
    within(LIMIT, "drawing", move || {
        let dir = tempfile::tempdir().unwrap();
        let mut results = vec![scalability_metrics(&reports, &dir.path().join("s.png"))];
        for r in &reports {
            results.push(latency_distribution(r, &dir.path().join("l.png")));
            results.push(resources(r, &dir.path().join("r.png")));
        }
        results
    })
}

#[test]
fn absurd_values_are_refused_naming_the_field() {
    type Spoil = fn(&mut Report);
    let cases: [(&str, Spoil); 4] = [
        ("total_time_s", |r| r.total_time_s = 1.7e308),
        ("resources.samples[1].cpu_percent", |r| {
            r.resources.as_mut().unwrap().samples[1].cpu_percent = 1.6e308;
        }),
        ("ticks.latency.mean_ns", |r| {
            r.ticks.latency.mean_ns = f64::NAN
        }),
        ("ticks.throughput_per_s", |r| {
            r.ticks.throughput_per_s = f64::INFINITY
        }),
    ];
    for (field, spoil) in cases {
        let mut r = sampled("absurd");
        spoil(&mut r);
        let results = draw_all(vec![r]);
        for result in results {
            match result {
                Err(e @ Error::Graph { .. }) => assert!(
                    e.to_string()
                        .contains(&format!("report `absurd`: {field}: must be")),
                    "{e}"
                ),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}

#[test]
fn extreme_but_valid_values_draw() {
    let mut huge = sampled("huge");
    huge.total_time_s = 1e10;
    huge.ticks.throughput_per_s = 1e12;
    let res = huge.resources.as_mut().unwrap();
    res.peak_rss_bytes = u64::MAX;
    res.cpu_percent.max = Some(1e6);
    res.samples[2] = ResourceSample::new(1e13, 1e6, u64::MAX, u64::MAX);
    // The smallest run is the efficiency panel's base: 1e12 / 1e-300 overflows to infinity.
    let mut tiny = sampled("tiny");
    tiny.ticks.count = 10;
    tiny.ticks.throughput_per_s = 1e-300;
    tiny.total_time_s = 1e-300;
    for result in draw_all(vec![tiny, huge]) {
        result.unwrap();
    }
    for result in draw_all(vec![report("empty", &[], &[])]) {
        result.unwrap();
    }
}

#[test]
fn plot_exits_2_on_an_absurd_report_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = sampled("absurd");
    r.total_time_s = 1.7e308;
    // Written as JSON by hand: `save_json` would write it, but the point is a file on disk.
    std::fs::write(dir.path().join("absurd.json"), r.to_json_string()).unwrap();
    let out = tickprof_within(dir.path(), &["plot", "."], LIMIT);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "absurd.json: total_time_s: must be a number of seconds in 0 ..= 1e10, got 1.7e308"
        ),
        "{err}"
    );
}
