//! Log axes with gridlines a person can read: labelled major lines at the decades, light ones at
//! 2× and 5× them, nothing else.
//!
//! plotters' own log axis asks for up to ten light lines per label and, on a range of less than
//! two decades, places 99 per decade (1.01×, 1.02×, …): at the driver's small sizes
//! (`--ticks 1000,10000`) the panels of `scalability_metrics.png` read as grey. Fixed key points
//! replace its choice on every log axis the graphs draw.

use std::ops::Range;

use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::prelude::*;

/// A log axis over `range`: major gridlines and labels at the decades in it, light gridlines
/// at 2× and 5× a decade. A range holding fewer than two decades labels its 2× and 5× lines
/// too (two labels at least, so the scale can be read), and one holding fewer than two of
/// those labels every whole multiple of a decade.
pub(super) fn log_axis(range: Range<f64>) -> WithKeyPoints<LogCoord<f64>> {
    let (major, light) = key_points(range.start, range.end);
    range
        .log_scale()
        .with_key_points(major)
        .with_light_points(light)
}

/// The labelled (major) and light key points of a log axis from `lo` to `hi`, each ascending.
fn key_points(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    if !(lo > 0.0 && hi.is_finite()) {
        return (Vec::new(), Vec::new());
    }
    // One decade either side of the logs, so rounding at an exact decade loses none.
    let first = lo.log10().floor() as i32 - 1;
    let last = hi.log10().ceil() as i32 + 1;
    let multiples = |of: &[f64]| -> Vec<f64> {
        (first..=last)
            .flat_map(|e| of.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let decades = multiples(&[1.0]);
    if decades.len() >= 2 {
        return (decades, multiples(&[2.0, 5.0]));
    }
    let one_two_five = multiples(&[1.0, 2.0, 5.0]);
    if one_two_five.len() >= 2 {
        return (one_two_five, Vec::new());
    }
    (
        multiples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]),
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decades labelled, 2× and 5× light, over the driver's default sweep (10K–1M, padded).
    #[test]
    fn decades_are_major_and_two_and_five_light() {
        let (major, light) = key_points(10_000.0 / 1.5, 1_000_000.0 * 1.5);
        assert_eq!(major, [10_000.0, 100_000.0, 1_000_000.0]);
        assert_eq!(light, [20_000.0, 50_000.0, 200_000.0, 500_000.0]);
        // Small values, where 10^-e is not exact: still every decade, once.
        let (major, light) = key_points(0.004, 0.9);
        assert_eq!(major.len(), 2, "{major:?}");
        assert!((major[0] - 0.01).abs() < 1e-12 && (major[1] - 0.1).abs() < 1e-12);
        assert_eq!(light.len(), 5, "{light:?}");
    }

    /// Under two decades (`--ticks 1000,10000` padded to 667–15,000 has two; 2,000–9,000 none):
    /// the 2× and 5× lines are labelled, so the axis keeps two labels at least.
    #[test]
    fn a_short_range_labels_two_and_five() {
        let (major, light) = key_points(1_500.0, 12_000.0);
        assert_eq!(major, [2_000.0, 5_000.0, 10_000.0]);
        assert!(light.is_empty());
        let (major, _) = key_points(2_100.0, 4_900.0);
        assert_eq!(major, [3_000.0, 4_000.0]);
        assert_eq!(key_points(0.0, 10.0), (Vec::new(), Vec::new()));
    }
}
