//! A panic inside a tick, caught by the program: the tick is still counted (its spans close
//! while unwinding) and the layer keeps working.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

#[test]
fn panicking_tick_is_counted_and_layer_still_works() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("panic").unwrap();
        for i in 0..10u64 {
            let result = catch_unwind(AssertUnwindSafe(|| {
                let _tick = tracing::info_span!("tick").entered();
                let _strategy = tracing::info_span!("strategy").entered();
                if i == 3 {
                    panic!("strategy failed on tick {i}");
                }
            }));
            assert_eq!(result.is_err(), i == 3);
        }
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 10);
    assert_eq!(report.components["strategy"].count, 10);
    assert_eq!(report.dropped.missing_span_data, 0);
}
