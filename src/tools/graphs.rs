//! PNG graphs of [`Report`]s (feature `plot`): the seed's `generate_graphs.py`, done from saved
//! reports only, never from live profiler state, so any report on disk can be redrawn later.
//!
//! Rendering is pure Rust (plotters' bitmap backend, text rasterized with `ab_glyph` from the
//! Noto Sans font of the `ttf-noto-sans` crate): no fontconfig, freetype or other system library.
//! Text is placed glyph by glyph by our own backend wrapper (`graphs/canvas.rs`), because
//! plotters' placement drops each glyph's side bearing ("tick s per run"). Every image is
//! written through [`atomic_file`], so a reader never sees half a PNG.
//!
//! | function | file (as the driver names it) | what it shows |
//! |---|---|---|
//! | [`scalability_metrics`] | `scalability_metrics.png` (one per sweep: `<name>_scalability.png` for a sweep not named `scalability`) | throughput, total time, latency, scaling efficiency ([`crate::scaling`], what the driver's verdict judges) vs ticks, for the runs of one sweep |
//! | [`latency_distribution`], [`latency_distribution_with`] | `latency_<N>.png` | percentile curves of the tick and each component, coloured by a [`Palette`]; the slowest ticks marked on the tick's curve |
//! | [`resources`] | `resources_<N>.png` | CPU % and RSS over the run, or why not ([`resources_figure`]) |
//! | [`slow_ticks`] | `slow_ticks_<N>.png` | every listed slow tick's net time on one scale; each recorded one's timeline and what it was made of (components, unattributed, the profiler's own cost); not written for a report without slow ticks ([`no_slow_ticks`]) |
//! | [`render_dir`] | all of the above | every report in a directory; a scalability graph per [`Sweep`] |
//!
//! ```no_run
//! # fn main() -> tickprof::Result<()> {
//! let rendered = tickprof::graphs::render_dir(std::path::Path::new("reports"))?;
//! println!("{} graphs", rendered.written.len());
//! for skipped in &rendered.not_drawn {
//!     println!("{skipped}"); // a slow_ticks_<N>.png of a report without slow ticks
//! }
//! for sweep in &rendered.sweeps {
//!     println!("{sweep}"); // the reports its scalability graph was drawn from, or why none
//! }
//! for problem in &rendered.failed {
//!     eprintln!("{problem}"); // each names its file; the other graphs were drawn
//! }
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use plotters::chart::{MeshStyle, SeriesAnno};
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::atomic_file;
use crate::error::{Error, Result};
use crate::report::{Report, Resolved, ResourceSample};

mod canvas;
mod efficiency_panel;
#[cfg(test)]
mod figures_agree;
mod log_axis;
mod palette;
mod resources_figure;
mod slow_tick_marks;
mod slow_ticks_figure;
mod sweep;

use canvas::Canvas;
pub use palette::{Palette, SLOW_TICK_MARKER};
pub use resources_figure::{MIN_SAMPLES_TO_PLOT, ResourcesFigure, resources_figure};
pub use slow_ticks_figure::{SLOW_TICKS_SIZE, no_slow_ticks, slow_ticks};
pub(crate) use sweep::sweep_stem;
pub use sweep::{Sweep, SweepGraph, SweepRun};

/// Size of the 2×2 scalability figure, pixels.
pub const SCALABILITY_SIZE: (u32, u32) = (1200, 900);
/// Size of the latency distribution figure, pixels.
pub const LATENCY_SIZE: (u32, u32) = (1200, 800);
/// Size of the resources figure, pixels.
pub const RESOURCES_SIZE: (u32, u32) = (1200, 800);

/// The font family every text element uses; registered from bytes before drawing.
const FONT: &str = "sans-serif";
/// Highest percentile drawn: 99.999 % ("five nines"), when the run has enough values.
const MAX_NINES: f64 = 5.0;
/// Points per percentile curve.
const CURVE_POINTS: usize = 200;

/// The series of the scalability and resources figures take the components' Tableau colours
/// (one list, in [`palette`]); components take theirs from a [`Palette`].
const COLORS: [RGBColor; 9] = palette::COMPONENT_COLORS;

type DrawResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;
type Area<'a> = DrawingArea<Canvas<'a>, Shift>;

/// Draws the seed's four scalability panels for the runs of one sweep (runs of one workload at
/// different sizes): throughput, total time, tick latency (mean and p99) and scaling efficiency,
/// each against the tick count on a log axis. Efficiency is [`crate::scaling`]'s: the time per
/// tick after the warm-up of the smallest run long enough to judge over each run's (from the
/// loops' times when the reports have them, the timed ticks' mean otherwise), the figure the
/// scalability driver's linear-scaling verdict prints; runs too short to judge are hollow. Reports are sorted
/// by tick count; their order does not matter. Which reports make a sweep is the caller's
/// choice ([`render_dir`] groups a directory's reports by `sweep_stem`).
///
/// Fewer than two runs, or two runs of one size, compare nothing: the figure then says so
/// (naming the runs) instead of drawing a one-point "scaling" curve.
///
/// # Errors
/// [`Error::Graph`] if `reports` is empty, a report breaks what a loaded report promises (see
/// [`Report::load`]: a non-finite or out-of-range number, a broken histogram), or the image
/// cannot be drawn or written.
pub fn scalability_metrics(reports: &[Report], path: &Path) -> Result<()> {
    if reports.is_empty() {
        return Err(graph_error(path, "no reports to draw"));
    }
    for report in reports {
        drawable_report(report, path)?;
    }
    let mut runs: Vec<&Report> = reports.iter().collect();
    runs.sort_by_key(|r| r.ticks.count);
    let labels: Vec<(String, u64)> = runs
        .iter()
        .map(|r| (r.name.clone(), r.ticks.count))
        .collect();
    match sweep::not_a_sweep(&labels) {
        Some(why) => render(path, SCALABILITY_SIZE, |root| {
            draw_statement(root, "No scalability graph", &why)
        }),
        None => render(path, SCALABILITY_SIZE, |root| draw_scalability(root, &runs)),
    }
}

