//! The per-target recorder: the hot path every finished request goes through. It keeps whole-run
//! HdrHistograms (latency, service time, connect time, send lag; latency and service time also
//! split cold/warm) and the current one-second interval, which the per-second ticker takes.
//! A sample is recorded once: latency, service time, send lag and cold/warm latency go into the
//! interval only, and each interval is added to the whole-run histograms when it is taken.
//! Memory is fixed at creation: nothing grows with the length of the run.
//! Held requests (SSE, WebSocket) also add to [`HeldTotals`] and the held-open gauge.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use crate::model::{FailureCause, HeldEnd, HeldSample, Outcome, Sample};
use crate::resultset::hlog::{new_histogram, HIGHEST_US, LOWEST_US};

/// Records `d` in microseconds, clamped into the trackable range so nothing is dropped.
pub(crate) fn record_duration(histogram: &mut Histogram<u64>, d: Duration) {
    let us = (d.as_micros() as u64).clamp(LOWEST_US, HIGHEST_US);
    histogram.record(us).expect("value clamped into range");
}

/// Adds each right-hand histogram to its left-hand one (all share coldfront's bounds): how
/// intervals, workers' recorders and interval-to-total folds add without loss.
pub(crate) fn add_histograms<const N: usize>(pairs: [(&mut Histogram<u64>, &Histogram<u64>); N]) {
    for (sum, part) in pairs {
        if !part.is_empty() {
            sum.add(part).expect("same bounds");
        }
    }
}

/// A request sent later than this after its intended time is late.
pub(crate) const LATE_AFTER: Duration = Duration::from_millis(1);

/// Number of outcome kinds.
pub(crate) const OUTCOMES: usize = Outcome::ALL.len();

/// Whole-run distributions of one target.
#[derive(Debug, Clone)]
pub(crate) struct Distributions {
    pub latency: Histogram<u64>,
    pub service_time: Histogram<u64>,
    pub connect_time: Histogram<u64>,
    pub send_lag: Histogram<u64>,
    pub cold_latency: Histogram<u64>,
    pub warm_latency: Histogram<u64>,
    pub cold_service_time: Histogram<u64>,
    pub warm_service_time: Histogram<u64>,
    /// Latency with each request's send lag taken out: what the target itself took, had
    /// the generator been on time (all, cold, warm).
    pub latency_net: Histogram<u64>,
    pub cold_latency_net: Histogram<u64>,
    pub warm_latency_net: Histogram<u64>,
}

impl Distributions {
    pub(crate) fn new() -> Self {
        Distributions {
            latency: new_histogram(),
            service_time: new_histogram(),
            connect_time: new_histogram(),
            send_lag: new_histogram(),
            cold_latency: new_histogram(),
            warm_latency: new_histogram(),
            cold_service_time: new_histogram(),
            warm_service_time: new_histogram(),
            latency_net: new_histogram(),
            cold_latency_net: new_histogram(),
            warm_latency_net: new_histogram(),
        }
    }
}

/// Counts by outcome kind, indexed by [`Outcome::index`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts(pub [u64; OUTCOMES]);

impl OutcomeCounts {
    pub(crate) fn get(&self, outcome: Outcome) -> u64 {
        self.0[outcome.index()]
    }
    pub(crate) fn total(&self) -> u64 {
        self.0.iter().sum()
    }
    /// Everything that is not `ok`.
    pub(crate) fn errors(&self) -> u64 {
        self.total() - self.get(Outcome::Ok)
    }

    pub(crate) fn add(&mut self, other: &OutcomeCounts) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }
}

/// What happened during one interval (normally one second).
#[derive(Debug, Clone)]
pub struct Interval {
    /// Corrected latency of the requests that completed in the interval.
    pub latency: Histogram<u64>,
    /// Service time (from the actual send) of those requests that got a response.
    pub service_time: Histogram<u64>,
    /// Corrected latency split by the target's `x-coldfront-cold` header (empty when absent).
    pub cold_latency: Histogram<u64>,
    pub warm_latency: Histogram<u64>,
    pub outcomes: OutcomeCounts,
    pub cold_starts: u64,
    /// The generator's own delay in sending the requests that completed in the interval.
    pub send_lag: Histogram<u64>,
    /// Of those, the ones sent more than [`LATE_AFTER`] late.
    pub late: u64,
    /// Requests dispatched (intended send times reached) in the interval.
    pub sent: u64,
}

impl Interval {
    fn new() -> Self {
        Interval {
            latency: new_histogram(),
            service_time: new_histogram(),
            cold_latency: new_histogram(),
            warm_latency: new_histogram(),
            send_lag: new_histogram(),
            late: 0,
            outcomes: OutcomeCounts::default(),
            cold_starts: 0,
            sent: 0,
        }
    }

