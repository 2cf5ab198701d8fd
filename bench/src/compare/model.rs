//! The result of `compare`: per target and metric, A's and B's values, the change, its
//! confidence interval and a verdict. This is what `--format json` writes; the field names
//! are stable.
//!
//! ```json
//! {"scenario": "quickstart",
//!  "a": {"dir": "…", "status": "complete", "started_at": "…", "git_revision": "…", …},
//!  "b": {…},
//!  "runs": {"a": 1, "b": 1}, "run_to_run_noise": "not_measured",
//!  "method": {"name": "block bootstrap over per-second intervals", "resamples": 1000,
//!             "confidence": 0.95, "seed": …, "min_seconds": 3, "resampled_within": "phase"},
//!  "tolerance": 0.05,
//!  "targets": [{"name": "serverless", "kind": "serverless", "metrics": [
//!     {"metric": "latency.p99", "unit": "ms", "better": "lower", "a": 1.8, "b": 2.1,
//!      "change": 0.3, "relative_change": 0.1667, "interval": {"low": 0.1, "high": 0.5},
//!      "allowance": 0.12, "verdict": "regressed", "beyond_tolerance": true}, …]}],
//!  "only_in_a": [], "only_in_b": []}
//! ```
//! `relative_change` is `null` when A is 0 and B is not; `interval` is `null` with verdict
//! `insufficient_data`. `a` and `b` describe each side's first run, `a_runs` and `b_runs` every
//! run when a side has several. With several runs on a side, `run_to_run_noise` is
//! `measured`, a side's value is the mean of its runs' values (listed in the metric's `a_runs`
//! and `b_runs`), the interval is built between runs and `allowance` is `null`; with one run a
//! side it is `not_measured` and a significant change within `allowance` (relative) has the
//! verdict `within_noise`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::stats::{Better, Bootstrap, ConfidenceInterval, Verdict};
use crate::model::{RunStatus, TargetKind, Unit};

/// Name of the method, as printed with every result.
pub(crate) const METHOD_NAME: &str = "block bootstrap over per-second intervals";
/// Name of the method with several runs on a side.
pub(crate) const BETWEEN_RUNS_METHOD_NAME: &str = "Student t between runs (Welch)";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Comparison {
    pub scenario: String,
    pub a: RunInfo,
    pub b: RunInfo,
    /// Every run of a side, when it has several (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub a_runs: Vec<RunInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub b_runs: Vec<RunInfo>,
    pub runs: RunCounts,
    pub run_to_run_noise: RunToRunNoise,
    pub method: Method,
    /// Relative change (0.05 = 5%) a significant regression may have before it fails
    /// `--fail-on-regression`.
    pub tolerance: f64,
    /// Metrics compared, all judged together by `--fail-on-regression` (so that identical
    /// runs fail it at most 5% of the time, not 5% per metric).
    #[serde(default)]
    pub metrics_judged: usize,
    /// Targets of both result sets, in B's order.
    pub targets: Vec<TargetComparison>,
    /// Targets measured in only one of the result sets.
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
}

/// How many runs each side has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunCounts {
    pub a: usize,
    pub b: usize,
}

/// Whether the interval holds the variance between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunToRunNoise {
    /// Several runs on a side: the interval is built between runs.
    Measured,
    /// One run a side: changes count only beyond the noise allowance.
    NotMeasured,
}

/// Which result set a side is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunInfo {
    pub dir: PathBuf,
    pub status: RunStatus,
    pub started_at: String,
    pub git_revision: Option<String>,
    pub coldfront_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Method {
    pub name: String,
    pub resamples: u32,
    pub confidence: f64,
    pub seed: u64,
    /// Fewer informative seconds than this on a side: no interval (`insufficient_data`).
    pub min_seconds: usize,
    /// Seconds are drawn within each of these (`phase`: a scenario phase).
    pub resampled_within: String,
}

