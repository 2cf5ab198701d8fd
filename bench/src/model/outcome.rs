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

/// Why a request failed before it got an HTTP status (outcome `connect_error` or `io_error`):
/// what the socket, TLS or HTTP layer said, in words a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// Nothing listens there (TCP RST to the SYN).
    Refused,
    /// The TCP connection was not established in time.
    ConnectTimeout,
    /// No route to the host or its network.
    Unreachable,
    /// The certificate's issuer is not trusted.
    TlsUnknownIssuer,
    /// The certificate is its own CA (self-signed), presented as the server's.
    TlsSelfSigned,
    /// The certificate is not for the host name or IP the target was reached by.
    TlsWrongName,
    /// The certificate has expired or is not valid yet.
    TlsExpired,
    /// The server ended the handshake with a TLS alert.
    TlsAlert,
    /// Any other TLS failure.
    TlsOther,
    /// The peer reset the connection.
    Reset,
    /// The connection closed before a whole response arrived.
    ClosedEarly,
    /// The answer was not HTTP the client could read.
    Malformed,
    /// Any other I/O failure.
    OtherIo,
    /// This machine ran out of something the connection needed (open files, ports, memory):
    /// the generator's failure, not the target's.
    LocalResources,
}

words_with_names!(FailureCause {
    Refused => "refused",
    ConnectTimeout => "connect_timeout",
    Unreachable => "unreachable",
    TlsUnknownIssuer => "tls_unknown_issuer",
    TlsSelfSigned => "tls_self_signed",
    TlsWrongName => "tls_wrong_name",
    TlsExpired => "tls_expired",
    TlsAlert => "tls_alert",
    TlsOther => "tls_other",
    Reset => "reset",
    ClosedEarly => "closed_early",
    Malformed => "malformed",
    OtherIo => "other_io",
    LocalResources => "local_resources",
});

impl FailureCause {
    pub const ALL: [FailureCause; 14] = [
        FailureCause::Refused,
        FailureCause::ConnectTimeout,
        FailureCause::Unreachable,
        FailureCause::TlsUnknownIssuer,
        FailureCause::TlsSelfSigned,
        FailureCause::TlsWrongName,
        FailureCause::TlsExpired,
        FailureCause::TlsAlert,
        FailureCause::TlsOther,
        FailureCause::Reset,
        FailureCause::ClosedEarly,
        FailureCause::Malformed,
        FailureCause::OtherIo,
        FailureCause::LocalResources,
    ];

    /// Position in [`FailureCause::ALL`]: an index into per-cause counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The cause in words, with what to do about it where there is something to do.
    pub fn describe(self) -> &'static str {
        match self {
            FailureCause::Refused => "connection refused: nothing listens at that address",
            FailureCause::ConnectTimeout => "TCP connect timed out",
            FailureCause::Unreachable => "no route to the host",
            FailureCause::TlsUnknownIssuer => {
                "TLS: the certificate's issuer is not trusted — pass the issuing CA with \
                 --ca-cert, or use --insecure"
            }
            FailureCause::TlsSelfSigned => {
                "TLS: certificate is a CA used as an end-entity certificate (self-signed?) — \
                 pass exactly this certificate with --ca-cert, or use --insecure"
            }
            FailureCause::TlsWrongName => {
                "TLS: the certificate is not for this host name or IP — use the name it was \
                 issued for in the target's URL"
            }
            FailureCause::TlsExpired => "TLS: the certificate has expired or is not valid yet",
            FailureCause::TlsAlert => "TLS: the server refused the handshake (alert)",
            FailureCause::TlsOther => "TLS handshake failed",
            FailureCause::Reset => "connection reset by the server",
            FailureCause::ClosedEarly => "connection closed before the whole response arrived",
            FailureCause::Malformed => "the answer was not readable HTTP",
            FailureCause::OtherIo => "I/O error on the connection",
            FailureCause::LocalResources => {
                "this machine ran out of open files, ports or memory for the connection: the \
                 generator's limit, not the target's — raise `ulimit -n` or lower \
                 max_connections"
            }
        }
    }
}