    fn reset(&mut self) {
        self.latency.reset();
        self.service_time.reset();
        self.cold_latency.reset();
        self.warm_latency.reset();
        self.send_lag.reset();
        self.late = 0;
        self.outcomes = OutcomeCounts::default();
        self.cold_starts = 0;
        self.sent = 0;
    }

    pub fn completed(&self) -> u64 {
        self.outcomes.total()
    }

    /// Adds another worker's interval of the same second: histograms and counts add without
    /// loss.
    pub(crate) fn add(&mut self, other: &Interval) {
        add_histograms([
            (&mut self.latency, &other.latency),
            (&mut self.service_time, &other.service_time),
            (&mut self.cold_latency, &other.cold_latency),
            (&mut self.warm_latency, &other.warm_latency),
            (&mut self.send_lag, &other.send_lag),
        ]);
        self.outcomes.add(&other.outcomes);
        self.late += other.late;
        self.cold_starts += other.cold_starts;
        self.sent += other.sent;
    }
}

/// Whole-run results of a target's held requests.
#[derive(Debug, Clone)]
pub(crate) struct HeldTotals {
    /// Counts by [`HeldEnd::index`].
    pub ends: [u64; HeldEnd::ALL.len()],
    /// Refusals by HTTP status.
    pub refused_by_status: BTreeMap<u16, u64>,
    pub messages: u64,
    pub messages_sent: u64,
    /// Most streams open at once.
    pub max_open: u64,
    /// From the intended send time to the first message (microseconds).
    pub time_to_first_message: Histogram<u64>,
    /// From each stream's opening to its end (microseconds).
    pub held_for: Histogram<u64>,
}

impl HeldTotals {
    pub(crate) fn new() -> Self {
        HeldTotals {
            ends: [0; HeldEnd::ALL.len()],
            refused_by_status: BTreeMap::new(),
            messages: 0,
            messages_sent: 0,
            max_open: 0,
            time_to_first_message: new_histogram(),
            held_for: new_histogram(),
        }
    }

    pub(crate) fn get(&self, end: HeldEnd) -> u64 {
        self.ends[end.index()]
    }

    fn record(&mut self, held: &HeldSample) {
        self.ends[held.end.index()] += 1;
        if let (HeldEnd::Refused, Some(status)) = (held.end, held.status) {
            *self.refused_by_status.entry(status).or_default() += 1;
        }
        self.messages += held.messages;
        self.messages_sent += held.messages_sent;
        if let Some(first) = held.time_to_first_message {
            record_duration(&mut self.time_to_first_message, first);
        }
        if let Some(held_for) = held.held_for {
            record_duration(&mut self.held_for, held_for);
        }
    }
}

struct State {
    totals: Distributions,
    outcomes: OutcomeCounts,
    /// Failures before a status, by cause (indexed by [`FailureCause::index`]).
    failures: [u64; FailureCause::ALL.len()],
    /// Requests sent more than [`LATE_AFTER`] late.
    late: u64,
    /// Of those, the ones that ended as client timeouts.
    late_timeouts: u64,
    cold_starts: u64,
    cold_known: bool,
    interval: Interval,
    /// `None` until a held request is expected or recorded.
    held: Option<HeldTotals>,
}

/// Thread-safe recorder of one target's samples.
pub struct Recorder {
    state: Mutex<State>,
    sent: AtomicU64,
    /// Requests sent, by the second of the run they belong to (slot = second % SLOTS), so a
    /// request due exactly at a second boundary counts in its own second whatever the ticker's
    /// wake-up jitter.
    sent_by_second: [AtomicU64; SENT_SLOTS],
    /// The first second the ticker has not taken yet: a request sent after its own second was
    /// taken (a late one) counts in this one, not in a slot read seconds later or never.
    open_second: AtomicU64,
    /// Held streams open now and the most at once, shared by the recorders of one target's
    /// workers so the most at once is exact across them.
    held_gauge: Arc<OpenGauge>,
    /// Nanoseconds the worker's loop spent in idle turns, waiting for a request due within
    /// microseconds (the open model's spin; see [`Recorder::record_idle_turn`]), since the
    /// ticker last took them.
    idle_turns_ns: AtomicU64,
}

/// A count of things open now and the most open at once.
#[derive(Debug, Default)]
struct OpenGauge {
    open: AtomicI64,
    max: AtomicI64,
}

