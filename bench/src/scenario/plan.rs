//! The validated, typed form of a scenario file: what every later stage consumes.
//! Nothing here is a string that still needs parsing (durations, rates, URLs are typed).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};

pub use coldfront_targets::settings::{PersistentSettings, ServerlessSettings};

/// A scenario, checked and ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `[a-z0-9-]+`, also the result-set directory name.
    pub name: String,
    pub description: String,
    /// The file it came from.
    pub source: PathBuf,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabasePlan {
    /// PostgreSQL's `max_connections` (its own default, 100, when not given).
    pub max_connections: u32,
}

impl Default for DatabasePlan {
    fn default() -> Self {
        DatabasePlan {
            max_connections: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetPlan {
    /// The key under `[targets.NAME]`; `[a-z0-9_-]+`.
    pub name: String,
    pub setup: TargetSetup,
}

/// What the harness does to reach a target: nothing (external), or start a built-in one with
/// its settings (`None` fields = the preset's value or the default).
#[derive(Debug, Clone, PartialEq)]
pub enum TargetSetup {
    /// `url = "http://127.0.0.1:8080"`: an address the harness does not start.
    External { base_url: Uri },
    /// `kind = "serverless"`: the built-in platform emulator.
    Serverless(ServerlessSettings),
    /// `kind = "persistent"`: the built-in long-lived pooled server.
    Persistent(PersistentSettings),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    pub model: LoadModel,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadModel {
    /// Arrival rate: requests are sent at scheduled times whatever the target does.
    Open { arrivals: Arrivals },
    /// Fixed concurrency: each worker sends, waits for the answer, thinks, repeats.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrivals {
    Uniform,
    Poisson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionPolicy {
    KeepAlive,
    PerRequest,
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
    /// Path and query, starting with `/`; joined to the target's base URL.
    pub path_and_query: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// `kind`: an ordinary request (default) or a held connection.
    pub kind: RequestKind,
}

/// What a request does on the wire (`kind = "http" | "sse" | "websocket"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestKind {
    /// One request, one response, over the client's connection policy.
    #[default]
    Http,
    /// A held connection: its own connection, read until the hold elapses or the peer ends it.
    Held(HeldRequest),
}

impl RequestKind {
    /// The held connection, if this is one.
    pub fn held(&self) -> Option<&HeldRequest> {
        match self {
            RequestKind::Http => None,
            RequestKind::Held(held) => Some(held),
        }
    }

    /// The `kind` key's value: `"http"`, `"sse"` or `"websocket"`.
    pub fn key(&self) -> &'static str {
        match self {
            RequestKind::Http => "http",
            RequestKind::Held(held) => held.protocol.key(),
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
    pub fn key(self) -> &'static str {
        match self {
            HeldProtocol::Sse => "sse",
            HeldProtocol::WebSocket => "websocket",
        }
    }
}

/// `"serverless.latency.p99" = "< 800ms"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The key exactly as written, for messages.
    pub key: String,
    /// The condition exactly as written, for messages.
    pub condition: String,
    pub target: TargetSelector,
    pub metric: Metric,
    pub comparison: Comparison,
    /// In the metric's unit: milliseconds for times, a fraction (0.01 = 1%) for rates,
    /// requests/s for throughput, a count for counts.
    pub limit: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSelector {
    All,
    Named(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// What a threshold measures. Keys: `latency.p99`, `service_time.p50`, `connect_time.max`,
/// `cold_latency.p99`, `warm_latency.mean`, `send_lag.p99`, `timeout_rate`, `error_rate`,
/// `throttle_rate`, `throughput_rps`, `ok_rps`, `requests`, `cold_starts`, `db_connections.max`,
/// and for held (SSE/WebSocket) requests `held.first_message.p50` and the counts `held.opened`,
/// `held.held`, `held.completed`, `held.cut`, `held.refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Latency(Stat),
    ServiceTime(Stat),
    ConnectTime(Stat),
    ColdLatency(Stat),
    WarmLatency(Stat),
    SendLag(Stat),
    TimeoutRate,
    ErrorRate,
    ThrottleRate,
    ThroughputRps,
    /// Responses that were ok, per second of load: what got through a rate limit.
    OkRps,
    Requests,
    ColdStarts,
    DbConnectionsMax,
    /// Time to the first message of held requests.
    HeldFirstMessage(Stat),
    /// How many held requests ended a given way.
    Held(HeldEnd),
}

/// A count of the `held` summary section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldEnd {
    Opened,
    Held,
    Completed,
    Cut,
    Refused,
}

/// A statistic of a latency distribution (all in the summary's `*_ms` objects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Min,
    Mean,
    P50,
    P75,
    P90,
    P95,
    P99,
    P999,
    P9999,
    Max,
}

impl Stat {
    pub const ALL: [Stat; 10] = [
        Stat::Min,
        Stat::Mean,
        Stat::P50,
        Stat::P75,
        Stat::P90,
        Stat::P95,
        Stat::P99,
        Stat::P999,
        Stat::P9999,
        Stat::Max,
    ];

    /// The name used in threshold keys and summary.json (`p99`, `p999`, `max`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Stat::Min => "min",
            Stat::Mean => "mean",
            Stat::P50 => "p50",
            Stat::P75 => "p75",
            Stat::P90 => "p90",
            Stat::P95 => "p95",
            Stat::P99 => "p99",
            Stat::P999 => "p999",
            Stat::P9999 => "p9999",
            Stat::Max => "max",
        }
    }

    /// The quantile for percentile stats (0.99 for `p99`), `None` for min/mean/max.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Stat::P50 => Some(0.50),
            Stat::P75 => Some(0.75),
            Stat::P90 => Some(0.90),
            Stat::P95 => Some(0.95),
            Stat::P99 => Some(0.99),
            Stat::P999 => Some(0.999),
            Stat::P9999 => Some(0.9999),
            Stat::Min | Stat::Mean | Stat::Max => None,
        }
    }
}

impl LoadPlan {
    /// Sum of phase durations.
    pub fn total_duration(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }
}
