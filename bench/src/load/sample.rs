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
