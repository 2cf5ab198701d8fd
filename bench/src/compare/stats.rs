//! The statistics of `compare`, as pure functions: a block bootstrap over per-second intervals
//! giving a confidence interval of B − A for quantiles, ratios of sums and means.
//!
//! Each second of a run is one block: seconds of A and of B are resampled independently with
//! replacement (a seeded generator, so the same inputs always give the same answer), the
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

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// How the bootstrap is run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
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
    pub fn keyed(&self, key: &str) -> Bootstrap {
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
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// Whether the interval lies wholly on one side of zero.
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// A statistic of A and of B on all their seconds, with the bootstrap interval of B − A
/// (`None`: too few informative seconds on a side for an interval).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub a: f64,
    pub b: f64,
    pub interval: Option<Interval>,
}

impl Estimate {
    pub fn change(&self) -> f64 {
        self.b - self.a
    }
}

/// Which direction of a metric is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Lower,
    Higher,
}

/// What the interval says about B against A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    Regressed,
    /// The interval contains zero.
    NoSignificantChange,
    /// Too few informative seconds on a side for an interval.
    InsufficientData,
}

/// The verdict of an estimate: significant when its interval excludes zero, and then good or
/// bad by the metric's direction.
pub fn verdict(estimate: &Estimate, better: Better) -> Verdict {
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

/// One side's per-second samples and the phase each second fell in. A resample draws, from
/// each phase, as many seconds as it has (a stratified block bootstrap): a scenario's idle gap
/// and its burst are never traded for each other, so the interval reflects how seconds under
/// the same load vary.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a, T> {
    pub seconds: &'a [T],
    /// One label per second; empty: all seconds are one phase.
    pub phases: &'a [usize],
}

impl<'a, T> Side<'a, T> {
    /// Seconds of one phase.
    pub fn new(seconds: &'a [T]) -> Self {
        Side {
            seconds,
            phases: &[],
        }
    }

    pub fn phased(seconds: &'a [T], phases: &'a [usize]) -> Self {
        assert_eq!(seconds.len(), phases.len(), "one phase label per second");
        Side { seconds, phases }
    }
}

/// Quantiles (`0.5`, `0.99`, …) of the merged per-second histograms of A and of B, each with
/// its interval, all from the same resamples. `None` when a side recorded nothing.
pub fn quantiles(
    a: Side<&Histogram<u64>>,
    b: Side<&Histogram<u64>>,
    quantiles: &[f64],
    bootstrap: &Bootstrap,
) -> Option<Vec<Estimate>> {
    let recorded = [recorded(a.seconds), recorded(b.seconds)];
    let index = ValueIndex::new(recorded.iter().flatten());
    let spectra = [
        Spectrum::new(&index, &recorded[0]),
        Spectrum::new(&index, &recorded[1]),
    ];
    let mut scratch = Scratch::new(&index);
    let informative = [spectra[0].informative(), spectra[1].informative()];
    run(&a, &b, informative, bootstrap, |side, weights| {
        spectra[side].quantiles(&index, weights, quantiles, &mut scratch)
    })
}

/// Σ numerator / Σ denominator over per-second `(numerator, denominator)` pairs (a timeout
/// rate: timeouts and completed requests per second). `None` when a side's denominators sum
/// to zero. Seconds with a zero denominator are resampled but carry no information.
pub fn ratio(a: Side<(u64, u64)>, b: Side<(u64, u64)>, bootstrap: &Bootstrap) -> Option<Estimate> {
    let informative = |side: &Side<(u64, u64)>| side.seconds.iter().filter(|r| r.1 > 0).count();
    let rows = [a.seconds, b.seconds];
    let estimates = run(
        &a,
        &b,
        [informative(&a), informative(&b)],
        bootstrap,
        |side, weights| {
            let (mut numerator, mut denominator) = (0u64, 0u64);
            for (&(n, d), &w) in rows[side].iter().zip(&weights.counts) {
                numerator += u64::from(w) * n;
                denominator += u64::from(w) * d;
            }
            (denominator > 0).then(|| vec![numerator as f64 / denominator as f64])
        },
    );
    estimates.map(|e| e[0])
}

/// The mean of per-second samples (requests completed per second, connections open). `None`
/// when a side has no sample.
pub fn mean(a: Side<f64>, b: Side<f64>, bootstrap: &Bootstrap) -> Option<Estimate> {
    let rows = [a.seconds, b.seconds];
    let informative = [a.seconds.len(), b.seconds.len()];
    let estimates = run(&a, &b, informative, bootstrap, |side, weights| {
        let (sum, n) = rows[side]
            .iter()
            .zip(&weights.counts)
            .fold((0.0, 0u64), |(sum, n), (&x, &w)| {
                (sum + f64::from(w) * x, n + u64::from(w))
            });
        (n > 0).then(|| vec![sum / n as f64])
    });
    estimates.map(|e| e[0])
}

