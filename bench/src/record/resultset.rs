//! The result set: one directory per scenario run, and the one versioned serde model that is
//! written, read back, reported and compared.
//!
//! On disk (schema version 1):
//! - `manifest.json` — [`Manifest`]: what ran, where, when, and whether it finished
//!   (`status`: `running` while load is under way, then `complete`, `interrupted` or
//!   `failed` with its `error`).
//! - `summary.json` — [`Summary`]: per target, counts, rates and latency statistics in
//!   milliseconds, with threshold verdicts. Fields that could not be measured are `null`.
//! - `<target>.hlog` — HdrHistogram interval log (V2 compressed, base64), corrected latency in
//!   microseconds, one interval per second.
//! - `timeseries.csv` — one row per second and target; see [`super::series`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::load::Outcome;

/// Bumped on any incompatible change of the files above.
pub const SCHEMA_VERSION: u32 = 1;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const SUMMARY_FILE: &str = "summary.json";
pub const TIMESERIES_FILE: &str = "timeseries.csv";

/// `<target>.hlog`
pub fn hlog_file(target: &str) -> String {
    format!("{target}.hlog")
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub status: RunStatus,
    pub scenario: ScenarioRecord,
    pub coldfront_version: String,
    pub git_revision: Option<String>,
    pub host: HostInfo,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Why the run failed (status `failed`).
    #[serde(default)]
    pub error: Option<String>,
    /// The command line, for reproduction.
    pub command: Vec<String>,
}

/// The scenario as it was resolved and run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecord {
    pub name: String,
    pub description: String,
    pub source: PathBuf,
    /// The scenario file's text, verbatim.
    pub source_text: String,
    pub seed: u64,
    /// "open" | "closed".
    pub model: String,
    /// "uniform" | "poisson" (open model).
    pub arrivals: Option<String>,
    /// "keep-alive" | "per-request".
    pub connections: String,
    pub max_connections: usize,
    pub timeout_ms: f64,
    /// Factor applied to every phase duration (`--duration-scale`).
    pub duration_scale: f64,
    pub phases: Vec<PhaseRecord>,
    pub targets: Vec<TargetRecord>,
    pub requests: Vec<RequestRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub name: String,
    /// Offset from the start of a target's load.
    pub start_s: f64,
    pub duration_s: f64,
    /// Open model: requests/s at the phase start and end (equal when constant).
    pub rate_from: Option<f64>,
    pub rate_to: Option<f64>,
    /// Closed model.
    pub concurrency: Option<usize>,
    pub think_time_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub name: String,
    /// "external" | "serverless" | "persistent".
    pub kind: String,
    /// The address load was sent to.
    pub url: Option<String>,
    /// The database a built-in target used (its application-role URL).
    #[serde(default)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub name: String,
    pub weight: u32,
    pub method: String,
    pub path: String,
    /// "http" | "sse" | "websocket"; absent in result sets written before held requests.
    #[serde(default)]
    pub kind: Option<String>,
    /// Held kinds: the longest a stream is kept open.
    #[serde(default)]
    pub hold_ms: Option<f64>,
    /// `kind = "websocket"`: how often a message is sent.
    #[serde(default)]
    pub send_every_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub cpus: usize,
    /// CPUs the generator was allowed to run on (affinity).
    pub generator_cpus: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub scenario: String,
    pub status: RunStatus,
    pub targets: BTreeMap<String, TargetSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    /// Requests that reached an outcome.
    pub requests: u64,
    /// Requests dispatched (equals `requests` plus those cut off by an interruption).
    pub sent: u64,
    pub ok: u64,
    /// Non-ok outcomes by kind (`http_4xx`, `http_5xx`, `throttled`, `function_timeout`,
    /// `client_timeout`, `connect_error`, `io_error`); every kind present, zeros included.
    pub errors: BTreeMap<String, u64>,
    /// Client timeouts plus function timeouts.
    pub timeouts: u64,
    pub timeout_rate: f64,
    pub error_rate: f64,
    pub throttled: u64,
    pub throttle_rate: f64,
    pub function_timeouts: u64,
    /// Requests that reached an outcome per second of load.
    pub throughput_rps: f64,
    /// Seconds of load on this target.
    pub duration_s: f64,
    pub latency_ms: LatencyStats,
    pub service_time_ms: LatencyStats,
    pub connect_time_ms: LatencyStats,
    pub send_lag_ms: LatencyStats,
    /// `null` when the target does not report cold starts (`x-coldfront-cold`).
    pub cold_starts: Option<u64>,
    pub cold_latency_ms: Option<LatencyStats>,
    pub warm_latency_ms: Option<LatencyStats>,
    pub connections: ConnectionSummary,
    /// `null` when not sampled (external targets).
    pub db_connections: Option<DbConnectionSummary>,
    pub thresholds: Vec<ThresholdVerdict>,
    /// The built-in target's own counters at the end of the run (its `/__coldfront/metrics`
    /// document: instances, cold starts, throttles, kills, pool), `null` for external targets.
    #[serde(default)]
    pub target_metrics: Option<serde_json::Value>,
    /// The held requests (`kind = "sse" | "websocket"`): how their streams ended, messages,
    /// time to the first message and how long they stayed open. `null` (or absent, in result
    /// sets written before it existed) when the scenario has no held requests.
    #[serde(default)]
    pub held: Option<HeldSummary>,
}

