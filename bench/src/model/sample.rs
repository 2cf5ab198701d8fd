//! What one request produced: its outcome and its times. The only thing the load path hands
//! to the recorder.

use std::time::Duration;

use super::{FailureCause, HeldEnd, Outcome};

/// One finished request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub outcome: Outcome,
    /// Open model: from the intended send time to the end of the response (corrected for
    /// coordinated omission). Closed model: from the actual send. For a client timeout, the
    /// time waited until giving up.
    pub latency: Duration,
    /// From the actual send to the end of the response; `None` when it was never sent or no
    /// response arrived.
    pub service_time: Option<Duration>,
    /// Time to open the connection when this request opened one.
    pub connect_time: Option<Duration>,
    /// The generator's own delay: from the intended send time to the moment the client took
    /// the request up, before any wait for a free connection (`max_connections`) or connect,
    /// which are the target's share of the latency (open model; zero in the closed model).
    pub send_lag: Duration,
    /// From the `x-coldfront-cold` response header, when present.
    pub cold: Option<bool>,
    /// Index into `Plan::requests`.
    pub request_index: usize,
    /// Why it failed before an HTTP status, when it did and the cause is known.
    pub failure: Option<FailureCause>,
}

/// What a held request adds to its [`Sample`] (whose `latency` runs to the first message).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldSample {
    pub end: HeldEnd,
    /// The answer's HTTP status (200 or 101 for an opened stream); `None` without an answer.
    pub status: Option<u16>,
    /// Messages received: SSE events with data, WebSocket text and binary frames.
    pub messages: u64,
    /// WebSocket messages sent (`send_every`).
    pub messages_sent: u64,
    /// From the intended send time to the first message (corrected like `latency`); `None`
    /// when no message came.
    pub time_to_first_message: Option<Duration>,
    /// From the stream's opening to its end; `None` when it never opened.
    pub held_for: Option<Duration>,
}
