//! Without a `CountingAllocator` installed (the `hot_path` test binary has none), tickprof works
//! as before and its reports say nothing about allocations: no `ticks.allocations`, no
//! `components.<name>.allocations`, in the report and in its JSON. Zeros would pass every gate
//! on allocations; an absent figure fails them (`tests/allocations/` has the counting side).

use tickprof::{MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

#[test]
fn a_run_without_the_counting_allocator_reports_no_allocations() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("not counted").unwrap();
        for i in 0..100u64 {
            let _tick = tracing::info_span!("tick").entered();
            let _c = tracing::info_span!("alloc").entered();
            drop(std::hint::black_box(vec![i; 4]));
        }
        collector.stop_profiling().unwrap()
    });
    assert_eq!(report.ticks.count, 100);
    assert_eq!(report.components["alloc"].count, 100);
    assert_eq!(report.ticks.allocations, None);
    assert_eq!(report.components["alloc"].allocations, None);
    let json = report.to_json_string();
    assert!(!json.contains("\"allocations\""), "{json}");
    let back = Report::from_json_str(&json, std::path::Path::new("r.json")).unwrap();
    assert_eq!(back, report);
    assert!(!report.summary().contains("Allocations"));
}