/// The held requests of one target. Each is also one of `requests`, with the outcome its end
/// maps to (`held`, `completed` → ok; `cut` → io_error; `refused` → by its status; `failed` →
/// connect error, client timeout or io error as for any request); its `latency_ms` runs to the
/// first message. `requests = held + completed + cut + refused + failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldSummary {
    /// Held requests that reached an end.
    pub requests: u64,
    /// Streams opened (SSE 200, WebSocket 101): `held + completed + cut`.
    pub opened: u64,
    /// Still open when the hold elapsed (or the run stopped); closed by the generator.
    pub held: u64,
    /// Ended cleanly by the server (end of the SSE body, WebSocket close frame).
    pub completed: u64,
    /// Died mid-stream (EOF without a clean end, reset, truncated body).
    pub cut: u64,
    /// Answered with something other than a stream (SSE not 200, WebSocket not 101).
    pub refused: u64,
    /// `refused` by HTTP status (`{"501": 40}`).
    pub refused_by_status: BTreeMap<String, u64>,
    /// No answer at all (connect error, client timeout, reset before the answer).
    pub failed: u64,
    /// Messages received: SSE events with data, WebSocket text and binary frames.
    pub messages: u64,
    /// WebSocket messages sent (`send_every`).
    pub messages_sent: u64,
    /// Most streams open at once.
    pub max_open: u64,
    /// From the intended send time to the first message, over streams that got one.
    pub time_to_first_message_ms: LatencyStats,
    /// From each stream's opening to its end, over opened streams.
    pub held_for_ms: LatencyStats,
}

/// Statistics of one distribution, in milliseconds. All zero with `count` 0 when empty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    pub count: u64,
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub p9999: f64,
    pub max: f64,
}

