//! How a request ended: one [`Outcome`] for every request, and one [`HeldEnd`] besides for a
//! held (SSE or WebSocket) request.

use serde::{Deserialize, Serialize};

use super::words_with_names;

/// How a request ended. Every request ends as exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 2xx or 3xx.
    Ok,
    /// 4xx other than 429.
    #[serde(rename = "http_4xx")]
    Http4xx,
    /// 5xx other than 504.
    #[serde(rename = "http_5xx")]
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

words_with_names!(Outcome {
    Ok => "ok",
    Http4xx => "http_4xx",
    Http5xx => "http_5xx",
    Throttled => "throttled",
    FunctionTimeout => "function_timeout",
    ClientTimeout => "client_timeout",
    ConnectError => "connect_error",
    IoError => "io_error",
});

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

    /// Position in [`Outcome::ALL`]: an index into per-outcome counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How a held request (`kind = "sse" | "websocket"`) ended. Every held request ends as exactly
/// one of these, beside its [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

words_with_names!(HeldEnd {
    Held => "held",
    Completed => "completed",
    Cut => "cut",
    Refused => "refused",
    Failed => "failed",
});

impl HeldEnd {
    pub const ALL: [HeldEnd; 5] = [
        HeldEnd::Held,
        HeldEnd::Completed,
        HeldEnd::Cut,
        HeldEnd::Refused,
        HeldEnd::Failed,
    ];

    /// Position in [`HeldEnd::ALL`]: an index into per-end counters.
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
