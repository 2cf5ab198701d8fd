//! One request on the fast path: a worker's requests as bytes and its pool, the exchange with
//! its one retry on a stale connection, the sample it records, and a lane's deadline timer.

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