impl LatencyStats {
    /// From a histogram of microseconds.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return LatencyStats {
                count: 0,
                min: 0.0,
                mean: 0.0,
                p50: 0.0,
                p75: 0.0,
                p90: 0.0,
                p95: 0.0,
                p99: 0.0,
                p999: 0.0,
                p9999: 0.0,
                max: 0.0,
            };
        }
        let ms = |us: u64| us as f64 / 1000.0;
        LatencyStats {
            count: h.len(),
            min: ms(h.min()),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p75: ms(h.value_at_quantile(0.75)),
            p90: ms(h.value_at_quantile(0.90)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            p9999: ms(h.value_at_quantile(0.9999)),
            max: ms(h.max()),
        }
    }

    pub fn stat(&self, stat: crate::scenario::Stat) -> f64 {
        use crate::scenario::Stat;
        match stat {
            Stat::Min => self.min,
            Stat::Mean => self.mean,
            Stat::P50 => self.p50,
            Stat::P75 => self.p75,
            Stat::P90 => self.p90,
            Stat::P95 => self.p95,
            Stat::P99 => self.p99,
            Stat::P999 => self.p999,
            Stat::P9999 => self.p9999,
            Stat::Max => self.max,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    pub opened: u64,
    pub closed: u64,
    /// Connection attempts that failed (refused, TLS or HTTP handshake).
    pub failed: u64,
    /// Requests sent on an already open connection.
    pub reused: u64,
    pub max_open: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbConnectionSummary {
    /// Highest count sampled.
    pub max: u64,
    /// The server's `max_connections` setting (the ceiling), when it could be read.
    #[serde(default)]
    pub ceiling: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdVerdict {
    /// The key as written in the scenario (`"*.timeout_rate"`).
    pub key: String,
    pub condition: String,
    /// The measured value in the metric's unit (ms, fraction, req/s, count); `null` when the
    /// metric was not measured for this target (which fails the threshold).
    pub actual: Option<f64>,
    /// Unit of `actual`: "ms", "ratio" (0.01 = 1%), "req/s" or "count".
    #[serde(default)]
    pub unit: String,
    pub passed: bool,
}

impl ThresholdVerdict {
    /// `actual` for people: "12.30 ms", "0.50%", "950.0 req/s", "3", or "not measured".
    pub fn actual_text(&self) -> String {
        match (self.actual, self.unit.as_str()) {
            (None, _) => "not measured".into(),
            (Some(v), "ms") => format!("{v:.2} ms"),
            (Some(v), "ratio") => format!("{:.2}%", v * 100.0),
            (Some(v), "req/s") => format!("{v:.1} req/s"),
            (Some(v), _) => format!("{v}"),
        }
    }
}

impl TargetSummary {
    /// Every outcome kind, in order, with its count (ok first).
    pub fn outcome_counts(&self) -> Vec<(Outcome, u64)> {
        Outcome::ALL
            .iter()
            .map(|&o| {
                let n = if o == Outcome::Ok {
                    self.ok
                } else {
                    self.errors.get(o.key()).copied().unwrap_or(0)
                };
                (o, n)
            })
            .collect()
    }
}

/// Errors reading a result set: which file, and what is wrong with it. The cause's text is
/// part of the message (and not chained as a source, which would print it twice).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: cannot read: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: not a valid coldfront {what}: {cause}")]
    Parse {
        path: PathBuf,
        what: &'static str,
        cause: serde_json::Error,
    },
    #[error("{path}: schema version {found}, this coldfront reads version {expected}")]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
}

/// A result set read back from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub summary: Summary,
}

impl ResultSet {
    pub fn read(dir: &Path) -> Result<ResultSet, ReadError> {
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE), "manifest")?;
        let summary: Summary = read_json(&dir.join(SUMMARY_FILE), "summary")?;
        Ok(ResultSet {
            dir: dir.to_path_buf(),
            manifest,
            summary,
        })
    }
}

/// Reads a JSON file, checking `schema_version` before the rest so an old or new file gets
/// a version message rather than a field error.
pub fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        cause: source,
    })?;
    #[derive(Deserialize)]
    struct Versioned {
        schema_version: u32,
    }
    let parse_error = |source| ReadError::Parse {
        path: path.to_path_buf(),
        what,
        cause: source,
    };
    let versioned: Versioned = serde_json::from_str(&text).map_err(parse_error)?;
    if versioned.schema_version != SCHEMA_VERSION {
        return Err(ReadError::Version {
            path: path.to_path_buf(),
            found: versioned.schema_version,
            expected: SCHEMA_VERSION,
        });
    }
    serde_json::from_str(&text).map_err(parse_error)
}

/// Writes `value` as pretty JSON to `path` atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    super::io::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_and_requests_written_before_held_requests_still_read() {
        let facts = crate::record::summary::RunFacts {
            duration: std::time::Duration::from_secs(1),
            connections: crate::load::ConnectionCounts::default(),
            db_connections_max: None,
            db_max_connections: None,
        };
        let summary = crate::record::summary::target_summary(
            &crate::record::Recorder::new().totals(),
            &facts,
        );
        assert_eq!(summary.held, None);
        let mut json = serde_json::to_value(&summary).unwrap();
        json.as_object_mut().unwrap().remove("held");
        let read: TargetSummary = serde_json::from_value(json).unwrap();
        assert_eq!(read, summary);

        let old_request = r#"{"name":"GET /","weight":1,"method":"GET","path":"/"}"#;
        let request: RequestRecord = serde_json::from_str(old_request).unwrap();
        assert_eq!(request.kind, None);
        assert_eq!(request.hold_ms, None);
    }
}
