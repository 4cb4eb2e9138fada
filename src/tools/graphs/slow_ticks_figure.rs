//! `slow_ticks_<N>.png`: the slowest ticks, in two panels.
//!
//! - **Every listed tick on one scale**: a bar per tick (slowest first, as the summary lists
//!   them) to its net busy time on a log axis, with the timed ticks' p50 and p99.9 for scale;
//!   a tick only timed (sampling) is a grey bar here, and nowhere else (it has no timeline: an
//!   empty box per such tick filled most of the figure).
//! - **The recorded ticks' timelines**, each row to its own scale (0–100 % of its wall time: on
//!   one axis a 4 ms tick leaves the 20 µs ones as slivers). A row is two bars: where the time
//!   went (each component span from its offset to its end, in the sweep's [`Palette`] colours,
//!   nested spans thinner, over a background that marks the time between components), and
//!   what it was made of: each component's net busy time, the tick's own time in none of them
//!   (`(unattributed)`), the profiler's own cost inside the tick (busy time as measured less
//!   net), and time the tick was not entered (an async tick awaiting). These add up to its wall
//!   time, so no part of a row is unexplained. Right of each row: the component the report
//!   says took most of it (`dominant`, as the summary prints it).
//!
//! Each row is labelled with what the summary names the tick by: its ordinal, its fields and
//! its net busy time, which is also what orders the rows.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, DrawResult, FONT, Palette, palette, render};
use crate::error::Result;
use crate::report::{Report, SlowTick};

/// Pixel size of the slow-ticks figure.
pub const SLOW_TICKS_SIZE: (u32, u32) = (1200, 800);

/// Why `report` has no slow tick to draw, or `None` when it has one. [`render_dir`] writes no
/// `slow_ticks_<N>.png` then (an empty figure beside the others would read as "nothing was
/// slow") and says why in [`RenderedDir::not_drawn`].
///
/// [`render_dir`]: super::render_dir
/// [`RenderedDir::not_drawn`]: super::RenderedDir::not_drawn
pub fn no_slow_ticks(report: &Report) -> Option<&'static str> {
    match &report.slowest_ticks {
        None => Some(
            "the report keeps no slow ticks (written before schema 4, or with slowest_ticks(0))",
        ),
        Some(slow) if slow.all().next().is_none() => {
            Some("the report keeps no slow ticks (no tick was timed after the warm-up)")
        }
        Some(_) => None,
    }
}

/// How the figures name a slow tick: `#77,777` (its ordinal on its thread), `#?` if unknown.
pub(super) fn ordinal_label(tick: &SlowTick) -> String {
    tick.ordinal_label()
}

/// Draws the report's slowest ticks (its `ticks`, then its `recorded` ones) to `path`, colours
/// from `palette`; a report without slow ticks gets a figure that says so ([`no_slow_ticks`]).
///
/// # Errors
/// [`Error::Graph`](crate::Error::Graph) if the image cannot be drawn or written.
pub fn slow_ticks(report: &Report, palette: &Palette, path: &Path) -> Result<()> {
    let names = report
        .slowest_ticks
        .iter()
        .flat_map(|s| s.all())
        .flat_map(|t| t.timeline.iter().map(|s| s.name.as_str()));
    let palette = palette.extended_with(names);
    render(path, SLOW_TICKS_SIZE, |root| draw(root, report, &palette))
}

/// The time between components, behind a timeline.
const GAP_COLOR: RGBColor = RGBColor(222, 222, 222);
/// The profiler's own cost inside a tick.
const PROFILER_COLOR: RGBColor = RGBColor(64, 64, 64);
/// A timed-only tick's bar.
const TIMED_ONLY_COLOR: RGBColor = RGBColor(170, 170, 170);