/// Draws the latency distribution of one run: the value at each percentile (50 %, 90 %, 99 %, …
/// on a "nines" axis) for the tick and for every component, on a log latency axis, decoded from
/// the report's histograms. The legend gives each curve's mean and p99 as the printed summary
/// does (the report's own figures, `<80 ns` below its resolution, which is shaded). The report's slowest ticks (`slowest_ticks.ticks`) are marked on
/// the tick's curve ([`SLOW_TICK_MARKER`] triangles at each one's latency, where the curve
/// passes it; the slowest three labelled by ordinal; "slowest ticks (N)" in the legend), so the
/// tail can be matched with `slow_ticks_<N>.png`.
///
/// # Errors
/// [`Error::Graph`] if the report breaks what a loaded report promises (see [`Report::load`])
/// or the image cannot be drawn or written.
///
/// Component colours come from a [`Palette`] of this report alone; to give each component the
/// same colour in the graphs of several reports, use [`latency_distribution_with`].
pub fn latency_distribution(report: &Report, path: &Path) -> Result<()> {
    latency_distribution_with(report, &Palette::from_reports([report]), path)
}

/// [`latency_distribution`], with component colours from `palette` (built from the reports
/// drawn together: [`Palette::from_reports`]). A component the palette lacks gets a colour after
/// the palette's own.
///
/// # Errors
/// As [`latency_distribution`].
pub fn latency_distribution_with(report: &Report, palette: &Palette, path: &Path) -> Result<()> {
    drawable_report(report, path)?;
    let tick_hist = report.ticks.latency.decode_histogram("ticks.latency")?;
    let marks = slow_tick_marks::marks(report, &tick_hist);
    let curves = latency_curves(report, palette, tick_hist)?;
    render(path, LATENCY_SIZE, |root| {
        draw_latency(root, report, &curves, &marks)
    })
}

/// The name of the recorded ticks' curve in `latency_<N>.png`.
const RECORDED_TICK_CURVE: &str = "tick, recorded";

/// The curves of `latency_<N>.png`, in legend order: the tick, the recorded ticks (with
/// sampling), the components (slowest mean first, as the summary's table reads),
/// `(unattributed)`; empty ones left out. Each legend's
/// figures are the report's own (`mean_ns`, `p99_ns`, [`Report::unattributed_mean`]), marked
/// below the resolution as the summary marks them, so the legend and the summary agree.
fn latency_curves(
    report: &Report,
    palette: &Palette,
    tick_hist: Histogram<u64>,
) -> Result<Vec<Curve>> {
    let palette = palette.extended_with(report.components.keys().map(String::as_str));
    let t = &report.ticks.latency;
    let mut curves = vec![Curve::new(
        report,
        "tick",
        palette::TICK_COLOR,
        tick_hist,
        (t.mean_ns, t.p99_ns),
    )];
    // With sampling, the components come from the recorded ticks, which carry every span's
    // instrumentation: their own curve, so that no part is drawn against a whole it is not
    // part of (the summary's shares are of their mean too).
    let full = report
        .sampling
        .as_ref()
        .is_none_or(|s| s.mode == crate::SamplingKind::Full);
    if let Some(recorded) = report.ticks.recorded.as_ref().filter(|_| !full) {
        curves.push(Curve::new(
            report,
            RECORDED_TICK_CURVE,
            palette::RECORDED_TICK_COLOR,
            recorded.decode_histogram("ticks.recorded")?,
            (recorded.mean_ns, recorded.p99_ns),
        ));
    }
    let mut components = Vec::new();
    for (name, stats) in &report.components {
        let field = format!("components.{name}.latency");
        let color = palette.rgb(name).unwrap_or(palette::UNATTRIBUTED_COLOR);
        let hist = stats.latency.decode_histogram(&field)?;
        let figures = (stats.latency.mean_ns, stats.latency.p99_ns);
        components.push(Curve::new(report, name, color, hist, figures));
    }
    // Slowest component first, so the legend reads like the summary's component table.
    components.sort_by(|a, b| b.mean_ns.total_cmp(&a.mean_ns));
    curves.extend(components);
    curves.push(Curve::new(
        report,
        "(unattributed)",
        palette::UNATTRIBUTED_COLOR,
        report.unattributed.decode_histogram("unattributed")?,
        (report.unattributed_mean(), report.unattributed.p99_ns),
    ));
    curves.retain(|c| !c.hist.is_empty());
    Ok(curves)
}

/// Draws CPU (% of one core) and resident memory over the run, from the sampled series, on a
/// time axis from 0 to the run's `total_time_s` (to a closing sample after the run's end, if
/// any, which the title states). A run with fewer than [`MIN_SAMPLES_TO_PLOT`] samples, or
/// without resource data, gets a figure that says so (and why), rather than a dot or no file:
/// [`resources_figure`] decides which.
///
/// # Errors
/// [`Error::Graph`] if the report breaks what a loaded report promises (see [`Report::load`])
/// or the image cannot be drawn or written.
pub fn resources(report: &Report, path: &Path) -> Result<()> {
    drawable_report(report, path)?;
    render(path, RESOURCES_SIZE, |root| draw_resources(root, report))
}

/// What [`render_dir`] did: the images it wrote, the ones it chose not to draw (and why), the
/// sweeps it found (and which reports each scalability graph was drawn from), and one error per
/// report it could not load or image it could not draw (each naming its file).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RenderedDir {
    /// The images written, in the order they were drawn.
    pub written: Vec<PathBuf>,
    /// Images left out because their report has nothing for them (a `slow_ticks_<N>.png` of a
    /// report without slow ticks): nothing was wrong. Print each (`Display`) to tell a person.
    pub not_drawn: Vec<NotDrawn>,
    /// One per `sweep_stem` among the loaded reports, by stem: its runs and its scalability
    /// graph, or why it has none. Print each (`Display`) to tell a person.
    pub sweeps: Vec<Sweep>,
    /// What could not be loaded or drawn; everything else was.
    pub failed: Vec<Error>,
}