impl Method {
    pub(crate) fn of(bootstrap: &Bootstrap, noise: RunToRunNoise) -> Method {
        let name = match noise {
            RunToRunNoise::Measured => BETWEEN_RUNS_METHOD_NAME,
            RunToRunNoise::NotMeasured => METHOD_NAME,
        };
        Method {
            name: name.to_string(),
            resamples: bootstrap.resamples,
            confidence: bootstrap.confidence,
            seed: bootstrap.seed,
            min_seconds: bootstrap.min_seconds,
            resampled_within: "phase".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TargetComparison {
    pub name: String,
    pub kind: TargetKind,
    pub metrics: Vec<MetricComparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MetricComparison {
    /// `latency.p99`, `throughput_rps`, `timeout_rate`, `connections_open.mean`, … (the
    /// threshold names where there is one).
    pub metric: String,
    pub unit: Unit,
    pub better: Better,
    pub a: f64,
    pub b: f64,
    /// B − A.
    pub change: f64,
    /// (B − A) / A; `null` when A is 0 and B is not.
    pub relative_change: Option<f64>,
    /// Confidence interval of B − A (`method.confidence`).
    pub interval: Option<ConfidenceInterval>,
    /// Each run's value, when a side has several runs (A's value is then their mean).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub a_runs: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub b_runs: Vec<f64>,
    /// The relative change identical runs stay within, when run-to-run noise was not
    /// measured (one run a side): a significant change within it is `within_noise`.
    pub allowance: Option<f64>,
    pub verdict: Verdict,
    /// A regression that fails `--fail-on-regression`: significant, beyond the tolerance (a
    /// regression from zero always is), and significant still when every metric compared is
    /// judged together (`Comparison::metrics_judged`; see `compare::noise::Judge::gate`).
    pub beyond_tolerance: bool,
    /// With several runs on a side: the difference's standard error and degrees of freedom.
    #[serde(skip)]
    pub spread: Option<super::stats::Spread>,
}

impl MetricComparison {
    pub(crate) fn new(
        metric: String,
        unit: Unit,
        better: Better,
        estimate: &super::stats::Estimate,
        tolerance: f64,
        allowance: Option<f64>,
    ) -> MetricComparison {
        let change = estimate.change();
        let relative_change = if estimate.a != 0.0 {
            Some(change / estimate.a.abs())
        } else if change == 0.0 {
            Some(0.0)
        } else {
            None
        };
        let verdict = super::stats::verdict(estimate, better);
        let verdict = super::stats::allow(verdict, relative_change, allowance);
        let beyond_tolerance = verdict == Verdict::Regressed
            && relative_change.is_none_or(|relative| relative.abs() > tolerance);
        MetricComparison {
            metric,
            unit,
            better,
            a: estimate.a,
            b: estimate.b,
            change,
            relative_change,
            interval: estimate.interval,
            a_runs: estimate.per_run[0].clone(),
            b_runs: estimate.per_run[1].clone(),
            allowance,
            verdict,
            beyond_tolerance,
            spread: estimate.spread,
        }
    }
}

/// How many metrics got each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub improved: usize,
    pub regressed: usize,
    pub beyond_tolerance: usize,
    pub unchanged: usize,
    pub within_noise: usize,
    pub insufficient: usize,
}

impl Comparison {
    /// Every metric with its target, in order.
    pub(crate) fn metrics(&self) -> impl Iterator<Item = (&TargetComparison, &MetricComparison)> {
        self.targets
            .iter()
            .flat_map(|t| t.metrics.iter().map(move |m| (t, m)))
    }

    /// Significant regressions beyond the tolerance: what fails `--fail-on-regression`.
    pub(crate) fn failures(&self) -> impl Iterator<Item = (&TargetComparison, &MetricComparison)> {
        self.metrics().filter(|(_, m)| m.beyond_tolerance)
    }

    pub(crate) fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for (_, metric) in self.metrics() {
            match metric.verdict {
                Verdict::Improved => tally.improved += 1,
                Verdict::Regressed => tally.regressed += 1,
                Verdict::NoSignificantChange => tally.unchanged += 1,
                Verdict::WithinNoise => tally.within_noise += 1,
                Verdict::InsufficientData => tally.insufficient += 1,
            }
            tally.beyond_tolerance += usize::from(metric.beyond_tolerance);
        }
        tally
    }
}
