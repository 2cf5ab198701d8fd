//! The request mix: which request template the n-th request uses. Stateless (a hash of the
//! seed and the sequence number), so every target sees the identical sequence whatever the
//! timing, and closed-model workers need no shared generator.

use crate::rng::mix64;

#[derive(Debug, Clone)]
pub struct RequestMix {
    /// Cumulative weights; the last is the total.
    cumulative: Vec<u64>,
    seed: u64,
}

impl RequestMix {
    /// `weights` must be non-empty, each > 0 (the scenario parser guarantees it).
    pub fn new(weights: impl IntoIterator<Item = u32>, seed: u64) -> Self {
        let mut total = 0u64;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += u64::from(w);
                total
            })
            .collect();
        RequestMix { cumulative, seed }
    }

    /// Index of the template for request number `seq`.
    pub fn pick(&self, seq: u64) -> usize {
        let total = *self.cumulative.last().expect("non-empty mix");
        if self.cumulative.len() == 1 {
            return 0;
        }
        let draw = mix64(self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seq) % total;
        self.cumulative.partition_point(|&c| c <= draw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_respected() {
        let mix = RequestMix::new([8, 1, 1], 42);
        let mut counts = [0usize; 3];
        for seq in 0..100_000 {
            counts[mix.pick(seq)] += 1;
        }
        assert!(
            (counts[0] as f64 / 100_000.0 - 0.8).abs() < 0.01,
            "{counts:?}"
        );
        assert!(
            (counts[1] as f64 / 100_000.0 - 0.1).abs() < 0.01,
            "{counts:?}"
        );
    }

    #[test]
    fn same_seed_same_sequence_other_seed_other_sequence() {
        let a = RequestMix::new([1, 1], 1);
        let b = RequestMix::new([1, 1], 1);
        let c = RequestMix::new([1, 1], 2);
        let seq_a: Vec<_> = (0..64).map(|s| a.pick(s)).collect();
        let seq_b: Vec<_> = (0..64).map(|s| b.pick(s)).collect();
        let seq_c: Vec<_> = (0..64).map(|s| c.pick(s)).collect();
        assert_eq!(seq_a, seq_b);
        assert_ne!(seq_a, seq_c);
    }
}
