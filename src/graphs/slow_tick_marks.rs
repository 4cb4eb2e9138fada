//! Where the slowest ticks fall in `latency_<N>.png`: one marker per tick of the report's
//! `slowest_ticks.ticks`, at its latency and at the percentile its rank puts it, so it sits on
//! the tick's curve; the slowest few are labelled with the ordinal `slow_ticks_<N>.png` and
//! `tickprof trace` name them by. The curves say how slow the tail is; the markers say which
//! ticks it is made of, and that those ticks are in the graph of their timelines.
//!
//! Only `ticks` (the slowest of all timed ticks) is marked: the `recorded` extras of a sampled
//! run are not the slowest, and their rank is not known.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Canvas, DrawResult, FONT, drawable, palette, slow_ticks_figure};
use crate::report::Report;

/// How many markers carry their tick's ordinal: more crowd the curve's last decade.
const LABELLED: usize = 3;
/// Marker size, pixels (plotters' triangle "size": centre to corner).
const MARKER_SIZE: i32 = 7;

/// One slow tick, placed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Mark {
    /// Position on the nines axis: `log10(timed / (rank − ½))`, the percentile below which
    /// the tick of this rank lies (the slowest of 1,000 at 3.3 nines, the tenth at 2.0). Not
    /// clamped: the axis ends at `log10(timed)` nines or five, and the draw clamps to it.
    pub(super) nines: f64,
    /// Its latency, ns (as `ticks.latency` holds it, at least 1 for the log axis).
    pub(super) latency_ns: f64,
    /// `#77,777` for the [`LABELLED`] slowest.
    pub(super) label: Option<String>,
}

/// The report's slowest ticks, placed against a tick histogram of `timed` values (the curve
/// they are drawn on). Empty when the report keeps none or no tick was timed.
pub(super) fn marks(report: &Report, timed: u64) -> Vec<Mark> {
    let Some(slow) = &report.slowest_ticks else {
        return Vec::new();
    };
    if timed == 0 {
        return Vec::new();
    }
    slow.ticks
        .iter()
        .enumerate()
        .map(|(i, tick)| Mark {
            nines: (timed as f64 / (i as f64 + 0.5)).log10(),
            latency_ns: drawable(tick.latency_ns.max(1) as f64),
            label: (i < LABELLED).then(|| slow_ticks_figure::ordinal_label(tick)),
        })
        .collect()
}

/// Draws `marks` into the latency chart (nines axis up to `x_max`), in the legend as
/// "slowest ticks (N)". Labels go above their marker (beside it they sat on the curve's flat
/// steps); one that would overlap a label already drawn is left out (ticks of nearly one
/// latency share a spot at the axis's end).
pub(super) fn draw<'a, X, Y>(
    chart: &mut ChartContext<'a, Canvas<'a>, Cartesian2d<X, Y>>,
    marks: &[Mark],
    x_max: f64,
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    if marks.is_empty() {
        return Ok(());
    }
    let color = palette::SLOW_TICK_COLOR;
    let at = |m: &Mark| (m.nines.clamp(0.0, x_max), m.latency_ns);
    chart
        .draw_series(
            marks
                .iter()
                .map(|m| TriangleMarker::new(at(m), MARKER_SIZE, color.filled())),
        )?
        .label(format!("slowest ticks ({})", marks.len()))
        .legend(move |(x, y)| TriangleMarker::new((x + 12, y), MARKER_SIZE, color.filled()));
    let style = TextStyle::from((FONT, 15).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    let mut placed: Vec<(i32, i32)> = Vec::new();
    for mark in marks {
        let Some(label) = &mark.label else { continue };
        let (px, py) = chart.backend_coord(&at(mark));
        if placed
            .iter()
            .any(|&(x, y)| (x - px).abs() < 90 && (y - py).abs() < 18)
        {
            continue;
        }
        placed.push((px, py));
        chart.draw_series(std::iter::once(
            EmptyElement::at(at(mark))
                + Text::new(label.clone(), (0, -MARKER_SIZE - 4), style.clone()),
        ))?;
    }
    Ok(())
}

/// The markers' latencies, to keep them inside the latency axis.
pub(super) fn latency_range(marks: &[Mark]) -> Option<(f64, f64)> {
    let lo = marks.iter().map(|m| m.latency_ns).reduce(f64::min)?;
    let hi = marks.iter().map(|m| m.latency_ns).reduce(f64::max)?;
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{SlowTick, SlowestTicks};

    fn tick(ordinal: u64, latency_ns: u64) -> SlowTick {
        SlowTick {
            ordinal,
            thread: "main".to_owned(),
            run: None,
            start_unix_ns: ordinal,
            started_at: String::new(),
            offset_s: 0.0,
            latency_ns,
            raw_ns: latency_ns,
            wall_ns: latency_ns,
            recorded: false,
            timeline: Vec::new(),
            timeline_dropped: 0,
            dominant: None,
            machine: None,
        }
    }

    fn report_with(ticks: Vec<SlowTick>) -> Report {
        let mut report = crate::test_support::report("r", &[1_000], &[]);
        report.slowest_ticks = Some(SlowestTicks::from_ticks(10, 0, ticks));
        report
    }

    #[test]
    fn each_tick_sits_at_its_rank_s_percentile_and_latency() {
        let report = report_with((1..=5).map(|i| tick(i * 100, 1_000 * i)).collect());
        let marks = marks(&report, 1_000);
        assert_eq!(marks.len(), 5);
        // Slowest first: rank 1 is 500 (5,000 ns), at log10(1000 / 0.5) nines.
        assert_eq!(marks[0].latency_ns, 5_000.0);
        assert!((marks[0].nines - 2_000f64.log10()).abs() < 1e-12);
        assert!((marks[4].nines - (1_000.0f64 / 4.5).log10()).abs() < 1e-12);
        assert!(marks.windows(2).all(|w| w[0].nines > w[1].nines));
        let labels: Vec<Option<&str>> = marks.iter().map(|m| m.label.as_deref()).collect();
        assert_eq!(
            labels,
            [Some("#500"), Some("#400"), Some("#300"), None, None]
        );
        assert_eq!(latency_range(&marks), Some((1_000.0, 5_000.0)));
    }

    #[test]
    fn nothing_to_mark() {
        let mut report = report_with(vec![tick(1, 10)]);
        assert!(marks(&report, 0).is_empty(), "no timed tick");
        report.slowest_ticks = None;
        assert!(marks(&report, 1_000).is_empty());
        assert_eq!(latency_range(&[]), None);
    }
}
