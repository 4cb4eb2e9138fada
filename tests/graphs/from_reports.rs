//! Graphs render from Report fixtures alone: valid PNGs of the documented pixel size, atomic
//! (no temporary files left), and a directory of reports redraws with unrelated JSON skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use tickprof::graphs::{
    LATENCY_SIZE, Palette, RESOURCES_SIZE, ResourcesFigure, SCALABILITY_SIZE, SweepGraph,
    latency_distribution, render_dir, resources, resources_figure, scalability_metrics,
};
use tickprof::{
    ComponentStats, Error, LatencyStats, MeanMax, MemoryStats, Report, ResourceSample, Resources,
};

/// A histogram of `n` values spread over `[base, 3·base)` plus a 1 % tail at 20·base.
fn latency(base: u64, n: u64, field: &str) -> LatencyStats {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    for i in 0..n {
        let v = if i % 100 == 99 {
            20 * base
        } else {
            base + (i * 7919) % (2 * base)
        };
        h.record(v).unwrap();
    }
    LatencyStats::from_histogram(&h, field).unwrap()
}

fn fixture(ticks: u64, with_resources: bool) -> Report {
    let total_time_s = ticks as f64 / 600_000.0;
    let mut components = BTreeMap::new();
    for (name, base) in [("parse", 180), ("book_update", 40), ("strategy", 25)] {
        components.insert(
            name.to_owned(),
            ComponentStats::new(ticks, latency(base, ticks, name)),
        );
    }
    let samples: Vec<ResourceSample> = (1..=4u32)
        .map(|i| {
            ResourceSample::new(
                total_time_s * 1e3 * f64::from(i) / 4.0,
                95.0 + f64::from(i),
                12_000_000 + 4096 * u64::from(i),
                ticks * u64::from(i) / 4,
            )
        })
        .collect();
    let mut r = Report::empty(format!("scalability_{ticks}"));
    r.started_at = "2026-11-24T13:00:00.000Z".to_owned();
    r.total_time_s = total_time_s;
    r.ticks.count = ticks;
    r.ticks.throughput_per_s = ticks as f64 / total_time_s;
    r.ticks.latency = latency(1_200, ticks, "ticks");
    r.components = components;
    r.unattributed = latency(900, ticks, "unattributed");
    r.overhead.per_span_ns = 42.0;
    r.overhead.empty_span_busy_ns = 20.0;
    r.overhead.calibration_ticks = 10_000;
    if with_resources {
        let mut res = Resources::default();
        res.sample_interval_ms = 250;
        res.samples_taken = samples.len() as u64;
        res.cpu_percent = MeanMax::new(Some(97.5), Some(99.0));
        res.cpu_percent_of_machine = MeanMax::new(Some(48.75), Some(49.5));
        res.cpu_time_s = total_time_s * 0.975;
        res.memory_bytes = MemoryStats::new(12_010_000.0, 12_016_384);
        res.peak_rss_bytes = 12_500_000;
        res.samples = samples;
        r.resources = Some(res);
    } else {
        r.resources_unavailable = Some("sampler switched off".to_owned());
    }
    r
}

/// The PNG signature and the IHDR chunk's width and height.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

fn no_temp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp"), "temporary file left: {name}");
    }
}

#[test]
fn each_graph_is_a_png_of_its_documented_size() {
    let dir = tempfile::tempdir().unwrap();
    let reports = [
        fixture(1_000, true),
        fixture(100_000, true),
        fixture(10_000, false),
    ];
    let path = dir.path().join("scalability_metrics.png");
    scalability_metrics(&reports, &path).unwrap();
    assert_eq!(png_size(&path), SCALABILITY_SIZE);
    for report in &reports {
        let path = dir
            .path()
            .join(format!("latency_{}.png", report.ticks.count));
        latency_distribution(report, &path).unwrap();
        assert_eq!(png_size(&path), LATENCY_SIZE);
        // With and without resource samples (the 10k fixture has none).
        let path = dir
            .path()
            .join(format!("resources_{}.png", report.ticks.count));
        resources(report, &path).unwrap();
        assert_eq!(png_size(&path), RESOURCES_SIZE);
    }
    no_temp_files(dir.path());
}