/// An image [`render_dir`] did not write because its report has nothing to draw in it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotDrawn {
    /// The file it would have been.
    pub path: PathBuf,
    /// The report's name.
    pub report: String,
    /// Why ([`no_slow_ticks`]).
    pub why: String,
}

impl NotDrawn {
    /// Why `report` gets no slow-ticks graph at `path` ([`no_slow_ticks`]), or `None` when it
    /// has slow ticks to draw with [`slow_ticks`].
    pub fn slow_ticks(report: &Report, path: &Path) -> Option<Self> {
        no_slow_ticks(report).map(|why| NotDrawn {
            path: path.to_path_buf(),
            report: report.name.clone(),
            why: why.to_owned(),
        })
    }
}

impl std::fmt::Display for NotDrawn {
    /// One line: `no slow_ticks_1000.png for `scalability_1000`: the report keeps no slow
    /// ticks (…)`, as a sweep without a scalability graph is told.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no {} for `{}`: {}",
            file_name(&self.path),
            self.report,
            self.why
        )
    }
}

/// Loads every report JSON in `dir` (the summary and JSON that is not a report are skipped)
/// and draws its graphs next to them:
///
/// - per report, `latency_<N>.png`, `resources_<N>.png` and `slow_ticks_<N>.png`, where `<N>`
///   is the file name after `scalability_` (or the whole file stem). A report without slow
///   ticks ([`no_slow_ticks`]: before schema 4, or `slowest_ticks(0)`) gets no
///   `slow_ticks_<N>.png`, and [`RenderedDir::not_drawn`] says so;
/// - per sweep, the reports whose names share a `sweep_stem` (the driver's `scalability_1000`,
///   `scalability_10000`, …), one scalability graph drawn from those reports only, named by
///   `scalability_file_name` (`scalability_metrics.png` for the driver's sweep). A stem with one
///   run, or with two runs of one size, gets none, and [`RenderedDir::sweeps`] says why: an
///   unrelated report in the directory is not a run of anyone's sweep.
///
/// The latency and slow-ticks graphs of one sweep share a [`Palette`] (the union of their
/// component names), so a component has one colour in all of them.
///
/// A file that is not JSON, or a report that does not load, does not stop the others: it is
/// left out, and its error is in [`RenderedDir::failed`], as is any image that fails to draw.
/// So one truncated file does not cost a directory its graphs, and is still reported.
///
/// # Errors
/// [`Error::Io`] if `dir` cannot be listed; [`Error::Graph`] if it holds no report and no file
/// that failed to load.
pub fn render_dir(dir: &Path) -> Result<RenderedDir> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "json") && p.is_file())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "scalability_summary.json")
        })
        .collect();
    files.sort();
    let mut rendered = RenderedDir::default();
    let mut loaded = Vec::new();
    for file in files {
        match load_for_drawing(&file) {
            Ok(Some(report)) => loaded.push((file, report)),
            Ok(None) => {}
            Err(e) => rendered.failed.push(e),
        }
    }
    if loaded.is_empty() {
        if rendered.failed.is_empty() {
            return Err(graph_error(
                dir,
                "no tickprof report (*.json) in this directory",
            ));
        }
        return Ok(rendered);
    }
    let mut record = |path: PathBuf, result: Result<()>| match result {
        Ok(()) => {
            rendered.written.push(path);
            true
        }
        Err(e) => {
            rendered.failed.push(e);
            false
        }
    };
    let mut per_report = Vec::new();
    let mut sweeps = Vec::new();
    let mut not_drawn = Vec::new();
    let mut graph_files = std::collections::BTreeSet::new();
    for (stem, members) in sweep::group_by_stem(loaded.iter().map(|(_, r)| r.name.as_str())) {
        let mut members: Vec<&(PathBuf, Report)> = members.iter().map(|&i| &loaded[i]).collect();
        members.sort_by_key(|(file, r)| (r.ticks.count, file.clone()));
        let runs: Vec<SweepRun> = members
            .iter()
            .map(|(file, r)| SweepRun {
                file: file.clone(),
                ticks: r.ticks.count,
            })
            .collect();
        let labels: Vec<(String, u64)> = runs
            .iter()
            .map(|run| (file_name(&run.file), run.ticks))
            .collect();
        let path = dir.join(sweep::scalability_file_name(&stem));
        let graph = if let Some(why) = sweep::not_a_sweep(&labels) {
            SweepGraph::NotDrawn(format!("{why} (a sweep's runs are named {stem}_<ticks>)"))
        } else if !graph_files.insert(path.clone()) {
            SweepGraph::NotDrawn(format!(
                "another sweep's graph is {}; rename the reports of one",
                file_name(&path)
            ))
        } else {
            let reports: Vec<Report> = members.iter().map(|(_, r)| r.clone()).collect();
            if record(path.clone(), scalability_metrics(&reports, &path)) {
                SweepGraph::Drawn(path)
            } else {
                SweepGraph::Failed(path)
            }
        };
        // One colour per component name in every latency graph of the sweep.
        let palette = Palette::from_reports(members.iter().map(|(_, r)| r));
        per_report.extend(members.into_iter().map(|m| (m, palette.clone())));
        sweeps.push(Sweep { stem, runs, graph });
    }
    // Per-report graphs in file order, as before sweeps were told apart.
    per_report.sort_by(|a, b| a.0.0.cmp(&b.0.0));
    for ((file, report), palette) in per_report {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = stem.strip_prefix("scalability_").unwrap_or(&stem);
        let path = dir.join(format!("latency_{label}.png"));
        record(
            path.clone(),
            latency_distribution_with(report, &palette, &path),
        );
        let path = dir.join(format!("resources_{label}.png"));
        record(path.clone(), resources(report, &path));
        let path = dir.join(format!("slow_ticks_{label}.png"));
        match NotDrawn::slow_ticks(report, &path) {
            None => {
                record(path.clone(), slow_ticks(report, &palette, &path));
            }
            Some(skipped) => not_drawn.push(skipped),
        }
    }
    rendered.sweeps = sweeps;
    rendered.not_drawn = not_drawn;
    Ok(rendered)
}

