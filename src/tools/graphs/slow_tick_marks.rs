//! Where the slowest ticks fall in `latency_<N>.png`: one marker per tick of the report's
//! `slowest_ticks.ticks`, at its latency and where the tick's curve passes that latency, so
//! it reads as "this tick is at the 99.97th percentile"; the slowest few are labelled with the
//! ordinal `slow_ticks_<N>.png` and `tickprof trace` name them by. The curves say how slow the
//! tail is; the markers say which ticks it is made of.
//!
//! Placed by latency against the curve's histogram, not by rank in the list: with sampling the
//! list holds recorded ticks that are not in `ticks.latency` (a budget-sampled run times a few
//! percent of its ticks, and its list can hold a recorded tick slower than all but one timed
//! tick), so the list's rank is not a rank in the curve; placed by rank, such markers floated
//! far from the curve. Only `ticks` is marked: the `recorded` extras of a sampled run are not
//! the slowest.

use hdrhistogram::Histogram;
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
    /// Position on the nines axis: [`nines_at`]; infinite for a tick slower than every value
    /// of the curve. The draw clamps it to the axis (which ends at five nines at most).
    pub(super) nines: f64,
    /// Its latency, ns (as `ticks.latency` holds it, at least 1 for the log axis).
    pub(super) latency_ns: f64,
    /// `#77,777` for the [`LABELLED`] slowest.
    pub(super) label: Option<String>,
}

/// The report's slowest ticks, placed on the curve of `timed` (the tick histogram the curve is
/// drawn from). Empty when the report keeps none or no tick was timed.
pub(super) fn marks(report: &Report, timed: &Histogram<u64>) -> Vec<Mark> {
    let Some(slow) = &report.slowest_ticks else {
        return Vec::new();
    };
    if timed.is_empty() {
        return Vec::new();
    }
    slow.ticks
        .iter()
        .enumerate()
        .map(|(i, tick)| Mark {
            nines: nines_at(timed, tick.latency_ns),
            latency_ns: drawable(tick.latency_ns.max(1) as f64),
            label: (i < LABELLED).then(|| slow_ticks_figure::ordinal_label(tick)),
        })
        .collect()
}

/// Where the percentile curve of `timed` passes `latency_ns`: `log10(len / slower)`, with
/// `slower` the values above its histogram bucket. The curve's value at `x` nines is the value
/// of rank `len · 10^−x` from the top, so it is above `latency_ns` right of that point and at or
/// below it left of it: the marker sits on the curve's rise through the tick's latency (one of
/// 1,000 with one slower value at 3 nines, with ten at 2). Infinite when none is slower.
pub(super) fn nines_at(timed: &Histogram<u64>, latency_ns: u64) -> f64 {
    let top = timed.highest_equivalent(latency_ns);
    let slower: u64 = timed
        .iter_recorded()
        .filter(|v| v.value_iterated_to() > top)
        .map(|v| v.count_at_value())
        .sum();
    if slower == 0 {
        f64::INFINITY
    } else {
        (timed.len() as f64 / slower as f64).log10()
    }
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
            tid: None,
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
            fields: Vec::new(),
            dominant: None,
            machine: None,
            scheduler: None,
        }
    }

    fn report_with(ticks: Vec<SlowTick>) -> Report {
        let mut report = crate::test_support::report("r", &[1_000], &[]);
        report.slowest_ticks = Some(SlowestTicks::from_ticks(10, 0, ticks));
        report
    }

    #[test]
    fn each_tick_sits_where_the_curve_passes_its_latency() {
        // 1,000 timed ticks: one at 1 ms, nine at 200 µs, ninety at 20 µs, the rest at 500 ns.
        let mut values = vec![1_000_000];
        values.extend([200_000; 9]);
        values.extend([20_000; 90]);
        values.extend([500; 900]);
        let timed = crate::test_support::hist(&values);
        // 1, 10 and 100 values above: 3, 2 and 1 nines; none above: beyond the axis.
        let near = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(near(nines_at(&timed, 500_000), 3.0));
        assert!(near(nines_at(&timed, 50_000), 2.0));
        assert!(near(nines_at(&timed, 5_000), 1.0));
        assert_eq!(nines_at(&timed, 2_000_000), f64::INFINITY);
        // A value of the histogram itself: the values above its bucket, not itself.
        assert!(near(nines_at(&timed, 200_000), 3.0));
        // The curve agrees: just left of the point it is at most the latency, right of it above.
        for (latency, x) in [(500_000u64, 3.0f64), (50_000, 2.0), (5_000, 1.0)] {
            let at = |x: f64| timed.value_at_quantile(1.0 - 10f64.powf(-x));
            assert!(
                at(x - 0.01) <= latency && at(x + 0.01) > latency,
                "{latency}"
            );
        }

        let report = report_with((1..=5).map(|i| tick(i * 100, 1_000 * i)).collect());
        let marks = marks(&report, &timed);
        assert_eq!(marks.len(), 5);
        assert_eq!(marks[0].latency_ns, 5_000.0, "slowest first");
        assert!(near(marks[0].nines, 1.0));
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
        let timed = crate::test_support::hist(&[1_000]);
        assert!(
            marks(&report, &crate::test_support::hist(&[])).is_empty(),
            "no timed tick"
        );
        report.slowest_ticks = None;
        assert!(marks(&report, &timed).is_empty());
        assert_eq!(latency_range(&[]), None);
    }
}
