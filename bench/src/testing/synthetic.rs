//! The one builder of result sets for tests and benchmarks, made in memory and
//! deterministically: a target's per-second series, interval logs and summary from a
//! [`Shape`] (a serverless target cold-starts after idle gaps, as the rate grows and when its
//! instances are recycled, and reports instances), a run like the quickstart, a 10-minute run
//! of the size the report must draw in well under 2 s, and [`write`] to put one on disk as a
//! run would.

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

/// Uniform noise in (0, 1], and a skewed factor around 1.
struct Noise(SplitMix64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0.next_unit()
    }

    /// Roughly log-normal around 1 (the product of uniforms is skewed enough here).
    fn skewed(&mut self) -> f64 {
        (0.5 + self.next()) * (0.5 + self.next()) * (0.5 + self.next()).powi(3)
    }
}

/// What one synthetic target does, second by second.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub kind: TargetKind,
    pub seconds: u64,
    /// Requests in second `s` (1-based).
    pub rate: fn(u64) -> u64,
    /// Warm latency is about this, varying ±10% from second to second and skewed within one.
    pub median_ms: f64,
    /// Serverless: every instance is replaced this often (a cold start for each), besides the
    /// cold starts after idle gaps and when the rate grows.
    pub recycle_s: Option<u64>,
    /// Throttles, client and function timeouts and failed requests sprinkled over the run.
    pub faults: bool,
    /// The noise of target `index` is seeded with `seed + index`.
    pub seed: u64,
}

impl Shape {
    /// A serverless target: cold starts after idle gaps and as the rate grows, with faults.
    pub fn serverless(seconds: u64, rate: fn(u64) -> u64) -> Shape {
        Shape {
            kind: TargetKind::Serverless,
            seconds,
            rate,
            median_ms: 1.0,
            recycle_s: None,
            faults: true,
            seed: 7,
        }
    }

    /// A persistent target: no cold starts, two pooled connections, with faults.
    pub fn persistent(seconds: u64, rate: fn(u64) -> u64) -> Shape {
        Shape {
            kind: TargetKind::Persistent,
            ..Shape::serverless(seconds, rate)
        }
    }

