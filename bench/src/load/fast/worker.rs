//! One request on the fast path: a worker's requests as bytes and its pool, the exchange with
//! its one retry on a stale connection, the sample it records, and a lane's deadline timer.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::pool::Pool;
use crate::load::http1::{ExchangeError, RequestBytes, ResponseHead};
use crate::load::LoadContext;
use crate::model::{ConnectionPolicy, FailureCause, Outcome, Sample};

/// What a lane needs: the worker's context, its requests as bytes, its pool.
pub(super) struct Worker {
    pub(super) ctx: Arc<LoadContext>,
    pub(super) requests: Vec<RequestBytes>,
    pub(super) pool: Pool,
    pub(super) start: Instant,
    /// The fastest answer lately: how much time a request needs left to be worth sending.
    pub(super) fastest: FastestAnswer,
}

/// The shortest service time (send to answer) of the requests answered in the latest second
/// that had any, or in this one so far: once a request has less time left than even that,
/// sending it could only cost a connection.
pub(super) struct FastestAnswer {
    window_start: Cell<Instant>,
    this_window: Cell<Option<Duration>>,
    last_window: Cell<Option<Duration>>,
}

impl FastestAnswer {
    const WINDOW: Duration = Duration::from_secs(1);

    fn new(now: Instant) -> Self {
        FastestAnswer {
            window_start: Cell::new(now),
            this_window: Cell::new(None),
            last_window: Cell::new(None),
        }
    }

    /// A request was answered `took` after it was sent, at `now`.
    pub(super) fn record(&self, took: Duration, now: Instant) {
        self.roll(now);
        let fastest = self.this_window.get().map_or(took, |f| f.min(took));
        self.this_window.set(Some(fastest));
    }

