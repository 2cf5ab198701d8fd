//! What a target, a load model and a run are: small enums with their stable names.

use serde::{Deserialize, Serialize};

use super::words_with_names;

/// What kind of target load was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// An address coldfront does not start (`url = "…"`).
    External,
    /// The built-in serverless platform emulator.
    Serverless,
    /// The built-in long-lived pooled server.
    Persistent,
}

words_with_names!(TargetKind {
    External => "external",
    Serverless => "serverless",
    Persistent => "persistent",
});

impl TargetKind {
    /// The built-in kinds, as the scenario's `kind` key names them.
    pub const BUILT_IN: [TargetKind; 2] = [TargetKind::Serverless, TargetKind::Persistent];
}

/// How load is offered (`[load] model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadModel {
    /// Arrival rate: requests are sent at scheduled times whatever the target does.
    Open,
    /// Fixed concurrency: each worker sends, waits for the answer, thinks, repeats.
    Closed,
}

words_with_names!(LoadModel {
    Open => "open",
    Closed => "closed",
});

/// How the open model spaces its requests (`[load] arrivals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Evenly spaced at the phase's rate.
    Uniform,
    /// Exponential gaps with the phase's rate as mean (a Poisson process).
    Poisson,
}

words_with_names!(Arrivals {
    Uniform => "uniform",
    Poisson => "poisson",
});

/// Whether requests share connections (`[load] connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionPolicy {
    /// A pool of kept-alive connections, up to `max_connections`.
    KeepAlive,
    /// A new connection for every request, closed after its response.
    PerRequest,
}

words_with_names!(ConnectionPolicy {
    KeepAlive => "keep-alive",
    PerRequest => "per-request",
});

/// What a request does on the wire (`[[requests]] kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// One request, one response, over the connection policy.
    #[default]
    Http,
    /// A held Server-Sent Events stream on its own connection.
    Sse,
    /// A held WebSocket on its own connection.
    WebSocket,
}

words_with_names!(RequestKind {
    Http => "http",
    Sse => "sse",
    WebSocket => "websocket",
});

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [RequestKind::Http, RequestKind::Sse, RequestKind::WebSocket];

    /// Whether a request of this kind keeps its connection open for a hold.
    pub fn is_held(self) -> bool {
        self != RequestKind::Http
    }
}

/// Where a run stands (`manifest.json` and `summary.json` `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Load is under way (a result set left like this was killed hard).
    Running,
    Complete,
    /// Stopped early by Ctrl-C; what was measured until then is kept.
    Interrupted,
    /// Stopped by an error (a target that would not start, a disk full): see `error`.
    /// Per-second files streamed so far keep their `.partial` name.
    Failed,
}

words_with_names!(RunStatus {
    Running => "running",
    Complete => "complete",
    Interrupted => "interrupted",
    Failed => "failed",
});

impl RunStatus {
    /// The status for a reader who was not there: as [`as_str`](Self::as_str), but a result
    /// set left `running` says it was killed before it finished.
    pub fn described(self) -> &'static str {
        match self {
            RunStatus::Running => "unfinished (killed while running)",
            status => status.as_str(),
        }
    }
}
