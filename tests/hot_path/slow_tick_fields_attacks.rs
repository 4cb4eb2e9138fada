//! Attacks on slow ticks' fields: a listed tick's fields are its own (never a neighbour's, an
//! earlier run's or another callsite's), whatever harvests, ring boundaries, sampling, live
//! ticks, thread moves and odd values do; absent is allowed only where the docs say so.
//!
//! The machine is shared: any tick can be slow, so each test keeps every tick or checks every
//! listed tick against its own ground truth (`seq` = ordinal − 1).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use crate::common::{slow_tick_builder as builder, spin, stderr, stdout, tickprof};
use tickprof::{
    MetricsCollector, Report, Sampling, SlowTick, TickField, TickFieldCapture, TickFieldValue,
};
use tracing::Dispatch;
use tracing::field::Empty;
use tracing_subscriber::prelude::*;

fn collector(sampling: Sampling, k: usize, capture: TickFieldCapture) -> MetricsCollector {
    builder(sampling, k, capture).build().unwrap()
}

fn dispatch(c: &MetricsCollector) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(c.layer()))
}

fn field(name: &str, value: TickFieldValue) -> TickField {
    TickField::new(name, value)
}

fn u(n: u64) -> TickFieldValue {
    TickFieldValue::U64(n)
}

fn text(s: &str) -> TickFieldValue {
    TickFieldValue::Text(s.to_owned())
}

/// Every tick the report lists (both lists).
fn listed(report: &Report) -> Vec<SlowTick> {
    let slow = report.slowest_ticks.as_ref().expect("slowest ticks");
    slow.ticks.iter().chain(&slow.recorded).cloned().collect()
}

/// Every listed tick carries `seq` = ordinal − 1 and nothing else; `present`: whether a tick
/// may lack its fields (only where a harvest races its close).
fn assert_own_seq(report: &Report, what: &str, must_be_present: bool) -> usize {
    let mut with_fields = 0;
    for t in listed(report) {
        if t.fields.is_empty() && !must_be_present {
            continue;
        }
        assert_eq!(
            t.fields,
            [field("seq", u(t.ordinal - 1))],
            "{what}: {} #{}",
            t.thread,
            t.ordinal
        );
        with_fields += 1;
    }
    with_fields
}

/// Ticks `seq` with `children(seq)` component spans each.
fn tick_loop(ticks: u64, children: impl Fn(u64) -> u64) {
    for seq in 0..ticks {
        let _tick = tracing::info_span!("tick", seq).entered();
        for _ in 0..children(seq) {
            let _c = tracing::info_span!("part").entered();
        }
    }
}

#[test]
fn with_few_kept_no_tick_wears_a_neighbours_fields_under_any_sampling() {
    for sampling in [Sampling::full(), Sampling::default(), Sampling::one_in(7)] {
        let c = collector(sampling, 3, TickFieldCapture::Scalars);
        tracing::dispatcher::with_default(&dispatch(&c), || {
            c.start_profiling("neighbours").unwrap();
            tick_loop(3_000, |seq| seq % 3);
        });
        let report = c.stop_profiling().unwrap();
        assert!(!listed(&report).is_empty(), "{sampling:?}");
        // No harvest during the run: the floor never leads, so none may be missing.
        assert_own_seq(&report, &format!("{sampling:?}"), true);
    }
}

#[test]
fn a_fields_record_that_meets_a_full_ring_stays_with_its_tick() {
    // 0..=260 components per tick: the fields record lands on every position of the
    // 128-record ring, among them the one where the ring is full and drains under it.
    for k in [300, 4] {
        let c = collector(Sampling::full(), k, TickFieldCapture::Scalars);
        tracing::dispatcher::with_default(&dispatch(&c), || {
            c.start_profiling("ring").unwrap();
            tick_loop(261, |seq| seq);
        });
        let report = c.stop_profiling().unwrap();
        if k == 300 {
            assert_eq!(listed(&report).len(), 261);
        }
        assert_own_seq(&report, &format!("k={k}"), true);
    }
}