/// One row of the figure: a listed tick as the figure states it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    /// `#537,644 seq=5  17.2 µs`: the tick's name and its net busy time (what orders rows).
    pub(super) label: String,
    pub(super) latency_ns: u64,
    pub(super) recorded: bool,
    /// What the tick was made of, adding up to its wall time (recorded ticks only).
    pub(super) parts: Vec<Part>,
    /// The report's `dominant`, as the summary prints it.
    pub(super) dominant: Option<String>,
}

/// A part of a recorded tick's wall time.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Part {
    pub(super) name: String,
    pub(super) ns: u64,
    pub(super) color: RGBColor,
}

/// The rows for `report`'s listed ticks, in list order (slowest first).
pub(super) fn rows(report: &Report, palette: &Palette) -> Vec<Row> {
    let Some(slow) = &report.slowest_ticks else {
        return Vec::new();
    };
    slow.all()
        .map(|t| Row {
            label: format!("{}  {}", t.name(), crate::report::duration(t.latency_ns)),
            latency_ns: t.latency_ns,
            recorded: t.recorded,
            parts: if t.recorded {
                parts(t, palette)
            } else {
                Vec::new()
            },
            dominant: t.dominant.as_ref().map(|d| d.label(t.latency_ns)),
        })
        .collect()
}

/// A recorded tick's wall time by part: each direct child's net busy time (names summed, in
/// order of first start), the tick's own time in none of them, the profiler's cost inside it,
/// the time it was not entered.
fn parts(t: &SlowTick, palette: &Palette) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    for span in t.timeline.iter().filter(|s| s.depth == 1) {
        match parts.iter_mut().find(|p| p.name == span.name) {
            Some(p) => p.ns = p.ns.saturating_add(span.busy_ns),
            None => parts.push(Part {
                name: span.name.clone(),
                ns: span.busy_ns,
                color: palette
                    .rgb(&span.name)
                    .unwrap_or(palette::UNATTRIBUTED_COLOR),
            }),
        }
    }
    let children: u64 = parts.iter().map(|p| p.ns).sum();
    let own = [
        (
            "(unattributed)",
            t.latency_ns.saturating_sub(children),
            palette::UNATTRIBUTED_COLOR,
        ),
        (
            "profiler's own cost",
            t.raw_ns.saturating_sub(t.latency_ns),
            PROFILER_COLOR,
        ),
        ("not entered", t.wall_ns.saturating_sub(t.raw_ns), WHITE),
    ];
    parts.extend(own.into_iter().map(|(name, ns, color)| Part {
        name: name.to_owned(),
        ns,
        color,
    }));
    parts.retain(|p| p.ns > 0);
    parts
}

fn draw(root: &Area<'_>, report: &Report, palette: &Palette) -> DrawResult {
    if let Some(why) = no_slow_ticks(report) {
        return super::draw_statement(root, "No slow ticks", &super::capitalized(why));
    }
    let rows = rows(report, palette);
    let root = root.titled(&format!("Slowest ticks of {}", report.name), (FONT, 24))?;
    let (w, h) = root.dim_in_pixel();
    let (body, legend_area) = root.split_vertically(h.saturating_sub(44));
    // The latency panel's height follows its rows (18 px each, at most 45 % of the figure).
    let top_h = (70 + 18 * rows.len() as u32).min(body.dim_in_pixel().1 * 45 / 100);
    let (top, bottom) = body.split_vertically(top_h);
    draw_latencies(&top, report, &rows)?;
    let recorded: Vec<(&Row, &SlowTick)> = rows
        .iter()
        .zip(report.slowest_ticks.iter().flat_map(|s| s.all()))
        .filter(|(r, _)| r.recorded)
        .collect();
    if recorded.is_empty() {
        let why = report.no_recorded_tick_listed().unwrap_or_else(|| {
            "no listed tick was recorded: only timed (sampling keeps timelines for the ticks \
             of its recording windows)"
                .to_owned()
        });
        super::draw_statement(&bottom, "No timelines", &super::capitalized(&why))?;
    } else {
        draw_timelines(&bottom, &recorded, palette)?;
    }
    // Every span of the upper bars gets a legend entry: nested ones are drawn there only, and
    // a direct child whose net time read 0 (below what calibration resolves) has no part in
    // the lower bar but is drawn above at its measured length.
    let mut nested: Vec<(String, RGBColor)> = Vec::new();
    for span in recorded.iter().flat_map(|(_, t)| &t.timeline) {
        if !nested.iter().any(|(name, _)| *name == span.name) {
            let color = palette
                .rgb(&span.name)
                .unwrap_or(palette::UNATTRIBUTED_COLOR);
            nested.push((span.name.clone(), color));
        }
    }
    draw_legend(&legend_area, &rows, &nested, w)
}

