//! `Report::write_chrome_trace`: the Chrome Trace Event format, checked strictly, since no
//! viewer runs in CI: the document's shape, units (µs), one named track per slow tick, and
//! events nested exactly, each inside its tick.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use tickprof::{MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// 2,000 ticks with `parse` (holding `decode`) and `strategy`; every 500th spins 300 µs in
/// `decode`.
fn profiled() -> Report {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .slowest_ticks(4)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("trace").unwrap();
        for i in 1..=2_000u64 {
            let _tick = tracing::info_span!("tick").entered();
            {
                let _parse = tracing::info_span!("parse").entered();
                let _decode = tracing::info_span!("decode").entered();
                if i % 500 == 0 {
                    spin(Duration::from_micros(300));
                }
            }
            let _strategy = tracing::info_span!("strategy").entered();
            std::hint::black_box(i);
        }
        collector.stop_profiling().unwrap()
    })
}

/// A number field as integer ns (µs with ns as decimals: exact after rounding).
fn ns(event: &Value, field: &str) -> u64 {
    let us = event[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is a number: {event}"));
    assert!(us >= 0.0, "{field} not negative: {event}");
    (us * 1_000.0).round() as u64
}

#[test]
fn slow_ticks_are_a_strict_chrome_trace() {
    let report = profiled();
    let slow = report.slowest_ticks.as_ref().unwrap();
    assert_eq!(slow.ticks.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow_ticks.json");
    report.write_chrome_trace(&path).unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc, report.chrome_trace(), "the file holds the document");

    let events = doc["traceEvents"].as_array().expect("traceEvents array");
    let mut track_names: BTreeMap<u64, String> = BTreeMap::new();
    let mut by_track: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    let mut process_named = false;
    for e in events {
        assert_eq!(e["pid"], 1, "{e}");
        let tid = e["tid"].as_u64().expect("tid");
        match e["ph"].as_str().expect("ph") {
            "M" => match e["name"].as_str().unwrap() {
                "process_name" => process_named = e["args"]["name"].is_string(),
                "thread_name" => {
                    track_names.insert(tid, e["args"]["name"].as_str().unwrap().to_owned());
                }
                "thread_sort_index" => assert_eq!(e["args"]["sort_index"], tid),
                other => panic!("unexpected metadata {other}"),
            },
            "X" => {
                assert!(e["name"].is_string() && e["cat"].is_string(), "{e}");
                ns(e, "ts");
                ns(e, "dur");
                by_track.entry(tid).or_default().push(e);
            }
            other => panic!("only X and M events: {other}"),
        }
    }
    assert!(process_named);
    assert_eq!(by_track.len(), 4, "one track per slow tick");
    let named: BTreeSet<u64> = track_names.keys().copied().collect();
    assert_eq!(
        named,
        by_track.keys().copied().collect(),
        "every track named"
    );

    for ((tid, track), tick) in by_track.iter().zip(slow.all()) {
        // The track is this tick: its name says which, its first event is the tick, in µs.
        let name = &track_names[tid];
        assert!(
            name.contains(&format!("tick {}", thousands(tick.ordinal))),
            "{name}"
        );
        let tick_event = track[0];
        assert_eq!(tick_event["name"], "tick");
        assert_eq!(tick_event["args"]["ordinal"], tick.ordinal);
        assert_eq!(ns(tick_event, "dur"), tick.wall_ns, "dur is µs");
        assert_eq!(track.len(), 1 + tick.timeline.len());
        let (t0, t1) = (
            ns(tick_event, "ts"),
            ns(tick_event, "ts") + ns(tick_event, "dur"),
        );
        // Components: in the timeline's order, names and durations as the report says, each
        // within the tick and nested exactly (inside the enclosing open event, or after it).
        let mut open: Vec<(u64, u64)> = vec![(t0, t1)];
        for (e, span) in track[1..].iter().zip(&tick.timeline) {
            assert_eq!(e["name"], span.name.as_str());
            assert_eq!(e["cat"], "component");
            let (s, end) = (ns(e, "ts"), ns(e, "ts") + ns(e, "dur"));
            assert_eq!(s - t0, span.offset_ns);
            assert_eq!(end - s, span.duration_ns);
            assert!(t0 <= s && end <= t1, "inside its tick: {e}");
            while let Some(&(_, top_end)) = open.last() {
                if s >= top_end && open.len() > 1 {
                    open.pop();
                } else {
                    break;
                }
            }
            let &(ps, pe) = open.last().unwrap();
            assert!(ps <= s && end <= pe, "nested in its parent: {e}");
            assert_eq!(open.len() as u64, u64::from(span.depth), "depth: {e}");
            open.push((s, end));
        }
    }
    // The slowest tick's timeline: parse ⊃ decode, then strategy, decode took the 300 µs.
    let slowest = &slow.ticks[0];
    let names: Vec<(&str, u32, Option<u32>)> = slowest
        .timeline
        .iter()
        .map(|s| (s.name.as_str(), s.depth, s.parent))
        .collect();
    assert_eq!(
        names,
        [
            ("parse", 1, None),
            ("decode", 2, Some(0)),
            ("strategy", 1, None)
        ]
    );
    // Parse (which holds decode's 300 µs) took most of it, unless the machine preempted this
    // tick between its components for longer (then the time in none of them is named).
    let by_name = |name: &str| {
        slowest
            .timeline
            .iter()
            .filter(|s| s.depth == 1 && s.name == name)
            .map(|s| s.busy_ns)
            .sum::<u64>()
    };
    let (parse, strategy) = (by_name("parse"), by_name("strategy"));
    let unattributed = slowest.latency_ns.saturating_sub(parse + strategy);
    let expected = if unattributed > parse.max(strategy) {
        "(unattributed)"
    } else if strategy > parse {
        "strategy"
    } else {
        "parse"
    };
    assert_eq!(slowest.dominant.as_ref().unwrap().name, expected);
}

#[test]
fn a_report_without_slow_ticks_gives_an_empty_trace_of_one_process() {
    let mut report = profiled();
    report.slowest_ticks = None;
    let doc = report.chrome_trace();
    let events = doc["traceEvents"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["name"], "process_name");
}

/// `1234567` as `1,234,567`, as the trace names ticks.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
