//! Drawing resamples: a seeded generator, and the seconds of a side drawn with replacement
//! within each phase, kept as how many times each second was drawn.

use super::Side;

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
pub(super) struct Weights {
    pub(super) counts: Vec<u32>,
    pub(super) drawn: Vec<(u32, u32)>,
}

impl Weights {
    /// Every second once.
    pub(super) fn all(seconds: usize) -> Weights {
        Weights {
            counts: vec![1; seconds],
            drawn: (0..seconds as u32).map(|i| (i, 1)).collect(),
        }
    }
}

/// A side's seconds grouped by phase, to draw resamples from.
pub(super) struct Resampler {
    seconds: usize,
    phases: Vec<Vec<u32>>,
}

impl Resampler {
    pub(super) fn new<T>(side: &Side<T>) -> Resampler {
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
    pub(super) fn draw(&self, rng: &mut SplitMix64, weights: &mut Weights) {
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
