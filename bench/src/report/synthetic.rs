//! Result sets made in memory, deterministically, for tests and benchmarks: a target's
//! per-second series, interval logs and summary from a rate function (a serverless target
//! cold-starts after idle gaps and reports instances), a run like the quickstart, and a
//! 10-minute run of the size the report must draw in well under 2 s.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::model::{RunStatus, TargetKind};
use crate::resultset::hlog::new_histogram;
use crate::resultset::hlog::{HlogInterval, TAG_COLD_LATENCY, TAG_SERVICE_TIME, TAG_WARM_LATENCY};
use crate::resultset::series::SeriesRow;
use crate::resultset::{LatencyStats, SCHEMA_VERSION};
use crate::resultset::{Manifest, ResultSet, Summary, TargetData, TargetSummary};
use crate::rng::SplitMix64;

/// Uniform noise in (0, 1].
struct Noise(SplitMix64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0.next_unit()
    }
}

pub fn phase(name: &str, start_s: f64, duration_s: f64, rate: f64) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "start_s": start_s,
        "duration_s": duration_s,
        "rate_from": rate,
        "rate_to": rate,
        "concurrency": null,
        "think_time_ms": null,
    })
}

/// Through serde, so fields added later with a default need no change here.
fn manifest(
    scenario: &str,
    status: RunStatus,
    phases: Vec<serde_json::Value>,
    targets: &[(&str, &str)],
) -> Manifest {
    let targets: Vec<serde_json::Value> = targets
        .iter()
        .map(|(name, kind)| serde_json::json!({"name": name, "kind": kind, "url": null}))
        .collect();
    let manifest = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "scenario": {
            "name": scenario,
            "description": "",
            "source": format!("{scenario}.toml"),
            "source_text": "",
            "seed": 1,
            "model": "open",
            "arrivals": "uniform",
            "connections": "keep-alive",
            "max_connections": 256,
            "timeout_ms": 5000.0,
            "duration_scale": 1.0,
            "phases": phases,
            "targets": targets,
            "requests": [],
        },
        "coldfront_version": "test",
        "git_revision": null,
        "host": {"hostname": "test", "os": "linux", "arch": "x86_64", "cpus": 2, "generator_cpus": 1},
        "started_at": "2025-01-01T00:00:00Z",
        "ended_at": null,
        "command": [],
    });
    serde_json::from_value(manifest).expect("a valid manifest")
}

/// The summary of a target from its rows and histograms, as the recorder would write it.
pub fn summarize(rows: &[SeriesRow], latency: &Histogram<u64>, cold: Option<u64>) -> TargetSummary {
    let sum = |f: fn(&SeriesRow) -> u64| rows.iter().map(f).sum::<u64>();
    let requests = sum(|r| r.completed);
    let errors = sum(|r| r.errors);
    let timeouts = sum(|r| r.timeouts);
    let throttled = sum(|r| r.throttled);
    let rate = |n: u64| {
        if requests == 0 {
            0.0
        } else {
            n as f64 / requests as f64
        }
    };
    let stats = LatencyStats::from_histogram(latency);
    let mut error_kinds = BTreeMap::new();
    error_kinds.insert("client_timeout".to_string(), sum(|r| r.client_timeouts));
    error_kinds.insert("function_timeout".to_string(), sum(|r| r.function_timeouts));
    error_kinds.insert("throttled".to_string(), throttled);
    error_kinds.insert("http_5xx".to_string(), errors - timeouts - throttled);
    // Through serde, so fields added later with a default need no change here.
    let summary = serde_json::json!({
        "requests": requests,
        "sent": sum(|r| r.sent),
        "ok": sum(|r| r.ok),
        "errors": error_kinds,
        "timeouts": timeouts,
        "timeout_rate": rate(timeouts),
        "error_rate": rate(errors),
        "throttled": throttled,
        "throttle_rate": rate(throttled),
        "function_timeouts": sum(|r| r.function_timeouts),
        "throughput_rps": requests as f64 / rows.len().max(1) as f64,
        "duration_s": rows.len() as f64,
        "latency_ms": stats,
        "service_time_ms": stats,
        "connect_time_ms": stats,
        "send_lag_ms": stats,
        "cold_starts": cold,
        "cold_latency_ms": cold.map(|_| stats),
        "warm_latency_ms": cold.map(|_| stats),
        "connections": {
            "opened": sum(|r| r.connections_opened),
            "closed": 0,
            "failed": 0,
            "reused": 0,
            "max_open": rows.iter().map(|r| r.connections_open).max().unwrap_or(0),
        },
        "db_connections": {
            "max": rows.iter().filter_map(|r| r.db_connections).max().unwrap_or(0),
            "ceiling": 100,
        },
        "thresholds": [],
    });
    serde_json::from_value(summary).expect("a valid target summary")
}

fn interval(tag: Option<&str>, second: u64, histogram: Histogram<u64>) -> HlogInterval {
    HlogInterval {
        tag: tag.map(str::to_string),
        start: Duration::from_secs(second - 1),
        length: Duration::from_secs(1),
        histogram,
    }
}

