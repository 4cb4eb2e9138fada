//! Slow ticks named in the user's terms: the tick span's first fields (`seq`, `ts`, …) are in
//! the report, the summary and the trace, whether set at creation or recorded later, on timed
//! ticks as on recorded ones; and ordinals count each thread's own ticks, even on a shard an
//! exited thread left behind.

use crate::common::{slow_tick_builder, spin};

use std::time::Duration;

use tickprof::{
    MetricsCollector, Report, Sampling, SlowTick, TickField, TickFieldCapture, TickFieldValue,
};
use tracing::Dispatch;
use tracing::field::Empty;
use tracing_subscriber::prelude::*;

fn collector(sampling: Sampling, k: usize) -> MetricsCollector {
    collector_capturing(sampling, k, TickFieldCapture::Formatted)
}

fn collector_capturing(
    sampling: Sampling,
    k: usize,
    capture: TickFieldCapture,
) -> MetricsCollector {
    slow_tick_builder(sampling, k, capture).build().unwrap()
}

fn field(name: &str, value: TickFieldValue) -> TickField {
    TickField::new(name, value)
}

/// The reported tick of `ordinal`.
fn tick_of(report: &Report, ordinal: u64) -> SlowTick {
    listed(report)
        .into_iter()
        .find(|t| t.ordinal == ordinal)
        .unwrap_or_else(|| panic!("tick #{ordinal} not listed"))
}

/// Every tick the report lists (both lists).
fn listed(report: &Report) -> Vec<SlowTick> {
    let slow = report.slowest_ticks.as_ref().expect("slowest ticks");
    slow.ticks.iter().chain(&slow.recorded).cloned().collect()
}

const TICKS: u64 = 5_000;
const SLOW_SEQ: u64 = 3_456;

fn timestamp(seq: u64) -> String {
    format!("2025-03-14T14:30:{:02}.{:03}Z", seq / 1000 % 60, seq % 1000)
}

/// `TICKS` ticks `info_span!("tick", seq, venue, ts = %…)`, `SLOW_SEQ` spinning 2 ms; the
/// `k` slowest kept. (The machine is shared: other ticks may be slower, so tests that keep
/// fewer than all ticks check every listed tick, not the planted one.)
fn run_capturing(sampling: Sampling, capture: TickFieldCapture, k: usize) -> Report {
    let c = collector_capturing(sampling, k, capture);
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    tracing::dispatcher::with_default(&d, || {
        c.start_profiling("fields").unwrap();
        for seq in 0..TICKS {
            let ts = timestamp(seq);
            let _tick = tracing::info_span!("tick", seq, venue = "XNAS", ts = %ts).entered();
            let _c = tracing::info_span!("parse").entered();
            if seq == SLOW_SEQ {
                spin(Duration::from_millis(2));
            }
        }
    });
    c.stop_profiling().unwrap()
}

/// The fields tick `ordinal` was created with, as kept.
fn expected(ordinal: u64, capture: TickFieldCapture) -> Vec<TickField> {
    let seq = ordinal - 1;
    let mut fields = vec![
        field("seq", TickFieldValue::U64(seq)),
        field("venue", TickFieldValue::Text("XNAS".into())),
    ];
    match capture {
        TickFieldCapture::Off => fields.clear(),
        TickFieldCapture::Scalars => {}
        // 8 + 4 bytes used: 20 left for the 24-byte timestamp, cut at a whole piece.
        TickFieldCapture::Formatted => {
            let ts = timestamp(seq);
            fields.push(field("ts", TickFieldValue::Text(format!("{}…", &ts[..20]))));
        }
    }
    fields
}

#[test]
fn every_tick_kept_carries_its_own_first_fields_in_declaration_order() {
    // Every tick kept: the planted one is there whatever else the machine did.
    let report = run_capturing(
        Sampling::full(),
        TickFieldCapture::Formatted,
        TICKS as usize,
    );
    let t = tick_of(&report, SLOW_SEQ + 1);
    assert!(t.latency_ns >= 2_000_000, "{}", t.latency_ns);
    assert_eq!(
        t.fields[2],
        field("ts", TickFieldValue::Text("2025-03-14T14:30:03.…".into()))
    );
    let all = listed(&report);
    assert_eq!(all.len(), TICKS as usize);
    for t in &all {
        assert_eq!(t.fields, expected(t.ordinal, TickFieldCapture::Formatted));
    }
    let summary = report.to_string();
    assert!(
        summary.contains("tick #3,457 seq=3456 venue=XNAS ts=2025-03-14T14:30:03.… ("),
        "{}",
        &summary[..summary.len().min(3_000)]
    );
    let trace = report.chrome_trace();
    let tick_event = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "tick" && e["args"]["ordinal"] == SLOW_SEQ + 1)
        .expect("the slow tick's event");
    assert_eq!(tick_event["args"]["fields.seq"], SLOW_SEQ);
    assert_eq!(tick_event["args"]["fields.venue"], "XNAS");
}