#[test]
fn snapshots_and_intervals_from_another_thread_never_misattribute_fields() {
    for sampling in [Sampling::full(), Sampling::default()] {
        let c = Arc::new(collector(sampling, 4, TickFieldCapture::Scalars));
        let d = dispatch(&c);
        c.start_profiling("harvested").unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let both = Arc::new(Barrier::new(2));
        let harvester = {
            let (c, done, both) = (Arc::clone(&c), Arc::clone(&done), Arc::clone(&both));
            std::thread::spawn(move || {
                let mut reports = Vec::new();
                both.wait();
                loop {
                    reports.push(c.snapshot().unwrap());
                    reports.push(c.interval().unwrap());
                    if done.load(Ordering::Acquire) {
                        return reports;
                    }
                }
            })
        };
        both.wait();
        tracing::dispatcher::with_default(&d, || tick_loop(1_500, |seq| seq % 5));
        done.store(true, Ordering::Release);
        let reports = harvester.join().unwrap();
        let report = c.stop_profiling().unwrap();
        for (i, r) in reports.iter().enumerate() {
            assert_own_seq(r, &format!("{sampling:?} report {i}"), false);
        }
        let kept = assert_own_seq(&report, &format!("{sampling:?} final"), false);
        assert!(kept > 0, "{sampling:?}: no listed tick has its fields");
    }
}

/// The order the six live ticks of a round are first entered in.
const FIRST_ENTERS: [u64; 6] = [3, 0, 5, 1, 4, 2];

#[test]
fn many_live_ticks_on_one_thread_keep_their_own_fields() {
    let c = collector(Sampling::full(), 1_000, TickFieldCapture::Scalars);
    tracing::dispatcher::with_default(&dispatch(&c), || {
        c.start_profiling("live").unwrap();
        for round in 0..20u64 {
            // Six live ticks on one thread (async tasks), entered interleaved, closed in odd
            // order.
            let spans: Vec<_> = (0..6u64)
                .map(|i| tracing::info_span!("tick", seq = round * 6 + i))
                .collect();
            for i in FIRST_ENTERS.into_iter().chain([2, 5, 0]) {
                let _e = spans[i as usize].enter();
                let _c = tracing::info_span!("part").entered();
            }
            let mut spans: Vec<_> = spans.into_iter().map(Some).collect();
            for i in [4, 1, 5, 0, 3, 2] {
                drop(spans[i].take());
            }
        }
    });
    let report = c.stop_profiling().unwrap();
    let mut all = listed(&report);
    assert_eq!(all.len(), 120);
    // Which tick each is, from when it was first entered (its ordinal may be unknown: the
    // two created first are forgotten by the ring of created spans, and rebuilt).
    // Which tick each is, from when it was first entered: its fields travel with its timing,
    // so every one has its own, whatever the order of enters and closes.
    all.sort_by_key(|t| t.start_unix_ns);
    for (round, ticks) in all.chunks(6).enumerate() {
        for (t, i) in ticks.iter().zip(FIRST_ENTERS) {
            let seq = round as u64 * 6 + i;
            assert_eq!(t.ordinal, seq + 1, "{seq}");
            assert_eq!(t.fields, [field("seq", u(seq))], "{seq}");
        }
    }
}

#[test]
fn a_long_lived_tick_keeps_its_fields_while_short_ones_come_and_go() {
    // Never more than two live ticks: the long one must not be forgotten for the short ones
    // created after it.
    let c = collector(Sampling::full(), 1_000, TickFieldCapture::Scalars);
    tracing::dispatcher::with_default(&dispatch(&c), || {
        c.start_profiling("long").unwrap();
        for round in 0..10u64 {
            let long = tracing::info_span!("tick", seq = round * 11);
            for i in 1..=10 {
                long.in_scope(|| {});
                let _short = tracing::info_span!("tick", seq = round * 11 + i).entered();
            }
        }
    });
    let report = c.stop_profiling().unwrap();
    assert_eq!(listed(&report).len(), 110);
    assert_own_seq(&report, "long", true);
}