/// The last component of `path`, for messages.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The report in `file`; `None` for JSON that is not ours to draw (no `schema_version`: a
/// summary, another tool's file). A file that is not JSON at all, or a report that does not
/// load (newer schema, broken histogram, absurd value), is an error naming the file.
fn load_for_drawing(file: &Path) -> Result<Option<Report>> {
    let text = crate::input_file::read_to_string(file, crate::report::MAX_REPORT_BYTES, "report")?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::parse(file, e))?;
    if value.get("schema_version").is_none() {
        return Ok(None);
    }
    Report::from_json_str(&text, file).map(Some)
}

/// Refuses a report that [`Report::load`] would refuse, naming the field: the figures are drawn
/// from reports in memory too, and a value such as 1.7e308 s must not reach an axis.
fn drawable_report(report: &Report, path: &Path) -> Result<()> {
    report.check().map_err(|invalid| {
        graph_error(
            path,
            format!(
                "report `{}`: {}: {}",
                report.name, invalid.field, invalid.message
            ),
        )
    })
}

fn graph_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Graph {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Registers the bundled font with plotters, which measures text with it (legends) and needs
/// it to build a text style. Fills a global table; repeating it is harmless. Must precede any
/// text.
fn register_font_once() -> std::result::Result<(), &'static str> {
    register_font(FONT, FontStyle::Normal, ttf_noto_sans::REGULAR)
        .map_err(|_| "the bundled Noto Sans font is invalid")
}

/// Registers the font and draws into a temporary PNG that replaces `path` atomically
/// ([`atomic_file`]), through the [`Canvas`] (plotters' bitmap backend with text placed glyph
/// by glyph).
fn render(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<()> {
    register_font_once().map_err(|e| graph_error(path, e))?;
    let font = ab_glyph::FontRef::try_from_slice(ttf_noto_sans::REGULAR)
        .map_err(|_| graph_error(path, "the bundled Noto Sans font is invalid"))?;
    // The backend opens the temporary file by its path (which ends in `.png`, the format it
    // picks from the extension).
    atomic_file::write_with(path, |_, temp| {
        let root = Canvas::new(BitMapBackend::new(temp, size), font).into_drawing_area();
        (|| -> DrawResult {
            root.fill(&WHITE)?;
            draw(&root)?;
            root.present()?;
            Ok(())
        })()
        .map_err(|e| graph_error(path, e))
    })
}

/// `1500000` → `1.5M`, `10000` → `10k`.
fn count_label(v: f64) -> String {
    let (scaled, unit) = if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = if (scaled - scaled.round()).abs() < 1e-9 {
        format!("{scaled:.0}")
    } else {
        format!("{scaled:.1}")
    };
    format!("{text}{unit}")
}

/// Nanoseconds with a readable unit: `250 ns`, `2.5 µs`, `12 ms`.
fn ns_label(ns: f64) -> String {
    let (v, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    if v >= 10.0 || (v - v.round()).abs() < 1e-9 {
        format!("{v:.0} {unit}")
    } else {
        format!("{v:.1} {unit}")
    }
}

/// Seconds with enough digits for runs from milliseconds to minutes.
fn seconds_label(s: f64) -> String {
    if s == 0.0 {
        "0".to_owned()
    } else if s >= 10.0 {
        format!("{s:.0}")
    } else if s >= 1.0 {
        format!("{s:.1}")
    } else if s >= 0.1 {
        format!("{s:.2}")
    } else {
        format!("{s:.3}")
    }
}

/// The largest magnitude drawn: far above any value a valid report holds (a `u64` of
/// nanoseconds is 1.8e19), far below `f64::MAX`, so the margins added to a range and plotters'
/// tick-mark arithmetic stay finite. An infinite range (1.7e308 × 1.15) made plotters'
/// key-point loop spin forever; a ratio of two valid throughputs (1e12 / 1e-300) overflows too.
const AXIS_MAX: f64 = 1e30;
/// The smallest positive value a log axis reaches (at most 60 decades with [`AXIS_MAX`]).
const LOG_AXIS_MIN: f64 = 1e-30;

/// `v` as it may be drawn: NaN as 0, magnitudes clamped to [`AXIS_MAX`]. Every plotted value
/// and every range bound goes through this (directly or in [`log_span`] and [`zero_to`]).
fn drawable(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-AXIS_MAX, AXIS_MAX)
    }
}

/// A log-axis range around `[lo, hi]` with some margin; degenerate and empty ranges widened,
/// always finite and at most ~60 decades wide.
fn log_span(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let lo = if lo.is_finite() && lo > 0.0 {
        lo.clamp(LOG_AXIS_MIN, AXIS_MAX)
    } else {
        1.0
    };
    let hi = drawable(hi);
    if hi <= lo {
        // One value: half a decade either side keeps it centred.
        return (lo / 10f64.sqrt())..(lo * 10f64.sqrt());
    }
    (lo / 1.5)..(hi * 1.5)
}

/// A linear range from 0 to a little above `hi`, always finite.
fn zero_to(hi: f64) -> std::ops::Range<f64> {
    let hi = drawable(hi);
    if hi > 0.0 { 0.0..hi * 1.15 } else { 0.0..1.0 }
}

/// Layout shared by the panels of one figure: caption size, margin and bottom label area (the
/// left label area is always 90 px, wide enough for `1.5M` or `250 µs`).
#[derive(Clone, Copy)]
struct Panel {
    caption_size: u32,
    margin: u32,
    x_label_area: u32,
}

/// The four scalability panels.
const SCALABILITY_PANEL: Panel = Panel {
    caption_size: 22,
    margin: 12,
    x_label_area: 56,
};
/// The CPU and memory panels.
const RESOURCES_PANEL: Panel = Panel {
    caption_size: 20,
    margin: 14,
    x_label_area: 44,
};

