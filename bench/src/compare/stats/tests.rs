//! The bootstrap on constructed per-second data whose answer is known.

use hdrhistogram::Histogram;

use super::resample::{Resampler, Weights};
use super::spectrum::{recorded, Scratch, Spectrum, ValueIndex};
use super::*;
use crate::resultset::hlog::new_histogram;

fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut SplitMix64) -> f64 {
    let (u, v) = (unit(rng).max(1e-12), unit(rng));
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// `seconds` per-second histograms of a log-normal latency around `median_us`, each second's
/// scale drawn within ±`jitter` (seconds that vary among themselves, as real ones do), all
/// multiplied by `factor`.
fn seconds(
    seed: u64,
    seconds: usize,
    per_second: usize,
    jitter: f64,
    factor: f64,
) -> Vec<Histogram<u64>> {
    let mut rng = SplitMix64::new(seed);
    (0..seconds)
        .map(|_| {
            let scale = 1.0 + jitter * (2.0 * unit(&mut rng) - 1.0);
            let mut h = new_histogram();
            for _ in 0..per_second {
                let us = 2_000.0 * (0.5 * normal(&mut rng)).exp() * scale * factor;
                h.record(us.round().max(1.0) as u64).unwrap();
            }
            h
        })
        .collect()
}

fn refs(histograms: &[Histogram<u64>]) -> Vec<&Histogram<u64>> {
    histograms.iter().collect()
}

const QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];

fn verdicts(a: &[Histogram<u64>], b: &[Histogram<u64>]) -> Vec<(Estimate, Verdict)> {
    quantiles(
        &[Side::new(&refs(a))],
        &[Side::new(&refs(b))],
        &QUANTILES,
        &Bootstrap::default(),
    )
    .unwrap()
    .into_iter()
    .map(|e| {
        let v = verdict(&e, Better::Lower);
        (e, v)
    })
    .collect()
}

#[test]
fn point_quantiles_match_hdrhistogram_on_the_merged_histogram() {
    let a = seconds(1, 30, 300, 0.1, 1.0);
    let b = seconds(2, 20, 50, 0.3, 3.0);
    let estimates = quantiles(
        &[Side::new(&refs(&a))],
        &[Side::new(&refs(&b))],
        &[0.0001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0],
        &Bootstrap::default(),
    )
    .unwrap();
    let (mut merged_a, mut merged_b) = (new_histogram(), new_histogram());
    a.iter().for_each(|h| merged_a.add(h).unwrap());
    b.iter().for_each(|h| merged_b.add(h).unwrap());
    for (e, q) in estimates
        .iter()
        .zip([0.0001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0])
    {
        assert_eq!(e.a, merged_a.value_at_quantile(q) as f64, "A q={q}");
        assert_eq!(e.b, merged_b.value_at_quantile(q) as f64, "B q={q}");
    }
}

#[test]
fn weighted_resample_quantiles_match_merging_the_drawn_seconds() {
    let histograms = seconds(3, 40, 200, 0.2, 1.0);
    let seconds = refs(&histograms);
    let recorded = recorded(&seconds);
    let index = ValueIndex::new(recorded.iter());
    let spectrum = Spectrum::new(&index, &recorded);
    let mut scratch = Scratch::new(&index);
    let mut rng = SplitMix64::new(9);
    let resampler = Resampler::new(&Side::new(&seconds));
    let mut weights = Weights::default();
    for _ in 0..20 {
        resampler.draw(&mut rng, &mut weights);
        let mut merged = new_histogram();
        for &(i, w) in &weights.drawn {
            for _ in 0..w {
                merged.add(&histograms[i as usize]).unwrap();
            }
        }
        let got = spectrum
            .quantiles(&index, &weights, &QUANTILES, &mut scratch)
            .unwrap();
        let expected: Vec<f64> = QUANTILES
            .iter()
            .map(|&q| merged.value_at_quantile(q) as f64)
            .collect();
        assert_eq!(got, expected);
    }
}

#[test]
fn identical_runs_show_no_significant_change() {
    let a = seconds(4, 60, 200, 0.1, 1.0);
    for (e, v) in verdicts(&a, &a.clone()) {
        assert_eq!(v, Verdict::NoSignificantChange, "{e:?}");
        assert_eq!(e.change(), 0.0);
    }
}

#[test]
fn a_distribution_shifted_up_by_20_percent_regressed() {
    let a = seconds(5, 60, 200, 0.1, 1.0);
    let b = seconds(6, 60, 200, 0.1, 1.2);
    for (e, v) in verdicts(&a, &b) {
        assert_eq!(v, Verdict::Regressed, "{e:?}");
        let interval = e.interval.unwrap();
        assert!(interval.low > 0.0 && e.change() > 0.0, "{e:?}");
        // The interval brackets the true shift of the median (20% of ~2 ms).
        assert!(e.change() / e.a > 0.1 && e.change() / e.a < 0.3, "{e:?}");
    }
}