#[test]
fn a_tick_closed_on_another_thread_keeps_its_own_fields() {
    let c = collector(Sampling::full(), 2_000, TickFieldCapture::Scalars);
    let d = dispatch(&c);
    c.start_profiling("moved").unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<tracing::Span>();
    let closer = {
        let d = d.clone();
        std::thread::Builder::new()
            .name("closer".to_owned())
            .spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    for (seq, moved) in (0u64..).zip(rx) {
                        // Its own tick, live while the moved one closes here.
                        let _own = tracing::info_span!("tick", seq).entered();
                        let _e = moved.enter();
                        let _c = tracing::info_span!("part").entered();
                    }
                })
            })
            .unwrap()
    };
    tracing::dispatcher::with_default(&d, || {
        for n in 0..300u64 {
            let seq = 2 * n;
            {
                let _own = tracing::info_span!("tick", seq).entered();
            }
            // The creator's next ordinal, under another field name.
            let moved = tracing::info_span!("tick", moved = seq + 1);
            moved.in_scope(|| {});
            tx.send(moved).unwrap();
        }
    });
    drop(tx);
    closer.join().unwrap();
    let report = c.stop_profiling().unwrap();
    let all = listed(&report);
    assert_eq!(all.len(), 900);
    // Every tick has its own fields, the moved ones too (listed on the thread that closed
    // them, with their creator's ordinal, `moved` = that ordinal − 1).
    let moved: Vec<_> = all
        .iter()
        .filter(|t| t.fields.iter().any(|f| f.name == "moved"))
        .collect();
    assert_eq!(moved.len(), 300);
    for t in moved {
        assert_eq!(
            t.fields,
            [field("moved", u(t.ordinal - 1))],
            "#{}",
            t.ordinal
        );
    }
    let own: Vec<_> = all
        .iter()
        .filter(|t| t.fields.iter().any(|f| f.name == "seq"))
        .collect();
    assert_eq!(own.len(), 600, "every own tick has its fields");
}

#[test]
fn ticks_never_entered_and_stray_records_do_not_disturb_fields() {
    let c = collector(Sampling::full(), 1_000, TickFieldCapture::Scalars);
    let d = dispatch(&c);
    tracing::dispatcher::with_default(&d, || {
        // A tick created before the run, recorded during it.
        let early = tracing::info_span!("tick", seq = Empty);
        c.start_profiling("stray").unwrap();
        early.record("seq", 999_999u64);
        let mut stale = None;
        for seq in 0..200u64 {
            let tick = tracing::info_span!("tick", seq);
            if seq % 5 == 0 {
                // Dropped without ever being entered.
                drop(tick);
                continue;
            }
            let _e = tick.enter();
            // A field of the same name on a component, recorded while the tick is live.
            let part = tracing::info_span!("part", seq = Empty);
            part.record("seq", 777_777u64);
            let _p = part.enter();
            early.record("seq", 888_888u64);
            if seq == 1 {
                stale = Some((tick.id().unwrap(), tick.metadata().unwrap()));
            }
        }
        // A record for a tick that closed long ago (its id as the layer saw it).
        let (id, metadata) = stale.unwrap();
        let seq = metadata.fields().field("seq").unwrap();
        let value = 555_555u64;
        let values = [(&seq, Some(&value as &dyn tracing::Value))];
        let values = metadata.fields().value_set(&values);
        d.record(&id, &tracing::span::Record::new(&values));
        let _last = tracing::info_span!("tick", seq = 200u64).entered();
    });
    let report = c.stop_profiling().unwrap();
    // The 40 never entered have no busy time and no record.
    assert_eq!(listed(&report).len(), 161);
    assert_own_seq(&report, "stray", true);
}

/// A `Display` that opens spans and emits an event while it is formatted (inside the layer).
struct Loud(u64);

impl fmt::Display for Loud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _s = tracing::info_span!("inside_display").entered();
        let _t = tracing::info_span!("tick", seq = 0u64).entered();
        tracing::info!("formatting");
        write!(f, "loud-{}", self.0)
    }
}

#[derive(Debug)]
struct Failure;

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("disk on fire")
    }
}

impl std::error::Error for Failure {}