/// A chart builder on `area` with a caption and `panel`'s layout; finish with `build_cartesian_2d`.
fn panel_builder<'a, 'b>(
    area: &'a Area<'b>,
    caption: impl AsRef<str>,
    panel: Panel,
) -> ChartBuilder<'a, 'b, Canvas<'b>> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, (FONT, panel.caption_size))
        .margin(panel.margin)
        .x_label_area_size(panel.x_label_area)
        .y_label_area_size(90);
    builder
}

/// The mesh with the shared label fonts and both axis descriptions; add formatters, then `draw`.
fn styled_mesh<'a, 'c, X, Y>(
    chart: &'c mut ChartContext<'a, Canvas<'a>, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
) -> MeshStyle<'a, 'c, X, Y, Canvas<'a>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut mesh = chart.configure_mesh();
    // One light line between two labels on a linear axis: plotters' default of up to ten
    // turned a panel of nine labels grey. (Log axes set their own: [`log_axis`].)
    mesh.max_light_lines(2)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .x_desc(x_desc)
        .y_desc(y_desc);
    mesh
}

/// The legend marker of a series: a 24-px stroke in `style`.
fn legend_entry(style: impl Into<ShapeStyle>) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let style = style.into();
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style)
}

/// `(xs[i], ys[i])` points, as [`line_with_points`] takes them.
fn pairs<'s>(xs: &'s [f64], ys: &'s [f64]) -> impl Iterator<Item = (f64, f64)> + Clone + 's {
    xs.iter().copied().zip(ys.iter().copied())
}

/// Axis label formatters, as functions so a `&'static` of one outlives any mesh.
fn fmt_count(v: &f64) -> String {
    count_label(*v)
}
fn fmt_seconds(v: &f64) -> String {
    seconds_label(*v)
}
fn fmt_whole(v: &f64) -> String {
    format!("{v:.0}")
}

/// The numbers the first three scalability panels draw, one per run (in the runs' order),
/// each the report's own figure: the summary prints the same fields.
#[derive(Debug, Clone, PartialEq)]
struct ScalabilitySeries {
    /// `ticks.count`.
    xs: Vec<f64>,
    /// `ticks.throughput_per_s` (the summary's "Ticks/second").
    throughput: Vec<f64>,
    /// `loop_comparison.bare_per_s` and `.profiled_per_s`, when every run has them (else
    /// empty): the summary's "Profiler distortion" line.
    bare: Vec<f64>,
    profiled: Vec<f64>,
    /// `total_time_s`.
    total_time_s: Vec<f64>,
    /// `ticks.latency` mean and p99, µs.
    mean_us: Vec<f64>,
    p99_us: Vec<f64>,
}

impl ScalabilitySeries {
    fn of(runs: &[&Report]) -> Self {
        let each = |f: &dyn Fn(&Report) -> f64| -> Vec<f64> {
            runs.iter().map(|r| drawable(f(r))).collect()
        };
        let compared = runs.iter().all(|r| r.loop_comparison.is_some());
        let loops = |f: fn(&crate::report::LoopComparison) -> f64| -> Vec<f64> {
            if compared {
                each(&|r| r.loop_comparison.as_ref().map_or(0.0, f))
            } else {
                Vec::new()
            }
        };
        ScalabilitySeries {
            xs: each(&|r| r.ticks.count as f64),
            throughput: each(&|r| r.ticks.throughput_per_s),
            bare: loops(|l| l.bare_per_s),
            profiled: loops(|l| l.profiled_per_s),
            total_time_s: each(&|r| r.total_time_s),
            mean_us: each(&|r| r.ticks.latency.mean_ns / 1e3),
            p99_us: each(&|r| r.ticks.latency.p99_ns as f64 / 1e3),
        }
    }
}

fn draw_scalability(root: &Area<'_>, runs: &[&Report]) -> DrawResult {
    // The sweep's stem when its runs share one (they do when render_dir grouped them).
    let stem = runs
        .first()
        .map(|r| sweep_stem(&r.name))
        .filter(|stem| runs.iter().all(|r| sweep_stem(&r.name) == *stem));
    let root = root.titled(
        &format!(
            "Scalability: {} runs{}, {} to {} ticks",
            runs.len(),
            stem.map_or_else(String::new, |s| if runs.iter().all(|r| r.name == s) {
                format!(" of {s}")
            } else {
                format!(" of {s}_*")
            }),
            count_label(runs.first().map_or(0, |r| r.ticks.count) as f64),
            count_label(runs.last().map_or(0, |r| r.ticks.count) as f64)
        ),
        (FONT, 28),
    )?;
    let panels = root.split_evenly((2, 2));
    let ScalabilitySeries {
        xs,
        throughput: tps,
        bare,
        profiled,
        total_time_s: times,
        mean_us: means,
        p99_us: p99s,
    } = ScalabilitySeries::of(runs);
    let compared = !bare.is_empty();
    let x_range = log_span(
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(0.0, f64::max),
    );
    let x_axis = || log_axis::log_axis(x_range.clone());
    const X_DESC: &str = "ticks per run (log scale)";

    // 1. Throughput: the run's, and the loop's with and without profiling when the caller
    // timed both (the bare loop is what the engine costs in production).
    {
        let top = tps
            .iter()
            .chain(&bare)
            .chain(&profiled)
            .copied()
            .fold(0.0, f64::max);
        // Head room above the lines for the legend (at the top right), so it covers none.
        let top = if compared { top * 1.6 } else { top };
        let mut chart = panel_builder(&panels[0], "Throughput", SCALABILITY_PANEL)
            .build_cartesian_2d(x_axis(), zero_to(top * 1.15))?;
        styled_mesh(&mut chart, X_DESC, "ticks / s")
            .x_label_formatter(&fmt_count)
            .y_label_formatter(&fmt_count)
            .draw()?;
        if compared {
            labelled_line(&mut chart, pairs(&xs, &bare), COLORS[2], "loop, bare")?;
            labelled_line(
                &mut chart,
                pairs(&xs, &profiled),
                COLORS[0],
                "loop, profiled",
            )?;
            labelled_line(
                &mut chart,
                pairs(&xs, &tps),
                COLORS[1],
                "whole run, profiled",
            )?;
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        } else {
            line_with_points(&mut chart, pairs(&xs, &tps), COLORS[0])?;
        }
    }

    // 2. Total time, log-log: linear scaling is a straight line of slope 1.
    {
        let y_range = log_span(
            times.iter().copied().fold(f64::INFINITY, f64::min),
            times.iter().copied().fold(0.0, f64::max),
        );
        let mut chart = panel_builder(&panels[1], "Total time", SCALABILITY_PANEL)
            .build_cartesian_2d(x_axis(), log_axis::log_axis(y_range))?;
        styled_mesh(&mut chart, X_DESC, "total time (s, log scale)")
            .x_label_formatter(&fmt_count)
            .y_label_formatter(&fmt_seconds)
            .draw()?;
        line_with_points(&mut chart, pairs(&xs, &times), COLORS[1])?;
    }

    // 3. Tick latency, mean and p99.
    {
        let top = means.iter().chain(&p99s).copied().fold(0.0, f64::max);
        let mut chart = panel_builder(&panels[2], "Tick latency", SCALABILITY_PANEL)
            .build_cartesian_2d(x_axis(), zero_to(top * 1.15))?;
        styled_mesh(&mut chart, X_DESC, "latency per tick (µs)")
            .x_label_formatter(&fmt_count)
            .y_label_formatter(&|v| format!("{v:.2}"))
            .draw()?;
        labelled_line(&mut chart, pairs(&xs, &means), COLORS[0], "mean")?;
        labelled_line(&mut chart, pairs(&xs, &p99s), COLORS[3], "p99")?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }

    // 4. Scaling efficiency: what the linear-scaling verdict judges ([`crate::scaling`]).
    efficiency_panel::draw(&panels[3], runs, x_range.clone(), X_DESC)
}

