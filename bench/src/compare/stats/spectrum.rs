//! Quantiles of weighted sums of per-second histograms without merging them: each second as
//! a sparse list over one shared index of values, with cumulative counts at block boundaries.

use hdrhistogram::Histogram;

use super::resample::Weights;

/// Each second's recorded values and their counts, ascending (an HdrHistogram bucket's
/// highest equivalent value, as `value_at_quantile` reports).
pub(super) fn recorded(seconds: &[&Histogram<u64>]) -> Vec<Vec<(u64, u64)>> {
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
pub(super) struct ValueIndex {
    values: Vec<u64>,
    block_size: usize,
    blocks: usize,
}

/// Most blocks per index: a quantile costs a binary search over blocks (one dot product over
/// the seconds per probe) and a walk through one block's entries.
const MAX_BLOCKS: usize = 512;

impl ValueIndex {
    /// From ascending per-second lists, merged one by one (the distinct values are few).
    pub(super) fn new<'r>(seconds: impl Iterator<Item = &'r Vec<(u64, u64)>>) -> ValueIndex {
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
pub(super) struct Spectrum {
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
    pub(super) fn new(index: &ValueIndex, recorded: &[Vec<(u64, u64)>]) -> Spectrum {
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

    /// Seconds with at least one value.
    pub(super) fn informative(&self) -> usize {
        // The last boundary's row holds each second's total.
        let totals = &self.below[self.below.len() - self.seconds..];
        totals.iter().filter(|&&t| t > 0).count()
    }

    /// The quantiles of the seconds merged with `weights`, by HdrHistogram's rule: the value
    /// at which the cumulative count first reaches ⌈q × total⌉ (at least 1).
    pub(super) fn quantiles(
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
pub(super) struct Scratch {
    counts: Vec<u64>,
}

impl Scratch {
    pub(super) fn new(index: &ValueIndex) -> Scratch {
        Scratch {
            counts: vec![0; index.block_size],
        }
    }
}