/// One target over `seconds` seconds at `rate(second)` requests per second; a serverless one
/// cold-starts after idle gaps and reports instances.
pub fn target(
    name: &str,
    index: usize,
    serverless: bool,
    seconds: u64,
    rate: impl Fn(u64) -> u64,
) -> TargetData {
    let mut noise = Noise(SplitMix64::new(index as u64 + 7));
    let mut data = TargetData {
        name: name.into(),
        kind: if serverless {
            TargetKind::Serverless
        } else {
            TargetKind::Persistent
        },
        index,
        summary: None,
        series: Vec::new(),
        latency: Vec::new(),
        service_time: Vec::new(),
        cold_latency: Vec::new(),
        warm_latency: Vec::new(),
    };
    let mut all = new_histogram();
    let mut total_cold = 0;
    let (mut instances, mut idle) = (0u64, 0u64);
    for second in 1..=seconds {
        let n = rate(second);
        let (mut latency, mut service, mut cold_h, mut warm_h) = (
            new_histogram(),
            new_histogram(),
            new_histogram(),
            new_histogram(),
        );
        let wanted = if n == 0 { 0 } else { (n / 6).max(2) };
        let cold = if serverless {
            wanted.saturating_sub(instances)
        } else {
            0
        };
        idle = if n == 0 { idle + 1 } else { 0 };
        if serverless && idle > 5 {
            instances = 0;
        }
        instances = instances.max(wanted);
        let throttled = if n > 150 { n / 20 } else { 0 };
        let client_timeouts = u64::from(n > 0 && second % 7 == 0);
        let function_timeouts = u64::from(serverless && n > 0 && second % 9 == 0);
        let failed = u64::from(n > 0 && second % 5 == 0);
        for i in 0..n {
            let base = 600.0 + 900.0 * noise.next();
            let us = if i < cold {
                80_000.0 + 40_000.0 * noise.next()
            } else {
                base
            };
            latency.record(us as u64).unwrap();
            service.record((us * 0.85) as u64).unwrap();
            if serverless {
                if i < cold {
                    cold_h.record(us as u64).unwrap();
                } else {
                    warm_h.record(us as u64).unwrap();
                }
            }
        }
        all.add(&latency).unwrap();
        total_cold += cold;
        let timeouts = client_timeouts + function_timeouts;
        let errors = timeouts + throttled + failed;
        let quantile =
            |q: f64| (!latency.is_empty()).then(|| latency.value_at_quantile(q) as f64 / 1000.0);
        data.series.push(SeriesRow {
            target: name.into(),
            second,
            sent: n,
            completed: n,
            ok: n.saturating_sub(errors),
            errors: errors.min(n),
            timeouts,
            throttled,
            cold_starts: serverless.then_some(cold),
            connections_open: if serverless { instances } else { 2 },
            connections_opened: if serverless {
                cold
            } else {
                u64::from(second == 1) * 2
            },
            instances: serverless.then_some(instances),
            db_connections: Some(if serverless { instances } else { 2 }),
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
            client_timeouts,
            function_timeouts,
            ..SeriesRow::default()
        });
        data.latency.push(interval(None, second, latency));
        data.service_time
            .push(interval(Some(TAG_SERVICE_TIME), second, service));
        if serverless {
            data.cold_latency
                .push(interval(Some(TAG_COLD_LATENCY), second, cold_h));
            data.warm_latency
                .push(interval(Some(TAG_WARM_LATENCY), second, warm_h));
        }
    }
    data.summary = Some(summarize(
        &data.series,
        &all,
        serverless.then_some(total_cold),
    ));
    data
}

/// A result set of `targets` (named in the manifest in their order) under `phases`.
pub fn run(
    scenario: &str,
    status: RunStatus,
    phases: Vec<serde_json::Value>,
    targets: Vec<TargetData>,
) -> ResultSet {
    // The scenario names serverless and persistent (a run may have measured fewer) and any
    // other target given.
    let mut names: Vec<(&str, &str)> =
        vec![("serverless", "serverless"), ("persistent", "persistent")];
    for target in &targets {
        if !names.iter().any(|(name, _)| *name == target.name) {
            names.push((target.name.as_str(), target.kind.as_str()));
        }
    }
    let manifest = manifest(scenario, status, phases, &names);
    let summary = Summary {
        schema_version: SCHEMA_VERSION,
        scenario: manifest.scenario.name.clone(),
        status,
        targets: targets
            .iter()
            .filter_map(|t| Some((t.name.clone(), t.summary.clone()?)))
            .collect(),
    };
    ResultSet {
        dir: PathBuf::from("/nonexistent"),
        manifest,
        summary,
        targets,
    }
}

pub fn quickstart_phases() -> Vec<serde_json::Value> {
    vec![
        phase("steady", 0.0, 10.0, 50.0),
        phase("idle", 10.0, 8.0, 0.0),
        phase("burst", 18.0, 5.0, 100.0),
    ]
}

pub fn quickstart_rate(second: u64) -> u64 {
    match second {
        1..=10 => 50,
        11..=18 => 0,
        _ => 100,
    }
}

/// Like the quickstart run: 23 s, serverless (cold starts) and persistent.
pub fn sample() -> ResultSet {
    run(
        "quickstart",
        RunStatus::Complete,
        quickstart_phases(),
        vec![
            target("serverless", 0, true, 23, quickstart_rate),
            target("persistent", 1, false, 23, quickstart_rate),
        ],
    )
}

/// Requests per second of [`ten_minutes`]: a ramp, a steady stretch, an idle gap, bursts.
pub fn ten_minute_rate(second: u64) -> u64 {
    match second {
        0..=120 => 20 + second,
        121..=300 => 140,
        301..=360 => 0,
        _ if second % 60 < 10 => 400,
        _ => 100,
    }
}

/// A 10-minute run: 600 s, serverless (cold starts after the idle gap) and persistent, with
/// every interval log: what `report` and `compare` must handle quickly.
pub fn ten_minutes() -> ResultSet {
    run(
        "ten-minutes",
        RunStatus::Complete,
        vec![
            phase("ramp", 0.0, 120.0, 80.0),
            phase("steady", 120.0, 180.0, 140.0),
            phase("idle", 300.0, 60.0, 0.0),
            phase("bursts", 360.0, 240.0, 150.0),
        ],
        vec![
            target("serverless", 0, true, 600, ten_minute_rate),
            target("persistent", 1, false, 600, ten_minute_rate),
        ],
    )
}
