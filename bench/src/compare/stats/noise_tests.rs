//! The statistics on synthetic runs whose run-to-run variance is known: every run's latency is
//! scaled by its own factor (the machine's state that run), on top of the variation between
//! seconds within it. The interval between runs must cover the truth at its nominal rate,
//! flag identical sides at about 5% and find a planted shift; one run a side must show why
//! it needs an allowance.

use hdrhistogram::Histogram;

use super::*;
use crate::resultset::hlog::new_histogram;

/// Run-to-run spread: each run's latency is multiplied by exp(σ·Z), σ = 8%.
const RUN_SIGMA: f64 = 0.08;

fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut SplitMix64) -> f64 {
    let (u, v) = (unit(rng).max(1e-12), unit(rng));
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// One run: 10 seconds of 40 log-normal latencies around 2 ms × `factor`, the run's own
/// scale drawn with [`RUN_SIGMA`], each second's within ±10%.
fn run(rng: &mut SplitMix64, factor: f64) -> Vec<Histogram<u64>> {
    let run_scale = (RUN_SIGMA * normal(rng)).exp();
    (0..10)
        .map(|_| {
            let second = 1.0 + 0.1 * (2.0 * unit(rng) - 1.0);
            let mut h = new_histogram();
            for _ in 0..40 {
                let us = 2_000.0 * (0.4 * normal(rng)).exp() * second * run_scale * factor;
                h.record(us.round().max(1.0) as u64).unwrap();
            }
            h
        })
        .collect()
}

/// The p50 estimate of `runs_a` runs against `runs_b` runs of B = A × `factor`.
fn p50(seed: u64, runs_a: usize, runs_b: usize, factor: f64) -> Estimate {
    let mut rng = SplitMix64::new(seed);
    let a: Vec<Vec<Histogram<u64>>> = (0..runs_a).map(|_| run(&mut rng, 1.0)).collect();
    let b: Vec<Vec<Histogram<u64>>> = (0..runs_b).map(|_| run(&mut rng, factor)).collect();
    fn refs(runs: &[Vec<Histogram<u64>>]) -> Vec<Vec<&Histogram<u64>>> {
        runs.iter().map(|r| r.iter().collect()).collect()
    }
    fn sides<'a, 'h>(runs: &'a [Vec<&'h Histogram<u64>>]) -> Vec<Side<'a, &'h Histogram<u64>>> {
        runs.iter().map(|seconds| Side::new(seconds)).collect()
    }
    let (ra, rb) = (refs(&a), refs(&b));
    let bootstrap = Bootstrap {
        resamples: 400,
        ..Bootstrap::default()
    };
    quantiles(&sides(&ra), &sides(&rb), &[0.5], &bootstrap)
        .unwrap()
        .remove(0)
}

fn share(flags: impl Iterator<Item = bool>) -> f64 {
    let flags: Vec<bool> = flags.collect();
    flags.iter().filter(|&&f| f).count() as f64 / flags.len() as f64
}

#[test]
fn between_runs_the_interval_covers_an_unchanged_truth_at_its_nominal_rate() {
    // Identical sides: the true difference is 0, so coverage = 1 − the false-positive rate.
    for runs in [3, 5] {
        let covered = share((0..400).map(|seed| {
            let estimate = p50(1_000 + seed, runs, runs, 1.0);
            assert_eq!(estimate.per_run[0].len(), runs, "each run's value is kept");
            !estimate.interval.unwrap().excludes_zero()
        }));
        assert!(
            (0.92..=0.98).contains(&covered),
            "{runs} runs a side: coverage {covered}"
        );
    }
}

#[test]
fn between_runs_a_planted_20_percent_shift_is_found_with_the_stated_power() {
    // Five runs a side. A run's p50 varies by about 8.6% (8% between runs, about 3% from its
    // own 400 requests); B's runs, 1.2× larger, vary by as much in proportion. The standard
    // error of the difference is 2 ms × 0.086 × √((1 + 1.2²) / 5) ≈ 0.12 ms, so the 0.4 ms
    // shift stands 3.3 standard errors out, which Welch's t (df ≈ 7.6, critical value 2.33)
    // finds about 8 times in 10 (noncentral t); 1,000 seeds gave 0.79.
    let found = share((0..200).map(|seed| {
        let estimate = p50(5_000 + seed, 5, 5, 1.2);
        verdict(&estimate, Better::Lower) == Verdict::Regressed
    }));
    assert!((0.72..=0.88).contains(&found), "found {found}");
    // And the interval still covers the true shift of the run means (20% of about 2 ms).
    let covered = share((0..200).map(|seed| {
        let estimate = p50(9_000 + seed, 5, 5, 1.2);
        let interval = estimate.interval.unwrap();
        let truth = 0.2 * estimate.a;
        interval.low <= truth && truth <= interval.high
    }));
    assert!(covered >= 0.9, "coverage of the shift {covered}");
}

#[test]
fn one_run_a_side_the_bootstrap_alone_cries_wolf_and_a_measured_allowance_does_not() {
    // Within one run the seconds vary by ±10%, between runs by 8%: an interval built from
    // seconds alone calls identical runs different far more often than 5%.
    let pairs: Vec<Estimate> = (0..300).map(|seed| p50(20_000 + seed, 1, 1, 1.0)).collect();
    let significant = |e: &Estimate| e.interval.is_some_and(|i| i.excludes_zero());
    let cried_wolf = share(pairs.iter().map(significant));
    assert!(cried_wolf > 0.25, "bootstrap alone flagged {cried_wolf}");
    // The allowance: the 95th percentile of |relative change| between identical pairs,
    // measured on some pairs and judged on others (as `aa-calibration.sh` does on runs).
    let relative = |e: &Estimate| (e.change() / e.a).abs();
    let mut calibration: Vec<f64> = pairs[..150].iter().map(relative).collect();
    calibration.sort_by(f64::total_cmp);
    let allowance = calibration[(0.95 * 149.0f64).round() as usize];
    let flagged = share(
        pairs[150..]
            .iter()
            .map(|e| significant(e) && relative(e) > allowance),
    );
    assert!(
        flagged <= 0.08,
        "with a {allowance:.3} allowance, flagged {flagged}"
    );
    // A server four times slower (2 ms → 8 ms) is still far beyond it.
    for seed in 0..20 {
        let estimate = p50(30_000 + seed, 1, 1, 4.0);
        assert!(significant(&estimate) && relative(&estimate) > allowance);
    }
}

#[test]
fn a_single_run_against_several_uses_the_repeated_sides_variance() {
    let estimate = p50(40_000, 4, 1, 1.0);
    assert!(estimate.interval.is_some());
    assert_eq!(estimate.per_run[0].len(), 4);
    assert!(
        estimate.per_run[1].is_empty(),
        "a side of one run lists no runs"
    );
}
