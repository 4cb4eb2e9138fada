//! The slow ticks in the graphs: `graphs::slow_ticks` draws their timelines as bars in the
//! components' palette colours; `render_dir` writes `slow_ticks_<N>.png` only for a report that
//! keeps slow ticks (and says why not for the others); `latency_<N>.png` marks each slow tick on
//! the tick's curve, at its latency and its rank's percentile.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{report, slow_tick, ticks};
use tickprof::graphs::{
    Palette, SLOW_TICK_MARKER, SLOW_TICKS_SIZE, latency_distribution, render_dir, slow_ticks,
};
use tickprof::{MetricsCollector, Report, Sampling, SlowestTicks};
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
    // Every component wide enough to see (≥ 2 % of its own tick: each row is drawn to its
    // tick's scale, a 20-px bar) is drawn in its palette colour. (Which ticks are slowest
    // depends on the machine's load.)
    let slow = report.slowest_ticks.as_ref().unwrap();
    assert_eq!(slow.ticks.len(), 3);
    for name in ["parse", "strategy"] {
        let visible = slow.all().any(|t| {
            t.timeline
                .iter()
                .any(|s| s.name == name && s.duration_ns * 50 >= t.wall_ns)
        });
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

/// A run of `n` ticks around 5 µs with a `parse` component, keeping `slow` (ordinal, latency)
/// as its slowest ticks (`None`: a report from before schema 4).
fn run(name: &str, n: u64, slow: Option<&[(u64, u64)]>) -> Report {
    let mut r = report(name, &ticks(5_000, n), &[("parse", &ticks(4_000, n))]);
    r.slowest_ticks = slow.map(|slow| {
        SlowestTicks::from_ticks(10, 0, slow.iter().map(|&(o, ns)| slow_tick(o, "main", ns)))
    });
    r
}

#[test]
fn render_dir_draws_slow_ticks_only_for_reports_that_keep_them() {
    let dir = tempfile::tempdir().unwrap();
    run(
        "scalability_1000",
        1_000,
        Some(&[(77, 90_000), (12, 40_000)]),
    )
    .save_json(dir.path().join("scalability_1000.json"))
    .unwrap();
    run("scalability_10000", 10_000, None)
        .save_json(dir.path().join("scalability_10000.json"))
        .unwrap();
    run("kept_none", 100, Some(&[]))
        .save_json(dir.path().join("kept_none.json"))
        .unwrap();

    let rendered = render_dir(dir.path()).unwrap();
    assert!(rendered.failed.is_empty(), "{:?}", rendered.failed);
    let written: Vec<String> = rendered
        .written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        written.iter().any(|n| n == "slow_ticks_1000.png"),
        "{written:?}"
    );
    let png = dir.path().join("slow_ticks_1000.png");
    let image = image::open(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), SLOW_TICKS_SIZE);
    for absent in ["slow_ticks_10000.png", "slow_ticks_kept_none.png"] {
        assert!(!written.iter().any(|n| n == absent), "{written:?}");
        assert!(!dir.path().join(absent).exists(), "{absent}");
    }
    let said: Vec<String> = rendered.not_drawn.iter().map(ToString::to_string).collect();
    assert_eq!(
        said,
        [
            "no slow_ticks_kept_none.png for `kept_none`: the report keeps no slow ticks (no \
             tick was timed after the warm-up)",
            "no slow_ticks_10000.png for `scalability_10000`: the report keeps no slow ticks \
             (written before schema 4, or with slowest_ticks(0))",
        ]
    );
}

/// The marker-coloured pixels of `image` right of `from_x` (to leave out the legend's sample),
/// grouped into markers (runs of rows with no gap), top to bottom: each one's centre.
fn markers(image: &image::RgbImage, from_x: u32) -> Vec<(f64, f64)> {
    let (r, g, b) = SLOW_TICK_MARKER;
    let mut pixels: Vec<(u32, u32)> = image
        .enumerate_pixels()
        .filter(|(x, _, p)| *x >= from_x && p.0 == [r, g, b])
        .map(|(x, y, _)| (x, y))
        .collect();
    pixels.sort_by_key(|&(_, y)| y);
    let mut groups: Vec<Vec<(u32, u32)>> = Vec::new();
    for p in pixels {
        match groups.last_mut() {
            Some(group) if p.1 <= group.last().unwrap().1 + 1 => group.push(p),
            _ => groups.push(vec![p]),
        }
    }
    groups
        .iter()
        .map(|g| {
            let n = g.len() as f64;
            let x = g.iter().map(|p| f64::from(p.0)).sum::<f64>() / n;
            let y = g.iter().map(|p| f64::from(p.1)).sum::<f64>() / n;
            (x, y)
        })
        .collect()
}

/// Sampling keeps recorded ticks that are not in `ticks.latency`: each slow tick is marked at its
/// latency where the tick's curve rises through it, wherever it ranks in the list.
#[test]
fn the_latency_graph_marks_each_slow_tick_where_the_curve_passes_it() {
    // 1,000 timed ticks: one at 1 ms, nine at 200 µs, ninety at 20 µs, the rest around 500 ns.
    let mut tick_ns = vec![1_000_000];
    tick_ns.extend([200_000; 9]);
    tick_ns.extend([20_000; 90]);
    tick_ns.extend(ticks(500, 900));
    // Recorded, not timed: 1, 10 and 100 timed ticks were slower, so 3, 2 and 1 nines.
    let slow = [(300, 500_000), (200, 50_000), (100, 5_000)];
    let mut with = report("marked", &tick_ns, &[("parse", &ticks(400, 1_000))]);
    with.slowest_ticks = Some(SlowestTicks::from_ticks(
        10,
        0,
        slow.iter().map(|&(o, ns)| slow_tick(o, "main", ns)),
    ));
    let mut without = with.clone();
    without.slowest_ticks = None;

    let dir = tempfile::tempdir().unwrap();
    let draw = |r: &Report, name: &str| {
        let path = dir.path().join(name);
        latency_distribution(r, &path).unwrap();
        if let Some(keep) = std::env::var_os("TICKPROF_KEEP_PNG") {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::copy(&path, Path::new(&keep).join(name)).unwrap();
        }
        image::open(&path).unwrap().to_rgb8()
    };
    let marked = draw(&with, "latency_marked.png");
    let plain = draw(&without, "latency_plain.png");

    // Without slow ticks, not one pixel of the marker colour (no marker, no legend entry).
    assert!(markers(&plain, 0).is_empty());
    // With them, the legend's sample (left quarter: the plot's first nine is right of it) and
    // one marker per tick.
    let quarter = marked.width() / 4;
    let (r, g, b) = SLOW_TICK_MARKER;
    let legend = marked
        .enumerate_pixels()
        .filter(|(x, _, p)| *x < quarter && p.0 == [r, g, b])
        .count();
    assert!(legend > 20, "{legend} pixels: no legend entry");
    let found = markers(&marked, quarter);
    assert_eq!(found.len(), 3, "{found:?}");
    let [(x1, y1), (x2, y2), (x3, y3)] = [found[0], found[1], found[2]];
    // Top to bottom is slowest first, one decade apart on the log latency axis: equal steps.
    let (up, down) = (y2 - y1, y3 - y2);
    assert!(up > 20.0 && (up - down).abs() < 3.0, "{found:?}");
    // Left to right at 3, 2 and 1 nines: equal steps too, the slowest at the axis's end.
    let (right, left) = (x1 - x2, x2 - x3);
    assert!(right > 20.0 && (right - left).abs() < 3.0, "{found:?}");
    assert!(x1 > f64::from(marked.width()) * 0.85, "{found:?}");
}