#[test]
fn render_dir_draws_every_report_and_skips_other_json() {
    let dir = tempfile::tempdir().unwrap();
    for ticks in [1_000, 10_000] {
        fixture(ticks, true)
            .save_json(dir.path().join(format!("scalability_{ticks}.json")))
            .unwrap();
    }
    std::fs::write(
        dir.path().join("scalability_summary.json"),
        r#"{"runs": []}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("other.json"), r#"{"a": 1}"#).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not json").unwrap();

    let rendered = render_dir(dir.path()).unwrap();
    assert!(rendered.failed.is_empty(), "{:?}", rendered.failed);
    let mut written: Vec<String> = rendered
        .written
        .iter()
        .map(|p| {
            assert!(png_size(p).0 > 0);
            p.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "latency_1000.png",
            "latency_10000.png",
            "resources_1000.png",
            "resources_10000.png",
            "scalability_metrics.png",
        ]
    );
    no_temp_files(dir.path());
}

#[test]
fn nothing_to_draw_is_a_graph_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("other.json"), r#"{"a": 1}"#).unwrap();
    assert!(matches!(render_dir(dir.path()), Err(Error::Graph { .. })));
    let path = dir.path().join("scalability_metrics.png");
    assert!(matches!(
        scalability_metrics(&[], &path),
        Err(Error::Graph { .. })
    ));
    assert!(!path.exists());
}

#[test]
fn render_dir_names_a_file_that_is_not_json_and_draws_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    fixture(1_000, true)
        .save_json(dir.path().join("scalability_1000.json"))
        .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{").unwrap();
    let rendered = render_dir(dir.path()).unwrap();
    assert_eq!(rendered.failed.len(), 1);
    let err = rendered.failed[0].to_string();
    assert!(
        err.contains("broken.json: line 1, column 1: EOF while parsing an object"),
        "{err}"
    );
    // Its latency and resources graphs; one run makes no scalability graph.
    assert_eq!(rendered.written.len(), 2, "{:?}", rendered.written);
    no_temp_files(dir.path());
}

/// Pixels of exactly `color` in the PNG at `path`.
fn pixels_of(path: &Path, color: (u8, u8, u8)) -> usize {
    let image = image::open(path).unwrap().to_rgb8();
    image
        .pixels()
        .filter(|p| p.0 == [color.0, color.1, color.2])
        .count()
}

/// Two runs of a sweep, the larger with a component the smaller never ran (the driver's 1M run
/// has `risk_check`, its 10K run not): `strategy` has one colour in both latency graphs, that of
/// the sorted union of names, and no curve takes `risk_check`'s colour where it did not run.
/// (Colours by position in each report's own list made `strategy` green at 1k, red at 100k.)
#[test]
fn a_component_has_one_colour_in_every_latency_graph_of_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let small = fixture(1_000, true);
    let mut large = fixture(100_000, true);
    large.components.insert(
        "risk_check".to_owned(),
        ComponentStats::new(100_000, latency(30, 100_000, "risk_check")),
    );
    for r in [&small, &large] {
        r.save_json(dir.path().join(format!("{}.json", r.name)))
            .unwrap();
    }
    let rendered = render_dir(dir.path()).unwrap();
    assert!(rendered.failed.is_empty(), "{:?}", rendered.failed);

    let palette = Palette::from_reports([&small, &large]);
    let strategy = palette.color("strategy").unwrap();
    assert_eq!(
        strategy,
        (214, 39, 40),
        "book_update, parse, risk_check, strategy"
    );
    let risk_check = palette.color("risk_check").unwrap();
    let small_png = dir.path().join("latency_1000.png");
    let large_png = dir.path().join("latency_100000.png");
    for png in [&small_png, &large_png] {
        for name in ["book_update", "parse", "strategy"] {
            let color = palette.color(name).unwrap();
            let n = pixels_of(png, color);
            assert!(n > 200, "{name} {color:?}: {n} pixels in {}", png.display());
        }
    }
    assert!(pixels_of(&large_png, risk_check) > 200);
    assert_eq!(pixels_of(&small_png, risk_check), 0);
    // Each report alone would colour `strategy` differently: the union is what makes them agree.
    assert_ne!(
        Palette::from_reports([&small]).color("strategy"),
        Palette::from_reports([&large]).color("strategy")
    );
}

