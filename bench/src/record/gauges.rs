//! Gauges sampled beside the load (instances alive, database connections): the sampler stores
//! readings, the per-second ticker takes the highest reading of each second, the summary
//! keeps the highest of the run, and the live metrics show the latest. A gauge never read stays
//! unknown (empty), not zero.

use std::sync::atomic::{AtomicU64, Ordering};

const UNKNOWN: u64 = u64::MAX;

/// The highest reading since the last take, and of all time; and the latest.
#[derive(Debug)]
pub(crate) struct MaxGauge {
    since_take: AtomicU64,
    overall: AtomicU64,
    latest: AtomicU64,
}

impl Default for MaxGauge {
    fn default() -> Self {
        MaxGauge {
            since_take: AtomicU64::new(UNKNOWN),
            overall: AtomicU64::new(UNKNOWN),
            latest: AtomicU64::new(UNKNOWN),
        }
    }
}

impl MaxGauge {
    pub(crate) fn observe(&self, value: u64) {
        let value = value.min(UNKNOWN - 1);
        self.latest.store(value, Ordering::Relaxed);
        for cell in [&self.since_take, &self.overall] {
            let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |current| {
                (current == UNKNOWN || value > current).then_some(value)
            });
        }
    }

    /// The highest reading since the previous take (`None` if there was none).
    pub(crate) fn take(&self) -> Option<u64> {
        known(self.since_take.swap(UNKNOWN, Ordering::Relaxed))
    }

    pub(crate) fn overall(&self) -> Option<u64> {
        known(self.overall.load(Ordering::Relaxed))
    }

    /// The last reading (`None` if there was none).
    pub(crate) fn latest(&self) -> Option<u64> {
        known(self.latest.load(Ordering::Relaxed))
    }
}

fn known(value: u64) -> Option<u64> {
    (value != UNKNOWN).then_some(value)
}

/// The gauges of one target's run.
#[derive(Debug, Default)]
pub(crate) struct TargetGauges {
    /// Serverless instances alive.
    pub instances: MaxGauge,
    /// Database connections open by the target's role.
    pub db_connections: MaxGauge,
    /// The database server's `max_connections`, read once when the sampler connects.
    pub db_max_connections: std::sync::OnceLock<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_until_observed_then_max_per_take() {
        let gauge = MaxGauge::default();
        assert_eq!(gauge.take(), None);
        gauge.observe(3);
        gauge.observe(7);
        gauge.observe(5);
        assert_eq!(gauge.take(), Some(7));
        assert_eq!(gauge.take(), None);
        gauge.observe(0);
        assert_eq!(gauge.take(), Some(0));
        assert_eq!(gauge.overall(), Some(7));
        assert_eq!(gauge.latest(), Some(0));
    }
}
