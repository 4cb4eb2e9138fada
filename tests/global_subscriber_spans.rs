//! Under a global subscriber (as users run; this test binary is its own process), tickprof pays
//! only for what it records: while idle no span exists for it, and while profiling exactly the
//! ticks it times or records exist — every other tick is counted at its filter decision and
//! never created. Calibration runs on this very dispatcher, where users' spans run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

#[test]
fn only_the_spans_tickprof_records_exist() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(20))
        .without_resource_sampling()
        .build()
        .unwrap();
    // The README's stack: fmt behind a per-layer EnvFilter, which wants no info span.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::sink)
                .with_filter(tracing_subscriber::EnvFilter::new("warn")),
        )
        .with(collector.layer())
        .init();

    let idle = |when: &str| {
        let tick = tracing::info_span!("tick");
        let component = tick.in_scope(|| tracing::info_span!("parse"));
        assert!(
            tick.is_disabled(),
            "{when}: an idle tickprof creates no tick"
        );
        assert!(component.is_disabled(), "{when}: nor any component");
    };
    idle("before the first run");

    collector.start_profiling("global").unwrap();
    let mut existing_ticks = 0u64;
    let mut existing_components = 0u64;
    for i in 0..20_000u64 {
        let tick = tracing::info_span!("tick");
        existing_ticks += u64::from(!tick.is_disabled());
        let _inside = tick.enter();
        let parse = tracing::info_span!("parse");
        existing_components += u64::from(!parse.is_disabled());
        parse.in_scope(|| std::hint::black_box(i));
    }
    let report = collector.stop_profiling().unwrap();
    let s = report.sampling.as_ref().unwrap();
    assert_eq!(report.ticks.count, 20_000);
    let warmup = report.ticks.warmup.as_ref().unwrap();
    assert_eq!(warmup.count, tickprof::DEFAULT_WARMUP_TICKS);
    assert_eq!(
        warmup.latency.as_ref().unwrap().samples,
        tickprof::DEFAULT_WARMUP_TICKS
    );
    assert_eq!(
        existing_ticks,
        s.ticks_timed + s.ticks_recorded + (warmup.count - warmup.recorded),
        "the tick spans that exist are exactly the timed, the recorded and the warm-up ones"
    );
    assert!(
        existing_ticks < 20_000 / 4,
        "{existing_ticks} of 20,000 ticks exist"
    );
    assert_eq!(existing_components, s.ticks_recorded);
    assert_eq!(report.components["parse"].count, s.ticks_recorded);
    assert_eq!(
        report.overhead.measured_on,
        Some(tickprof::CalibrationSite::InstalledDispatcher)
    );

    idle("after the run");
}
