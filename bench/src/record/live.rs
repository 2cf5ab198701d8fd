//! Live metrics of a run (`--metrics-addr`): the per-second ticker adds each interval it takes
//! to its target's running totals and publishes them on a [`LiveBoard`], which the metrics
//! endpoint reads on a scrape. Nothing here is on the per-request path.
//!
//! The board holds the targets of the scenario running now, in the order they ran: the one
//! under load (as of its last tick) and the finished ones' final values. Latency is corrected
//! latency, counted into the fixed bounds [`BOUNDS_US`].

use std::sync::Arc;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use super::connections::ConnectionStats;
use super::gauges::TargetGauges;
use super::recorder::{Interval, OutcomeCounts};
use super::recorders::Recorders;

/// Upper bounds (`le`) of the latency buckets, in microseconds: a 1-2.5-5 series from 10 µs
/// to the largest below the HdrHistogram's highest trackable value (one hour; every sample is
/// clamped into its range, so the `+Inf` bucket holds nothing beyond it).
pub(crate) const BOUNDS_US: [u64; 26] = [
    10,
    25,
    50,
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
];

/// Corrected latency counted into [`BOUNDS_US`]. A HdrHistogram bin counts at or below a
/// bound when the bin's lowest value is (what HdrHistogram's own `count_between(0, bound)`
/// counts), so a bucket is exact to the histogram's precision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LatencyBuckets {
    /// Samples per bucket (not cumulative); the last is above every bound.
    per_bucket: [u64; BOUNDS_US.len() + 1],
    /// Sum of the samples' values (each bin's median value), in microseconds.
    sum_us: f64,
}

impl Default for LatencyBuckets {
    fn default() -> Self {
        LatencyBuckets {
            per_bucket: [0; BOUNDS_US.len() + 1],
            sum_us: 0.0,
        }
    }
}

impl LatencyBuckets {
    /// Adds every sample of `histogram` (microseconds).
    pub(crate) fn add(&mut self, histogram: &Histogram<u64>) {
        for bin in histogram.iter_recorded() {
            let value = bin.value_iterated_to();
            let count = bin.count_at_value();
            let lowest = histogram.lowest_equivalent(value);
            let bucket = BOUNDS_US.partition_point(|&bound| bound < lowest);
            self.per_bucket[bucket] += count;
            self.sum_us += histogram.median_equivalent(value) as f64 * count as f64;
        }
    }

    /// Cumulative counts: for each bound (`None` for `+Inf`), the samples at or below it.
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (Option<u64>, u64)> + '_ {
        let bounds = BOUNDS_US.iter().map(|&b| Some(b)).chain([None]);
        bounds.zip(&self.per_bucket).scan(0, |sum, (bound, &n)| {
            *sum += n;
            Some((bound, *sum))
        })
    }

    pub(crate) fn count(&self) -> u64 {
        self.per_bucket.iter().sum()
    }

    pub(crate) fn sum_seconds(&self) -> f64 {
        self.sum_us / 1e6
    }
}

/// One target's live values.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TargetSnapshot {
    /// Requests finished, by outcome.
    pub outcomes: OutcomeCounts,
    /// Requests sent and not finished.
    pub in_flight: u64,
    pub connections_open: u64,
    pub connections_opened: u64,
    /// `None` until a response carries `x-coldfront-cold`.
    pub cold_starts: Option<u64>,
    /// The latest reading; `None` until one was taken.
    pub db_connections: Option<u64>,
    pub latency: LatencyBuckets,
}

/// What the metrics endpoint serves: the current scenario's targets, in the order they ran.
#[derive(Debug, Default)]
pub(crate) struct LiveBoard {
    targets: Mutex<Vec<(String, TargetSnapshot)>>,
}

impl LiveBoard {
    /// A new scenario starts: the previous one's targets leave the board.
    pub(crate) fn begin_scenario(&self) {
        self.targets.lock().clear();
    }

    fn publish(&self, name: &str, snapshot: &TargetSnapshot) {
        let mut targets = self.targets.lock();
        match targets.iter_mut().find(|(n, _)| n == name) {
            Some((_, current)) => current.clone_from(snapshot),
            None => targets.push((name.to_string(), snapshot.clone())),
        }
    }

    /// A copy of every target's values.
    pub(crate) fn read(&self) -> Vec<(String, TargetSnapshot)> {
        self.targets.lock().clone()
    }
}

/// The running totals of the target under load, which the ticker adds each interval to.
pub(crate) struct LiveTarget {
    name: String,
    board: Arc<LiveBoard>,
    recorders: Recorders,
    connections: Arc<ConnectionStats>,
    gauges: Arc<TargetGauges>,
    sent: u64,
    totals: TargetSnapshot,
}

impl LiveTarget {
    /// Puts target `name` on `board`, all zeros until its first interval.
    pub(crate) fn start(
        board: Arc<LiveBoard>,
        name: &str,
        recorders: &Recorders,
        connections: &Arc<ConnectionStats>,
        gauges: &Arc<TargetGauges>,
    ) -> Self {
        let live = LiveTarget {
            name: name.to_string(),
            board,
            recorders: recorders.clone(),
            connections: connections.clone(),
            gauges: gauges.clone(),
            sent: 0,
            totals: TargetSnapshot::default(),
        };
        live.board.publish(&live.name, &live.totals);
        live
    }

