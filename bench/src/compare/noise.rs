//! How far identical runs differ, and the verdict that allows for it.
//!
//! Two runs of the same scenario against the same code differ by more than the seconds within
//! either one vary: the machine's state, its clock frequency, caches, neighbours and the
//! database's state change between runs. With several runs a side, `compare` measures that
//! variance (the interval is built between runs). With one run a side it cannot, so a change
//! counts only when it is significant within the runs *and* larger than the noise allowance:
//! the relative change that identical runs stay within 19 times out of 20 on the machine it
//! was measured on. `--noise-allowance` replaces the table with one figure for every metric.
//!
//! The table is measured, not guessed: `bench/scripts/aa-calibration.sh` runs one scenario
//! many times, compares every pair of identical runs and prints, per metric, the 95th
//! percentile of the relative change between them; those figures are below. A change from
//! zero (a first error where there were none) is always beyond the allowance.

use super::model::{MetricComparison, TargetComparison};
use super::stats::{normal_quantile, Better, Estimate};
use crate::model::Unit;

/// Relative changes identical runs stay within: the 95th percentile of |B − A| / A over the
/// 66 pairs of 12 runs of `scenarios/crud-steady.toml` (`--pin`, both targets), measured on the
/// 2-CPU development machine on 2026-12-02 with `bench/scripts/aa-calibration.sh`. Held out
/// (the allowances of one half's pairs judging the other half's), they flagged 3.4% of metric
/// comparisons. The tails are wide: a 99.9th percentile is a handful of requests, and one
/// run's pause moved the persistent target's p99.9 tenfold; the pool's connection count
/// depends on how many requests once overlapped. A metric not listed takes the largest
/// allowance of its family (see [`table`]). Rates and throughput never moved between
/// identical runs (an open-model schedule fixes throughput; no errors): 0.
const ALLOWANCES: &[(&str, f64)] = &[
    ("cold_latency.p50", 0.048),
    ("cold_latency.p99", 0.127),
    ("connections_open.mean", 1.106),
    ("db_connections.mean", 1.400),
    ("error_rate", 0.000),
    ("latency.p50", 0.206),
    ("latency.p90", 0.127),
    ("latency.p99", 0.503),
    ("latency.p999", 8.315),
    ("service_time.p50", 0.214),
    ("service_time.p90", 0.134),
    ("service_time.p99", 0.471),
    ("service_time.p999", 1.432),
    ("throttle_rate", 0.000),
    ("throughput_rps", 0.000),
    ("timeout_rate", 0.000),
];

/// The allowance of a metric from [`ALLOWANCES`]: its own entry, else its family's largest
/// (`service_time.p75` takes the largest `service_time.*`), else the largest of all.
pub(crate) fn table(metric: &str) -> f64 {
    let family = metric.split('.').next().unwrap_or(metric);
    let largest = |keep: &dyn Fn(&str) -> bool| {
        ALLOWANCES
            .iter()
            .filter(|(name, _)| keep(name))
            .map(|&(_, allowance)| allowance)
            .fold(None, |most: Option<f64>, a| {
                Some(most.map_or(a, |m| m.max(a)))
            })
    };
    ALLOWANCES
        .iter()
        .find(|(name, _)| *name == metric)
        .map(|&(_, allowance)| allowance)
        .or_else(|| largest(&|name| name.split('.').next() == Some(family)))
        .or_else(|| largest(&|_| true))
        .unwrap_or(0.0)
}

/// Whether run-to-run noise was measured, and so which allowance applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Noise {
    /// Several runs on a side: the interval holds the variance between runs; no allowance.
    Measured,
    /// One run a side: the measured table ([`table`]).
    Table,
    /// One run a side, with `--noise-allowance`.
    Given(f64),
}

impl Noise {
    /// The noise handling of a comparison with `runs` runs on each side, `given` the
    /// `--noise-allowance` (used only when run-to-run noise is not measured).
    pub(crate) fn of(runs: [usize; 2], given: Option<f64>) -> Noise {
        match (runs, given) {
            ([1, 1], Some(allowance)) => Noise::Given(allowance),
            ([1, 1], None) => Noise::Table,
            _ => Noise::Measured,
        }
    }

    /// The relative allowance of `metric`; `None` when run-to-run noise was measured.
    pub(crate) fn allowance(&self, metric: &str) -> Option<f64> {
        match *self {
            Noise::Measured => None,
            Noise::Table => Some(table(metric)),
            Noise::Given(allowance) => Some(allowance),
        }
    }
}