/// The bootstrap of a statistic with one or more values: `of(side, weights)` computes them on
/// side 0 (A) or 1 (B) with each second counted `weights` times; all ones for the point
/// estimate. `informative`: each side's seconds with a sample, for the `min_seconds` rule.
fn run<T>(
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
            })
            .collect(),
    )
}

/// The percentile interval of resampled differences; `None` when fewer than half of the
/// resamples gave a difference (most resamples drew only empty seconds).
fn percentile_interval(mut differences: Vec<f64>, bootstrap: &Bootstrap) -> Option<Interval> {
    let m = differences.len();
    if m == 0 || m * 2 < bootstrap.resamples as usize {
        return None;
    }
    differences.sort_by(f64::total_cmp);
    let tail = (1.0 - bootstrap.confidence) / 2.0;
    let low = ((tail * m as f64).floor() as usize).min(m - 1);
    let high = (((1.0 - tail) * m as f64).ceil() as usize).clamp(1, m) - 1;
    Some(Interval {
        low: differences[low],
        high: differences[high],
    })
}

/// SplitMix64: small, fast, and good enough to draw resample indices.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is negligible for n ≪ 2^64).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// How many times each second is in a resample, as a list of the seconds drawn at least once.
#[derive(Debug, Default)]
struct Weights {
    counts: Vec<u32>,
    drawn: Vec<(u32, u32)>,
}

impl Weights {
    /// Every second once.
    fn all(seconds: usize) -> Weights {
        Weights {
            counts: vec![1; seconds],
            drawn: (0..seconds as u32).map(|i| (i, 1)).collect(),
        }
    }
}

/// A side's seconds grouped by phase, to draw resamples from.
struct Resampler {
    seconds: usize,
    phases: Vec<Vec<u32>>,
}

impl Resampler {
    fn new<T>(side: &Side<T>) -> Resampler {
        let seconds = side.seconds.len();
        let phases = if side.phases.is_empty() {
            vec![(0..seconds as u32).collect()]
        } else {
            let count = side.phases.iter().max().map_or(0, |&p| p + 1);
            let mut phases = vec![Vec::new(); count];
            for (i, &phase) in side.phases.iter().enumerate() {
                phases[phase].push(i as u32);
            }
            phases
        };
        Resampler { seconds, phases }
    }

    /// Draws a resample: from each phase, as many of its seconds as it has, with replacement.
    fn draw(&self, rng: &mut SplitMix64, weights: &mut Weights) {
        weights.counts.clear();
        weights.counts.resize(self.seconds, 0);
        for phase in &self.phases {
            for _ in 0..phase.len() {
                weights.counts[phase[rng.below(phase.len())] as usize] += 1;
            }
        }
        weights.drawn.clear();
        weights.drawn.extend(
            weights
                .counts
                .iter()
                .enumerate()
                .filter(|(_, &w)| w > 0)
                .map(|(i, &w)| (i as u32, w)),
        );
    }
}

/// Each second's recorded values and their counts, ascending (an HdrHistogram bucket's
/// highest equivalent value, as `value_at_quantile` reports).
fn recorded(seconds: &[&Histogram<u64>]) -> Vec<Vec<(u64, u64)>> {
    seconds
        .iter()
        .map(|h| {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        })
        .collect()
}

/// The sorted distinct values recorded by any second of either side, cut into blocks.
struct ValueIndex {
    values: Vec<u64>,
    block_size: usize,
    blocks: usize,
}

/// Most blocks per index: a quantile costs a binary search over blocks (one dot product over
/// the seconds per probe) and a walk through one block's entries.
const MAX_BLOCKS: usize = 512;

impl ValueIndex {
    /// From ascending per-second lists, merged one by one (the distinct values are few).
    fn new<'r>(seconds: impl Iterator<Item = &'r Vec<(u64, u64)>>) -> ValueIndex {
        let (mut values, mut merged): (Vec<u64>, Vec<u64>) = (Vec::new(), Vec::new());
        for second in seconds {
            merged.clear();
            let (mut i, mut j) = (0, 0);
            while i < values.len() && j < second.len() {
                let (x, y) = (values[i], second[j].0);
                merged.push(x.min(y));
                i += usize::from(x <= y);
                j += usize::from(y <= x);
            }
            merged.extend_from_slice(&values[i..]);
            merged.extend(second[j..].iter().map(|e| e.0));
            std::mem::swap(&mut values, &mut merged);
        }
        let block_size = values.len().div_ceil(MAX_BLOCKS).max(1);
        let blocks = values.len().div_ceil(block_size).max(1);
        ValueIndex {
            values,
            block_size,
            blocks,
        }
    }
}

