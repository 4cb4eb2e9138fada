//! Four threads ticking at once into one collector: every count is exact.

use tickprof::{MetricsCollector, Sampling};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

const THREADS: u64 = 4;
const TICKS_PER_THREAD: u64 = 100_000;

#[test]
fn four_threads_each_100k_ticks_with_three_components() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("threads").unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..TICKS_PER_THREAD {
                        let _tick = tracing::info_span!("tick").entered();
                        for name_index in 0..3 {
                            let _c = match name_index {
                                0 => tracing::info_span!("parse").entered(),
                                1 => tracing::info_span!("strategy").entered(),
                                _ => tracing::info_span!("execution").entered(),
                            };
                            std::hint::black_box(i * t);
                        }
                    }
                });
            });
        }
    });
    let report = collector.stop_profiling().unwrap();
    let expected = THREADS * TICKS_PER_THREAD;
    assert_eq!(report.ticks.count, expected);
    assert_eq!(report.components.len(), 3);
    for name in ["parse", "strategy", "execution"] {
        assert_eq!(report.components[name].count, expected, "{name}");
        assert!(
            report.components[name].wall.is_none(),
            "{name} entered once each"
        );
    }
    let unattributed = report
        .unattributed
        .decode_histogram("unattributed")
        .unwrap();
    assert_eq!(unattributed.len(), expected);
    assert_eq!(report.dropped.missing_span_data, 0);
    assert_eq!(report.dropped.overflow, 0);
}
