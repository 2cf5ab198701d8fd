//! What a threshold measures ([`Metric`], with a [`Stat`] for distributions) and what values
//! are in ([`Unit`], which also formats them for people).

use serde::{Deserialize, Serialize};

use super::{words_with_names, HeldEnd};

/// What a threshold measures. Keys: `latency.p99`, `service_time.p50`, `connect_time.max`,
/// `cold_latency.p99`, `warm_latency.mean`, `send_lag.p99`, `timeout_rate`, `error_rate`,
/// `throttle_rate`, `throughput_rps`, `ok_rps`, `requests`, `cold_starts`, `db_connections.max`,
/// and for held (SSE/WebSocket) requests `held.first_message.p50` and the counts `held.opened`,
/// `held.held`, `held.completed`, `held.cut`, `held.refused`, `held.failed`.
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
    /// Held requests whose stream opened (`held + completed + cut`).
    HeldOpened,
    /// Held requests that ended a given way.
    Held(HeldEnd),
}

impl Metric {
    /// The unit of the metric's value.
    pub fn unit(self) -> Unit {
        match self {
            Metric::Latency(_)
            | Metric::ServiceTime(_)
            | Metric::ConnectTime(_)
            | Metric::SendLag(_)
            | Metric::ColdLatency(_)
            | Metric::WarmLatency(_)
            | Metric::HeldFirstMessage(_) => Unit::Milliseconds,
            Metric::TimeoutRate | Metric::ErrorRate | Metric::ThrottleRate => Unit::Ratio,
            Metric::ThroughputRps | Metric::OkRps => Unit::RequestsPerSecond,
            Metric::Requests
            | Metric::ColdStarts
            | Metric::DbConnectionsMax
            | Metric::HeldOpened
            | Metric::Held(_) => Unit::Count,
        }
    }
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

words_with_names!(Stat {
    Min => "min",
    Mean => "mean",
    P50 => "p50",
    P75 => "p75",
    P90 => "p90",
    P95 => "p95",
    P99 => "p99",
    P999 => "p999",
    P9999 => "p9999",
    Max => "max",
});

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

/// What a value is in: in threshold verdicts (`summary.json`) and comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Unit {
    #[serde(rename = "ms")]
    Milliseconds,
    /// A fraction (0.01 = 1%).
    #[serde(rename = "ratio")]
    Ratio,
    #[serde(rename = "req/s")]
    RequestsPerSecond,
    /// A plain number; also what verdicts written before `unit` existed read as.
    #[default]
    #[serde(rename = "count")]
    Count,
}

words_with_names!(Unit {
    Milliseconds => "ms",
    Ratio => "ratio",
    RequestsPerSecond => "req/s",
    Count => "count",
});

impl Unit {
    /// A value for people: `12.30 ms`, `0.50%`, `950.0 req/s`, `3`.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Milliseconds => format!("{value:.2} ms"),
            Unit::Ratio => percent(value),
            Unit::RequestsPerSecond => format!("{value:.1} req/s"),
            Unit::Count => format!("{value}"),
        }
    }
}

/// A fraction as a percentage, to two decimals without trailing zeros: `0%`, `0.52%`,
/// `12.5%`, `100%`. The one percent format of verdicts, pages, charts and comparisons, so a
/// figure reads the same everywhere.
pub fn percent(fraction: f64) -> String {
    let text = format!("{:.2}", fraction * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}
