//! What one request produced: its outcome and its times. The only thing the load path hands
//! to the recorder.

use std::time::Duration;

/// How a request ended. Every request ends as exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// 2xx or 3xx.
    Ok,
    /// 4xx other than 429.
    Http4xx,
    /// 5xx other than 504.
    Http5xx,
    /// 429 Too Many Requests (a platform or the app refused for capacity).
    Throttled,
    /// 504 from the target (a function killed at its maximum duration).
    FunctionTimeout,
    /// The client gave up: the request's deadline passed (connect, send or response).
    ClientTimeout,
    /// The TCP (or TLS) connection could not be established.
    ConnectError,
    /// The connection failed after it was established: reset, closed early, malformed answer.
    IoError,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Ok,
        Outcome::Http4xx,
        Outcome::Http5xx,
        Outcome::Throttled,
        Outcome::FunctionTimeout,
        Outcome::ClientTimeout,
        Outcome::ConnectError,
        Outcome::IoError,
    ];

    /// Stable snake_case name used in summary.json and reports.
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Http4xx => "http_4xx",
            Outcome::Http5xx => "http_5xx",
            Outcome::Throttled => "throttled",
            Outcome::FunctionTimeout => "function_timeout",
            Outcome::ClientTimeout => "client_timeout",
            Outcome::ConnectError => "connect_error",
            Outcome::IoError => "io_error",
        }
    }

    /// Classify an HTTP status.
    pub fn from_status(status: u16) -> Outcome {
        match status {
            200..=399 => Outcome::Ok,
            429 => Outcome::Throttled,
            504 => Outcome::FunctionTimeout,
            400..=499 => Outcome::Http4xx,
            _ => Outcome::Http5xx,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

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
    /// Actual send minus intended send time (open model; zero in the closed model).
    pub send_lag: Duration,
    /// From the `x-coldfront-cold` response header, when present.
    pub cold: Option<bool>,
    /// Index into `Plan::requests`.
    pub request_index: usize,
}

/// How a held request (`kind = "sse" | "websocket"`) ended. Every held request ends as exactly
/// one of these, beside its [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HeldEnd {
    /// Still open when the hold elapsed (or the run was stopped): the generator closed it.
    /// Outcome `ok`.
    Held,
    /// The server ended it cleanly: the SSE body ended, or a WebSocket close frame. Outcome `ok`.
    Completed,
    /// The connection died mid-stream: EOF without a clean end, a reset, a truncated chunked
    /// body. Outcome `io_error`.
    Cut,
    /// The answer was not a stream (SSE not 200, WebSocket not 101). Outcome by its status
    /// (`http_4xx`, `http_5xx`, `throttled`, `function_timeout`; `io_error` below 400).
    Refused,
    /// No answer at all: connect error, client timeout, reset or a malformed handshake before
    /// the answer. Outcome as for any request.
    Failed,
}

impl HeldEnd {
    pub const ALL: [HeldEnd; 5] = [
        HeldEnd::Held,
        HeldEnd::Completed,
        HeldEnd::Cut,
        HeldEnd::Refused,
        HeldEnd::Failed,
    ];

    /// Stable snake_case name used in summary.json.
    pub fn key(self) -> &'static str {
        match self {
            HeldEnd::Held => "held",
            HeldEnd::Completed => "completed",
            HeldEnd::Cut => "cut",
            HeldEnd::Refused => "refused",
            HeldEnd::Failed => "failed",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The request outcome of a held request that ended so (`status`: a refusal's status).
    pub fn outcome(self, status: Option<u16>, failure: Outcome) -> Outcome {
        match (self, status) {
            (HeldEnd::Held | HeldEnd::Completed, _) => Outcome::Ok,
            (HeldEnd::Cut, _) => Outcome::IoError,
            (HeldEnd::Refused, Some(status)) if status >= 400 => Outcome::from_status(status),
            (HeldEnd::Refused, _) => Outcome::IoError,
            (HeldEnd::Failed, _) => failure,
        }
    }
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