/// Turns estimates into judged metrics: the verdict of the interval, the noise allowance when
/// run-to-run noise was not measured, and the regression tolerance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Judge {
    pub noise: Noise,
    /// Relative change (0.05 = 5%) a significant regression may have and still pass.
    pub tolerance: f64,
}

impl Judge {
    pub(crate) fn judge(
        &self,
        metric: String,
        unit: Unit,
        better: Better,
        estimate: &Estimate,
    ) -> MetricComparison {
        let allowance = self.noise.allowance(&metric);
        MetricComparison::new(metric, unit, better, estimate, self.tolerance, allowance)
    }

    /// What fails `--fail-on-regression` is judged over every metric compared together, so
    /// that identical runs fail it at most 5% of the time, not 5% per metric (Bonferroni): a
    /// regression beyond the tolerance fails only when it is still significant at 1 − 5%/m
    /// for m metrics. Between runs, that is its t interval at that confidence; with one run a
    /// side, its relative change beyond the allowance scaled as a normal quantile is, from
    /// the 95% the allowance was measured at to 1 − 5%/m.
    pub(crate) fn gate(&self, targets: &mut [TargetComparison]) -> usize {
        let m = targets
            .iter()
            .map(|t| t.metrics.len())
            .sum::<usize>()
            .max(1);
        let confidence = 1.0 - 0.05 / m as f64;
        let widen = normal_quantile(0.5 + confidence / 2.0) / normal_quantile(0.975);
        for metric in targets.iter_mut().flat_map(|t| t.metrics.iter_mut()) {
            if !metric.beyond_tolerance {
                continue;
            }
            let together = match (metric.spread, metric.allowance, metric.relative_change) {
                (Some(spread), _, _) => spread.interval(confidence).excludes_zero(),
                (None, Some(allowance), Some(relative)) => relative.abs() > allowance * widen,
                _ => true, // from zero, or no interval to widen
            };
            metric.beyond_tolerance = together;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::stats::{allow, Verdict};

    #[test]
    fn single_runs_take_the_table_or_the_given_allowance_and_repetitions_none() {
        assert_eq!(Noise::of([1, 1], None), Noise::Table);
        assert_eq!(Noise::of([1, 1], Some(0.3)), Noise::Given(0.3));
        assert_eq!(Noise::of([3, 1], Some(0.3)), Noise::Measured);
        assert_eq!(Noise::Measured.allowance("latency.p50"), None);
        assert_eq!(Noise::Given(0.3).allowance("latency.p50"), Some(0.3));
    }

    #[test]
    fn a_significant_change_within_the_allowance_is_within_noise() {
        let regressed = Verdict::Regressed;
        assert_eq!(
            allow(regressed, Some(0.08), Some(0.1)),
            Verdict::WithinNoise
        );
        assert_eq!(allow(regressed, Some(-0.12), Some(0.1)), Verdict::Regressed);
        assert_eq!(
            allow(Verdict::Improved, Some(-0.05), Some(0.1)),
            Verdict::WithinNoise
        );
        // From zero: always beyond; no allowance: unchanged.
        assert_eq!(allow(regressed, None, Some(0.1)), Verdict::Regressed);
        assert_eq!(allow(regressed, Some(0.01), None), Verdict::Regressed);
        let unchanged = Verdict::NoSignificantChange;
        assert_eq!(allow(unchanged, Some(0.5), Some(0.1)), unchanged);
    }

    #[test]
    fn every_metric_compare_writes_has_an_allowance_of_its_own() {
        let metrics = [
            "latency.p50",
            "latency.p90",
            "latency.p99",
            "latency.p999",
            "service_time.p50",
            "service_time.p90",
            "service_time.p99",
            "service_time.p999",
            "cold_latency.p50",
            "cold_latency.p99",
            "throughput_rps",
            "timeout_rate",
            "error_rate",
            "throttle_rate",
            "connections_open.mean",
            "db_connections.mean",
        ];
        for metric in metrics {
            assert!(
                ALLOWANCES.iter().any(|(name, _)| *name == metric),
                "{metric} has no measured allowance"
            );
        }
        for &(name, allowance) in ALLOWANCES {
            assert!(
                allowance.is_finite() && allowance >= 0.0,
                "{name}: {allowance}"
            );
        }
    }

    #[test]
    fn an_unlisted_metric_takes_its_familys_largest_allowance() {
        let family_max = ALLOWANCES
            .iter()
            .filter(|(n, _)| n.starts_with("latency."))
            .map(|&(_, a)| a)
            .fold(0.0, f64::max);
        assert_eq!(table("latency.p75"), family_max);
    }
}
