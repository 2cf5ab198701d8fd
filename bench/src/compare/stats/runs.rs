//! The interval of B − A when the unit is the run: each run gives one value of the statistic
//! (its p99, its throughput), and the interval comes from how those values vary between runs.
//!
//! A run's value carries both kinds of noise at once — the seconds within it and the state of
//! the machine it ran on — so the spread of run values is the variance a comparison must
//! allow for. With the handful of runs a benchmark can afford (3 to 10) the interval is
//! Student's t on the difference of the sides' means: Welch's form when both sides have two
//! runs or more (the sides may vary differently, as a serverless and a persistent target do),
//! and the pooled form when one side has a single run, whose variance is then taken to be the
//! other side's. A percentile bootstrap of so few runs would be too narrow: it never sees a
//! spread wider than the runs drawn (three runs give ten distinct resamples), and its
//! coverage falls well short of its nominal level; t's heavier tails are what few runs need.

use super::{student, ConfidenceInterval};

/// The mean of run values.
pub(super) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The unbiased sample variance (n − 1); 0 for a single value.
fn variance(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (values.len() - 1) as f64
}

/// The difference of two sides' run means, its standard error and degrees of freedom: any
/// confidence interval of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spread {
    pub difference: f64,
    pub standard_error: f64,
    pub df: f64,
}

impl Spread {
    /// The two-sided `confidence` interval (0.95, or 1 − 0.05/m for m tests together).
    pub(crate) fn interval(&self, confidence: f64) -> ConfidenceInterval {
        let half = student::quantile(0.5 + confidence / 2.0, self.df) * self.standard_error;
        ConfidenceInterval {
            low: self.difference - half,
            high: self.difference + half,
        }
    }
}

/// The `confidence` interval of mean(b) − mean(a); `None` when neither side has two runs
/// (no run-to-run variance to see) or a side has none.
#[cfg(test)]
fn interval(a: &[f64], b: &[f64], confidence: f64) -> Option<ConfidenceInterval> {
    spread(a, b).map(|s| s.interval(confidence))
}

/// mean(b) − mean(a) with its standard error and degrees of freedom; `None` when neither side
/// has two runs (no run-to-run variance to see) or a side has none.
pub(super) fn spread(a: &[f64], b: &[f64]) -> Option<Spread> {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() || (a.len() < 2 && b.len() < 2) {
        return None;
    }
    let (va, vb) = (variance(a), variance(b));
    let (standard_error, df) = if a.len() >= 2 && b.len() >= 2 {
        let (wa, wb) = (va / na, vb / nb);
        let se2 = wa + wb;
        let df = if se2 > 0.0 {
            se2 * se2 / (wa * wa / (na - 1.0) + wb * wb / (nb - 1.0))
        } else {
            na + nb - 2.0
        };
        (se2.sqrt(), df)
    } else {
        let df = (na - 1.0) + (nb - 1.0);
        let pooled = ((na - 1.0) * va + (nb - 1.0) * vb) / df;
        ((pooled * (1.0 / na + 1.0 / nb)).sqrt(), df)
    };
    Some(Spread {
        difference: mean(b) - mean(a),
        standard_error,
        df,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_worked_example() {
        // Means 5 and 8, variances 2.5 and 2.5, five runs each: se = 1, df = 8, t = 2.306.
        let a = [3.0, 4.0, 5.0, 6.0, 7.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let interval = interval(&a, &b, 0.95).unwrap();
        assert!((interval.low - (3.0 - 2.306)).abs() < 1e-3, "{interval:?}");
        assert!((interval.high - (3.0 + 2.306)).abs() < 1e-3, "{interval:?}");
    }

    #[test]
    fn a_single_run_borrows_the_other_sides_variance() {
        // Pooled: s² = 2.5 (df 4), se = sqrt(2.5 × (1/5 + 1)) = 1.732, t(0.975, 4) = 2.776.
        let a = [3.0, 4.0, 5.0, 6.0, 7.0];
        let interval = interval(&a, &[9.0], 0.95).unwrap();
        let half = 2.776 * (2.5f64 * 1.2).sqrt();
        assert!((interval.low - (4.0 - half)).abs() < 1e-2, "{interval:?}");
        assert!((interval.high - (4.0 + half)).abs() < 1e-2, "{interval:?}");
    }

    #[test]
    fn one_run_a_side_gives_no_interval() {
        assert_eq!(interval(&[1.0], &[2.0], 0.95), None);
        assert_eq!(interval(&[], &[2.0, 3.0], 0.95), None);
    }

    #[test]
    fn identical_constant_runs_give_a_zero_width_interval_at_the_difference() {
        let interval = interval(&[2.0, 2.0], &[3.0, 3.0, 3.0], 0.95).unwrap();
        assert_eq!((interval.low, interval.high), (1.0, 1.0));
    }
}
