//! The scalability figure's fourth panel: scaling efficiency as [`crate::scaling`] estimates
//! it, the one figure the driver's linear-scaling verdict judges. Every run against the
//! reference (the smallest run judged); runs too short to judge drawn hollow, so the panel
//! shows them without claiming them.

use plotters::prelude::*;

use super::{
    Area, COLORS, DrawResult, SCALABILITY_PANEL, drawable, legend, legend_entry, level_line,
    panel_builder, styled_mesh,
};
use crate::report::Report;
use crate::scaling::{Basis, LINEAR_SCALING_THRESHOLD, MIN_LOOP_AFTER_WARMUP_S, ScalingEfficiency};

/// One series of the panel: (ticks, efficiency in %, judged) per run that has a figure.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Series {
    pub(super) label: &'static str,
    pub(super) color: RGBColor,
    pub(super) points: Vec<(f64, f64, bool)>,
}

/// What the panel draws: its caption and its series (the numbers, not the pixels).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Points {
    pub(super) caption: String,
    pub(super) series: Vec<Series>,
}

/// The panel's numbers for `runs`: [`ScalingEfficiency::of`], × 100.
pub(super) fn points(runs: &[&Report]) -> Points {
    let e = ScalingEfficiency::of(runs.iter().copied());
    let reference = e.reference.and_then(|i| e.runs.get(i));
    let caption = match (e.basis, reference) {
        (_, None) => "Scaling efficiency: no run has a time per tick".to_owned(),
        (Basis::LoopTimes, Some(r)) => format!(
            "Scaling efficiency: loop time per tick after the warm-up, vs {}",
            super::count_label(r.ticks as f64)
        ),
        (_, Some(r)) => format!(
            "Scaling efficiency: tick mean (no loop times), vs {}",
            super::count_label(r.ticks as f64)
        ),
    };
    let series_of = |label, color, of: &dyn Fn(usize) -> Option<f64>| Series {
        label,
        color,
        points: e
            .runs
            .iter()
            .enumerate()
            .filter_map(|(i, run)| {
                of(i).map(|eff| {
                    (
                        drawable(run.ticks as f64),
                        drawable(100.0 * eff),
                        run.judged(),
                    )
                })
            })
            .collect(),
    };
    let mut series = Vec::new();
    if e.basis == Basis::LoopTimes {
        series.push(series_of("bare loop", COLORS[2], &|i| e.bare(i)));
        series.push(series_of("profiled loop", COLORS[0], &|i| e.profiled(i)));
    } else {
        series.push(series_of("tick mean", COLORS[0], &|i| e.profiled(i)));
    }
    series.retain(|s| !s.points.is_empty());
    Points { caption, series }
}

/// Draws the panel on `area`, over `x_range` (the figure's shared log tick axis).
pub(super) fn draw(
    area: &Area<'_>,
    runs: &[&Report],
    x_range: std::ops::Range<f64>,
    x_desc: &str,
) -> DrawResult {
    let p = points(runs);
    let top = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|pt| pt.1))
        .fold(120.0, f64::max);
    // Head room above the points for the legend (at the top right), so it covers none.
    let mut chart = panel_builder(area, &p.caption, SCALABILITY_PANEL).build_cartesian_2d(
        super::log_axis::log_axis(x_range.clone()),
        0.0..drawable(top * 1.7),
    )?;
    styled_mesh(&mut chart, x_desc, "reference's time per tick ÷ run's (%)")
        .x_label_formatter(&super::fmt_count)
        .y_label_formatter(&super::fmt_whole)
        .draw()?;
    let mut hollow = false;
    for s in &p.series {
        let judged: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|pt| pt.2)
            .map(|pt| (pt.0, pt.1))
            .collect();
        chart.draw_series(
            judged
                .iter()
                .map(|&pt| Circle::new(pt, 4, s.color.filled())),
        )?;
        chart
            .draw_series(LineSeries::new(judged, s.color.stroke_width(2)))?
            .label(s.label)
            .legend(legend_entry(s.color.stroke_width(3)));
        let unjudged = s.points.iter().filter(|pt| !pt.2);
        hollow |= unjudged.clone().next().is_some();
        chart.draw_series(
            unjudged.map(|pt| Circle::new((pt.0, pt.1), 5, s.color.stroke_width(2))),
        )?;
    }
    if hollow {
        let grey = BLACK.mix(0.6);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(format!(
                "not judged: loop after the warm-up < {:.0} ms",
                1e3 * MIN_LOOP_AFTER_WARMUP_S
            ))
            .legend(move |(x, y)| Circle::new((x + 12, y), 5, grey.stroke_width(2)));
    }
    let xs = (x_range.start, x_range.end);
    level_line(
        &mut chart,
        xs,
        100.0,
        BLACK.stroke_width(1),
        "ideal (100 %)",
    )?;
    level_line(
        &mut chart,
        xs,
        100.0 * LINEAR_SCALING_THRESHOLD,
        COLORS[3].stroke_width(1),
        &format!(
            "linear-scaling threshold ({:.0} %)",
            100.0 * LINEAR_SCALING_THRESHOLD
        ),
    )?;
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}