    fn is_serverless(&self) -> bool {
        self.kind == TargetKind::Serverless
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
    let (start, length) = (Duration::from_secs(second - 1), Duration::from_secs(1));
    HlogInterval::new(tag, start, length, &histogram)
}

/// One target of `shape`: per-second series, interval logs (latency, service time, cold and
/// warm) and its summary.
pub fn target(name: &str, index: usize, shape: &Shape) -> TargetData {
    let mut data = TargetData {
        name: name.into(),
        kind: shape.kind,
        index,
        summary: None,
        series: Vec::new(),
        latency: Vec::new(),
        service_time: Vec::new(),
        cold_latency: Vec::new(),
        warm_latency: Vec::new(),
    };
    let mut state = Instances {
        noise: Noise(SplitMix64::new(shape.seed.wrapping_add(index as u64))),
        alive: 0,
        idle_for: 0,
    };
    let mut all = new_histogram();
    let mut total_cold = 0;
    for second in 1..=shape.seconds {
        let recorded = state.second(shape, second);
        all.add(&recorded.latency).expect("same bounds");
        total_cold += recorded.cold;
        data.series
            .push(recorded.row(name, shape, second, state.alive));
        data.latency.push(interval(None, second, recorded.latency));
        data.service_time
            .push(interval(Some(TAG_SERVICE_TIME), second, recorded.service));
        if shape.is_serverless() {
            data.cold_latency.push(interval(
                Some(TAG_COLD_LATENCY),
                second,
                recorded.cold_latency,
            ));
            data.warm_latency.push(interval(
                Some(TAG_WARM_LATENCY),
                second,
                recorded.warm_latency,
            ));
        }
    }
    let cold = shape.is_serverless().then_some(total_cold);
    data.summary = Some(summarize(&data.series, &all, cold));
    data
}

/// A target's instances and noise as the seconds go by.
struct Instances {
    noise: Noise,
    alive: u64,
    idle_for: u64,
}

/// What one second recorded.
struct Second {
    requests: u64,
    cold: u64,
    latency: Histogram<u64>,
    service: Histogram<u64>,
    cold_latency: Histogram<u64>,
    warm_latency: Histogram<u64>,
}

impl Instances {
    fn second(&mut self, shape: &Shape, second: u64) -> Second {
        let n = (shape.rate)(second);
        let wanted = if n == 0 { 0 } else { (n / 6).max(2) };
        let recycled = shape.recycle_s.is_some_and(|every| second % every == 1);
        self.idle_for = if n == 0 { self.idle_for + 1 } else { 0 };
        if shape.is_serverless() && (self.idle_for > 5 || recycled) {
            self.alive = 0;
        }
        let cold = if shape.is_serverless() {
            wanted.saturating_sub(self.alive)
        } else {
            0
        };
        self.alive = self.alive.max(wanted);
        let mut recorded = Second {
            requests: n,
            cold,
            latency: new_histogram(),
            service: new_histogram(),
            cold_latency: new_histogram(),
            warm_latency: new_histogram(),
        };
        let scale = 0.9 + 0.2 * self.noise.next();
        for i in 0..n {
            let warm = (shape.median_ms * 1000.0 * scale * self.noise.skewed()).max(1.0);
            let is_cold = i < cold;
            let us = if is_cold {
                (warm + 100_000.0 + 20_000.0 * self.noise.next()) as u64
            } else {
                warm as u64
            };
            recorded.latency.record(us).expect("in range");
            recorded
                .service
                .record((us * 9 / 10).max(1))
                .expect("in range");
            let split = if is_cold {
                &mut recorded.cold_latency
            } else {
                &mut recorded.warm_latency
            };
            split.record(us).expect("in range");
        }
        recorded
    }
}

impl Second {
    fn row(&self, name: &str, shape: &Shape, second: u64, instances: u64) -> SeriesRow {
        let (n, serverless) = (self.requests, shape.is_serverless());
        let faults = shape.faults && n > 0;
        let throttled = if shape.faults && n > 150 { n / 20 } else { 0 };
        let client_timeouts = u64::from(faults && second % 7 == 0);
        let function_timeouts = u64::from(faults && serverless && second % 9 == 0);
        let failed = u64::from(faults && second % 5 == 0);
        let timeouts = client_timeouts + function_timeouts;
        let errors = timeouts + throttled + failed;
        let quantile = |q: f64| {
            (!self.latency.is_empty()).then(|| self.latency.value_at_quantile(q) as f64 / 1000.0)
        };
        SeriesRow {
            target: name.into(),
            second,
            sent: n,
            completed: n,
            ok: n.saturating_sub(errors),
            errors: errors.min(n),
            timeouts,
            throttled,
            cold_starts: serverless.then_some(self.cold),
            connections_open: if serverless { instances } else { 2 },
            connections_opened: if serverless {
                self.cold
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
        }
    }
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
            target("serverless", 0, &Shape::serverless(23, quickstart_rate)),
            target("persistent", 1, &Shape::persistent(23, quickstart_rate)),
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
            target("serverless", 0, &Shape::serverless(600, ten_minute_rate)),
            target("persistent", 1, &Shape::persistent(600, ten_minute_rate)),
        ],
    )
}

/// Writes `run` as a result set in `dir`: manifest, series and logs, as a run would (no
/// summary: it reads as a run that was interrupted before writing one, whatever its status).
pub fn write(run: &ResultSet, dir: &std::path::Path) -> std::io::Result<()> {
    use crate::resultset::{self, hlog, series};
    std::fs::create_dir_all(dir)?;
    resultset::write_json(&dir.join(resultset::MANIFEST_FILE), &run.manifest)?;
    let mut csv = format!("{}\n", series::HEADER).into_bytes();
    for target in &run.targets {
        for row in &target.series {
            row.write_csv(&mut csv)?;
        }
        let mut log = Vec::new();
        let mut writer = hlog::HlogWriter::begin(&mut log, std::time::SystemTime::now())?;
        for k in 0..target.latency.len() {
            let logs = [
                &target.latency,
                &target.service_time,
                &target.cold_latency,
                &target.warm_latency,
            ];
            for interval in logs.iter().filter_map(|l| l.get(k)) {
                let (tag, histogram) = (interval.tag.as_deref(), interval.histogram());
                writer.write_interval(
                    &mut log,
                    tag,
                    &histogram,
                    interval.start,
                    interval.length,
                )?;
            }
        }
        std::fs::write(dir.join(resultset::hlog_file(&target.name)), log)?;
    }
    std::fs::write(dir.join(resultset::TIMESERIES_FILE), csv)
}