/// The fields of the one tick of each callsite, `(scalars, formatted)`, run through JSON.
fn typed_fields(make: fn()) -> [Vec<TickField>; 2] {
    [TickFieldCapture::Scalars, TickFieldCapture::Formatted].map(|capture| {
        let c = collector(Sampling::full(), 10, capture);
        tracing::dispatcher::with_default(&dispatch(&c), || {
            c.start_profiling("types").unwrap();
            make();
        });
        let report = c.stop_profiling().unwrap();
        let all = listed(&report);
        assert_eq!(all.len(), 1, "{capture:?}");
        let json = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.slowest_ticks, report.slowest_ticks,
            "{capture:?}: {json}"
        );
        all[0].fields.clone()
    })
}

#[test]
fn extreme_scalars_keep_their_values_through_json() {
    let [scalars, formatted] = typed_fields(|| {
        let _t =
            tracing::info_span!("tick", low = i64::MIN, high = u64::MAX, late = true).entered();
    });
    let want = [
        field("low", TickFieldValue::I64(i64::MIN)),
        field("high", u(u64::MAX)),
        field("late", TickFieldValue::Bool(true)),
    ];
    assert_eq!(scalars, want);
    assert_eq!(formatted, want);
}

#[test]
fn floats_that_json_cannot_hold_are_text_and_the_rest_stay_floats() {
    let [scalars, _] = typed_fields(|| {
        let _t = tracing::info_span!("tick", nan = f64::NAN, inf = f64::NEG_INFINITY, z = -0.0f64)
            .entered();
    });
    assert_eq!(
        scalars,
        [
            field("nan", text("NaN")),
            field("inf", text("-inf")),
            field("z", TickFieldValue::F64(-0.0)),
        ]
    );
    let TickFieldValue::F64(z) = scalars[2].value else {
        unreachable!()
    };
    assert!(z.is_sign_negative());
}

#[test]
fn positive_signed_integers_read_back_equal() {
    // `seq = 5` is an i32, recorded as i64: the commonest tick field there is.
    let [scalars, _] = typed_fields(|| {
        let _t = tracing::info_span!("tick", seq = 5, delta = -3i64, zero = 0i64).entered();
    });
    assert_eq!(
        scalars,
        [
            field("seq", u(5)),
            field("delta", TickFieldValue::I64(-3)),
            field("zero", u(0)),
        ]
    );
}

#[test]
fn text_is_cut_at_char_boundaries_at_exactly_the_32nd_byte() {
    // 8 bytes for `n`, 24 left.
    let [scalars, _] = typed_fields(|| {
        let fits = format!("{}é", "a".repeat(22)); // 24 bytes: whole
        let _t = tracing::info_span!("tick", n = 1u64, s = fits.as_str()).entered();
    });
    assert_eq!(
        scalars,
        [
            field("n", u(1)),
            field("s", text(&format!("{}é", "a".repeat(22))))
        ]
    );
    let [scalars, _] = typed_fields(|| {
        let over = format!("{}é", "a".repeat(23)); // 25 bytes: é straddles the end
        let _t = tracing::info_span!("tick", n = 1u64, s = over.as_str()).entered();
    });
    assert_eq!(
        scalars,
        [
            field("n", u(1)),
            field("s", text(&format!("{}…", "a".repeat(23))))
        ]
    );
    let [scalars, formatted] = typed_fields(|| {
        // 4-byte chars: 21 + 4 = 25 bytes, the emoji's last three bytes past the end.
        let emoji = format!("{}🦀x", "b".repeat(21));
        let _t = tracing::info_span!("tick", n = 1u64, s = emoji.as_str(), d = %emoji).entered();
    });
    assert_eq!(
        scalars,
        [
            field("n", u(1)),
            field("s", text(&format!("{}…", "b".repeat(21))))
        ]
    );
    assert_eq!(
        formatted,
        [
            field("n", u(1)),
            field("s", text(&format!("{}…", "b".repeat(21)))),
            field("d", text("bbb…")),
        ],
        "the formatted one gets the 3 bytes left"
    );
    let [scalars, formatted] = typed_fields(|| {
        let _t = tracing::info_span!("tick", empty = "", after = 2u64, d = %"").entered();
    });
    assert_eq!(scalars, [field("empty", text("")), field("after", u(2))]);
    assert_eq!(
        formatted,
        [
            field("empty", text("")),
            field("after", u(2)),
            field("d", text(""))
        ]
    );
}