/// Every listed tick's net busy time, on one log axis.
fn draw_latencies(area: &Area<'_>, report: &Report, rows: &[Row]) -> DrawResult {
    let n = rows.len() as f64;
    let t = &report.ticks.latency;
    let reference: Vec<(&str, f64)> = [("p50", t.p50_ns), ("p99.9", t.p999_ns)]
        .into_iter()
        .filter(|_| t.samples > 0)
        .map(|(name, ns)| (name, ns.max(1) as f64))
        .collect();
    let lo = reference
        .iter()
        .map(|r| r.1)
        .chain(rows.iter().map(|r| r.latency_ns.max(1) as f64))
        .fold(f64::INFINITY, f64::min);
    let hi = rows
        .iter()
        .map(|r| r.latency_ns.max(1) as f64)
        .fold(lo, f64::max);
    // Room right of the longest bar for the legend.
    let x_range = super::drawable(lo / 2.0).max(1e-3)..super::drawable(hi * 8.0);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Net busy time of each listed tick (log scale), slowest first",
            (FONT, 18),
        )
        .margin(8)
        .margin_right(24)
        .x_label_area_size(28)
        .y_label_area_size(260)
        .build_cartesian_2d(super::log_axis::log_axis(x_range.clone()), -0.5..n - 0.5)?;
    chart
        .configure_mesh()
        .label_style((FONT, 13))
        .disable_y_mesh()
        .y_labels(rows.len() + 1)
        .y_label_formatter(&|y: &f64| row_label(rows, *y))
        .x_label_formatter(&|x: &f64| super::ns_label(*x))
        .draw()?;
    let y_of = |i: usize| n - 1.0 - i as f64;
    for (i, row) in rows.iter().enumerate() {
        let color = if row.recorded {
            palette::TICK_COLOR
        } else {
            TIMED_ONLY_COLOR
        };
        let y = y_of(i);
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (x_range.start, y - 0.32),
                (row.latency_ns.max(1) as f64, y + 0.32),
            ],
            color.filled(),
        )))?;
    }
    let swatch = |color: RGBColor| {
        move |(x, y): (i32, i32)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], color.filled())
    };
    if rows.iter().any(|r| r.recorded) {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label("recorded: timeline below")
            .legend(swatch(palette::TICK_COLOR));
    }
    if rows.iter().any(|r| !r.recorded) {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label("timed only (sampling): no timeline")
            .legend(swatch(TIMED_ONLY_COLOR));
    }
    for (k, (name, ns)) in reference.iter().enumerate() {
        let style = palette::SLOW_TICK_COLOR.mix(0.8).stroke_width(1 + k as u32);
        chart
            .draw_series(DashedLineSeries::new(
                [(*ns, -0.5), (*ns, n - 0.5)],
                6,
                4,
                style,
            ))?
            .label(format!("timed ticks' {name}: {}", super::ns_label(*ns)))
            .legend(super::legend_entry(style));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        // Rows are slowest first: the bottom right is where the bars are shortest.
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}

/// The label of the row centred at `y` (rows from the top, first at `n − 1`).
fn row_label(rows: &[Row], y: f64) -> String {
    if (y - y.round()).abs() > 1e-6 || y < 0.0 {
        return String::new();
    }
    let row = (rows.len() as f64 - 1.0 - y.round()).max(0.0) as usize;
    rows.get(row).map(|r| r.label.clone()).unwrap_or_default()
}