const SENT_SLOTS: usize = 4;

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            state: Mutex::new(State {
                totals: Distributions::new(),
                outcomes: OutcomeCounts::default(),
                failures: [0; FailureCause::ALL.len()],
                late: 0,
                late_timeouts: 0,
                cold_starts: 0,
                cold_known: false,
                interval: Interval::new(),
                held: None,
            }),
            sent: AtomicU64::new(0),
            sent_by_second: Default::default(),
            open_second: AtomicU64::new(0),
            held_gauge: Arc::default(),
            idle_turns_ns: AtomicU64::new(0),
        }
    }

    /// A turn of the worker's loop that found nothing to do: the open model turns the loop
    /// (or, off the fast path, its dispatcher spins) rather than sleep when its next request
    /// is due within microseconds or with `--busy-poll`, which keeps the CPU busy without
    /// work. The CPU meter leaves these turns out of the generator's busy share.
    pub(crate) fn record_idle_turn(&self, turn: Duration) {
        self.idle_turns_ns
            .fetch_add(turn.as_nanos() as u64, Ordering::Relaxed);
    }

    /// The idle turns since the last call.
    pub(crate) fn take_idle_turns(&self) -> Duration {
        Duration::from_nanos(self.idle_turns_ns.swap(0, Ordering::Relaxed))
    }

    /// A recorder for a run with held requests: its totals have a held part even if none
    /// finishes.
    pub(crate) fn with_held_requests() -> Self {
        let recorder = Self::new();
        recorder.state.lock().held = Some(HeldTotals::new());
        recorder
    }

    /// Another recorder of the same target (a worker's own), with the same kind of totals and
    /// sharing this one's held-stream gauge.
    pub(crate) fn sibling(&self) -> Self {
        let sibling = Self::new();
        sibling.state.lock().held = self.state.lock().held.as_ref().map(|_| HeldTotals::new());
        Recorder {
            held_gauge: self.held_gauge.clone(),
            ..sibling
        }
    }

    /// Requests given up before they were sent because their deadline had passed: `count`
    /// client timeouts recorded at once (one histogram update each, not one per request), each
    /// with latency `timeout`; `late` says whether the generator's own delay lost them.
    pub(crate) fn record_expired(&self, count: u64, timeout: Duration, late: bool) {
        if count == 0 {
            return;
        }
        let us = (timeout.as_micros() as u64).clamp(LOWEST_US, HIGHEST_US);
        let mut state = self.state.lock();
        let state = &mut *state;
        let index = Outcome::ClientTimeout.index();
        state.outcomes.0[index] += count;
        state.interval.outcomes.0[index] += count;
        let _ = state.interval.latency.record_n(us, count);
        let lag = if late { us } else { LOWEST_US };
        let net = if late { LOWEST_US } else { us };
        let _ = state.totals.latency_net.record_n(net, count);
        let _ = state.interval.send_lag.record_n(lag, count);
        if late {
            state.late += count;
            state.late_timeouts += count;
            state.interval.late += count;
        }
    }

    /// A held request finished: its sample (counted like any request) and how it held.
    pub(crate) fn record_held(&self, sample: &Sample, held: &HeldSample) {
        let mut state = self.state.lock();
        record_sample(&mut state, sample);
        state.held.get_or_insert_with(HeldTotals::new).record(held);
    }

    /// A held stream opened (its 200 or 101 arrived).
    pub(crate) fn held_stream_opened(&self) {
        let now_open = self.held_gauge.open.fetch_add(1, Ordering::Relaxed) + 1;
        self.held_gauge.max.fetch_max(now_open, Ordering::Relaxed);
    }

    /// A held stream ended.
    pub(crate) fn held_stream_closed(&self) {
        self.held_gauge.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Held streams open now; `None` when this run has no held requests.
    pub(crate) fn held_open(&self) -> Option<u64> {
        let has_held = self.state.lock().held.is_some();
        has_held.then(|| self.held_gauge.open.load(Ordering::Relaxed).max(0) as u64)
    }

    /// A request was sent; `second` is the second of the run it is due in (0 = the first).
    pub fn record_sent(&self, second: u64) {
        self.record_sent_n(second, 1);
    }

    /// `count` requests due in `second` were dispatched (or given up) at once.
    pub(crate) fn record_sent_n(&self, second: u64, count: u64) {
        self.sent.fetch_add(count, Ordering::Relaxed);
        let second = second.max(self.open_second.load(Ordering::Acquire));
        self.sent_by_second[second as usize % SENT_SLOTS].fetch_add(count, Ordering::Relaxed);
    }

    /// A request finished.
    pub fn record(&self, sample: &Sample) {
        record_sample(&mut self.state.lock(), sample);
    }

    /// Swaps the current interval out into `into` (which is overwritten) and starts a new one;
    /// `second` is the second of the run the interval covers (0 = the first).
    pub fn take_interval(&self, second: u64, into: &mut Interval) {
        into.reset();
        {
            let mut state = self.state.lock();
            let state = &mut *state;
            fold_interval(&mut state.totals, &state.interval);
            std::mem::swap(&mut state.interval, into);
        }
        self.open_second.fetch_max(second + 1, Ordering::Release);
        into.sent = self.sent_by_second[second as usize % SENT_SLOTS].swap(0, Ordering::Relaxed);
    }

    /// An empty interval to pass to [`Recorder::take_interval`].
    pub fn empty_interval() -> Interval {
        Interval::new()
    }

    /// Whether any response so far carried `x-coldfront-cold`.
    pub(crate) fn reports_cold_starts(&self) -> bool {
        self.state.lock().cold_known
    }

    /// A copy of the whole-run state.
    pub(crate) fn totals(&self) -> Totals {
        let state = self.state.lock();
        let mut distributions = state.totals.clone();
        fold_interval(&mut distributions, &state.interval);
        Totals {
            distributions,
            outcomes: state.outcomes,
            failures: FailureCause::ALL
                .into_iter()
                .map(|cause| (cause, state.failures[cause.index()]))
                .filter(|&(_, n)| n > 0)
                .collect(),
            cold_starts: state.cold_known.then_some(state.cold_starts),
            late: state.late,
            late_timeouts: state.late_timeouts,
            sent: self.sent.load(Ordering::Relaxed),
            held: state.held.clone().map(|mut held| {
                held.max_open = self.held_gauge.max.load(Ordering::Relaxed).max(0) as u64;
                held
            }),
        }
    }
}