#[test]
fn wide_integers_errors_and_loud_displays_are_formatted_or_skipped_never_a_panic() {
    let [scalars, formatted] = typed_fields(|| {
        let err = Failure;
        let _t = tracing::info_span!(
            "tick",
            wide = u128::MAX,
            neg = i128::MIN,
            err = &err as &(dyn std::error::Error + 'static)
        )
        .entered();
    });
    assert!(scalars.is_empty(), "{scalars:?}");
    assert_eq!(
        formatted,
        [
            // 39 digits in 32 bytes; then nothing is left for the others.
            field("wide", text(&format!("{}…", &u128::MAX.to_string()[..32]))),
        ]
    );
    let [_, formatted] = typed_fields(|| {
        let err = Failure;
        let _t = tracing::info_span!(
            "tick",
            err = &err as &(dyn std::error::Error + 'static),
            loud = %Loud(7),
            neg = -1i128
        )
        .entered();
    });
    assert_eq!(
        formatted,
        [
            field("err", text("disk on fire")),
            field("loud", text("loud-7")),
            field("neg", text("-1")),
        ]
    );
}

#[test]
fn fields_only_empty_report_none() {
    let [scalars, formatted] = typed_fields(|| {
        let _t = tracing::info_span!("tick", seq = Empty, ts = Empty).entered();
    });
    assert!(scalars.is_empty() && formatted.is_empty());
}

#[test]
fn two_tick_callsites_name_their_own_fields() {
    let c = collector(Sampling::full(), 1_000, TickFieldCapture::Scalars);
    tracing::dispatcher::with_default(&dispatch(&c), || {
        c.start_profiling("two").unwrap();
        for i in 0..300u64 {
            if i % 2 == 0 {
                let _t = tracing::info_span!("tick", seq = i).entered();
            } else {
                let _t = tracing::info_span!("tick", venue = "XLON", n = i).entered();
            }
        }
    });
    let report = c.stop_profiling().unwrap();
    let all = listed(&report);
    assert_eq!(all.len(), 300);
    for t in &all {
        let i = t.ordinal - 1;
        let want = if i % 2 == 0 {
            vec![field("seq", u(i))]
        } else {
            vec![field("venue", text("XLON")), field("n", u(i))]
        };
        assert_eq!(t.fields, want, "#{}", t.ordinal);
    }
}

#[tracing::instrument(name = "frame", skip_all, fields(seq = n))]
fn frame(n: u64) {
    let _c = tracing::info_span!("part").entered();
}

#[tracing::instrument(name = "frame")]
fn frame_with_args(n: u64, venue: &str) {
    let _c = tracing::info_span!("part").entered();
}

#[test]
fn a_custom_tick_name_and_instrumented_functions_carry_their_fields() {
    let c = builder(Sampling::full(), 1_000, TickFieldCapture::Scalars)
        .tick_span("frame")
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch(&c), || {
        c.start_profiling("frames").unwrap();
        for n in 0..200u64 {
            if n % 2 == 0 {
                frame(n);
            } else {
                frame_with_args(n, "XPAR");
            }
            // A span named "tick" is no tick here.
            let _t = tracing::info_span!("tick", seq = 1_000_000u64).entered();
        }
    });
    let report = c.stop_profiling().unwrap();
    let all = listed(&report);
    assert_eq!(all.len(), 200);
    for t in &all {
        let n = t.ordinal - 1;
        let want = if n % 2 == 0 {
            vec![field("seq", u(n))]
        } else {
            vec![field("n", u(n)), field("venue", text("XPAR"))]
        };
        assert_eq!(t.fields, want, "#{}", t.ordinal);
    }
}

#[test]
fn a_restarted_run_has_no_fields_of_the_previous_one() {
    let c = collector(Sampling::full(), 1_000, TickFieldCapture::Scalars);
    tracing::dispatcher::with_default(&dispatch(&c), || {
        c.start_profiling("first").unwrap();
        for seq in 0..100u64 {
            let _t = tracing::info_span!("tick", seq = 10_000 + seq).entered();
        }
        // Live across the stop and the next start: not the next run's.
        let straddler = tracing::info_span!("tick", seq = 99_999u64);
        let first = c.stop_profiling().unwrap();
        assert_eq!(listed(&first).len(), 100);
        c.start_profiling("second").unwrap();
        straddler.record("seq", 88_888u64);
        straddler.in_scope(|| {});
        drop(straddler);
        tick_loop(150, |_| 0);
    });
    let second = c.stop_profiling().unwrap();
    let all = listed(&second);
    // The straddler was counted and decided in the first run: it is no tick of the second,
    // which lists its own 150 ticks, each with its own fields.
    assert_eq!(all.len(), 150);
    for t in &all {
        assert_eq!(t.fields, [field("seq", u(t.ordinal - 1))]);
    }

    // Nothing kept: nothing listed, and nothing sent.
    let none = collector(Sampling::full(), 0, TickFieldCapture::Formatted);
    tracing::dispatcher::with_default(&dispatch(&none), || {
        none.start_profiling("none").unwrap();
        tick_loop(100, |_| 1);
    });
    let report = none.stop_profiling().unwrap();
    assert!(report.slowest_ticks.is_none());
    assert_eq!(report.ticks.count, 100);
}

/// A tick whose field's value is computed by another tick (created and closed while the
/// first waits for its fields): the first keeps its own decision (ordinal 1, counted once) and
/// its fields, and is listed.
#[test]
fn a_tick_of_unknown_ordinal_still_carries_its_fields() {
    let c = collector(Sampling::full(), 100, TickFieldCapture::Scalars);
    tracing::dispatcher::with_default(&dispatch(&c), || {
        c.start_profiling("nested").unwrap();
        let _outer = tracing::info_span!(
            "tick",
            seq = {
                let _inner = tracing::info_span!("tick", inner = 1u64).entered();
                7u64
            }
        )
        .entered();
    });
    let report = c.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 2, "each tick counted once");
    let mut all: Vec<_> = listed(&report)
        .into_iter()
        .map(|t| (t.ordinal, t.fields))
        .collect();
    all.sort_by_key(|(ordinal, _)| *ordinal);
    assert_eq!(
        all,
        [
            (1, vec![field("seq", u(7))]),
            (2, vec![field("inner", u(1))]),
        ]
    );
}