#[test]
fn a_distribution_shifted_down_by_20_percent_improved() {
    let a = seconds(7, 60, 200, 0.1, 1.0);
    let b = seconds(8, 60, 200, 0.1, 0.8);
    for (e, v) in verdicts(&a, &b) {
        assert_eq!(v, Verdict::Improved, "{e:?}");
        assert!(e.interval.unwrap().high < 0.0, "{e:?}");
    }
}

#[test]
fn a_tiny_shift_within_per_second_noise_is_not_significant() {
    // Seconds vary ±10% among themselves; B is the same run 0.5% slower.
    let a = seconds(9, 60, 200, 0.1, 1.0);
    let b = seconds(9, 60, 200, 0.1, 1.005);
    for (e, v) in verdicts(&a, &b) {
        assert_eq!(v, Verdict::NoSignificantChange, "{e:?}");
        assert!(e.change() > 0.0, "{e:?}");
        let interval = e.interval.unwrap();
        assert!(interval.high - interval.low > 0.02 * e.a, "{e:?}");
    }
}

/// Calibration: two runs of the same distribution (independent samples, seconds varying ±10%)
/// are called significantly different about as often as the confidence level allows (5%).
#[test]
fn identically_distributed_runs_are_rarely_called_different() {
    let (pairs, mut called) = (40, 0);
    for pair in 0..pairs {
        let a = seconds(1000 + 2 * pair, 30, 100, 0.1, 1.0);
        let b = seconds(1001 + 2 * pair, 30, 100, 0.1, 1.0);
        called += verdicts(&a, &b)
            .iter()
            .filter(|(_, v)| *v != Verdict::NoSignificantChange)
            .count();
    }
    let tests = pairs as usize * QUANTILES.len();
    assert!(called * 10 <= tests, "{called} of {tests} called different");
}

#[test]
fn the_same_inputs_give_the_same_interval() {
    let a = seconds(11, 30, 100, 0.1, 1.0);
    let b = seconds(12, 30, 100, 0.1, 1.1);
    assert_eq!(verdicts(&a, &b), verdicts(&a, &b));
    let other_seed = Bootstrap::default().keyed("another statistic");
    let elsewhere = quantiles(
        &[Side::new(&refs(&a))],
        &[Side::new(&refs(&b))],
        &QUANTILES,
        &other_seed,
    )
    .unwrap();
    assert_ne!(
        elsewhere.iter().map(|e| e.interval).collect::<Vec<_>>(),
        verdicts(&a, &b)
            .iter()
            .map(|(e, _)| e.interval)
            .collect::<Vec<_>>()
    );
}

#[test]
fn too_few_seconds_give_no_interval() {
    let a = seconds(13, 2, 1000, 0.1, 1.0);
    let b = seconds(14, 60, 100, 0.1, 2.0);
    for (e, v) in verdicts(&a, &b) {
        assert_eq!(v, Verdict::InsufficientData);
        assert!(e.b > e.a, "the values are still reported");
    }
}

#[test]
fn empty_seconds_are_resampled_but_an_empty_side_has_no_estimate() {
    let mut a = seconds(15, 30, 100, 0.1, 1.0);
    a.extend((0..30).map(|_| new_histogram())); // an idle phase
    let b = seconds(16, 30, 100, 0.1, 1.0);
    assert!(verdicts(&a, &b)
        .iter()
        .all(|(_, v)| *v == Verdict::NoSignificantChange));
    let none: Vec<&Histogram<u64>> = Vec::new();
    assert!(quantiles(
        &[Side::new(&refs(&a))],
        &[Side::new(&none)],
        &QUANTILES,
        &Bootstrap::default()
    )
    .is_none());
    let empty = vec![new_histogram(); 10];
    assert!(quantiles(
        &[Side::new(&refs(&a))],
        &[Side::new(&refs(&empty))],
        &QUANTILES,
        &Bootstrap::default()
    )
    .is_none());
}

/// Per-second (timeouts, completed): `per_second` requests a second, each timing out with
/// probability `rate` scaled by a per-second factor within ±`jitter`.
fn rate_rows(
    seed: u64,
    seconds: usize,
    per_second: u64,
    rate: f64,
    jitter: f64,
) -> Vec<(u64, u64)> {
    let mut rng = SplitMix64::new(seed);
    (0..seconds)
        .map(|_| {
            let p = rate * (1.0 + jitter * (2.0 * unit(&mut rng) - 1.0));
            let timeouts = (0..per_second).filter(|_| unit(&mut rng) < p).count() as u64;
            (timeouts, per_second)
        })
        .collect()
}

fn rate_verdict(a: &[(u64, u64)], b: &[(u64, u64)]) -> (Estimate, Verdict) {
    let e = ratio(&[Side::new(a)], &[Side::new(b)], &Bootstrap::default()).unwrap();
    let v = verdict(&e, Better::Lower);
    (e, v)
}

