//! The result set's serde model: [`Manifest`] (`manifest.json`) and [`Summary`]
//! (`summary.json`), written by `run` and read back by every later command. Field names and the
//! strings of the enums are the documented contract; see the [module](super) for the files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::model::{
    Arrivals, ConnectionPolicy, FailureCause, LoadModel, Outcome, RequestKind, RunStatus, Stat,
    TargetKind, Unit,
};

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
    /// The shard this run was (`run --shard I/N`); absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// The shards this set was merged from (`coldfront merge`); absent for a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergedRecord>,
    /// In a repetition of `run --repeat N`: which one it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<RepetitionRecord>,
    /// In the set of a `run --repeat N`: its repetitions, each a result set of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetitions: Option<RepetitionsRecord>,
}

/// Which repetition of a `run --repeat N` a result set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepetitionRecord {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

/// The repetitions of a `run --repeat N`: run one after the other, each target of a
/// repetition in turn (A B A B …), each into its own result set `rep-<k>/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepetitionsRecord {
    /// Repetitions asked for.
    pub count: u32,
    /// Repetitions that completed (fewer when the run was interrupted or failed).
    pub completed: u32,
    /// Their directories, relative to the set, in order: `rep-1`, `rep-2`, …
    pub dirs: Vec<String>,
}

/// What a merged result set was made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedRecord {
    /// Shards of the run (all of them are merged).
    pub count: u64,
    /// The shards' common fingerprint ([`ShardRecord::fingerprint`]).
    pub fingerprint: String,
    /// Their common start (`--start-at`), RFC 3339.
    #[serde(default)]
    pub start_at: Option<String>,
    /// Some shard was not complete (merged with `--allow-partial`); the set is `interrupted`.
    pub partial: bool,
    pub shards: Vec<MergedShard>,
}

/// One shard of a merged set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedShard {
    pub index: u64,
    /// The shard's result set, as given to `merge`.
    pub source: PathBuf,
    pub status: RunStatus,
    pub hostname: String,
    /// How late it began against the common start, per target ([`ShardRecord::start_late_ms`]).
    #[serde(default)]
    pub start_late_ms: BTreeMap<String, f64>,
}

/// One shard of a sharded run: which, of what, and when it began against the common start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// 0-based: this shard sent the requests with `seq mod count == index`.
    pub index: u64,
    pub count: u64,
    /// SHA-256 of the scenario file's text, the duration scale, the targets run and the shard
    /// count: the shards of one run share it.
    pub fingerprint: String,
    /// `--start-at`, RFC 3339; absent when the shard started on its own.
    #[serde(default)]
    pub start_at: Option<String>,
    /// The clock the common start was read on.
    pub clock: String,
    /// Per target: how late this shard's load began against the common start computed for it
    /// (milliseconds, measured on [`ShardRecord::clock`]); empty without `--start-at`.
    #[serde(default)]
    pub start_late_ms: BTreeMap<String, f64>,
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
    pub model: LoadModel,
    /// Open model only.
    pub arrivals: Option<Arrivals>,
    pub connections: ConnectionPolicy,
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

impl PhaseRecord {
    /// Whether a stretch of load, `(start_s, length_s)` from the start of the target's load (a
    /// second of the series, an interval of the log: their `span_s`), belongs to this phase: the one in which its midpoint falls. The
    /// one rule of figures by phase, `compare --phase` and compare's resampling strata. Requests
    /// count in the phase in which they completed.
    pub fn contains(&self, (start_s, length_s): (f64, f64)) -> bool {
        let midpoint = start_s + length_s / 2.0;
        midpoint >= self.start_s && midpoint < self.start_s + self.duration_s
    }

    /// The index of the phase a stretch of load belongs to (see [`PhaseRecord::contains`]);
    /// `phases.len()` past the last phase (requests still completing after the schedule ended).
    pub fn index_of(phases: &[PhaseRecord], span_s: (f64, f64)) -> usize {
        phases
            .iter()
            .position(|phase| phase.contains(span_s))
            .unwrap_or(phases.len())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub name: String,
    pub kind: TargetKind,
    /// The address load was sent to.
    pub url: Option<String>,
    /// The database a built-in target used (its application-role URL).
    #[serde(default)]
    pub database_url: Option<String>,
    /// `https://` targets: whether their certificate was checked (`false` with `--insecure`);
    /// absent for plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verified: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub name: String,
    pub weight: u32,
    pub method: String,
    pub path: String,
    /// Absent in result sets written before held requests.
    #[serde(default)]
    pub kind: Option<RequestKind>,
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
    pub errors: BTreeMap<Outcome, u64>,
    /// Requests that failed before an HTTP status (`connect_error`, `io_error`), by cause
    /// (`refused`, `tls_unknown_issuer`, `reset`, …); only causes that occurred, and absent
    /// when none did (or in result sets written before causes were kept).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<FailureCause, u64>,
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
    /// What the generator measured of itself, and whether this target's numbers include its
    /// own delay; `null` in result sets written before it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<GeneratorSummary>,
    /// The built-in target's own counters at the end of the run (its `/__coldfront/metrics`
    /// document: instances, cold starts, throttles, kills, pool), `null` for external targets.
    #[serde(default)]
    pub target_metrics: Option<serde_json::Value>,
    /// In the set of a `run --repeat N`: each completed repetition's own figures, in order (the
    /// rest of this summary pools them); absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repetitions: Vec<RepetitionFigures>,
    /// The held requests (`kind = "sse" | "websocket"`): how their streams ended, messages,
    /// time to the first message and how long they stayed open. `null` (or absent, in result
    /// sets written before it existed) when the scenario has no held requests.
    #[serde(default)]
    pub held: Option<HeldSummary>,
}

/// One repetition's figures of a target, as its own summary has them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepetitionFigures {
    /// 1-based.
    pub repetition: u32,
    pub requests: u64,
    pub throughput_rps: f64,
    pub error_rate: f64,
    pub timeout_rate: f64,
    pub latency_ms: LatencyStats,
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