/// Eight tick callsites, each hit once.
fn eight_tick_callsites() {
    macro_rules! ticks {
        ($($n:literal)*) => { $( drop(tracing::info_span!("tick", other = $n)); )* };
    }
    ticks!(0u64 1u64 2u64 3u64 4u64 5u64 6u64 7u64);
}

/// The gate knows eight tick callsites by address and looks the others up: those must be
/// counted and decided too, also while another tick is alive.
#[test]
fn a_ninth_tick_callsite_is_counted_and_named_while_another_tick_lives() {
    const TICKS: u64 = 300;
    let c = collector(Sampling::full(), 1_000, TickFieldCapture::Scalars);
    tracing::dispatcher::with_default(&dispatch(&c), || {
        // Registered with this collector before the one timed below.
        eight_tick_callsites();
        c.start_profiling("ninth").unwrap();
        let outer = tracing::info_span!("tick", seq = 0u64);
        // Entered now and at the end: alive all through.
        outer.in_scope(|| {});
        for seq in 1..=TICKS {
            let _t = tracing::info_span!("tick", seq).entered();
        }
        outer.in_scope(|| {});
    });
    let report = c.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, TICKS + 1);
    let all = listed(&report);
    assert_eq!(all.len(), TICKS as usize + 1);
    assert_own_seq(&report, "ninth", true);
}