#[test]
fn rates_identical_tripled_and_slightly_moved() {
    let a = rate_rows(20, 60, 500, 0.01, 0.1);
    let (e, v) = rate_verdict(&a, &a);
    assert_eq!((v, e.change()), (Verdict::NoSignificantChange, 0.0));

    let (e, v) = rate_verdict(&a, &rate_rows(21, 60, 500, 0.03, 0.1));
    assert_eq!(v, Verdict::Regressed, "{e:?}");
    assert!(
        (e.b - 0.03).abs() < 0.003 && (e.a - 0.01).abs() < 0.002,
        "{e:?}"
    );

    let (e, v) = rate_verdict(&rate_rows(22, 60, 500, 0.03, 0.1), &a);
    assert_eq!(v, Verdict::Improved, "{e:?}");

    // The same run with its timeouts 0.5% more likely.
    let (e, v) = rate_verdict(&a, &rate_rows(20, 60, 500, 0.01 * 1.005, 0.1));
    assert_eq!(v, Verdict::NoSignificantChange, "{e:?}");
}

#[test]
fn rates_that_stay_at_zero_show_no_change_and_a_new_rate_is_a_regression() {
    let zero = vec![(0, 100); 30];
    let (e, v) = rate_verdict(&zero, &zero);
    assert_eq!(v, Verdict::NoSignificantChange);
    assert_eq!(
        e.interval,
        Some(ConfidenceInterval {
            low: 0.0,
            high: 0.0
        })
    );
    let (e, v) = rate_verdict(&zero, &rate_rows(24, 30, 100, 0.05, 0.1));
    assert_eq!(v, Verdict::Regressed, "{e:?}");
    assert_eq!(e.a, 0.0);
    assert!(ratio(
        &[Side::new(&[(0, 0); 10])],
        &[Side::new(&zero)],
        &Bootstrap::default()
    )
    .is_none());
}

#[test]
fn a_higher_mean_is_better_when_higher_is_better() {
    let mut rng = SplitMix64::new(30);
    let mut per_second = |level: f64| -> Vec<f64> {
        (0..60)
            .map(|_| level * (1.0 + 0.1 * (2.0 * unit(&mut rng) - 1.0)))
            .collect()
    };
    let (a, b, same) = (per_second(100.0), per_second(120.0), per_second(100.0));
    let e = mean(&[Side::new(&a)], &[Side::new(&b)], &Bootstrap::default()).unwrap();
    assert_eq!(verdict(&e, Better::Higher), Verdict::Improved, "{e:?}");
    assert_eq!(verdict(&e, Better::Lower), Verdict::Regressed);
    let e = mean(&[Side::new(&a)], &[Side::new(&same)], &Bootstrap::default()).unwrap();
    assert_eq!(
        verdict(&e, Better::Higher),
        Verdict::NoSignificantChange,
        "{e:?}"
    );
    assert!(mean(&[Side::new(&a)], &[Side::new(&[])], &Bootstrap::default()).is_none());
}

#[test]
fn the_percentile_interval_takes_the_tails() {
    let bootstrap = Bootstrap {
        resamples: 1000,
        ..Bootstrap::default()
    };
    let differences: Vec<f64> = (0..1000).rev().map(f64::from).collect();
    let interval = percentile_interval(differences, &bootstrap).unwrap();
    assert_eq!(
        interval,
        ConfidenceInterval {
            low: 25.0,
            high: 974.0
        }
    );
    assert!(
        percentile_interval(vec![1.0; 400], &bootstrap).is_none(),
        "most resamples empty"
    );
}

/// Requests completed per second through three phases (50 req/s, idle, 200 req/s), each
/// second within ±5%, all times `factor`.
fn phased_throughput(seed: u64, factor: f64) -> (Vec<f64>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let levels = [50.0, 0.0, 200.0];
    (0..30)
        .map(|second| {
            let phase = second / 10;
            let noise = 1.0 + 0.05 * (2.0 * unit(&mut rng) - 1.0);
            (levels[phase] * noise * factor, phase)
        })
        .unzip()
}

#[test]
fn seconds_are_resampled_within_their_phase() {
    let (a, a_phases) = phased_throughput(40, 1.0);
    let (b, b_phases) = phased_throughput(41, 1.1);
    let bootstrap = Bootstrap::default();
    // By phase: a 10% higher throughput stands out of ±5% noise.
    let e = mean(
        &[Side::phased(&a, &a_phases)],
        &[Side::phased(&b, &b_phases)],
        &bootstrap,
    )
    .unwrap();
    assert_eq!(verdict(&e, Better::Higher), Verdict::Improved, "{e:?}");
    // Mixing the idle gap with the burst drowns it in the difference between phases.
    let e = mean(&[Side::new(&a)], &[Side::new(&b)], &bootstrap).unwrap();
    assert_eq!(
        verdict(&e, Better::Higher),
        Verdict::NoSignificantChange,
        "{e:?}"
    );
    // A resample keeps each phase's number of seconds.
    let resampler = Resampler::new(&Side::phased(&a, &a_phases));
    let mut weights = Weights::default();
    resampler.draw(&mut SplitMix64::new(1), &mut weights);
    for phase in 0..3 {
        let drawn: u32 = weights.counts[phase * 10..(phase + 1) * 10].iter().sum();
        assert_eq!(drawn, 10);
    }
}
