//! One colour per component name, shared by the graphs drawn together.

use std::collections::BTreeMap;

use plotters::style::RGBColor;

use crate::report::Report;

/// Tableau 10 without its grey: distinguishable, colour-blind friendlier than plotters' default
/// palette. Grey is kept for `(unattributed)`, black for the tick.
pub(super) const COMPONENT_COLORS: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The tick's curve.
pub(super) const TICK_COLOR: RGBColor = RGBColor(0, 0, 0);
/// The recorded ticks' curve (with sampling): the ticks the components were recorded in,
/// slower than the timed ones by every span's instrumentation; a lighter shade of the tick's.
pub(super) const RECORDED_TICK_COLOR: RGBColor = RGBColor(64, 64, 64);
/// The `(unattributed)` curve: the part of a tick no component covers.
pub(super) const UNATTRIBUTED_COLOR: RGBColor = RGBColor(127, 127, 127);
/// The slowest ticks' markers in `latency_<N>.png`: a colour no component, the tick or
/// `(unattributed)` takes, so a marker on the tick's curve never reads as a curve of its own.
pub(super) const SLOW_TICK_COLOR: RGBColor =
    RGBColor(SLOW_TICK_MARKER.0, SLOW_TICK_MARKER.1, SLOW_TICK_MARKER.2);
/// The slowest ticks' markers in `latency_<N>.png`, as `(red, green, blue)` (as
/// [`Palette::color`] gives colours): magenta, far from every Tableau colour (its pink is 227,
/// 119, 194).
pub const SLOW_TICK_MARKER: (u8, u8, u8) = (204, 0, 204);

/// The colour of each component in the latency graphs, the same in every graph drawn with one
/// palette: build it from all the reports drawn together (a sweep) and pass it to
/// [`latency_distribution_with`](super::latency_distribution_with).
///
/// The rule: the component names of all the reports, sorted (byte order) and deduplicated; the
/// *i*-th name gets colour *i* of a fixed 9-colour list (Tableau 10 without its grey), repeating
/// after the ninth. Sorting makes the colours independent of the reports' order and of each
/// run's timings (colours by position in a report's own list made `strategy` purple in a 10K
/// run and red in a 1M run, whose list also held `risk_check`). The tick is always black and
/// `(unattributed)` always grey.
///
/// ```
/// # use tickprof::graphs::Palette;
/// let palette = Palette::from_names(["strategy", "parse", "risk_check"]);
/// assert_eq!(palette.color("parse"), Some((31, 119, 180)));
/// assert_eq!(palette.color("strategy"), Some((44, 160, 44)));
/// assert_eq!(palette.color("book_update"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Palette {
    /// Name → index into the colour list.
    index: BTreeMap<String, usize>,
}

impl Palette {
    /// The palette of the component names in `reports` (their union).
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Self {
        Self::from_names(
            reports
                .into_iter()
                .flat_map(|r| r.components.keys().map(String::as_str)),
        )
    }

    /// The palette of `names` (any order, repeats ignored).
    pub fn from_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        let mut index: BTreeMap<String, usize> = names
            .into_iter()
            .map(|n| (n.as_ref().to_owned(), 0))
            .collect();
        for (i, slot) in index.values_mut().enumerate() {
            *slot = i;
        }
        Palette { index }
    }

    /// The colour of `component` as `(red, green, blue)`; `None` if the palette was not built
    /// with that name.
    pub fn color(&self, component: &str) -> Option<(u8, u8, u8)> {
        self.rgb(component).map(|RGBColor(r, g, b)| (r, g, b))
    }

    pub(super) fn rgb(&self, component: &str) -> Option<RGBColor> {
        self.index
            .get(component)
            .map(|&i| COMPONENT_COLORS[i % COMPONENT_COLORS.len()])
    }

    /// This palette, plus `names` it lacks after its own (sorted among themselves): a graph
    /// drawn with a palette built from other reports still colours every curve, and the
    /// palette's own names keep their colours.
    pub(super) fn extended_with<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut extended = self.clone();
        let missing: std::collections::BTreeSet<&str> = names
            .into_iter()
            .filter(|n| !self.index.contains_key(*n))
            .collect();
        let next = self.index.len();
        for (i, name) in missing.into_iter().enumerate() {
            extended.index.insert(name.to_owned(), next + i);
        }
        extended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_names_take_the_colours_in_order() {
        let palette = Palette::from_names(["b", "a", "c", "a"]);
        assert_eq!(palette.color("a"), Some((31, 119, 180)));
        assert_eq!(palette.color("b"), Some((255, 127, 14)));
        assert_eq!(palette.color("c"), Some((44, 160, 44)));
        assert_eq!(palette.color("d"), None);
        // The tenth name repeats the first colour.
        let many = Palette::from_names((0..10).map(|i| format!("n{i}")));
        assert_eq!(many.color("n9"), many.color("n0"));
        assert_ne!(many.color("n8"), many.color("n0"));
    }

    #[test]
    fn the_slow_tick_marker_is_no_curve_s_colour() {
        let taken =
            COMPONENT_COLORS
                .iter()
                .chain([&TICK_COLOR, &RECORDED_TICK_COLOR, &UNATTRIBUTED_COLOR]);
        for &RGBColor(r, g, b) in taken {
            // Apart by more than rounding in any channel: distinguishable, and never counted
            // as the other's pixels.
            let apart = [
                (r, SLOW_TICK_MARKER.0),
                (g, SLOW_TICK_MARKER.1),
                (b, SLOW_TICK_MARKER.2),
            ]
            .iter()
            .map(|&(a, m)| a.abs_diff(m))
            .max();
            assert!(apart > Some(60), "({r}, {g}, {b}) is near the marker");
        }
        assert_eq!(
            SLOW_TICK_COLOR,
            RGBColor(SLOW_TICK_MARKER.0, SLOW_TICK_MARKER.1, SLOW_TICK_MARKER.2)
        );
    }

    #[test]
    fn extending_keeps_the_colours_of_known_names() {
        let palette = Palette::from_names(["parse", "strategy"]);
        let extended = palette.extended_with(["alpha", "strategy", "zeta"]);
        assert_eq!(extended.color("parse"), palette.color("parse"));
        assert_eq!(extended.color("strategy"), palette.color("strategy"));
        // After the palette's two names, in their own sorted order.
        assert_eq!(extended.color("alpha"), Some((44, 160, 44)));
        assert_eq!(extended.color("zeta"), Some((214, 39, 40)));
    }
}
