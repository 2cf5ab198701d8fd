//! The load generator: turns a [`LoadPlan`] into requests on the wire and one [`Sample`] per
//! request, under one of two models that share everything else (client, mix, recorder).
//! It runs as one worker per generator CPU ([`workers`]), each sending its [`Segment`] of the
//! schedule.
//!
//! - Open model ([`open`]): a dispatcher thread releases each request at its intended send
//!   time from the [`schedule`]; latency counts from that time, so a slow target cannot slow
//!   the load down (no coordinated omission).
//! - Closed model ([`closed`]): `concurrency` workers per phase, each sending, waiting and
//!   thinking in turn; latency counts from the actual start of each request.
//!
//! A request of a held kind (`kind = "sse" | "websocket"`, [`held`]) is scheduled like any
//! other but keeps its own connection for up to its hold; in the closed model it occupies its
//! worker for that long.

pub mod client;
mod closed;
mod fast;
mod held;
pub(crate) mod http1;
pub(crate) mod mix;
mod open;
mod request;
pub mod schedule;
mod timer;
pub(crate) mod tls;
pub(crate) mod workers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

pub use client::{Client, Failure};
pub use mix::RequestMix;
pub use request::{Endpoint, PreparedRequest};
pub use schedule::Segment;

use crate::model::{LoadModel, Sample};
use crate::record::Recorder;
use crate::scenario::LoadPlan;

/// Everything a request needs, shared by all requests of one target's run.
pub(crate) struct LoadContext {
    pub client: Client,
    pub requests: Vec<PreparedRequest>,
    pub mix: RequestMix,
    pub recorder: Arc<Recorder>,
    pub timeout: Duration,
    pub cancel: CancellationToken,
    /// The open model never sleeps between requests (`--busy-poll`): it turns its loop until
    /// the next is due, so no wake-up from idle delays a send.
    pub busy_poll: bool,
}

/// How long in-flight requests may still finish after an interruption.
pub(crate) const INTERRUPT_GRACE: Duration = Duration::from_millis(800);

impl LoadContext {
    /// Sends request `seq` (open model: intended at `intended_at`; closed: now) and records it.
    async fn send_and_record(&self, seq: u64, intended_at: Instant, deadline: Instant) {
        let request_index = self.mix.pick(seq);
        let request = &self.requests[request_index];
        if let Some(held) = request.wire().held() {
            let which = (request_index, seq);
            return held::send_and_record(self, which, *held, intended_at, deadline).await;
        }
        let request = request.for_seq(seq);
        let exchange = self.client.execute(&request, deadline).await;
        let sample = Sample {
            outcome: exchange.outcome,
            latency: exchange.done_at.saturating_duration_since(intended_at),
            service_time: exchange
                .sent_at
                .map(|sent| exchange.done_at.saturating_duration_since(sent)),
            connect_time: exchange.connect_time,
            send_lag: exchange.began_at.saturating_duration_since(intended_at),
            cold: exchange.cold,
            request_index,
            failure: exchange.failure.as_ref().and_then(Failure::cause),
        };
        self.recorder.record(&sample);
    }
}

/// How the drive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DriveReport {
    /// Cancelled before the schedule ended.
    pub interrupted: bool,
    /// Requests still in flight when the drive gave up waiting for them.
    pub abandoned: u64,
}

/// Runs `segment` of every phase of `plan` against the context's target, starting at
/// `start`: one worker's part (see [`workers`]).
pub(crate) async fn drive(
    plan: &LoadPlan,
    seed: u64,
    segment: Segment,
    ctx: Arc<LoadContext>,
    start: Instant,
) -> DriveReport {
    if fast::applies(&ctx) {
        return fast::drive(plan, seed, segment, ctx, start).await;
    }
    match plan.model {
        LoadModel::Open => open::drive(plan, seed, segment, ctx, start).await,
        LoadModel::Closed => closed::drive(plan, segment, ctx, start).await,
    }
}