/// A user's own 3-tick report beside a sweep: the sweep's scalability graph is drawn from the
/// sweep alone (the same image as drawing its two reports directly), the other report gets its
/// latency and resources graphs and no scalability graph, and `sweeps` says which reports each
/// graph used. (It became a 4th "run": "4 runs, 3 to 1M ticks", efficiency 7,000 %.)
#[test]
fn the_scalability_graph_is_drawn_from_one_sweep_only() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = [fixture(1_000, true), fixture(10_000, true)];
    for r in &sweep {
        r.save_json(dir.path().join(format!("{}.json", r.name)))
            .unwrap();
    }
    let mut mine = fixture(3, false);
    mine.name = "my_backtest".to_owned();
    mine.save_json(dir.path().join("my_backtest.json")).unwrap();

    let rendered = render_dir(dir.path()).unwrap();
    assert!(rendered.failed.is_empty(), "{:?}", rendered.failed);
    let drawn = dir.path().join("scalability_metrics.png");
    let expected = dir.path().join("expected.png");
    scalability_metrics(&sweep, &expected).unwrap();
    assert!(
        std::fs::read(&drawn).unwrap() == std::fs::read(&expected).unwrap(),
        "scalability_metrics.png is not the graph of the sweep's two runs"
    );

    let mut written: Vec<String> = rendered
        .written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "latency_1000.png",
            "latency_10000.png",
            "latency_my_backtest.png",
            "resources_1000.png",
            "resources_10000.png",
            "resources_my_backtest.png",
            "scalability_metrics.png",
        ]
    );
    let lines: Vec<String> = rendered.sweeps.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "no scalability graph for `my_backtest`: 1 run (my_backtest.json, 3 ticks); \
             a scalability graph compares runs of at least 2 sizes (a sweep's runs are named \
             my_backtest_<ticks>)",
            "scalability_metrics.png: sweep `scalability`, 2 runs: \
             scalability_1000.json (1,000 ticks), scalability_10000.json (10,000 ticks)",
        ]
    );
    assert_eq!(rendered.sweeps[1].graph, SweepGraph::Drawn(drawn));
    let runs: Vec<(PathBuf, u64)> = rendered.sweeps[1]
        .runs
        .iter()
        .map(|r| (r.file.clone(), r.ticks))
        .collect();
    assert_eq!(
        runs,
        [
            (dir.path().join("scalability_1000.json"), 1_000),
            (dir.path().join("scalability_10000.json"), 10_000),
        ]
    );
    no_temp_files(dir.path());
}

/// Two sweeps in one directory: one graph each, named after their stems, each from its runs.
#[test]
fn each_sweep_gets_its_own_scalability_graph() {
    let dir = tempfile::tempdir().unwrap();
    for (name, ticks) in [
        ("scalability_1000", 1_000),
        ("scalability_10000", 10_000),
        ("nightly_2000", 2_000),
        ("nightly_20000", 20_000),
    ] {
        let mut r = fixture(ticks, false);
        r.name = name.to_owned();
        r.save_json(dir.path().join(format!("{name}.json")))
            .unwrap();
    }
    let rendered = render_dir(dir.path()).unwrap();
    assert!(rendered.failed.is_empty(), "{:?}", rendered.failed);
    let graphs: Vec<(&str, &SweepGraph, usize)> = rendered
        .sweeps
        .iter()
        .map(|s| (s.stem.as_str(), &s.graph, s.runs.len()))
        .collect();
    assert_eq!(
        graphs,
        [
            (
                "nightly",
                &SweepGraph::Drawn(dir.path().join("nightly_scalability.png")),
                2
            ),
            (
                "scalability",
                &SweepGraph::Drawn(dir.path().join("scalability_metrics.png")),
                2
            ),
        ]
    );
    assert_eq!(
        png_size(&dir.path().join("nightly_scalability.png")),
        SCALABILITY_SIZE
    );
}

/// A single report, or two runs of one size, compare nothing: no scalability graph, and why.
#[test]
fn a_single_report_draws_no_scalability_graph() {
    let dir = tempfile::tempdir().unwrap();
    let mut one = fixture(200_000, true);
    one.name = "basic".to_owned();
    one.save_json(dir.path().join("basic.json")).unwrap();
    let rendered = render_dir(dir.path()).unwrap();
    assert!(rendered.failed.is_empty(), "{:?}", rendered.failed);
    assert_eq!(rendered.written.len(), 2, "{:?}", rendered.written);
    assert!(!dir.path().join("scalability_metrics.png").exists());
    assert!(!dir.path().join("basic_scalability.png").exists());
    assert_eq!(
        rendered.sweeps[0].graph,
        SweepGraph::NotDrawn(
            "1 run (basic.json, 200,000 ticks); a scalability graph compares runs of at least 2 \
             sizes (a sweep's runs are named basic_<ticks>)"
                .to_owned()
        )
    );

    // Two copies of one run: which one belongs to the sweep is not guessed.
    fixture(1_000, false)
        .save_json(dir.path().join("scalability_1000.json"))
        .unwrap();
    fixture(1_000, false)
        .save_json(dir.path().join("copy.json"))
        .unwrap();
    let rendered = render_dir(dir.path()).unwrap();
    assert!(!dir.path().join("scalability_metrics.png").exists());
    assert_eq!(
        rendered.sweeps[1].to_string(),
        "no scalability graph for `scalability`: 2 runs of 1,000 ticks (copy.json, \
         scalability_1000.json); a sweep has one run per size: move or rename the others (a \
         sweep's runs are named scalability_<ticks>)"
    );
}

