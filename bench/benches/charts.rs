//! Rendering every chart of a long run: `render_all` (six charts, each as SVG and PNG) on a
//! synthetic 10-minute result set built in memory: 600 s, two targets (a serverless one with
//! cold starts after idle gaps, a persistent one), each with per-second corrected latency,
//! service time, cold and warm interval logs. A report of such a run must draw in well under
//! 2 s.
//!
//! `cargo bench -p coldfront --bench charts` (about 30 s).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use coldfront::record::hlog::{HlogInterval, TAG_COLD_LATENCY, TAG_SERVICE_TIME, TAG_WARM_LATENCY};
use coldfront::record::recorder::new_histogram;
use coldfront::record::resultset::{LatencyStats, SCHEMA_VERSION};
use coldfront::record::series::SeriesRow;
use coldfront::record::{Manifest, RunStatus, Summary, TargetSummary};
use coldfront::report::{charts, RunData, TargetData};
use criterion::{criterion_group, criterion_main, Criterion};
use hdrhistogram::Histogram;

const SECONDS: u64 = 600;

/// A small deterministic generator (SplitMix64), uniform in [0, 1).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Requests per second: a ramp, a steady stretch, an idle gap, bursts.
fn rate(second: u64) -> u64 {
    match second {
        0..=120 => 20 + second,
        121..=300 => 140,
        301..=360 => 0,
        _ if second % 60 < 10 => 400,
        _ => 100,
    }
}

fn phases() -> serde_json::Value {
    let phase = |name: &str, start_s: f64, duration_s: f64| {
        serde_json::json!({"name": name, "start_s": start_s, "duration_s": duration_s,
            "rate_from": 100.0, "rate_to": 100.0, "concurrency": null, "think_time_ms": null})
    };
    serde_json::json!([
        phase("ramp", 0.0, 120.0),
        phase("steady", 120.0, 180.0),
        phase("idle", 300.0, 60.0),
        phase("bursts", 360.0, 240.0),
    ])
}

fn interval(tag: Option<&str>, second: u64, histogram: Histogram<u64>) -> HlogInterval {
    HlogInterval {
        tag: tag.map(str::to_string),
        start: Duration::from_secs(second - 1),
        length: Duration::from_secs(1),
        histogram,
    }
}

fn target(name: &str, index: usize, serverless: bool) -> TargetData {
    let mut noise = Noise(index as u64 + 1);
    let mut data = TargetData {
        name: name.into(),
        kind: if serverless {
            "serverless"
        } else {
            "persistent"
        }
        .into(),
        index,
        summary: None,
        series: Vec::new(),
        latency: Vec::new(),
        service_time: Vec::new(),
        cold_latency: Vec::new(),
        warm_latency: Vec::new(),
    };
    let mut all = new_histogram();
    let (mut instances, mut idle, mut total_cold) = (0u64, 0u64, 0u64);
    for second in 1..=SECONDS {
        let n = rate(second);
        let mut latency = new_histogram();
        let mut service = new_histogram();
        let mut cold_h = new_histogram();
        let mut warm_h = new_histogram();
        let wanted = n / 10;
        idle = if n == 0 { idle + 1 } else { 0 };
        if idle > 30 {
            instances = 0;
        }
        let cold = if serverless {
            wanted.saturating_sub(instances)
        } else {
            0
        };
        instances = instances.max(wanted);
        let throttled = if serverless && n > 300 { n / 25 } else { 0 };
        let client_timeouts = u64::from(n > 300 && second % 3 == 0);
        let function_timeouts = u64::from(serverless && n > 300 && second % 4 == 0);
        for i in 0..n {
            let mut us = 400.0 + 1500.0 * noise.next();
            if noise.next() < 0.05 {
                // An exponential tail: a few requests wait on something.
                us -= 4000.0 * (1.0 - noise.next()).ln();
            }
            if i < cold {
                us += 150_000.0 + 100_000.0 * noise.next();
            }
            latency.record(us as u64).unwrap();
            service.record((us * 0.8) as u64).unwrap();
            if serverless {
                let h = if i < cold { &mut cold_h } else { &mut warm_h };
                h.record(us as u64).unwrap();
            }
        }
        all.add(&latency).unwrap();
        total_cold += cold;
        let timeouts = client_timeouts + function_timeouts;
        let errors = (timeouts + throttled + u64::from(second % 50 == 0)).min(n);
        let quantile =
            |q: f64| (!latency.is_empty()).then(|| latency.value_at_quantile(q) as f64 / 1000.0);
        data.series.push(SeriesRow {
            target: name.into(),
            second,
            sent: n,
            completed: n,
            ok: n - errors,
            errors,
            timeouts,
            throttled,
            cold_starts: serverless.then_some(cold),
            connections_open: if serverless { instances } else { 16 },
            connections_opened: if serverless { cold } else { 0 },
            instances: serverless.then_some(instances),
            db_connections: Some(if serverless { instances } else { 10 }),
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
            client_timeouts,
            function_timeouts,
            ..SeriesRow::default()
        });
        data.latency.push(interval(None, second, latency));
        data.service_time
            .push(interval(Some(TAG_SERVICE_TIME), second, service));
        data.cold_latency
            .push(interval(Some(TAG_COLD_LATENCY), second, cold_h));
        data.warm_latency
            .push(interval(Some(TAG_WARM_LATENCY), second, warm_h));
    }
    data.summary = Some(summary(
        &data.series,
        &all,
        serverless.then_some(total_cold),
    ));
    data
}

