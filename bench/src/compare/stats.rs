//! The statistics of `compare`, as pure functions: a confidence interval of B − A for
//! quantiles, ratios of sums and means, from one run a side or from several.
//!
//! With several runs on a side (repetitions, or several result sets), the unit is the run: each
//! run's value of the statistic is one observation, and the interval comes from how they vary
//! between runs ([`runs`]), so it holds the run-to-run variance that one run cannot show. With
//! one run a side, the interval is a block bootstrap over its per-second intervals, which holds
//! the variance between seconds only; `compare` then counts a change only beyond a noise
//! allowance measured between identical runs (see `compare::noise`).
//!
//! In the block bootstrap, each second of a run is one block: seconds of A and of B are
//! resampled independently with replacement (a seeded generator, so the same inputs always
//! give the same answer), the
//! statistic is recomputed on each merged resample, and the percentile interval of the
//! resampled differences is the confidence interval. Resampling whole seconds keeps what
//! happens within a second (bursts, stalls, queueing) together, so the interval reflects how
//! much seconds vary among themselves rather than pretending every request is independent.
//! Seconds are resampled within their phase ([`Side`]), since a scenario's phases put
//! different loads on purpose.
//!
//! Quantiles are fast because every second is turned once into a sparse list of
//! (value index, count) over one sorted index of every value either side recorded, with
//! cumulative counts at block boundaries: a quantile of a resample is found by a binary search
//! over blocks (each probe one dot product of weights and counts) and a walk inside one block,
//! without merging histograms.

mod resample;
mod runs;
mod spectrum;
mod student;

pub(crate) use runs::Spread;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;
use resample::{Resampler, Weights};
use spectrum::{recorded, Scratch, Spectrum, ValueIndex};

/// How the bootstrap is run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Bootstrap {
    pub resamples: u32,
    /// Coverage of the interval (0.95 = the 2.5th to 97.5th percentile of the differences).
    pub confidence: f64,
    pub seed: u64,
    /// A side with fewer informative seconds (seconds with a sample) gives no interval: the
    /// variation between seconds cannot be seen in fewer.
    pub min_seconds: usize,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 1000,
            confidence: 0.95,
            seed: 0x00c0_1df2_0a7e,
            min_seconds: 3,
        }
    }
}

impl Bootstrap {
    /// The same bootstrap with a seed derived from `key`, so that each statistic draws its own
    /// reproducible stream whatever order statistics are computed in.
    pub(crate) fn keyed(&self, key: &str) -> Bootstrap {
        // FNV-1a.
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, byte| {
            (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        Bootstrap {
            seed: self.seed ^ hash,
            ..*self
        }
    }
}

/// A confidence interval of B − A.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConfidenceInterval {
    pub low: f64,
    pub high: f64,
}

impl ConfidenceInterval {
    /// Whether the interval lies wholly on one side of zero.
    pub(crate) fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// A statistic of A and of B, with the interval of B − A (`None`: too few informative seconds
/// on a side, or too few runs, for an interval). With several runs on a side, its value is the
/// mean of its runs' values, and `per_run` holds them (empty for a side of one run).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Estimate {
    pub a: f64,
    pub b: f64,
    pub interval: Option<ConfidenceInterval>,
    pub per_run: [Vec<f64>; 2],
    /// With several runs on a side: the difference's standard error and degrees of freedom,
    /// for an interval at another confidence.
    pub spread: Option<Spread>,
}

impl Estimate {
    pub(crate) fn change(&self) -> f64 {
        self.b - self.a
    }
}

/// Which direction of a metric is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Better {
    Lower,
    Higher,
}

/// What the interval says about B against A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    Improved,
    Regressed,
    /// The interval contains zero.
    NoSignificantChange,
    /// Significant within one run a side, but no larger than the change identical runs show
    /// between themselves (the noise allowance): not counted as a change.
    WithinNoise,
    /// Too few informative seconds on a side for an interval.
    InsufficientData,
}

/// The verdict of an estimate: significant when its interval excludes zero, and then good or
/// bad by the metric's direction.
pub(crate) fn verdict(estimate: &Estimate, better: Better) -> Verdict {
    let Some(interval) = estimate.interval else {
        return Verdict::InsufficientData;
    };
    if !interval.excludes_zero() {
        return Verdict::NoSignificantChange;
    }
    let went_up = interval.low > 0.0;
    match (went_up, better) {
        (true, Better::Higher) | (false, Better::Lower) => Verdict::Improved,
        (true, Better::Lower) | (false, Better::Higher) => Verdict::Regressed,
    }
}