/// Drawn directly from one run (the driver with one size), the scalability figure states that
/// it compares nothing instead of plotting one point per panel.
#[test]
fn the_scalability_figure_of_one_run_says_it_compares_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scalability_metrics.png");
    scalability_metrics(&[fixture(200_000, true)], &path).unwrap();
    assert_eq!(png_size(&path), SCALABILITY_SIZE);
    // No series drawn: the throughput line's blue is nowhere.
    assert_eq!(pixels_of(&path, (31, 119, 180)), 0);
    let two = dir.path().join("two.png");
    scalability_metrics(&[fixture(1_000, true), fixture(200_000, true)], &two).unwrap();
    assert!(pixels_of(&two, (31, 119, 180)) > 100);
}

/// A run with one sample (a 0.039 s run sampled every 100 ms; its closing sample at 42.6 ms):
/// the figure states it is too short to plot, with the figures and what to do, instead of one
/// dot at 42.6 ms under a 0.039 s title. Three samples plot, on the run's time axis.
#[test]
fn a_run_of_one_sample_is_too_short_to_plot() {
    let dir = tempfile::tempdir().unwrap();
    let mut short = fixture(20_000, true);
    short.total_time_s = 0.039;
    let res = short.resources.as_mut().unwrap();
    res.sample_interval_ms = 100;
    res.samples.truncate(1);
    res.samples[0].elapsed_ms = 42.6;
    res.samples_taken = 1;
    let figure = resources_figure(&short);
    assert_eq!(
        figure,
        ResourcesFigure::TooShort {
            samples: 1,
            run_s: 0.039,
            interval_ms: 100
        }
    );
    assert_eq!(
        figure.to_string(),
        "too short to plot: 1 sample in 0.039 s; lower the sample interval (this run: 100 ms) \
         or profile a longer run"
    );
    let path = dir.path().join("resources_short.png");
    resources(&short, &path).unwrap();
    assert_eq!(png_size(&path), RESOURCES_SIZE);
    // Nothing plotted: no CPU (blue) or RSS (green) series.
    assert_eq!(pixels_of(&path, (31, 119, 180)), 0);
    assert_eq!(pixels_of(&path, (44, 160, 44)), 0);

    // Three samples, the last 3 ms after the run's end: plotted, the axis reaches it, and the
    // figure says so.
    let mut three = fixture(20_000, true);
    three.total_time_s = 1.1;
    let res = three.resources.as_mut().unwrap();
    res.samples.truncate(3);
    for (sample, ms) in res.samples.iter_mut().zip([400.0, 800.0, 1_103.0]) {
        sample.elapsed_ms = ms;
    }
    let figure = resources_figure(&three);
    assert_eq!(
        figure.to_string(),
        "CPU and RSS from 0 to 1.1 s, and 1 sample up to 3 ms after the run's end"
    );
    let path = dir.path().join("resources_three.png");
    resources(&three, &path).unwrap();
    assert!(pixels_of(&path, (31, 119, 180)) > 100);
    assert!(pixels_of(&path, (44, 160, 44)) > 100);
}

/// The share of gridline grey (neutral, neither white nor the axis' black) among the pixels of
/// the rectangle `(x0, y0)–(x1, y1)`.
fn grey_share(path: &Path, (x0, y0): (u32, u32), (x1, y1): (u32, u32)) -> f64 {
    let image = image::open(path).unwrap().to_rgb8();
    let mut grey = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let [r, g, b] = image.get_pixel(x, y).0;
            if r == g && g == b && (100..250).contains(&r) {
                grey += 1;
            }
        }
    }
    f64::from(grey) / f64::from((x1 - x0) * (y1 - y0))
}

/// Over one decade of ticks (the driver's `--ticks 1000,10000`), plotters' log axis drew 99
/// light gridlines per decade, and the "Total time" panel (log-log) read as grey: 25.7 % of its
/// plot was gridline grey. Major lines at the decades and light ones at 2× and 5× leave 2.2 %.
#[test]
fn log_axes_draw_few_gridlines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scalability_metrics.png");
    scalability_metrics(&[fixture(1_000, true), fixture(10_000, true)], &path).unwrap();
    // Inside the plot of the top-right panel ("Total time"), clear of its labels.
    let share = grey_share(&path, (720, 90), (1170, 380));
    assert!(
        share < 0.05,
        "{:.1}% of the panel is gridline grey",
        100.0 * share
    );
}