fn summary(rows: &[SeriesRow], latency: &Histogram<u64>, cold: Option<u64>) -> TargetSummary {
    let sum = |f: fn(&SeriesRow) -> u64| rows.iter().map(f).sum::<u64>();
    let requests = sum(|r| r.completed);
    let rate = |n: u64| n as f64 / requests.max(1) as f64;
    let stats = LatencyStats::from_histogram(latency);
    // Through serde, so fields added later with a default need no change here.
    let summary = serde_json::json!({
        "requests": requests,
        "sent": sum(|r| r.sent),
        "ok": sum(|r| r.ok),
        "errors": serde_json::json!({}),
        "timeouts": sum(|r| r.timeouts),
        "timeout_rate": rate(sum(|r| r.timeouts)),
        "error_rate": rate(sum(|r| r.errors)),
        "throttled": sum(|r| r.throttled),
        "throttle_rate": rate(sum(|r| r.throttled)),
        "function_timeouts": sum(|r| r.function_timeouts),
        "throughput_rps": requests as f64 / SECONDS as f64,
        "duration_s": SECONDS as f64,
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

fn ten_minute_run() -> RunData {
    let targets = vec![
        target("serverless", 0, true),
        target("persistent", 1, false),
    ];
    let target_records: Vec<serde_json::Value> = targets
        .iter()
        .map(|t| serde_json::json!({"name": t.name, "kind": t.kind, "url": null}))
        .collect();
    // Through serde, so fields added later with a default need no change here.
    let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "status": "complete",
            "scenario": {
                "name": "ten-minutes",
                "description": "",
                "source": "ten-minutes.toml",
                "source_text": "",
                "seed": 1,
                "model": "open",
                "arrivals": "uniform",
                "connections": "keep-alive",
                "max_connections": 256,
                "timeout_ms": 5000.0,
                "duration_scale": 1.0,
                "phases": phases(),
                "targets": target_records,
                "requests": [],
            },
            "coldfront_version": "bench",
            "git_revision": null,
            "host": {"hostname": "bench", "os": "linux", "arch": "x86_64", "cpus": 2, "generator_cpus": 1},
            "started_at": "2025-01-01T00:00:00Z",
            "ended_at": null,
            "command": [],
        }))
    .expect("a valid manifest");
    let summary = Summary {
        schema_version: SCHEMA_VERSION,
        scenario: manifest.scenario.name.clone(),
        status: RunStatus::Complete,
        targets: targets
            .iter()
            .filter_map(|t| Some((t.name.clone(), t.summary.clone()?)))
            .collect(),
    };
    RunData {
        dir: PathBuf::from("bench"),
        manifest,
        summary,
        targets,
    }
}

fn render_all(c: &mut Criterion) {
    let run = ten_minute_run();
    if let Ok(dir) = std::env::var("COLDFRONT_CHARTS_OUT") {
        let charts = charts::render_all(&run).expect("charts render");
        charts::write(&charts, std::path::Path::new(&dir)).expect("charts written");
    }
    let mut group = c.benchmark_group("charts");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("render_all 600 s x 2 targets", |b| {
        b.iter(|| charts::render_all(black_box(&run)).expect("charts render"))
    });
    // What `run` does at the end of a 10-minute run: every chart, then the page embedding them.
    group.bench_function("charts and report.html 600 s x 2 targets", |b| {
        b.iter(|| {
            let charts = charts::render_all(black_box(&run)).expect("charts render");
            coldfront::report::html::result_page(&run, &charts, None)
        })
    });
    group.finish();
}

criterion_group!(benches, render_all);
criterion_main!(benches);