/// Adds an interval's histograms to the whole-run ones it shares with them (latency, service
/// time, send lag, cold and warm latency), so the hot path records each of those once, per
/// interval.
fn fold_interval(totals: &mut Distributions, interval: &Interval) {
    add_histograms([
        (&mut totals.latency, &interval.latency),
        (&mut totals.service_time, &interval.service_time),
        (&mut totals.cold_latency, &interval.cold_latency),
        (&mut totals.warm_latency, &interval.warm_latency),
        (&mut totals.send_lag, &interval.send_lag),
    ]);
}

/// Adds one finished request to the current interval and the whole-run totals that are not
/// folded in from intervals.
fn record_sample(state: &mut State, sample: &Sample) {
    if let Some(cause) = sample.failure {
        state.failures[cause.index()] += 1;
    }
    let totals = &mut state.totals;
    record_duration(&mut state.interval.send_lag, sample.send_lag);
    let net = sample.latency.saturating_sub(sample.send_lag);
    record_duration(&mut totals.latency_net, net);
    if sample.send_lag > LATE_AFTER {
        state.late += 1;
        state.interval.late += 1;
        if sample.outcome == Outcome::ClientTimeout {
            state.late_timeouts += 1;
        }
    }
    if let Some(service_time) = sample.service_time {
        record_duration(&mut state.interval.service_time, service_time);
    }
    if let Some(connect_time) = sample.connect_time {
        record_duration(&mut totals.connect_time, connect_time);
    }
    match sample.cold {
        Some(true) => {
            state.cold_known = true;
            state.cold_starts += 1;
            state.interval.cold_starts += 1;
            record_duration(&mut state.interval.cold_latency, sample.latency);
            record_duration(&mut totals.cold_latency_net, net);
            if let Some(service_time) = sample.service_time {
                record_duration(&mut totals.cold_service_time, service_time);
            }
        }
        Some(false) => {
            state.cold_known = true;
            record_duration(&mut state.interval.warm_latency, sample.latency);
            record_duration(&mut totals.warm_latency_net, net);
            if let Some(service_time) = sample.service_time {
                record_duration(&mut totals.warm_service_time, service_time);
            }
        }
        None => {}
    }
    state.outcomes.0[sample.outcome.index()] += 1;
    state.interval.outcomes.0[sample.outcome.index()] += 1;
    record_duration(&mut state.interval.latency, sample.latency);
}

/// Whole-run results of one target.
#[derive(Debug, Clone)]
pub(crate) struct Totals {
    pub distributions: Distributions,
    pub outcomes: OutcomeCounts,
    /// Failures before a status, by cause; only causes that occurred.
    pub failures: BTreeMap<FailureCause, u64>,
    /// `None` when no response carried `x-coldfront-cold`.
    pub cold_starts: Option<u64>,
    /// Requests sent more than [`LATE_AFTER`] late.
    pub late: u64,
    /// Of those, the ones that ended as client timeouts.
    pub late_timeouts: u64,
    pub sent: u64,
    /// `None` when the run has no held requests.
    pub held: Option<HeldTotals>,
}

#[cfg(test)]
mod tests;
