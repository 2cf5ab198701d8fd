//! The validated, typed form of a scenario file: what every later stage consumes.
//! Nothing here is a string that still needs parsing (durations, rates, URLs are typed).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};

pub(crate) use coldfront_targets::settings::{AppSettings, PersistentSettings, ServerlessSettings};

pub use super::template::Placeholders;
use crate::model::{Arrivals, ConnectionPolicy, LoadModel, Metric, RequestKind, TargetKind};

/// A scenario, checked and ready to run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// `[a-z0-9-]+`, also the result-set directory name.
    pub name: String,
    pub description: String,
    /// The file it came from.
    pub source: PathBuf,
    /// The text it was read from (a one-line run's: the scenario its flags stand for).
    pub source_text: String,
    /// Seed of the request mix (and of Poisson arrivals); default 1.
    pub seed: u64,
    /// In file order; run one after another under the identical schedule.
    pub targets: Vec<TargetPlan>,
    pub load: LoadPlan,
    /// At least one; weights are > 0.
    pub requests: Vec<RequestTemplate>,
    pub thresholds: Vec<Threshold>,
    /// `[database]`: settings of the PostgreSQL cluster started for built-in targets.
    pub database: DatabasePlan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DatabasePlan {
    /// PostgreSQL's `max_connections` (its own default, 100, when not given).
    pub max_connections: u32,
    /// `init_sql`: a SQL file (resolved against the scenario's directory) run once on each
    /// built-in target's database before the target starts, as the application role.
    pub init_sql: Option<PathBuf>,
}

impl Default for DatabasePlan {
    fn default() -> Self {
        DatabasePlan {
            max_connections: 100,
            init_sql: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TargetPlan {
    /// The key under `[targets.NAME]`; `[a-z0-9_-]+`.
    pub name: String,
    pub setup: TargetSetup,
}

/// What the harness does to reach a target: nothing (external), or start a built-in one with
/// its settings (`None` fields = the preset's value or the default).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TargetSetup {
    /// `url = "http://127.0.0.1:8080"`: an address the harness does not start.
    External {
        base_url: Uri,
        /// `tls = { verify = false }`: its certificate is not checked (default: checked).
        verify_tls: bool,
    },
    /// `kind = "serverless"`: the built-in platform emulator, running the built-in
    /// application or `app`.
    Serverless {
        settings: ServerlessSettings,
        app: Option<AppPlan>,
    },
    /// `kind = "persistent"`: the built-in long-lived server: the built-in pooled application,
    /// or `app` run once.
    Persistent {
        settings: PersistentSettings,
        app: Option<AppPlan>,
    },
}

/// A command target's application (`command = [...]` and the keys that go with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppPlan {
    /// `command` non-empty; `cwd` resolved against the scenario file's directory (that
    /// directory when not given).
    pub settings: AppSettings,
    /// `prepare`: run once before the target's first start, in `cwd`; empty = nothing.
    pub prepare: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadPlan {
    pub model: LoadModel,
    /// How the open model spaces its requests (uniform when not given; unused by the closed
    /// model, which rejects the key).
    pub arrivals: Arrivals,
    /// Client timeout per request. Open model: counted from the intended send time. For a held
    /// request it bounds only the wait for the answer (the 200 or 101), not the hold.
    pub timeout: Duration,
    pub connections: ConnectionPolicy,
    /// Upper bound of connections open at once (keep-alive pool size; also caps per-request
    /// and held requests, which keep theirs for the whole hold).
    pub max_connections: usize,
    /// At least one.
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Optional label (`name = "burst"`); reports fall back to "phase N".
    pub name: Option<String>,
    pub duration: Duration,
    pub load: PhaseLoad,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhaseLoad {
    /// Open model. `Rate::Constant(0.0)` is an idle gap.
    Rate(Rate),
    /// Closed model: `concurrency = N`, `think_time = "100ms"` (default 0).
    Concurrency {
        workers: usize,
        think_time: Duration,
    },
}

/// Requests per second (finite, >= 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Constant(f64),
    /// Linear from `from` at the phase start to `to` at its end.
    Ramp {
        from: f64,
        to: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestTemplate {
    /// `name` key, or "METHOD path".
    pub name: String,
    /// > 0
    pub weight: u32,
    pub method: Method,
    /// Path and query, starting with `/`; joined to the target's base URL. As written, with
    /// any placeholders (the same for `headers` and `body`).
    pub path_and_query: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// `kind`: an ordinary request (default) or a held connection.
    pub wire: Wire,
    /// The placeholders of the path, header values and body, parsed (values drawn from the
    /// plan's `seed`); `None` when the request has none and is sent exactly as written.
    pub placeholders: Option<Placeholders>,
}

/// What a request does on the wire (`kind = "http" | "sse" | "websocket"`), with a held
/// request's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wire {
    /// One request, one response, over the client's connection policy.
    #[default]
    Http,
    /// A held connection: its own connection, read until the hold elapses or the peer ends it.
    Held(HeldRequest),
}

impl Wire {
    /// The held connection, if this is one.
    pub(crate) fn held(&self) -> Option<&HeldRequest> {
        match self {
            Wire::Http => None,
            Wire::Held(held) => Some(held),
        }
    }

    /// The `kind` key's value.
    pub(crate) fn kind(&self) -> RequestKind {
        match self {
            Wire::Http => RequestKind::Http,
            Wire::Held(held) => held.protocol.kind(),
        }
    }
}

/// A held request: how it talks and how long the generator keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldRequest {
    pub protocol: HeldProtocol,
    /// `hold`: the longest the stream is kept open, counted from its opening (the 200 or 101
    /// answer); > 0.
    pub hold: Duration,
    /// `send_every` (WebSocket only): a small text message is sent at the opening and then this
    /// often; > 0.
    pub send_every: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldProtocol {
    /// `kind = "sse"`: `GET` with `Accept: text/event-stream`; messages are events with data.
    Sse,
    /// `kind = "websocket"`: the upgrade handshake; messages are text and binary frames.
    WebSocket,
}

impl HeldProtocol {
    /// The `kind` key's value.
    pub(crate) fn kind(self) -> RequestKind {
        match self {
            HeldProtocol::Sse => RequestKind::Sse,
            HeldProtocol::WebSocket => RequestKind::WebSocket,
        }
    }
}

/// `"serverless.latency.p99" = "< 800ms"`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Threshold {
    /// The key exactly as written, for messages.
    pub key: String,
    /// The condition exactly as written, for messages.
    pub condition: String,
    pub target: TargetSelector,
    pub metric: Metric,
    pub operator: Operator,
    /// In the metric's unit: milliseconds for times, a fraction (0.01 = 1%) for rates,
    /// requests/s for throughput, a count for counts.
    pub limit: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetSelector {
    All,
    Named(String),
}

/// How a threshold's measured value must relate to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl TargetSetup {
    /// What kind of target this is.
    pub(crate) fn kind(&self) -> TargetKind {
        match self {
            TargetSetup::External { .. } => TargetKind::External,
            TargetSetup::Serverless { .. } => TargetKind::Serverless,
            TargetSetup::Persistent { .. } => TargetKind::Persistent,
        }
    }
}