/// One side's seconds over the shared index. Per-block tables are laid out block by block
/// (all seconds of block 0, then of block 1, …) so that summing a block boundary over the
/// weighted seconds is one contiguous dot product.
struct Spectrum {
    seconds: usize,
    /// (value index, count), each second's entries together and ascending.
    entries: Vec<(u32, u32)>,
    /// `below[boundary * seconds + i]`: second `i`'s count at value indices below block
    /// `boundary`'s first (boundary `blocks`: the second's total).
    below: Vec<u32>,
    /// `offsets[boundary * seconds + i]`: where second `i`'s entries at or above that
    /// boundary begin in `entries`.
    offsets: Vec<u32>,
}

impl Spectrum {
    fn new(index: &ValueIndex, recorded: &[Vec<(u64, u64)>]) -> Spectrum {
        let seconds = recorded.len();
        let boundaries = index.blocks + 1;
        let mut spectrum = Spectrum {
            seconds,
            entries: Vec::with_capacity(recorded.iter().map(Vec::len).sum()),
            below: vec![0; boundaries * seconds],
            offsets: vec![0; boundaries * seconds],
        };
        for (i, second) in recorded.iter().enumerate() {
            let start = spectrum.entries.len();
            let mut position = 0;
            for &(value, count) in second {
                // Both ascending, and a second holds a good share of the values: step along.
                while index.values[position] < value {
                    position += 1;
                }
                let count = u32::try_from(count).unwrap_or(u32::MAX);
                spectrum.entries.push((position as u32, count));
            }
            let entries = &spectrum.entries[start..];
            let (mut k, mut cumulative) = (0, 0u32);
            for boundary in 0..boundaries {
                let first = (boundary * index.block_size) as u32;
                while k < entries.len() && entries[k].0 < first {
                    cumulative = cumulative.saturating_add(entries[k].1);
                    k += 1;
                }
                spectrum.below[boundary * seconds + i] = cumulative;
                spectrum.offsets[boundary * seconds + i] = (start + k) as u32;
            }
        }
        spectrum
    }

    /// Σ weight × count below `boundary` over the seconds.
    fn below(&self, boundary: usize, weights: &Weights) -> u64 {
        let row = &self.below[boundary * self.seconds..(boundary + 1) * self.seconds];
        row.iter()
            .zip(&weights.counts)
            .map(|(&count, &w)| u64::from(count) * u64::from(w))
            .sum()
    }

    fn informative(&self) -> usize {
        let blocks = self.below.len() / self.seconds.max(1) - 1;
        let totals = &self.below[blocks * self.seconds..];
        totals.iter().filter(|&&t| t > 0).count()
    }

    /// The quantiles of the seconds merged with `weights`, by HdrHistogram's rule: the value
    /// at which the cumulative count first reaches ⌈q × total⌉ (at least 1).
    fn quantiles(
        &self,
        index: &ValueIndex,
        weights: &Weights,
        quantiles: &[f64],
        scratch: &mut Scratch,
    ) -> Option<Vec<f64>> {
        let total = self.below(index.blocks, weights);
        if total == 0 {
            return None;
        }
        let values = quantiles.iter().map(|&q| {
            let target = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
            // The first block boundary at or past the target: the value is in the block before.
            let (mut low, mut high) = (1, index.blocks);
            while low < high {
                let middle = (low + high) / 2;
                if self.below(middle, weights) >= target {
                    high = middle;
                } else {
                    low = middle + 1;
                }
            }
            let block = low - 1;
            let needed = target - self.below(block, weights);
            index.values[self.walk_block(index, weights, block, needed, scratch)] as f64
        });
        Some(values.collect())
    }

    /// The value index inside `block` at which the merged count reaches `needed`.
    fn walk_block(
        &self,
        index: &ValueIndex,
        weights: &Weights,
        block: usize,
        needed: u64,
        scratch: &mut Scratch,
    ) -> usize {
        let first = block * index.block_size;
        let counts = &mut scratch.counts;
        for &(i, w) in &weights.drawn {
            let at = block * self.seconds + i as usize;
            let (start, end) = (self.offsets[at], self.offsets[at + self.seconds]);
            for &(position, count) in &self.entries[start as usize..end as usize] {
                counts[position as usize - first] += u64::from(w) * u64::from(count);
            }
        }
        let mut found = None;
        let mut running = 0;
        for (k, count) in counts.iter_mut().enumerate() {
            running += *count;
            *count = 0;
            if found.is_none() && running >= needed {
                found = Some(first + k);
            }
        }
        found.expect("the block holds the target count")
    }
}

/// Per-block counts reused by every walk.
struct Scratch {
    counts: Vec<u64>,
}

impl Scratch {
    fn new(index: &ValueIndex) -> Scratch {
        Scratch {
            counts: vec![0; index.block_size],
        }
    }
}

#[cfg(test)]
mod tests;