/// A significant verdict whose relative change is within the allowance is not a change.
pub(crate) fn allow(
    verdict: Verdict,
    relative_change: Option<f64>,
    allowance: Option<f64>,
) -> Verdict {
    let within = match (allowance, relative_change) {
        (Some(allowance), Some(relative)) => relative.abs() <= allowance,
        _ => false,
    };
    match verdict {
        Verdict::Improved | Verdict::Regressed if within => Verdict::WithinNoise,
        other => other,
    }
}

/// One side's per-second samples and the phase each second fell in. A resample draws, from
/// each phase, as many seconds as it has (a stratified block bootstrap): a scenario's idle gap
/// and its burst are never traded for each other, so the interval reflects how seconds under
/// the same load vary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side<'a, T> {
    pub seconds: &'a [T],
    /// One label per second; empty: all seconds are one phase.
    pub phases: &'a [usize],
}

impl<'a, T> Side<'a, T> {
    /// Seconds of one phase.
    #[cfg(test)]
    pub(crate) fn new(seconds: &'a [T]) -> Self {
        Side {
            seconds,
            phases: &[],
        }
    }

    pub(crate) fn phased(seconds: &'a [T], phases: &'a [usize]) -> Self {
        assert_eq!(seconds.len(), phases.len(), "one phase label per second");
        Side { seconds, phases }
    }
}

/// Quantiles (`0.5`, `0.99`, …) of the merged per-second histograms of A and of B, each with
/// its interval, all from the same resamples. `a` and `b` hold one side's runs. `None` when a
/// side recorded nothing.
pub(crate) fn quantiles(
    a: &[Side<&Histogram<u64>>],
    b: &[Side<&Histogram<u64>>],
    quantiles: &[f64],
    bootstrap: &Bootstrap,
) -> Option<Vec<Estimate>> {
    let recorded: Vec<_> = a.iter().chain(b).map(|run| recorded(run.seconds)).collect();
    let index = ValueIndex::new(recorded.iter().flatten());
    let spectra: Vec<Spectrum> = recorded.iter().map(|r| Spectrum::new(&index, r)).collect();
    let mut scratch = Scratch::new(&index);
    let informative: Vec<usize> = spectra.iter().map(Spectrum::informative).collect();
    estimate(a, b, &informative, bootstrap, |run, weights| {
        spectra[run].quantiles(&index, weights, quantiles, &mut scratch)
    })
}

/// Σ numerator / Σ denominator over per-second `(numerator, denominator)` pairs (a timeout
/// rate: timeouts and completed requests per second). `None` when a side's denominators sum
/// to zero. Seconds with a zero denominator are resampled but carry no information.
pub(crate) fn ratio(
    a: &[Side<(u64, u64)>],
    b: &[Side<(u64, u64)>],
    bootstrap: &Bootstrap,
) -> Option<Estimate> {
    let runs: Vec<&[(u64, u64)]> = a.iter().chain(b).map(|run| run.seconds).collect();
    let informative: Vec<usize> = runs
        .iter()
        .map(|seconds| seconds.iter().filter(|r| r.1 > 0).count())
        .collect();
    let estimates = estimate(a, b, &informative, bootstrap, |run, weights| {
        let (mut numerator, mut denominator) = (0u64, 0u64);
        for (&(n, d), &w) in runs[run].iter().zip(&weights.counts) {
            numerator += u64::from(w) * n;
            denominator += u64::from(w) * d;
        }
        (denominator > 0).then(|| vec![numerator as f64 / denominator as f64])
    });
    estimates.map(|mut e| e.swap_remove(0))
}

/// The mean of per-second samples (requests completed per second, connections open). `None`
/// when a side has no sample.
pub(crate) fn mean(a: &[Side<f64>], b: &[Side<f64>], bootstrap: &Bootstrap) -> Option<Estimate> {
    let runs: Vec<&[f64]> = a.iter().chain(b).map(|run| run.seconds).collect();
    let informative: Vec<usize> = runs.iter().map(|seconds| seconds.len()).collect();
    let estimates = estimate(a, b, &informative, bootstrap, |run, weights| {
        let (sum, n) = runs[run]
            .iter()
            .zip(&weights.counts)
            .fold((0.0, 0u64), |(sum, n), (&x, &w)| {
                (sum + f64::from(w) * x, n + u64::from(w))
            });
        (n > 0).then(|| vec![sum / n as f64])
    });
    estimates.map(|mut e| e.swap_remove(0))
}

/// A statistic with one or more values, on A's runs and B's: `of(run, weights)` computes them
/// on run `run` (A's runs first, then B's) with each second counted `weights` times; all ones
/// for a run's own value. `informative`: each run's seconds with a sample. One run a side: the
/// block bootstrap over seconds; more: the interval between runs.
fn estimate<T>(
    a: &[Side<T>],
    b: &[Side<T>],
    informative: &[usize],
    bootstrap: &Bootstrap,
    of: impl FnMut(usize, &Weights) -> Option<Vec<f64>>,
) -> Option<Vec<Estimate>> {
    match (a, b) {
        ([a], [b]) => within_run(a, b, [informative[0], informative[1]], bootstrap, of),
        _ => between_runs(a, b, bootstrap, of),
    }
}

