//! The two reference distributions of the gate's tests: the standard normal (the noise is
//! known: assumed, or sampling noise alone) and Student's t (the noise is estimated from the
//! spread of a few runs). Upper tail probabilities and quantiles, accurate to ~1e-7 relative,
//! which is far finer than any decision here needs (levels of 1e-2 / k).

/// Degrees of freedom of a test statistic: `None` for a normal reference (the noise is known).
pub(crate) type Df = Option<f64>;

/// P(X > x) for the standard normal (`df = None`) or Student's t with `df` degrees of freedom.
pub(crate) fn upper_tail(x: f64, df: Df) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    match df {
        None => 0.5 * erfc(x / std::f64::consts::SQRT_2),
        Some(nu) => {
            // P(|T| > |x|) = I_{ν/(ν+x²)}(ν/2, 1/2).
            let two_sided = if x.is_infinite() {
                0.0
            } else {
                incomplete_beta(nu / (nu + x * x), nu / 2.0, 0.5)
            };
            if x >= 0.0 {
                0.5 * two_sided
            } else {
                1.0 - 0.5 * two_sided
            }
        }
    }
}

/// The `x` with `upper_tail(x, df) = p`, for `0 < p < 1`: the one-sided critical value.
pub(crate) fn upper_quantile(p: f64, df: Df) -> f64 {
    if p.is_nan() || p <= 0.0 {
        return f64::INFINITY;
    }
    if p >= 1.0 {
        return f64::NEG_INFINITY;
    }
    // Bisection on the monotone tail: 200 halvings of [-1e7, 1e7] reach f64 precision, and
    // the t tail with one degree of freedom at 1e-6 is ~3e5, inside the bracket.
    let (mut lo, mut hi) = (-1e7_f64, 1e7_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper_tail(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * mid.abs().max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The complementary error function, with relative error below 1.2e-7 everywhere (Numerical
/// Recipes' Chebyshev fit `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// Reference values from R: `pnorm(-x)`, `pt(-x, df)`, `qnorm(1 - p)`, `qt(1 - p, df)`.
    #[test]
    fn tails_and_quantiles_match_reference_values() {
        let normal = [
            (0.0, 0.5),
            (1.0, 0.158_655_253_931_457_05),
            (1.959_963_984_540_054, 0.025),
            (3.090_232_306_167_813_5, 0.001),
            (5.0, 2.866_515_718_791_939e-7),
        ];
        for (x, p) in normal {
            assert!(
                close(upper_tail(x, None), p, 2e-7),
                "{x}: {}",
                upper_tail(x, None)
            );
            assert!(close(upper_quantile(p, None), x.max(1e-12), 1e-5) || x == 0.0);
        }
        let t = [
            (1.0, 12.706_204_736_174_7, 0.025),
            (2.0, 4.302_652_729_749_464, 0.025),
            (4.0, 7.173_182_219_782_199, 0.001),
            (8.0, 4.500_790_143_569_897, 0.001),
            (30.0, 2.042_272_456_301_238, 0.025),
        ];
        for (df, x, p) in t {
            let (tail, quantile) = (upper_tail(x, Some(df)), upper_quantile(p, Some(df)));
            assert!(close(tail, p, 1e-5), "t{df} {x}: {tail}");
            assert!(close(quantile, x, 1e-5), "t{df} {p}: {quantile}");
        }
        // Symmetry and the lower half.
        assert!(close(
            upper_tail(-1.0, None),
            1.0 - 0.158_655_253_931_457_05,
            1e-7
        ));
        assert!(close(
            upper_tail(-2.0, Some(3.0)),
            1.0 - upper_tail(2.0, Some(3.0)),
            1e-12
        ));
        assert!(upper_quantile(0.9, Some(5.0)) < 0.0);
        // A huge df is the normal.
        assert!(close(
            upper_tail(2.5, Some(1e7)),
            upper_tail(2.5, None),
            1e-5
        ));
    }

    #[test]
    fn degenerate_arguments_do_not_panic() {
        assert_eq!(upper_quantile(0.0, None), f64::INFINITY);
        assert_eq!(upper_quantile(1.0, Some(3.0)), f64::NEG_INFINITY);
        assert_eq!(upper_tail(f64::INFINITY, Some(3.0)), 0.0);
        assert_eq!(upper_tail(f64::NEG_INFINITY, None), 1.0);
        assert!(upper_tail(f64::NAN, None).is_nan());
    }
}