/// A 2-px line with a dot at every point; returns the series for `.label()`.
fn line_with_points<'a, 'b, X, Y>(
    chart: &'b mut ChartContext<'a, Canvas<'a>, Cartesian2d<X, Y>>,
    points: impl Iterator<Item = (f64, f64)> + Clone,
    color: RGBColor,
) -> DrawResult<&'b mut SeriesAnno<'a, Canvas<'a>>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart.draw_series(points.clone().map(|p| Circle::new(p, 4, color.filled())))?;
    Ok(chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?)
}

/// [`line_with_points`] with a legend entry: `label` beside a 3-px stroke of `color`.
fn labelled_line<'a, X, Y>(
    chart: &mut ChartContext<'a, Canvas<'a>, Cartesian2d<X, Y>>,
    points: impl Iterator<Item = (f64, f64)> + Clone,
    color: RGBColor,
    label: &str,
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    line_with_points(chart, points, color)?
        .label(label)
        .legend(legend_entry(color.stroke_width(3)));
    Ok(())
}

/// A dashed horizontal line at `y` from `x.0` to `x.1`, in the legend as `label`.
fn level_line<'a, X, Y>(
    chart: &mut ChartContext<'a, Canvas<'a>, Cartesian2d<X, Y>>,
    x: (f64, f64),
    y: f64,
    style: ShapeStyle,
    label: &str,
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(DashedLineSeries::new([(x.0, y), (x.1, y)], 8, 6, style))?
        .label(label)
        .legend(legend_entry(style));
    Ok(())
}

fn legend<'a, X, Y>(
    chart: &mut ChartContext<'a, Canvas<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult
where
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .margin(12)
        .draw()?;
    Ok(())
}

/// One percentile curve, with the figures its legend states.
struct Curve {
    name: String,
    color: RGBColor,
    hist: Histogram<u64>,
    /// The report's mean for it, ns (what the summary prints).
    mean_ns: f64,
    /// The legend's figures, as the report states them.
    mean: Resolved,
    p99: Resolved,
}

impl Curve {
    fn new(
        report: &Report,
        name: &str,
        color: RGBColor,
        hist: Histogram<u64>,
        (mean_ns, p99_ns): (f64, u64),
    ) -> Self {
        Curve {
            name: name.to_owned(),
            color,
            hist,
            mean_ns,
            mean: report.resolved(mean_ns),
            p99: report.resolved(p99_ns as f64),
        }
    }

    /// `parse (mean 177 ns, p99 270 ns)`; `<80 ns` below the resolution.
    fn legend(&self) -> String {
        format!(
            "{} (mean {}, p99 {})",
            self.name,
            self.mean.label(ns_label),
            self.p99.label(ns_label)
        )
    }
}

/// The height of one legend row (16-px font and its spacing), px.
const LEGEND_ROW_PX: f64 = 20.0;

/// The part of the latency graph's width its legend covers, from the left.
const LEGEND_WIDTH_SHARE: f64 = 0.32;

/// The latency graph's plot area height: the image less its title, x labels and margins, px.
fn latency_plot_height_px() -> f64 {
    f64::from(LATENCY_SIZE.1).max(200.0) - 120.0
}

/// `x` on the nines axis → the percentile label: 1 → `90%`, 3 → `99.9%`, 2.5 → `99.7%`.
fn nines_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 10f64.powf(-x));
    // Enough decimals to tell neighbouring labels apart, never rounding up to "100%".
    let digits = if (x - x.round()).abs() < 1e-9 {
        (x.round() as usize).saturating_sub(2)
    } else {
        (x.floor() as usize).saturating_sub(1)
    };
    format!("{q:.digits$}%")
}

/// How far a curve of `hist`'s values goes on the nines axis: beyond log10(n) nines a curve of
/// n values is its max repeated. (With sampling, n is the ticks timed, not the ticks counted.)
fn nines_of(hist: &Histogram<u64>) -> f64 {
    (hist.len().max(1) as f64).log10()
}

/// The nines axis: as far as the longest curve goes (at least 90 %, at most five nines).
fn nines_axis(curves: &[Curve]) -> f64 {
    curves
        .iter()
        .map(|c| nines_of(&c.hist))
        .fold(0.0_f64, f64::max)
        .clamp(1.0, MAX_NINES)
}

