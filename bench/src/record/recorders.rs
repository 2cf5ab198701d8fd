//! One target's recorders, one per generator worker: each worker records into its own (nothing
//! shared on the per-request path), and the ticker and the summary read them as one. HdrHistograms
//! and counts add without loss, so N workers' intervals added together are what one recorder of
//! the same requests would hold.

use std::sync::Arc;
use std::time::Duration;

use super::recorder::{add_histograms, Distributions, HeldTotals, Interval, Recorder, Totals};

/// The recorders of one target's workers, read as one.
#[derive(Clone)]
pub struct Recorders {
    parts: Vec<Arc<Recorder>>,
}

impl Recorders {
    /// `count` recorders (at least one), each like `first` (with or without held totals), all
    /// sharing its held-stream gauge.
    pub(crate) fn new(first: Recorder, count: usize) -> Self {
        let mut parts = Vec::with_capacity(count.max(1));
        let siblings: Vec<Recorder> = (1..count).map(|_| first.sibling()).collect();
        parts.push(Arc::new(first));
        parts.extend(siblings.into_iter().map(Arc::new));
        Recorders { parts }
    }

    /// The recorder of worker `index`.
    pub(crate) fn part(&self, index: usize) -> &Arc<Recorder> {
        &self.parts[index]
    }

    /// Every worker's interval of `second`, added together into `into` (overwritten);
    /// `scratch` is reused for each part.
    pub(crate) fn take_interval(&self, second: u64, into: &mut Interval, scratch: &mut Interval) {
        let (first, rest) = self.parts.split_first().expect("at least one recorder");
        first.take_interval(second, into);
        for part in rest {
            part.take_interval(second, scratch);
            into.add(scratch);
        }
    }

    /// Every worker's idle turns of the loop since the last call (see
    /// [`Recorder::record_idle_turn`]).
    pub(crate) fn take_idle_turns(&self) -> Duration {
        self.parts.iter().map(|p| p.take_idle_turns()).sum()
    }

    /// Whether any response so far carried `x-coldfront-cold`.
    pub(crate) fn reports_cold_starts(&self) -> bool {
        self.parts.iter().any(|p| p.reports_cold_starts())
    }

    /// Held streams open now; `None` when this run has no held requests.
    pub(crate) fn held_open(&self) -> Option<u64> {
        // The gauge is shared: any part reads the whole.
        self.parts[0].held_open()
    }

    /// The whole run's totals of every worker, added together.
    pub(crate) fn totals(&self) -> Totals {
        let mut parts = self.parts.iter().map(|p| p.totals());
        let mut totals = parts.next().expect("at least one recorder");
        for part in parts {
            totals.add(&part);
        }
        totals
    }
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.distributions.add(&other.distributions);
        self.outcomes.add(&other.outcomes);
        for (cause, n) in &other.failures {
            *self.failures.entry(*cause).or_default() += n;
        }
        self.cold_starts = match (self.cold_starts, other.cold_starts) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.late += other.late;
        self.late_timeouts += other.late_timeouts;
        self.sent += other.sent;
        if let (Some(mine), Some(theirs)) = (&mut self.held, &other.held) {
            mine.add(theirs);
        }
    }
}

impl Distributions {
    fn add(&mut self, other: &Distributions) {
        add_histograms([
            (&mut self.latency, &other.latency),
            (&mut self.service_time, &other.service_time),
            (&mut self.connect_time, &other.connect_time),
            (&mut self.send_lag, &other.send_lag),
            (&mut self.cold_latency, &other.cold_latency),
            (&mut self.warm_latency, &other.warm_latency),
            (&mut self.cold_service_time, &other.cold_service_time),
            (&mut self.warm_service_time, &other.warm_service_time),
            (&mut self.latency_net, &other.latency_net),
            (&mut self.cold_latency_net, &other.cold_latency_net),
            (&mut self.warm_latency_net, &other.warm_latency_net),
        ]);
    }
}

impl HeldTotals {
    /// Adds another worker's held totals; `max_open` is the shared gauge's, the same in both.
    fn add(&mut self, other: &HeldTotals) {
        for (mine, theirs) in self.ends.iter_mut().zip(other.ends) {
            *mine += theirs;
        }
        for (status, n) in &other.refused_by_status {
            *self.refused_by_status.entry(*status).or_default() += n;
        }
        self.messages += other.messages;
        self.messages_sent += other.messages_sent;
        self.max_open = self.max_open.max(other.max_open);
        add_histograms([
            (
                &mut self.time_to_first_message,
                &other.time_to_first_message,
            ),
            (&mut self.held_for, &other.held_for),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{Outcome, Sample};

    fn sample(latency_us: u64, cold: Option<bool>) -> Sample {
        Sample {
            outcome: Outcome::Ok,
            latency: Duration::from_micros(latency_us),
            service_time: Some(Duration::from_micros(latency_us / 2)),
            connect_time: None,
            send_lag: Duration::from_micros(latency_us / 4),
            cold,
            request_index: 0,
            failure: None,
        }
    }

    /// Samples dealt out to three workers' recorders read back exactly as one recorder that
    /// saw them all: per second and over the run.
    #[test]
    fn workers_recorders_add_up_to_one_recorder_of_the_same_requests() {
        let one = Recorder::new();
        let set = Recorders::new(Recorder::new(), 3);
        for i in 0..3000u64 {
            let s = sample(100 + i * 37 % 5000, (i % 7 == 0).then_some(i % 2 == 0));
            one.record(&s);
            one.record_sent(0);
            set.part((i % 3) as usize).record(&s);
            set.part((i % 3) as usize).record_sent(0);
        }
        set.part(1).record_expired(5, Duration::from_secs(2), true);
        one.record_expired(5, Duration::from_secs(2), true);
        let (mut a, mut b, mut scratch) = (
            Recorder::empty_interval(),
            Recorder::empty_interval(),
            Recorder::empty_interval(),
        );
        one.take_interval(0, &mut a);
        set.take_interval(0, &mut b, &mut scratch);
        assert_eq!(a.latency, b.latency);
        assert_eq!(a.send_lag, b.send_lag);
        assert_eq!(a.cold_latency, b.cold_latency);
        assert_eq!((a.outcomes, a.sent, a.late), (b.outcomes, b.sent, b.late));
        assert_eq!(b.outcomes.get(Outcome::ClientTimeout), 5);
        let (ta, tb) = (one.totals(), set.totals());
        assert_eq!(ta.distributions.latency, tb.distributions.latency);
        assert_eq!(ta.distributions.service_time, tb.distributions.service_time);
        assert_eq!(ta.outcomes, tb.outcomes);
        assert_eq!(
            (ta.cold_starts, ta.late, ta.sent),
            (tb.cold_starts, tb.late, tb.sent)
        );
    }

    #[test]
    fn held_streams_open_at_once_are_counted_across_workers() {
        let set = Recorders::new(Recorder::with_held_requests(), 2);
        set.part(0).held_stream_opened();
        set.part(1).held_stream_opened();
        set.part(1).held_stream_opened();
        assert_eq!(set.held_open(), Some(3));
        set.part(0).held_stream_closed();
        assert_eq!(set.totals().held.unwrap().max_open, 3);
        assert_eq!(Recorders::new(Recorder::new(), 2).held_open(), None);
    }
}
