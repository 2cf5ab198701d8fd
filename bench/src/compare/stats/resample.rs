//! Drawing resamples: a seeded generator, and the seconds of a side drawn with replacement
//! within each phase, kept as how many times each second was drawn.

use super::Side;
use crate::rng::SplitMix64;

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