/// Where the x axis ends: 0–100 % for the timelines, the band beyond for each row's dominant
/// component.
const TEXT_END: f64 = 135.0;

/// The recorded ticks' timelines and what each was made of.
fn draw_timelines(
    area: &Area<'_>,
    recorded: &[(&Row, &SlowTick)],
    palette: &Palette,
) -> DrawResult {
    let rows: Vec<Row> = recorded.iter().map(|(r, _)| (*r).clone()).collect();
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Recorded ticks: where the time went (upper bar) and what it was (lower bar), \
             each row 0–100 % of its wall time",
            (FONT, 18),
        )
        .margin(8)
        .margin_right(24)
        .x_label_area_size(28)
        .y_label_area_size(260)
        .build_cartesian_2d(0.0..TEXT_END, -0.5..n - 0.5)?;
    chart
        .configure_mesh()
        .label_style((FONT, 13))
        .disable_y_mesh()
        .y_labels(rows.len() + 1)
        .y_label_formatter(&|y: &f64| row_label(&rows, *y))
        .x_label_formatter(&|x: &f64| {
            if *x <= 100.0 {
                format!("{x:.0} %")
            } else {
                String::new()
            }
        })
        .draw()?;
    // The band right of 100 % holds text, not a scale: no grid there.
    chart.draw_series(std::iter::once(Rectangle::new(
        [(100.5, -0.5), (TEXT_END, n - 0.5)],
        WHITE.filled(),
    )))?;
    let text = TextStyle::from((FONT, 13).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (row, tick)) in recorded.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        let wall = tick.wall_ns.max(1) as f64;
        let percent = |ns: u64| (ns as f64 * 100.0 / wall).min(100.0);
        // Where: the time between components behind the spans.
        let (where_lo, where_hi) = (y - 0.05, y + 0.4);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, where_lo), (100.0, where_hi)],
            GAP_COLOR.filled(),
        )))?;
        for span in &tick.timeline {
            let color = palette
                .rgb(&span.name)
                .unwrap_or(palette::UNATTRIBUTED_COLOR);
            // Depth 1 fills the bar; each level below is drawn thinner, on top.
            let inset = 0.06 * f64::from(span.depth.saturating_sub(1).min(3));
            let start = percent(span.offset_ns);
            let end = percent(span.offset_ns.saturating_add(span.duration_ns)).max(start);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(start, where_lo + inset), (end, where_hi - inset)],
                color.filled(),
            )))?;
        }
        // What: the parts, end to end.
        let (what_lo, what_hi) = (y - 0.38, y - 0.12);
        let mut at = 0u64;
        for part in &row.parts {
            let (start, end) = (percent(at), percent(at.saturating_add(part.ns)));
            at = at.saturating_add(part.ns);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(start, what_lo), (end, what_hi)],
                part.color.filled(),
            )))?;
        }
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, what_lo), (100.0, what_hi)],
            BLACK.mix(0.5).stroke_width(1),
        )))?;
        if let Some(dominant) = &row.dominant {
            chart.draw_series(std::iter::once(Text::new(
                dominant.clone(),
                (101.5, y),
                text.clone(),
            )))?;
        }
    }
    Ok(())
}