#[test]
fn with_few_kept_each_listed_tick_still_has_its_own_fields() {
    // Fields are sent only for ticks above the thread's published floor: none may be missing
    // or belong to a neighbour.
    for capture in [
        TickFieldCapture::Formatted,
        TickFieldCapture::Scalars,
        TickFieldCapture::Off,
    ] {
        let report = run_capturing(Sampling::full(), capture, 5);
        let all = listed(&report);
        assert_eq!(all.len(), 5);
        for t in &all {
            assert_eq!(t.fields, expected(t.ordinal, capture), "{capture:?}");
        }
    }
}

#[test]
fn timed_only_ticks_have_their_fields_too() {
    // Default sampling: most ticks are timed without their components. Every tick kept (the
    // 50 slowest could all be recorded ones on a loaded machine).
    let report = run_capturing(
        Sampling::default(),
        TickFieldCapture::Scalars,
        TICKS as usize,
    );
    let all = listed(&report);
    assert!(all.iter().any(|t| !t.recorded), "no timed-only tick listed");
    for t in &all {
        assert_eq!(t.fields, expected(t.ordinal, TickFieldCapture::Scalars));
    }
}

#[test]
fn fields_survive_the_json_round_trip_as_an_object() {
    let report = run_capturing(Sampling::full(), TickFieldCapture::Formatted, 5);
    let json = serde_json::to_value(&report).unwrap();
    let first = &json["slowest_ticks"]["ticks"][0];
    assert!(first["fields"].is_object(), "{first}");
    assert_eq!(first["fields"]["venue"], "XNAS");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fields.json");
    report.save_json(&path).unwrap();
    let back = Report::load(&path).unwrap();
    assert_eq!(back.slowest_ticks, report.slowest_ticks);
}

#[test]
fn fields_recorded_after_creation_are_kept_and_replace_earlier_values() {
    // Every tick kept (the machine may make other ticks slower than the planted one).
    let c = collector(Sampling::full(), 2_000);
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    tracing::dispatcher::with_default(&d, || {
        c.start_profiling("record").unwrap();
        for i in 0..2_000u64 {
            let span = tracing::info_span!("tick", seq = Empty, px = 0.0, late = false);
            span.record("seq", i * 10);
            let _tick = span.enter();
            if i == 1_500 {
                span.record("px", f64::NAN);
                span.record("late", true);
                spin(Duration::from_millis(2));
            }
        }
    });
    let report = c.stop_profiling().unwrap();
    for t in listed(&report).iter().filter(|t| t.ordinal != 1_501) {
        assert_eq!(
            t.fields,
            [
                field("seq", TickFieldValue::U64((t.ordinal - 1) * 10)),
                field("px", TickFieldValue::F64(0.0)),
                field("late", TickFieldValue::Bool(false)),
            ]
        );
    }
    let t = tick_of(&report, 1_501);
    assert_eq!(
        t.fields,
        [
            field("seq", TickFieldValue::U64(15_000)),
            // JSON has no NaN: kept as text, so the report stays loadable.
            field("px", TickFieldValue::Text("NaN".into())),
            field("late", TickFieldValue::Bool(true)),
        ]
    );
    let json = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back.slowest_ticks, report.slowest_ticks);
}

#[test]
fn ticks_without_fields_report_none_and_the_json_has_no_fields_key() {
    let c = collector(Sampling::full(), 3);
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    tracing::dispatcher::with_default(&d, || {
        c.start_profiling("plain").unwrap();
        for _ in 0..500 {
            let _tick = tracing::info_span!("tick").entered();
        }
    });
    let report = c.stop_profiling().unwrap();
    let slow = report.slowest_ticks.as_ref().unwrap();
    assert_eq!(slow.ticks.len(), 3);
    assert!(slow.ticks.iter().all(|t| t.fields.is_empty()));
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["slowest_ticks"]["ticks"][0].get("fields").is_none());
}

/// A thread that exits leaves its shard to the next thread: the next thread's ordinals start
/// at 1 again (its n-th tick), so `seq` and the ordinal agree on both threads.
#[test]
fn a_thread_reusing_a_shard_counts_its_own_ordinals() {
    let c = collector(Sampling::full(), 20);
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    c.start_profiling("reuse").unwrap();
    for (name, slow_at) in [("first", 250u64), ("second", 70)] {
        let d = d.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    for seq in 0..300u64 {
                        let _tick = tracing::info_span!("tick", seq).entered();
                        if seq == slow_at {
                            spin(Duration::from_millis(3));
                        }
                    }
                })
            })
            .unwrap()
            .join()
            .unwrap();
    }
    let report = c.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 600);
    let slow = report.slowest_ticks.as_ref().unwrap();
    for t in slow.ticks.iter().chain(&slow.recorded) {
        assert!(
            t.ordinal >= 1 && t.ordinal <= 300,
            "{} #{}",
            t.thread,
            t.ordinal
        );
        assert_eq!(
            t.fields.first(),
            Some(&field("seq", TickFieldValue::U64(t.ordinal - 1))),
            "{} #{}",
            t.thread,
            t.ordinal
        );
    }
    for (thread, ordinal) in [("first", 251), ("second", 71)] {
        assert!(
            slow.ticks
                .iter()
                .any(|t| t.thread == thread && t.ordinal == ordinal),
            "{thread} #{ordinal} missing: {:#?}",
            slow.ticks
        );
    }
}