    /// The fastest answer of this window and the last that had any; `None` before any.
    pub(super) fn get(&self, now: Instant) -> Option<Duration> {
        self.roll(now);
        match (self.this_window.get(), self.last_window.get()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn roll(&self, now: Instant) {
        if now.saturating_duration_since(self.window_start.get()) >= Self::WINDOW {
            if let Some(fastest) = self.this_window.take() {
                self.last_window.set(Some(fastest));
            }
            self.window_start.set(now);
        }
    }
}

impl Worker {
    pub(super) fn new(ctx: Arc<LoadContext>, start: Instant) -> Rc<Self> {
        let keep_alive = ctx.client.policy() == ConnectionPolicy::KeepAlive;
        let requests = ctx
            .requests
            .iter()
            .map(|r| r.request_bytes(!keep_alive))
            .collect();
        let pool = Pool::new(&ctx.client, keep_alive);
        Rc::new(Worker {
            ctx,
            requests,
            pool,
            start,
            fastest: FastestAnswer::new(start),
        })
    }

    /// Sends request `seq` intended at `intended_at`, gives up at its deadline, records it.
    pub(super) async fn send(
        &self,
        seq: u64,
        intended_at: Instant,
        send_lag: Duration,
        alarm: &mut Alarm,
    ) {
        let deadline = intended_at + self.ctx.timeout;
        let request_index = self.ctx.mix.pick(seq);
        let request = &self.requests[request_index];
        let mut sample = Sample {
            outcome: Outcome::ClientTimeout,
            latency: Duration::ZERO,
            service_time: None,
            connect_time: None,
            send_lag,
            cold: None,
            request_index,
            failure: None,
        };
        let mut sent_at = None;
        let exchanged = alarm
            .within(
                deadline,
                self.exchange((request, seq), &mut sample, &mut sent_at),
            )
            .await;
        let done_at = Instant::now();
        match exchanged {
            Some(Ok(head)) => {
                sample.outcome = Outcome::from_status(head.status);
                sample.cold = head.cold;
                if let Some(sent_at) = sent_at {
                    self.fastest.record(done_at - sent_at, done_at);
                }
            }
            Some(Err(failure)) => {
                sample.outcome = failure.outcome;
                sample.failure = failure.cause;
            }
            None => sample.outcome = Outcome::ClientTimeout,
        }
        sample.latency = done_at.saturating_duration_since(intended_at);
        sample.service_time = sent_at.map(|sent: Instant| done_at.saturating_duration_since(sent));
        self.ctx.recorder.record(&sample);
    }

    /// One exchange of request number `seq` on a pooled connection, retried once on a new
    /// connection when a reused one turns out closed before any answer and the request may be
    /// repeated.
    pub(super) async fn exchange(
        &self,
        (request, seq): (&RequestBytes, u64),
        sample: &mut Sample,
        sent_at: &mut Option<Instant>,
    ) -> Result<ResponseHead, Failed> {
        let mut retried = false;
        loop {
            // A retry takes a new connection: other idle ones may be as stale as the last.
            let checkout = if retried {
                self.pool.connect_when_free().await
            } else {
                self.pool.checkout().await
            };
            let (mut connection, connect_time) = checkout.map_err(|f| Failed {
                outcome: f.outcome(),
                cause: f.cause(),
            })?;
            if connect_time.is_some() {
                sample.connect_time = connect_time;
            }
            *sent_at = Some(Instant::now());
            // Dropped here if the deadline passes: the connection is then not reused.
            let result = connection.http.exchange(request, seq).await;
            match result {
                Ok(head) => {
                    let reusable = head.keep_alive && connection.http.reusable();
                    self.pool.give_back(connection, reusable);
                    return Ok(head);
                }
                Err(ExchangeError::ClosedBeforeResponse(_))
                    if connection.used && !retried && request.is_idempotent() =>
                {
                    self.pool.stats.stale.fetch_add(1, Ordering::Relaxed);
                    self.pool.give_back(connection, false);
                    retried = true;
                }
                Err(error) => {
                    self.pool.give_back(connection, false);
                    return Err(Failed {
                        outcome: Outcome::IoError,
                        cause: Some(error.cause()),
                    });
                }
            }
        }
    }
}

/// How a request failed before an HTTP status.
pub(super) struct Failed {
    pub(super) outcome: Outcome,
    pub(super) cause: Option<FailureCause>,
}

/// A lane's one timer for its requests' deadlines, re-armed only when it fires early.
pub(super) struct Alarm {
    pub(super) sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Alarm {
    pub(super) fn new() -> Self {
        Alarm {
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
        }
    }

    /// `work`'s result, or `None` when `deadline` passes first (`work` is then dropped).
    pub(super) async fn within<T>(
        &mut self,
        deadline: Instant,
        work: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        tokio::pin!(work);
        let deadline_at = tokio::time::Instant::from(deadline);
        if self.sleep.deadline() > deadline_at {
            self.sleep.as_mut().reset(deadline_at);
        }
        loop {
            tokio::select! {
                biased;
                done = &mut work => return Some(done),
                () = &mut self.sleep => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    // Fired for an earlier request's deadline: wait for this one's.
                    self.sleep.as_mut().reset(deadline_at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::open::too_late_to_send;
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_fastest_answer_is_kept_through_a_second_without_any() {
        let start = Instant::now();
        let fastest = FastestAnswer::new(start);
        assert_eq!(fastest.get(start), None);
        fastest.record(100 * MS, start + 10 * MS);
        fastest.record(120 * MS, start + 20 * MS);
        assert_eq!(fastest.get(start + 30 * MS), Some(100 * MS));
        // Seconds with no answer at all (every request timed out) keep the last one known.
        assert_eq!(fastest.get(start + 3_000 * MS), Some(100 * MS));
        // A faster target is believed at once; a slower one once its second has passed.
        fastest.record(2 * MS, start + 3_100 * MS);
        assert_eq!(fastest.get(start + 3_100 * MS), Some(2 * MS));
        fastest.record(50 * MS, start + 4_200 * MS);
        assert_eq!(fastest.get(start + 4_200 * MS), Some(2 * MS));
        assert_eq!(fastest.get(start + 5_300 * MS), Some(50 * MS));
    }

    #[test]
    fn a_request_needs_at_least_the_fastest_answer_and_a_millisecond_left() {
        let second = 1_000 * MS;
        assert_eq!(too_late_to_send(second, None), MS);
        assert_eq!(too_late_to_send(second, Some(MS / 10)), MS);
        assert_eq!(too_late_to_send(second, Some(100 * MS)), 100 * MS);
        assert_eq!(
            too_late_to_send(5 * MS, None),
            MS / 2,
            "a tenth of a short timeout"
        );
    }
}
