//! Student's t distribution: the quantile that turns a standard error into a confidence
//! interval when only a few runs are seen. Computed from the regularized incomplete beta
//! function (a continued fraction, evaluated by the modified Lentz method) and bisection, so
//! fractional degrees of freedom (Welch's) work as whole ones do.

/// The `p` quantile (0.5 < p < 1) of Student's t with `df` degrees of freedom (df > 0).
pub(crate) fn quantile(p: f64, df: f64) -> f64 {
    assert!(p > 0.5 && p < 1.0, "an upper quantile, got {p}");
    assert!(df > 0.0, "degrees of freedom must be positive, got {df}");
    // The upper tail 1 − p as a function of t falls monotonically: bisect on it.
    let (mut low, mut high) = (0.0f64, 1.0f64);
    while upper_tail(high, df) > 1.0 - p {
        high *= 2.0;
    }
    for _ in 0..200 {
        let middle = 0.5 * (low + high);
        if upper_tail(middle, df) > 1.0 - p {
            low = middle;
        } else {
            high = middle;
        }
        if high - low <= 1e-12 * high {
            break;
        }
    }
    0.5 * (low + high)
}

/// P(T > t) for t ≥ 0: half the regularized incomplete beta I_{df/(df+t²)}(df/2, 1/2).
fn upper_tail(t: f64, df: f64) -> f64 {
    0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// The regularized incomplete beta function I_x(a, b).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The continued fraction converges fast for x below (a + 1) / (a + b + 2); use the
    // symmetry I_x(a, b) = 1 − I_{1−x}(b, a) above it.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        // The even step, then the odd one.
        for numerator in [
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ] {
            d = 1.0 + numerator * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + numerator / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
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
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, &c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_published_tables() {
        // Two-sided 95% (p = 0.975) and 99% (p = 0.995) critical values of Student's t.
        for (df, q975, q995) in [
            (1.0, 12.706, 63.657),
            (2.0, 4.303, 9.925),
            (3.0, 3.182, 5.841),
            (4.0, 2.776, 4.604),
            (8.0, 2.306, 3.355),
            (10.0, 2.228, 3.169),
            (30.0, 2.042, 2.750),
            (1000.0, 1.962, 2.581),
        ] {
            assert!((quantile(0.975, df) - q975).abs() < 5e-4, "df {df}");
            assert!((quantile(0.995, df) - q995).abs() < 5e-4, "df {df}");
        }
    }

    #[test]
    fn fractional_degrees_of_freedom_lie_between_whole_ones() {
        let (q3, q35, q4) = (
            quantile(0.975, 3.0),
            quantile(0.975, 3.5),
            quantile(0.975, 4.0),
        );
        assert!(q3 > q35 && q35 > q4, "{q3} {q35} {q4}");
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        for (n, factorial) in [(1.0, 1.0), (2.0, 1.0), (5.0, 24.0), (11.0, 3_628_800.0f64)] {
            assert!((ln_gamma(n) - factorial.ln()).abs() < 1e-12, "n {n}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }
}
