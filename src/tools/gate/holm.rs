//! Holm's step-down method: the family-wise false-alarm rate of many tests at once.
//!
//! A check tests many metrics; at 1 % each, twenty metrics of two identical builds would raise
//! at least one alarm in ~18 % of pairs. Holm's method keeps the chance of *any* false alarm
//! in the family at the chosen level, and rejects at least everything Bonferroni (each test at
//! level/k) rejects.

/// Holm-adjusted p-values, in the order given: a test fails at family-wise level α exactly
/// when its adjusted p-value is ≤ α. `NaN`s are treated as 1 (not rejected).
pub(crate) fn adjust(p: &[f64]) -> Vec<f64> {
    let k = p.len();
    let mut order: Vec<usize> = (0..k).collect();
    let key = |i: usize| if p[i].is_nan() { 1.0 } else { p[i] };
    order.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
    let mut adjusted = vec![1.0; k];
    let mut running = 0.0_f64;
    for (step, &i) in order.iter().enumerate() {
        let scaled = ((k - step) as f64 * key(i)).min(1.0);
        running = running.max(scaled);
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjusted_values_follow_the_step_down() {
        // Sorted: 0.001 ×4 = 0.004, 0.01 ×3 = 0.03, 0.02 ×2 = 0.04, 0.5 ×1.
        let got = adjust(&[0.02, 0.001, 0.5, 0.01]);
        let want = [0.04, 0.004, 0.5, 0.03];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        // Monotone: a larger raw p never gets a smaller adjusted p.
        let got = adjust(&[0.011, 0.01]);
        assert!(
            (got[1] - 0.02).abs() < 1e-12 && (got[0] - 0.02).abs() < 1e-12,
            "{got:?}"
        );
        assert_eq!(adjust(&[f64::NAN, 0.0]), vec![1.0, 0.0]);
        assert!(adjust(&[]).is_empty());
    }

    /// Under the null hypothesis (uniform p-values) the family-wise rate stays at α.
    #[test]
    fn the_family_wise_rate_is_held() {
        let mut rng = crate::gate::rng::SplitMix64(7);
        let (families, k, alpha) = (20_000, 20, 0.05);
        let alarms = (0..families)
            .filter(|_| {
                let p: Vec<f64> = (0..k).map(|_| rng.uniform()).collect();
                adjust(&p).iter().any(|&q| q <= alpha)
            })
            .count();
        let rate = alarms as f64 / families as f64;
        // Bonferroni's bound is α; for independent tests the rate is 1 − (1 − α/k)^k ≈ 4.9 %.
        assert!((0.040..=0.052).contains(&rate), "{rate}");
    }
}