    /// Adds an interval the ticker took, reads the gauges, and publishes the new totals.
    pub(crate) fn add_interval(&mut self, interval: &Interval) {
        let totals = &mut self.totals;
        totals.outcomes.add(&interval.outcomes);
        totals.latency.add(&interval.latency);
        self.sent += interval.sent;
        totals.in_flight = self.sent.saturating_sub(totals.outcomes.total());
        let connections = self.connections.snapshot();
        totals.connections_open = connections.open;
        totals.connections_opened = connections.opened;
        if self.recorders.reports_cold_starts() {
            *totals.cold_starts.get_or_insert(0) += interval.cold_starts;
        }
        if let Some(db) = self.gauges.db_connections.latest() {
            totals.db_connections = Some(db);
        }
        self.board.publish(&self.name, &self.totals);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Outcome, Sample};
    use crate::record::recorder::Recorder;
    use crate::resultset::hlog::{new_histogram, HIGHEST_US, LOWEST_US};
    use std::time::Duration;

    #[test]
    fn bounds_are_a_1_2_5_series_inside_the_histograms_range() {
        assert!(BOUNDS_US[0] >= LOWEST_US);
        assert!(*BOUNDS_US.last().unwrap() <= HIGHEST_US);
        assert!(*BOUNDS_US.last().unwrap() * 2 > HIGHEST_US, "none left out");
        for pair in BOUNDS_US.windows(2) {
            let ratio = pair[1] as f64 / pair[0] as f64;
            assert!(ratio == 2.5 || ratio == 2.0, "{pair:?}");
        }
    }

    /// Buckets are what HdrHistogram itself counts at or below each bound, over values below
    /// and above the histogram's exact range, added over several intervals.
    #[test]
    fn buckets_match_hdrhistograms_count_between() {
        let mut whole = new_histogram();
        let mut buckets = LatencyBuckets::default();
        for part in 0..3u64 {
            let mut interval = new_histogram();
            for i in 0..2000u64 {
                let us = 1 + (i * i * 7919 + part * 104_729) % 40_000_000;
                interval.record(us).unwrap();
            }
            interval.record(10).unwrap();
            interval.record(HIGHEST_US).unwrap();
            whole.add(&interval).unwrap();
            buckets.add(&interval);
        }
        for (bound, cumulative) in buckets.cumulative() {
            let expected = match bound {
                Some(bound) => whole.count_between(0, bound),
                None => whole.len(),
            };
            assert_eq!(cumulative, expected, "le {bound:?}");
        }
        assert_eq!(buckets.count(), whole.len());
        let sum_s = buckets.sum_seconds();
        let mean_s = whole.mean() * whole.len() as f64 / 1e6;
        assert!(
            (sum_s - mean_s).abs() < 1e-6 * mean_s,
            "{sum_s} vs {mean_s}"
        );
    }

    #[test]
    fn exact_values_fall_in_their_own_bucket() {
        let mut histogram = new_histogram();
        for us in [5, 10, 11, 30, 2000] {
            histogram.record(us).unwrap();
        }
        let mut buckets = LatencyBuckets::default();
        buckets.add(&histogram);
        let cumulative: Vec<(Option<u64>, u64)> = buckets.cumulative().take(5).collect();
        assert_eq!(
            cumulative,
            [
                (Some(10), 2),
                (Some(25), 3),
                (Some(50), 4),
                (Some(100), 4),
                (Some(250), 4)
            ]
        );
        assert_eq!(buckets.cumulative().last(), Some((None, 5)));
        assert_eq!(buckets.sum_seconds(), 0.002056);
    }

    fn ok_sample(latency_us: u64, cold: Option<bool>) -> Sample {
        Sample {
            outcome: Outcome::Ok,
            latency: Duration::from_micros(latency_us),
            service_time: None,
            connect_time: None,
            send_lag: Duration::ZERO,
            cold,
            request_index: 0,
            failure: None,
        }
    }

    /// The board shows a target from its start (zeros), then its running totals after each
    /// interval: in flight is sent less finished; cold starts stay unknown until reported.
    #[test]
    fn intervals_add_up_on_the_board() {
        let board = Arc::new(LiveBoard::default());
        let recorders = Recorders::new(Recorder::new(), 2);
        let connections = Arc::new(ConnectionStats::default());
        let gauges = Arc::new(TargetGauges::default());
        let mut live = LiveTarget::start(board.clone(), "t", &recorders, &connections, &gauges);
        assert_eq!(board.read(), [("t".to_string(), TargetSnapshot::default())]);
        let (mut interval, mut scratch) = (Recorder::empty_interval(), Recorder::empty_interval());
        for second in 0..2 {
            for i in 0..5 {
                recorders.part(i % 2).record_sent(second);
            }
            for _ in 0..4 {
                recorders.part(1).record(&ok_sample(100, None));
            }
            connections.on_open();
            recorders.take_interval(second, &mut interval, &mut scratch);
            live.add_interval(&interval);
        }
        let (name, snapshot) = &board.read()[0];
        assert_eq!(name, "t");
        assert_eq!(snapshot.outcomes.get(Outcome::Ok), 8);
        assert_eq!(snapshot.in_flight, 2);
        assert_eq!(
            (snapshot.connections_open, snapshot.connections_opened),
            (2, 2)
        );
        assert_eq!(
            (snapshot.cold_starts, snapshot.db_connections),
            (None, None)
        );
        assert_eq!(snapshot.latency.count(), 8);
        recorders.part(0).record(&ok_sample(100, Some(true)));
        gauges.db_connections.observe(3);
        recorders.take_interval(2, &mut interval, &mut scratch);
        live.add_interval(&interval);
        let snapshot = &board.read()[0].1;
        assert_eq!(
            (snapshot.cold_starts, snapshot.db_connections),
            (Some(1), Some(3))
        );
        assert_eq!(snapshot.in_flight, 1);
        board.begin_scenario();
        assert!(board.read().is_empty());
    }
}