    pub fn stat(&self, stat: Stat) -> f64 {
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

/// The generator's measure of itself for one target's run (see `record::generator`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorSummary {
    /// The target's latency and throughput include the generator's own delay: verdicts on
    /// them are inconclusive.
    pub limited: bool,
    /// Why, in words; `null` when not limited.
    pub reason: Option<String>,
    /// Requests sent more than 1 ms after their intended time.
    pub late: u64,
    /// `late` as a share of the requests that reached an outcome.
    pub late_share: f64,
    /// Late requests that ended as client timeouts: the most timeouts (and errors) the
    /// generator's delay can account for. Absent (0) in older result sets.
    #[serde(default)]
    pub late_timeouts: u64,
    /// Connections that failed because this machine ran out of open files, ports or memory.
    pub local_failures: u64,
    pub send_lag_p50_ms: f64,
    pub send_lag_p99_ms: f64,
    pub send_lag_max_ms: f64,
    /// CPUs the generator could run on.
    pub cpus: u64,
    /// Mean share of those CPUs the generator kept busy (0–1).
    pub cpu_busy: f64,
    /// The busiest second's share.
    pub cpu_busy_max: f64,
    /// Latency with each request's send lag taken out: the target's own latency, had the
    /// generator been on time (all requests, cold and warm ones; the last two `null` when
    /// the target does not report cold starts). Absent in older result sets.
    #[serde(default)]
    pub latency_net_ms: Option<LatencyStats>,
    #[serde(default)]
    pub cold_latency_net_ms: Option<LatencyStats>,
    #[serde(default)]
    pub warm_latency_net_ms: Option<LatencyStats>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    pub opened: u64,
    pub closed: u64,
    /// Connection attempts that failed (refused, TLS or HTTP handshake).
    pub failed: u64,
    /// Requests sent on an already open connection.
    pub reused: u64,
    /// Kept-alive connections the server had closed before the answer began, whose
    /// (idempotent) request was retried once on a new connection; absent when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stale: u64,
    pub max_open: u64,
    /// What the TLS handshakes of an `https://` target negotiated; absent for plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSummary>,
}

/// The TLS handshakes of one target: protocol version, ALPN and resumption, each a count of
/// handshakes (a resumed one costs a fraction of a full one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSummary {
    pub handshakes: u64,
    pub tls1_3: u64,
    pub tls1_2: u64,
    /// ALPN chose `h2`.
    pub alpn_h2: u64,
    /// ALPN chose `http/1.1`, or nothing (HTTP/1.1).
    pub alpn_http1_1: u64,
    pub resumed: u64,
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
    /// Unit of `actual`.
    #[serde(default)]
    pub unit: Unit,
    pub passed: bool,
    /// The target was generator-limited and the metric is one the generator's delay distorts:
    /// the verdict neither passes nor fails (`passed` then only says how the value compared).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inconclusive: bool,
    /// Why the threshold failed without a measurement (`actual` is `null`), when there is more
    /// to say than "not measured": `"no successful response"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ThresholdVerdict {
    /// Failed, and not inconclusive: what makes a run exit 1.
    pub fn failed(&self) -> bool {
        !self.passed && !self.inconclusive
    }

    /// "PASS", "FAIL" or "INCONCLUSIVE".
    pub fn word(&self) -> &'static str {
        match (self.inconclusive, self.passed) {
            (true, _) => "INCONCLUSIVE",
            (false, true) => "PASS",
            (false, false) => "FAIL",
        }
    }

    /// `actual` for people: "12.30 ms", "0.5%", "950.0 req/s", "3", or "not measured".
    pub fn actual_text(&self) -> String {
        match (self.actual, &self.reason) {
            (None, Some(reason)) => format!("not measured: {reason}"),
            (None, None) => "not measured".into(),
            (Some(value), _) => self.unit.format(value),
        }
    }
}

impl TargetSummary {
    /// The causes of failures before an answer, most frequent first.
    pub fn failures_by_count(&self) -> Vec<(FailureCause, u64)> {
        let mut causes: Vec<_> = self.failures.iter().map(|(&c, &n)| (c, n)).collect();
        causes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        causes
    }

    /// Every outcome kind, in order, with its count (ok first).
    pub fn outcome_counts(&self) -> Vec<(Outcome, u64)> {
        Outcome::ALL
            .iter()
            .map(|&o| {
                let n = if o == Outcome::Ok {
                    self.ok
                } else {
                    self.errors.get(&o).copied().unwrap_or(0)
                };
                (o, n)
            })
            .collect()
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
