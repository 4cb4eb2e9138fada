//! What a nested span cost in this very run, and the correction it implies.
//!
//! The recorder subtracts the calibrated cost of every span created inside a span from its
//! busy time (`nested_span_ns`, measured at `start_profiling` on empty spans). A recorded tick
//! of eight components carries eight such subtractions, so a calibration off by 8 % (one
//! cache miss more per span in the real loop, a noisy neighbour during calibration) moves its
//! unattributed time by a whole component. The run itself measures the cost exactly where it
//! matters: timed ticks and recorded ticks are random samples of the same loop, and the only
//! difference between them is the spans recorded inside the latter, so
//!
//! ```text
//! in-run cost per nested span = (mean raw recorded tick − mean raw timed tick) / mean nested spans
//! ```
//!
//! With at least [`MIN_SAMPLES`] of each, the unattributed times (and the busy times of
//! components with spans inside them) are shifted by their mean number of compensated spans ×
//! the difference between the two costs: exact when every recorded tick holds the same number
//! of spans, the mean's correction otherwise. The report keeps both costs.

use hdrhistogram::Histogram;

use super::records::RunRecords;

/// Timed and recorded ticks needed before the run's own measurement is trusted.
pub(crate) const MIN_SAMPLES: u64 = 100;

/// The run's own cost per nested span, ns; `None` with too few samples of either kind, or with
/// full sampling (`full`), where no tick is timed without its spans.
pub(crate) fn nested_span_ns(records: &RunRecords, full: bool) -> Option<f64> {
    if full {
        return None;
    }
    let c = &records.counters;
    let timed = records.ticks_raw.len();
    if timed < MIN_SAMPLES || c.ticks_recorded < MIN_SAMPLES || c.nested_spans == 0 {
        return None;
    }
    let recorded_mean = c.recorded_raw_ns as f64 / c.ticks_recorded as f64;
    let timed_mean = records.ticks_raw.mean();
    let nested_mean = c.nested_spans as f64 / c.ticks_recorded as f64;
    Some(((recorded_mean - timed_mean) / nested_mean).max(0.0))
}

/// Shifts what was compensated with `calibrated_ns` per nested span to `in_run_ns`.
pub(crate) fn apply(records: &mut RunRecords, calibrated_ns: f64, in_run_ns: f64) {
    let delta = in_run_ns - calibrated_ns;
    let c = &records.counters;
    if c.ticks_recorded > 0 {
        let direct_mean = c.direct_spans as f64 / c.ticks_recorded as f64;
        records.unattributed = shifted(&records.unattributed, direct_mean * delta);
    }
    for c in records.components.values_mut() {
        if c.nested > 0 && !c.net.is_empty() {
            let mean = c.nested as f64 / c.net.len() as f64;
            let shift = mean * delta;
            c.net = shifted(&c.net, shift);
            // The direct children's sum moves with them.
            c.direct_net_ns =
                (c.direct_net_ns as f64 - c.direct_count as f64 * shift).max(0.0) as u64;
        }
    }
}

/// `h` with every value lowered by `by` ns (raised if negative), clamped to the range.
fn shifted(h: &Histogram<u64>, by: f64) -> Histogram<u64> {
    let by = by.round();
    if by == 0.0 || h.is_empty() {
        return h.clone();
    }
    let mut out = Histogram::new_from(h);
    for v in h.iter_recorded() {
        let value = (v.value_iterated_to() as f64 - by).clamp(0.0, h.high() as f64) as u64;
        let _ = out.record_n(value, v.count_at_value());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(timed: &[u64], recorded_raw: u64, recorded: u64, nested: u64) -> RunRecords {
        let template = Histogram::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        let mut r = RunRecords::new(&template);
        for &t in timed {
            r.ticks_raw.record(t).unwrap();
        }
        r.counters.ticks_recorded = recorded;
        r.counters.recorded_raw_ns = recorded_raw;
        r.counters.nested_spans = nested;
        r.counters.direct_spans = nested;
        r
    }

    #[test]
    fn measures_the_difference_per_nested_span() {
        // Timed ticks of 400 ns; recorded ticks of 8 spans at 4,400 ns: 500 ns per span.
        let r = records(&[400; 200], 4_400 * 200, 200, 8 * 200);
        assert_eq!(nested_span_ns(&r, false), Some(500.0));
        // Every tick recorded: nothing timed without its spans to compare with.
        assert_eq!(nested_span_ns(&r, true), None);
        // Too few samples: no estimate.
        let few_timed = records(&[400; 50], 4_400 * 200, 200, 1_600);
        assert_eq!(nested_span_ns(&few_timed, false), None);
        let few_recorded = records(&[400; 200], 4_400 * 50, 50, 400);
        assert_eq!(nested_span_ns(&few_recorded, false), None);
    }

    #[test]
    fn shifts_unattributed_by_the_compensated_spans() {
        let mut r = records(&[400; 200], 4_400 * 200, 200, 8 * 200);
        for _ in 0..200 {
            // Compensated with 450 ns per span: 8 × 50 ns too much left in.
            r.unattributed.record(430).unwrap();
        }
        apply(&mut r, 450.0, 500.0);
        assert_eq!(r.unattributed.len(), 200);
        assert_eq!(r.unattributed.value_at_quantile(0.5), 30);
        // Never below zero.
        apply(&mut r, 0.0, 1_000.0);
        assert_eq!(r.unattributed.max(), 0);
    }
}