/// Threads that exit leave their shards to the next: each thread's ordinals start at 1, its
/// own first `warmup` ticks are left out, and `seq` and the ordinal agree.
#[test]
fn threads_reusing_shards_count_their_own_ordinals_and_warm_up() {
    const WARMUP: u64 = 50;
    for sampling in [Sampling::full(), Sampling::default()] {
        let c = builder(sampling, 2_000, TickFieldCapture::Scalars)
            .warmup_ticks(WARMUP)
            .build()
            .unwrap();
        let d = dispatch(&c);
        c.start_profiling("reuse").unwrap();
        for name in ["first", "second", "third"] {
            let d = d.clone();
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || tracing::dispatcher::with_default(&d, || tick_loop(200, |_| 1)))
                .unwrap()
                .join()
                .unwrap();
        }
        let report = c.stop_profiling().unwrap();
        assert_eq!(report.ticks.count, 600, "{sampling:?}");
        let all = listed(&report);
        for t in &all {
            assert!(
                t.ordinal > WARMUP && t.ordinal <= 200,
                "{sampling:?}: {} #{}",
                t.thread,
                t.ordinal
            );
        }
        assert_own_seq(&report, &format!("{sampling:?}"), true);
        if sampling == Sampling::full() {
            assert_eq!(all.len(), 450);
            assert_eq!(report.ticks.warmup.as_ref().unwrap().count, 150);
            for name in ["first", "second", "third"] {
                assert_eq!(
                    all.iter().filter(|t| t.thread == name).count(),
                    150,
                    "{name}"
                );
            }
        }
    }
}

fn fields_report(name: &str, dir: &std::path::Path) -> Report {
    let c = collector(Sampling::full(), 5, TickFieldCapture::Formatted);
    tracing::dispatcher::with_default(&dispatch(&c), || {
        c.start_profiling(name).unwrap();
        for seq in 0..500u64 {
            let _t = tracing::info_span!("tick", seq, venue = name, ts = %seq).entered();
            if seq == 321 {
                spin(Duration::from_millis(3));
            }
        }
    });
    let report = c.stop_profiling().unwrap();
    report.save_json(dir.join(format!("{name}.json"))).unwrap();
    report
}

#[test]
fn reports_with_fields_load_merge_and_summarize() {
    let dir = tempfile::tempdir().unwrap();
    let a = fields_report("a", dir.path());
    let b = fields_report("b", dir.path());
    for (name, r) in [("a", &a), ("b", &b)] {
        let back = Report::load(dir.path().join(format!("{name}.json"))).unwrap();
        assert_eq!(back.slowest_ticks, r.slowest_ticks);
        for t in listed(r) {
            let seq = t.ordinal - 1;
            assert_eq!(
                t.fields,
                [
                    field("seq", u(seq)),
                    field("venue", text(name)),
                    field("ts", text(&seq.to_string()))
                ]
            );
        }
    }

    let out = tickprof(dir.path(), &["summary", "a.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = &a.slowest_ticks.as_ref().unwrap().ticks[0];
    let named = format!("seq={} venue=a ts={} (", t.ordinal - 1, t.ordinal - 1);
    assert!(
        stdout(&out).contains(&named),
        "{named} not in\n{}",
        stdout(&out)
    );

    let out = tickprof(
        dir.path(),
        &[
            "merge", "a.json", "b.json", "-o", "ab.json", "--shards", "parallel",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = Report::load(dir.path().join("ab.json")).unwrap();
    let merged_ticks = listed(&merged);
    assert_eq!(merged_ticks.len(), 5);
    for t in &merged_ticks {
        let own = listed(&a)
            .into_iter()
            .chain(listed(&b))
            .find(|p| p.ordinal == t.ordinal && p.start_unix_ns == t.start_unix_ns)
            .unwrap_or_else(|| panic!("merged tick #{} not in {:?}", t.ordinal, t.run));
        assert_eq!(t.fields, own.fields);
    }
}

#[test]
fn a_bad_field_value_fails_to_load_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    fields_report("bad", dir.path());
    let path = dir.path().join("bad.json");
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for bad in [
        serde_json::json!([1]),
        serde_json::json!({"a": 1}),
        serde_json::Value::Null,
    ] {
        let mut json = good.clone();
        json["slowest_ticks"]["ticks"][1]["fields"]["venue"] = bad.clone();
        std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
        let err = Report::load(&path).expect_err("a field value that is no scalar");
        let message = err.to_string();
        assert!(
            message.contains("slowest_ticks.ticks[1].fields.venue"),
            "{bad}: {message}"
        );
    }
}
