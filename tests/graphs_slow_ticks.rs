//! `graphs::slow_ticks`: the slow ticks' timelines as bars in the components' palette colours.
#![cfg(feature = "plot")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tickprof::graphs::{Palette, SLOW_TICKS_SIZE, slow_ticks};
use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

#[test]
fn timelines_are_drawn_in_the_palette_colours() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .slowest_ticks(3)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("bars").unwrap();
        for i in 0..300u64 {
            let _tick = tracing::info_span!("tick").entered();
            {
                let _parse = tracing::info_span!("parse").entered();
                spin(Duration::from_micros(if i % 100 == 50 { 400 } else { 5 }));
            }
            let _strategy = tracing::info_span!("strategy").entered();
            spin(Duration::from_micros(2));
        }
        collector.stop_profiling().unwrap()
    });
    let dir = tempfile::tempdir().unwrap();
    if let Some(keep) = std::env::var_os("TICKPROF_KEEP_PNG") {
        let _ = std::fs::create_dir_all(&keep);
    }
    let path = dir.path().join("slow_ticks_300.png");
    let palette = Palette::from_reports([&report]);
    slow_ticks(&report, &palette, &path).unwrap();
    let image = image::open(&path).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), SLOW_TICKS_SIZE);
    // Every component wide enough to see (≥ 2 % of the widest tick, a 20-px bar) is drawn
    // in its palette colour. (Which ticks are slowest depends on the machine's load.)
    let slow = report.slowest_ticks.as_ref().unwrap();
    assert_eq!(slow.ticks.len(), 3);
    let widest = slow.ticks.iter().map(|t| t.wall_ns).max().unwrap();
    for name in ["parse", "strategy"] {
        let visible = slow
            .all()
            .flat_map(|t| &t.timeline)
            .any(|s| s.name == name && s.duration_ns * 50 >= widest);
        let (r, g, b) = palette.color(name).unwrap();
        let pixels = image.pixels().filter(|p| p.0 == [r, g, b]).count();
        if visible {
            assert!(pixels > 1_000, "{pixels} pixels of {name}'s colour");
        }
    }

    if let Some(keep) = std::env::var_os("TICKPROF_KEEP_PNG") {
        std::fs::copy(
            &path,
            std::path::Path::new(&keep).join("slow_ticks_300.png"),
        )
        .unwrap();
    }
    let mut without = report.clone();
    without.slowest_ticks = None;
    slow_ticks(&without, &palette, &dir.path().join("none.png")).unwrap();
}
