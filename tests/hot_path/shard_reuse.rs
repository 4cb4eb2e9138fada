//! A thread that exits during a run leaves its shard behind; a later thread reuses it. Both
//! threads' records stay in the run (a reused shard used to be emptied for its new owner,
//! losing the first thread's ticks), and a shard reused in a later run holds only that run's.

use tickprof::{MetricsCollector, Report, Sampling};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

fn setup() -> (MetricsCollector, Dispatch) {
    let c = MetricsCollector::builder()
        .warmup_ticks(0) // every tick in the latency histograms
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let d = Dispatch::new(tracing_subscriber::registry().with(c.layer()));
    (c, d)
}

/// Runs `n` ticks (each with a `first` or `second` component) on a new thread, which exits.
fn ticks_on_a_thread_that_exits(d: &Dispatch, n: u64, first: bool) {
    let d = d.clone();
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&d, || {
            for _ in 0..n {
                let _tick = tracing::info_span!("tick").entered();
                let _c = if first {
                    tracing::info_span!("first").entered()
                } else {
                    tracing::info_span!("second").entered()
                };
            }
        })
    })
    .join()
    .unwrap();
}

fn count(report: &Report, name: &str) -> u64 {
    report.components.get(name).map_or(0, |c| c.count)
}

#[test]
fn a_thread_reusing_a_shard_in_the_same_run_keeps_both_threads_records() {
    let (c, d) = setup();
    c.start_profiling("reuse").unwrap();
    // 300 ticks: more records than the ring holds, so both the ring and the histograms of
    // the first thread's shard are in use when it exits.
    ticks_on_a_thread_that_exits(&d, 300, true);
    assert_eq!(c.ticks_so_far(), 300);
    // Its shard is the only orphan: the next thread takes it over.
    ticks_on_a_thread_that_exits(&d, 200, false);
    assert_eq!(
        c.ticks_so_far(),
        500,
        "the progress count keeps the first thread's ticks"
    );
    let report = c.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 500);
    assert_eq!(report.ticks.latency.samples, 500);
    assert_eq!(
        count(&report, "first"),
        300,
        "the first thread's components"
    );
    assert_eq!(
        count(&report, "second"),
        200,
        "the second thread's components"
    );
    assert_eq!(report.unattributed.samples, 500);
    assert_eq!(report.dropped.missing_span_data, 0);
}

#[test]
fn a_shard_reused_in_a_later_run_holds_only_that_run() {
    let (c, d) = setup();
    c.start_profiling("one").unwrap();
    ticks_on_a_thread_that_exits(&d, 100, true);
    let one = c.stop_profiling().unwrap();
    assert_eq!((one.ticks.count, count(&one, "first")), (100, 100));
    c.start_profiling("two").unwrap();
    ticks_on_a_thread_that_exits(&d, 40, false);
    ticks_on_a_thread_that_exits(&d, 60, true);
    let two = c.stop_profiling().unwrap();
    assert_eq!(two.ticks.count, 100);
    assert_eq!(two.ticks.latency.samples, 100);
    assert_eq!(count(&two, "second"), 40);
    assert_eq!(count(&two, "first"), 60, "none of the first run's");
}