fn draw_latency(
    root: &Area<'_>,
    report: &Report,
    curves: &[Curve],
    marks: &[slow_tick_marks::Mark],
) -> DrawResult {
    let x_max = nines_axis(curves);
    let series: Vec<(&Curve, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|c| {
            let end = nines_of(&c.hist).min(x_max);
            let points = (0..=CURVE_POINTS)
                .map(|k| {
                    let x = end * k as f64 / CURVE_POINTS as f64;
                    let q = 1.0 - 10f64.powf(-x);
                    (x, c.hist.value_at_quantile(q).max(1) as f64)
                })
                .collect();
            (c, points)
        })
        .collect();
    // The axis holds every curve and every slow tick (beyond five nines a run's slowest
    // ticks are above the curves' end).
    let marked = slow_tick_marks::latency_range(marks);
    let (lo, hi) = series
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .chain(marked.into_iter().flat_map(|(lo, hi)| [lo, hi]))
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    // With sampling the tick curve holds the timed ticks only: say how many.
    let timed = curves.first().map_or(0, |c| c.hist.len());
    let sampled = if timed < report.ticks_after_warmup() {
        format!(", {} timed", count_label(timed as f64))
    } else {
        String::new()
    };
    let root = root.titled(
        &format!(
            "Latency distribution: {} ({} ticks{sampled})",
            report.name,
            count_label(report.ticks.count as f64)
        ),
        (FONT, 26),
    )?;
    // Head room for the legend (upper left: a row per series plus the shade and the slow
    // ticks, over about the left third), so it covers no curve: the curves under it (their
    // low percentiles) stay below its bottom edge; the rest of each curve may rise beside it.
    let span = log_span(lo, hi * 3.0);
    let legend_share =
        (LEGEND_ROW_PX * (series.len() + 3) as f64 / latency_plot_height_px()).min(0.6);
    let under_legend = series
        .iter()
        .flat_map(|(_, pts)| pts.iter().filter(|p| p.0 <= LEGEND_WIDTH_SHARE * x_max))
        .map(|p| p.1)
        .fold(0.0_f64, f64::max)
        * 1.3;
    let (low, high) = (span.start.ln(), under_legend.max(span.start).ln());
    let top = span
        .end
        .max(((high - legend_share * low) / (1.0 - legend_share)).exp());
    let mut chart = ChartBuilder::on(&root)
        .margin(16)
        .margin_right(48)
        .x_label_area_size(52)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..x_max, log_axis::log_axis(span.start..drawable(top)))?;
    styled_mesh(
        &mut chart,
        "percentile (log scale of 1 − p: 90 %, 99 %, 99.9 %, …)",
        "busy time per span (log scale)",
    )
    .x_labels(x_max.floor() as usize * 2 + 1)
    // Whole nines only (90 %, 99 %, …): the half steps between are gridlines, not labels.
    .x_label_formatter(&|x| {
        if (x - x.round()).abs() < 1e-9 {
            nines_label(*x)
        } else {
            String::new()
        }
    })
    .y_label_formatter(&|v| ns_label(*v))
    .draw()?;
    // Below the report's resolution a reading is the clock's steps and what was subtracted:
    // shaded, as the summary and the legend mark such figures `<`.
    let resolution = report.latency_resolution_ns();
    let (y_lo, x_end) = (chart.y_range().start, x_max);
    if resolution > y_lo {
        let shade = BLACK.mix(0.06);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y_lo), (x_end, resolution)],
                shade.filled(),
            )))?
            .label(format!(
                "below the report's resolution ({})",
                ns_label(resolution)
            ))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], shade.filled()));
    }
    for (i, (curve, points)) in series.iter().enumerate() {
        // The tick (first) drawn thicker.
        let style = curve.color.stroke_width(if i == 0 { 3 } else { 2 });
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style))?
            .label(curve.legend())
            .legend(legend_entry(style));
    }
    slow_tick_marks::draw(&mut chart, marks, x_max)?;
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