/// The colours of the figure, in one row under it: the components (nested ones too), then what
/// is not in one.
fn draw_legend(
    area: &Area<'_>,
    rows: &[Row],
    nested: &[(String, RGBColor)],
    width: u32,
) -> DrawResult {
    let mut entries: Vec<(String, RGBColor)> = Vec::new();
    let parts = rows
        .iter()
        .flat_map(|r| &r.parts)
        .map(|part| (&part.name, part.color));
    for (name, color) in parts.chain(nested.iter().map(|(name, color)| (name, *color))) {
        if !entries.iter().any(|(known, _)| known == name) {
            entries.push((name.clone(), color));
        }
    }
    if entries.is_empty() {
        return Ok(());
    }
    // Components first, then the gaps of the upper bar, then the tick's own parts.
    let own = ["(unattributed)", "profiler's own cost", "not entered"];
    entries.sort_by_key(|(name, _)| own.iter().position(|o| o == name));
    let first_own = entries
        .iter()
        .position(|(name, _)| own.contains(&name.as_str()))
        .unwrap_or(entries.len());
    entries.insert(
        first_own,
        ("between components (upper bar)".to_owned(), GAP_COLOR),
    );
    let style = TextStyle::from((FONT, 14).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    // Entries left to right, wrapping to a second line (text ~7.5 px per character).
    let (mut x, mut y) = (16i32, 12i32);
    let right = width as i32 - 16;
    for (name, color) in entries {
        let text_width = (7.5 * name.chars().count() as f64) as i32;
        if x + 26 + text_width > right && x > 16 {
            x = 16;
            y += 20;
        }
        area.draw(&Rectangle::new(
            [(x, y - 7), (x + 20, y + 7)],
            color.filled(),
        ))?;
        area.draw(&Rectangle::new(
            [(x, y - 7), (x + 20, y + 7)],
            BLACK.mix(0.5).stroke_width(1),
        ))?;
        area.draw(&Text::new(name, (x + 26, y), style.clone()))?;
        x += 26 + text_width + 16;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TimelineSpan;
    use crate::report::test_slow_tick as tick;

    fn span(name: &str, offset_ns: u64, busy_ns: u64, depth: u32) -> TimelineSpan {
        TimelineSpan {
            name: name.to_owned(),
            offset_ns,
            duration_ns: busy_ns + 100,
            busy_ns,
            depth,
            parent: (depth > 1).then_some(0),
        }
    }

    /// A recorded tick's parts add up to its wall time: its components, its own time, the
    /// profiler's cost, the time it was not entered.
    #[test]
    fn the_parts_of_a_tick_add_up_to_its_wall_time() {
        let mut t = tick(7, 10_000, true);
        t.raw_ns = 11_000;
        t.wall_ns = 12_000;
        t.timeline = vec![
            span("parse", 0, 4_000, 1),
            span("inner", 100, 3_000, 2),
            span("strategy", 5_000, 2_000, 1),
            span("parse", 8_000, 1_000, 1),
        ];
        let palette = Palette::from_names(["parse", "strategy", "inner"]);
        let parts = parts(&t, &palette);
        let named: Vec<(&str, u64)> = parts.iter().map(|p| (p.name.as_str(), p.ns)).collect();
        assert_eq!(
            named,
            [
                ("parse", 5_000),
                ("strategy", 2_000),
                ("(unattributed)", 3_000),
                ("profiler's own cost", 1_000),
                ("not entered", 1_000),
            ]
        );
        assert_eq!(parts.iter().map(|p| p.ns).sum::<u64>(), t.wall_ns);
        assert_eq!(parts[3].color, PROFILER_COLOR);
    }

    #[test]
    fn rows_are_labelled_by_name_and_net_time_in_list_order() {
        let mut report = crate::test_support::report("r", &[1_000; 10], &[]);
        let mut slow = tick(904_211, 4_160_000, false);
        slow.fields = vec![crate::report::TickField {
            name: "seq".to_owned(),
            value: crate::report::TickFieldValue::U64(904_210),
        }];
        slow.wall_ns = 9_000_000;
        report.slowest_ticks = Some(crate::report::SlowestTicks::from_ticks(
            10,
            0,
            [tick(12, 90_000, true), slow],
        ));
        let rows = rows(&report, &Palette::default());
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["#904,211 seq=904210  4.16 ms", "#12  90.0 µs"]);
        assert!(!rows[0].recorded && rows[0].parts.is_empty());
        assert_eq!(rows[1].parts[0].name, "(unattributed)");
    }
}
