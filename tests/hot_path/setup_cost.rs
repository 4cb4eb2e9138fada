//! The one-off cost of making histograms on the ticking threads: counted and timed where it
//! happens, reported apart from the per-tick cost, and paid once per thread: a later run on
//! the same thread records into the histograms the earlier one made.

use tickprof::{MetricsCollector, Report, Sampling};
use tracing::{Dispatch, Level, span};
use tracing_subscriber::prelude::*;

fn run(collector: &MetricsCollector, name: &str, components: &[&'static str]) -> Report {
    collector.start_profiling(name).unwrap();
    for _ in 0..100 {
        span!(Level::INFO, "tick").in_scope(|| {
            for c in components {
                match *c {
                    "parse" => span!(Level::INFO, "parse").in_scope(|| {}),
                    _ => span!(Level::INFO, "risk").in_scope(|| {}),
                }
            }
        });
    }
    collector.stop_profiling().unwrap()
}

fn made(report: &Report) -> (u64, u64) {
    let s = report.sampling.as_ref().unwrap();
    (s.histograms_made, s.setup_ns)
}

#[test]
fn histograms_are_made_once_per_thread_and_their_cost_is_reported() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    // On a thread of its own: its home is new, whatever other tests ran on theirs.
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || {
            let first = run(&collector, "first", &["parse"]);
            // The tick's latency, raw latency, recorded latency and unattributed time, and
            // `parse`'s latency.
            let (count, ns) = made(&first);
            assert_eq!(count, 5, "{:?}", first.sampling);
            assert!(ns > 0);
            let summary = first.summary();
            assert!(
                summary.contains("once, making 5 histograms at first use"),
                "{summary}"
            );
            // The same thread again: nothing to make.
            let second = run(&collector, "second", &["parse"]);
            assert_eq!(made(&second), (0, 0), "{:?}", second.sampling);
            assert!(
                !second
                    .summary()
                    .contains("histograms on the ticking threads")
            );
            // A new component name: its histogram only.
            let third = run(&collector, "third", &["parse", "risk"]);
            assert_eq!(made(&third).0, 1, "{:?}", third.sampling);
            assert_eq!(third.components["risk"].count, 100);
            assert_eq!(third.components["parse"].count, 100);
        });
    })
    .join()
    .unwrap();
}