/// A figure that states why there is nothing to plot: `headline` above `detail`, centred.
fn draw_statement(root: &Area<'_>, headline: &str, detail: &str) -> DrawResult {
    let (w, h) = root.dim_in_pixel();
    let center = (w as i32 / 2, h as i32 / 2);
    let centered = |size: f64| {
        TextStyle::from((FONT, size).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    root.draw(&Text::new(
        headline,
        (center.0, center.1 - 24),
        centered(28.0),
    ))?;
    root.draw(&Text::new(
        detail,
        (center.0, center.1 + 24),
        centered(20.0),
    ))?;
    Ok(())
}

fn draw_resources(root: &Area<'_>, report: &Report) -> DrawResult {
    let figure = resources_figure(report);
    let late = match figure {
        ResourcesFigure::Series {
            run_s, axis_end_s, ..
        } if axis_end_s > run_s => Some((run_s, axis_end_s)),
        _ => None,
    };
    let root = root.titled(
        &format!(
            "Resources: {} ({} ticks, {} s{})",
            report.name,
            count_label(report.ticks.count as f64),
            seconds_label(report.total_time_s),
            late.map_or_else(String::new, |(run_s, end_s)| format!(
                "; last sample {} after the end",
                ns_label((end_s - run_s) * 1e9)
            ))
        ),
        (FONT, 26),
    )?;
    let (res, axis_end_s) = match (&figure, &report.resources) {
        (ResourcesFigure::Series { axis_end_s, .. }, Some(res)) => (res, *axis_end_s),
        _ => {
            let (headline, detail) = figure.statement().unwrap_or_default();
            return draw_statement(&root, &capitalized(&headline), &capitalized(&detail));
        }
    };
    let samples = &res.samples[..];
    let seconds = |s: &ResourceSample| drawable(s.elapsed_ms / 1e3);
    // The run's time, 0 → total_time_s as the title says, with no margin past it; or to a
    // closing sample taken after the run's end, which the title then states and a line marks
    // (the axis ran to the last sample + 2 %: 0.016 s under a title of 0.015 s).
    let x_range = 0.0..drawable(axis_end_s).max(1e-3);
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);

    let cpu: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (seconds(s), drawable(s.cpu_percent)))
        .collect();
    let cpu_max = cpu.iter().map(|p| p.1).fold(100.0, f64::max);
    let (cpu_caption, rss_caption) = resources_captions(res);
    let mut chart = panel_builder(&top, cpu_caption, RESOURCES_PANEL)
        .build_cartesian_2d(x_range.clone(), zero_to(cpu_max))?;
    styled_mesh(&mut chart, "time since start (s)", "CPU (% of one core)")
        .x_label_formatter(&fmt_seconds)
        .y_label_formatter(&fmt_whole)
        .draw()?;
    let cpu_label = "CPU % (since previous sample)";
    labelled_line(&mut chart, cpu.iter().copied(), COLORS[0], cpu_label)?;
    if let Some((run_s, _)) = late {
        run_end_line(&mut chart, run_s, zero_to(cpu_max).end)?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;

    let mb = |b: u64| b as f64 / 1e6;
    let rss: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (seconds(s), mb(s.rss_bytes)))
        .collect();
    let peak = mb(res.peak_rss_bytes);
    let rss_max = rss.iter().map(|p| p.1).fold(peak, f64::max);
    let mut chart = panel_builder(&bottom, rss_caption, RESOURCES_PANEL)
        .build_cartesian_2d(x_range.clone(), zero_to(rss_max * 1.1))?;
    styled_mesh(&mut chart, "time since start (s)", "RSS (MB)")
        .x_label_formatter(&fmt_seconds)
        .y_label_formatter(&fmt_whole)
        .draw()?;
    labelled_line(&mut chart, rss.iter().copied(), COLORS[2], "RSS (sampled)")?;
    let x = (x_range.start, x_range.end);
    level_line(
        &mut chart,
        x,
        peak,
        COLORS[3].stroke_width(2),
        "peak RSS (VmHWM)",
    )?;
    if let Some((run_s, _)) = late {
        run_end_line(&mut chart, run_s, zero_to(rss_max * 1.1).end)?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

/// The captions of the CPU and memory panels: the figures the summary's "Resource Usage"
/// prints, from the same fields at the same precision.
fn resources_captions(res: &crate::report::Resources) -> (String, String) {
    let percent = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1} %"));
    let cpu = format!(
        "CPU: mean {}, max {} of one core ({} sample{} every {} ms)",
        percent(res.cpu_percent.mean),
        percent(res.cpu_percent.max),
        res.samples_taken,
        if res.samples_taken == 1 { "" } else { "s" },
        res.sample_interval_ms
    );
    let memory = format!(
        "Resident memory: mean {:.1} MB, OS peak (VmHWM) {:.1} MB",
        res.memory_bytes.mean / 1e6,
        res.peak_rss_bytes as f64 / 1e6
    );
    (cpu, memory)
}

/// A dashed vertical line at the run's end, from 0 to `top`, in the legend.
fn run_end_line<'a, X, Y>(
    chart: &mut ChartContext<'a, Canvas<'a>, Cartesian2d<X, Y>>,
    run_s: f64,
    top: f64,
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = BLACK.mix(0.6).stroke_width(1);
    let x = drawable(run_s);
    chart
        .draw_series(DashedLineSeries::new([(x, 0.0), (x, top)], 6, 4, style))?
        .label(format!("end of the run ({} s)", seconds_label(run_s)))
        .legend(legend_entry(style));
    Ok(())
}

/// `text` with its first letter in upper case, for a headline.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nines_axis_ends_where_the_longest_curve_has_values() {
        let curve = |n: u64| {
            let mut hist = Histogram::new_with_bounds(1, 1_000_000, 3).unwrap();
            hist.record_n(500, n).unwrap();
            Curve::new(
                &crate::test_support::report("r", &[1], &[]),
                "c",
                BLACK,
                hist,
                (0.0, 0),
            )
        };
        // 944 ticks timed (of 50,000 counted): not 4.7 nines of a curve that has none past 2.97.
        let axis = nines_axis(&[curve(944), curve(100)]);
        assert!((axis - 944f64.log10()).abs() < 1e-12, "{axis}");
        assert_eq!(
            nines_of(&curve(100).hist),
            2.0,
            "a component's curve stops at its own"
        );
        assert_eq!(nines_axis(&[curve(3)]), 1.0, "at least 90 %");
        assert_eq!(nines_axis(&[curve(10_000_000)]), MAX_NINES);
    }

    #[test]
    fn labels() {
        assert_eq!(count_label(10_000.0), "10k");
        assert_eq!(count_label(1_500_000.0), "1.5M");
        assert_eq!(count_label(999.0), "999");
        assert_eq!(ns_label(250.0), "250 ns");
        assert_eq!(ns_label(2_500.0), "2.5 µs");
        assert_eq!(ns_label(12_000_000.0), "12 ms");
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(0.5), "68%");
        assert_eq!(nines_label(2.5), "99.7%");
        assert_eq!(nines_label(4.5), "99.997%");
    }

    /// Every range is finite, ordered, and a log range spans a bounded number of decades,
    /// whatever goes in: plotters' tick-mark loops never end on an infinite or NaN range.
    #[test]
    fn ranges_are_always_finite() {
        let odd = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            1.7e308,
            -1.0,
            0.0,
            f64::MIN_POSITIVE,
            1e-300,
            1.0,
            1e12,
        ];
        for lo in odd {
            for hi in odd {
                let r = log_span(lo, hi);
                assert!(r.start.is_finite() && r.end.is_finite(), "{lo} {hi}: {r:?}");
                assert!(0.0 < r.start && r.start < r.end, "{lo} {hi}: {r:?}");
                assert!(r.end / r.start < 1e61, "{lo} {hi}: {r:?}");
            }
            let r = zero_to(lo);
            assert!(r.end.is_finite() && r.end > 0.0, "{lo}: {r:?}");
            assert!(drawable(lo).is_finite(), "{lo}");
        }
        assert_eq!(zero_to(100.0), 0.0..100.0 * 1.15);
        assert_eq!(log_span(10.0, 1_000.0), (10.0 / 1.5)..1_500.0);
    }
}