/// Each run's values, then per value the mean of each side's runs and the interval between
/// runs ([`runs::interval`]). A run that recorded nothing for the statistic is left out; a
/// side with no run left has no estimate.
fn between_runs<T>(
    a: &[Side<T>],
    b: &[Side<T>],
    bootstrap: &Bootstrap,
    mut of: impl FnMut(usize, &Weights) -> Option<Vec<f64>>,
) -> Option<Vec<Estimate>> {
    let mut values: [Vec<Vec<f64>>; 2] = Default::default();
    for (run, side) in a.iter().chain(b).enumerate() {
        if let Some(v) = of(run, &Weights::all(side.seconds.len())) {
            values[usize::from(run >= a.len())].push(v);
        }
    }
    let count = values[0].first()?.len().min(values[1].first()?.len());
    let column =
        |side: usize, k: usize| -> Vec<f64> { values[side].iter().map(|v| v[k]).collect() };
    Some(
        (0..count)
            .map(|k| {
                let (a_runs, b_runs) = (column(0, k), column(1, k));
                let spread = runs::spread(&a_runs, &b_runs);
                let per_run = |v: Vec<f64>| if v.len() > 1 { v } else { Vec::new() };
                Estimate {
                    a: runs::mean(&a_runs),
                    b: runs::mean(&b_runs),
                    interval: spread.map(|s| s.interval(bootstrap.confidence)),
                    per_run: [per_run(a_runs), per_run(b_runs)],
                    spread,
                }
            })
            .collect(),
    )
}

/// The block bootstrap of a statistic on one run a side: `of(0 | 1, weights)` computes it on A
/// or B. `informative`: each side's seconds with a sample, for the `min_seconds` rule.
fn within_run<T>(
    a: &Side<T>,
    b: &Side<T>,
    informative: [usize; 2],
    bootstrap: &Bootstrap,
    mut of: impl FnMut(usize, &Weights) -> Option<Vec<f64>>,
) -> Option<Vec<Estimate>> {
    let point_a = of(0, &Weights::all(a.seconds.len()))?;
    let point_b = of(1, &Weights::all(b.seconds.len()))?;
    let minimum = bootstrap.min_seconds.max(1);
    let intervals = if informative.iter().all(|&n| n >= minimum) {
        let resamplers = [Resampler::new(a), Resampler::new(b)];
        let mut rng = SplitMix64::new(bootstrap.seed);
        let mut weights = [Weights::default(), Weights::default()];
        let mut differences = vec![Vec::with_capacity(bootstrap.resamples as usize); point_a.len()];
        for _ in 0..bootstrap.resamples {
            resamplers[0].draw(&mut rng, &mut weights[0]);
            resamplers[1].draw(&mut rng, &mut weights[1]);
            if let (Some(ra), Some(rb)) = (of(0, &weights[0]), of(1, &weights[1])) {
                for (k, differences) in differences.iter_mut().enumerate() {
                    differences.push(rb[k] - ra[k]);
                }
            }
        }
        differences
            .into_iter()
            .map(|d| percentile_interval(d, bootstrap))
            .collect()
    } else {
        vec![None; point_a.len()]
    };
    Some(
        (0..point_a.len())
            .map(|k| Estimate {
                a: point_a[k],
                b: point_b[k],
                interval: intervals[k],
                per_run: Default::default(),
                spread: None,
            })
            .collect(),
    )
}

/// The upper `p` quantile of the standard normal distribution (Student's t with 10⁴ degrees of
/// freedom, within 10⁻⁴ of it).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    student::quantile(p, 1e4)
}

/// The percentile interval of resampled differences; `None` when fewer than half of the
/// resamples gave a difference (most resamples drew only empty seconds).
fn percentile_interval(
    mut differences: Vec<f64>,
    bootstrap: &Bootstrap,
) -> Option<ConfidenceInterval> {
    let m = differences.len();
    if m == 0 || m * 2 < bootstrap.resamples as usize {
        return None;
    }
    differences.sort_by(f64::total_cmp);
    let tail = (1.0 - bootstrap.confidence) / 2.0;
    let low = ((tail * m as f64).floor() as usize).min(m - 1);
    let high = (((1.0 - tail) * m as f64).ceil() as usize).clamp(1, m) - 1;
    Some(ConfidenceInterval {
        low: differences[low],
        high: differences[high],
    })
}

#[cfg(test)]
mod noise_tests;
#[cfg(test)]
mod tests;
