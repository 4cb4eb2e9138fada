//! `slow_ticks_<N>.png`: the slowest ticks' timelines as horizontal bars, one row per tick
//! (slowest at the top), each component span a bar from its offset to its end, coloured by
//! component with the sweep's [`Palette`]; nested spans are drawn thinner, over their parent.
//! A tick only timed (sampling) is drawn as its outline alone.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, DrawResult, FONT, Palette, palette, panel_builder, render, styled_mesh};
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
    match tick.ordinal {
        0 => "#?".to_owned(),
        n => format!("#{}", crate::thousands(n)),
    }
}

/// Draws the report's slowest ticks (its `ticks`, then its `recorded` ones) to `path`, colours
/// from `palette`; a report without slow ticks gets a figure that says so ([`no_slow_ticks`]).
///
/// # Errors
/// [`Error::Graph`](crate::Error::Graph) if the image cannot be drawn or written.
pub fn slow_ticks(report: &Report, palette: &Palette, path: &Path) -> Result<()> {
    let ticks: Vec<&SlowTick> = report
        .slowest_ticks
        .as_ref()
        .map(|s| s.all().collect())
        .unwrap_or_default();
    let names = ticks
        .iter()
        .flat_map(|t| t.timeline.iter().map(|s| s.name.as_str()));
    let palette = palette.extended_with(names);
    render(path, SLOW_TICKS_SIZE, |root| {
        draw(root, report, &ticks, &palette)
    })
}

/// Where the x axis ends: 0–100 % for the ticks, the band beyond for the legend (so it never
/// covers a row).
const LEGEND_END: f64 = 128.0;

fn draw(root: &Area<'_>, report: &Report, ticks: &[&SlowTick], palette: &Palette) -> DrawResult {
    if let Some(why) = no_slow_ticks(report) {
        return super::draw_statement(root, "No slow ticks", &super::capitalized(why));
    }
    // Each row is drawn to its own tick's scale (0–100 % of its wall time), its latency in its
    // label: on one µs axis a 4 ms tick leaves the 20 µs ones as slivers, with nothing of what
    // was inside them to see.
    let rows = ticks.len() as f64;
    let mut chart = panel_builder(
        root,
        format!("Slowest ticks of {}: timelines", report.name),
        super::RESOURCES_PANEL,
    )
    .y_label_area_size(150)
    .build_cartesian_2d(0.0..LEGEND_END, -0.5..rows - 0.5)?;
    let labels: Vec<String> = ticks
        .iter()
        .map(|t| {
            format!(
                "{}  {}",
                ordinal_label(t),
                super::ns_label(t.wall_ns as f64)
            )
        })
        .collect();
    styled_mesh(
        &mut chart,
        "% of the tick's wall time (each row to its own scale)",
        "slowest ticks first, then the slowest recorded",
    )
    .y_labels(ticks.len() + 1)
    .y_label_formatter(&|y: &f64| {
        // Rows are centred on whole numbers: a label only there.
        if (y - y.round()).abs() > 1e-6 || *y < 0.0 {
            return String::new();
        }
        let row = (rows - 1.0 - y.round()).max(0.0) as usize;
        labels.get(row).cloned().unwrap_or_default()
    })
    // The band right of 100 % holds the legend, not a scale.
    .x_label_formatter(&|x: &f64| {
        if *x <= 100.0 {
            format!("{x:.0} %")
        } else {
            String::new()
        }
    })
    .draw()?;
    for (row, tick) in ticks.iter().enumerate() {
        // Row 0 (the slowest) at the top, each row centred on a whole number.
        let y0 = rows - row as f64 - 1.5;
        let percent = |ns: u64| ns as f64 * 100.0 / tick.wall_ns.max(1) as f64;
        let outline = palette::TICK_COLOR;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y0 + 0.1), (100.0, y0 + 0.9)],
            outline.stroke_width(1),
        )))?;
        if !tick.recorded {
            chart.draw_series(std::iter::once(Text::new(
                "timed only: no timeline (sampling)",
                (1.5, y0 + 0.5),
                TextStyle::from((FONT, 15).into_font())
                    .color(&BLACK.mix(0.6))
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
        for span in &tick.timeline {
            let color = palette
                .rgb(&span.name)
                .unwrap_or(palette::UNATTRIBUTED_COLOR);
            // Depth 1 fills the row; each level below is drawn thinner, on top.
            let inset = 0.15 + 0.1 * f64::from(span.depth.saturating_sub(1).min(3));
            let start = percent(span.offset_ns);
            let end = percent(span.offset_ns + span.duration_ns).min(100.0);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(start, y0 + inset), (end, y0 + 1.0 - inset)],
                color.filled(),
            )))?;
        }
    }
    // Legend: one entry per component, in the palette's colours.
    let mut seen: Vec<&str> = Vec::new();
    for span in ticks.iter().flat_map(|t| &t.timeline) {
        if !seen.contains(&span.name.as_str()) {
            seen.push(&span.name);
        }
    }
    for name in seen {
        let color = palette.rgb(name).unwrap_or(palette::UNATTRIBUTED_COLOR);
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}
