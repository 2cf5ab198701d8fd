//! `compare` on result sets built in memory: verdicts per target, targets on one side only,
//! refusals, and (ignored unless asked for) the time a 10-minute pair takes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::*;
use crate::model::{RunStatus, TargetKind};
use crate::resultset::hlog::new_histogram;
use crate::resultset::hlog::{HlogInterval, TAG_COLD_LATENCY, TAG_SERVICE_TIME, TAG_WARM_LATENCY};
use crate::resultset::series::SeriesRow;
use crate::resultset::TargetData;
use crate::resultset::SCHEMA_VERSION;
use crate::resultset::{Manifest, Summary};

/// What one synthetic target does: `rate` requests a second for `seconds`, latency around
/// `median_ms`; a serverless one cold-starts at the first request of every 60 s.
#[derive(Clone, Copy)]
struct Load {
    seconds: u64,
    rate: u64,
    median_ms: f64,
    serverless: bool,
}

struct Noise(crate::rng::SplitMix64);

impl Noise {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly log-normal around 1 (the product of two uniforms is skewed enough here).
    fn skewed(&mut self) -> f64 {
        (0.5 + self.unit()) * (0.5 + self.unit()) * (0.5 + self.unit()).powi(3)
    }
}

fn interval(tag: Option<&str>, second: u64, histogram: Histogram<u64>) -> HlogInterval {
    HlogInterval {
        tag: tag.map(str::to_string),
        start: Duration::from_secs(second - 1),
        length: Duration::from_secs(1),
        histogram,
    }
}

fn target(name: &str, index: usize, load: Load, seed: u64) -> TargetData {
    let mut noise = Noise(crate::rng::SplitMix64::new(seed));
    let mut data = TargetData {
        name: name.into(),
        kind: if load.serverless {
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
    for second in 1..=load.seconds {
        let scale = 0.9 + 0.2 * noise.unit(); // seconds differ by ±10%
        let (mut latency, mut service, mut cold, mut warm) = (
            new_histogram(),
            new_histogram(),
            new_histogram(),
            new_histogram(),
        );
        let cold_now = load.serverless && second % 60 == 1;
        for request in 0..load.rate {
            let us = (load.median_ms * 1000.0 * scale * noise.skewed()).max(1.0) as u64;
            let is_cold = cold_now && request < 8;
            let us = if is_cold { us + 100_000 } else { us };
            latency.record(us).unwrap();
            service.record((us * 9 / 10).max(1)).unwrap();
            if is_cold {
                cold.record(us).unwrap();
            } else {
                warm.record(us).unwrap();
            }
        }
        data.series.push(SeriesRow {
            target: name.into(),
            second,
            sent: load.rate,
            completed: load.rate,
            ok: load.rate,
            cold_starts: load.serverless.then_some(if cold_now { 8 } else { 0 }),
            connections_open: 8,
            db_connections: Some(4),
            ..SeriesRow::default()
        });
        data.latency.push(interval(None, second, latency));
        data.service_time
            .push(interval(Some(TAG_SERVICE_TIME), second, service));
        if load.serverless {
            data.cold_latency
                .push(interval(Some(TAG_COLD_LATENCY), second, cold));
            data.warm_latency
                .push(interval(Some(TAG_WARM_LATENCY), second, warm));
        }
    }
    data
}

/// Through serde, so fields added later with a default need no change here.
fn manifest(scenario: &str, seconds: u64, targets: &[TargetData]) -> Manifest {
    let targets: Vec<serde_json::Value> = targets
        .iter()
        .map(|t| serde_json::json!({"name": t.name, "kind": t.kind, "url": null}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "status": "interrupted",
        "scenario": {
            "name": scenario, "description": "", "source": "s.toml", "source_text": "",
            "seed": 1, "model": "open", "arrivals": "uniform", "connections": "keep-alive",
            "max_connections": 256, "timeout_ms": 5000.0, "duration_scale": 1.0,
            "phases": [{"name": "steady", "start_s": 0.0, "duration_s": seconds as f64,
                        "rate_from": 1000.0, "rate_to": 1000.0, "concurrency": null,
                        "think_time_ms": null}],
            "targets": targets, "requests": [],
        },
        "coldfront_version": "test", "git_revision": null,
        "host": {"hostname": "test", "os": "linux", "arch": "x86_64", "cpus": 2,
                 "generator_cpus": 1},
        "started_at": "2025-01-01T00:00:00Z", "ended_at": null, "command": [],
    }))
    .expect("a valid manifest")
}

fn run(scenario: &str, targets: Vec<TargetData>) -> ResultSet {
    let seconds = targets
        .iter()
        .map(|t| t.series.len() as u64)
        .max()
        .unwrap_or(0);
    let manifest = manifest(scenario, seconds, &targets);
    ResultSet {
        dir: PathBuf::from(format!("/results/{scenario}")),
        summary: Summary {
            schema_version: SCHEMA_VERSION,
            scenario: scenario.into(),
            status: RunStatus::Interrupted,
            targets: Default::default(),
        },
        manifest,
        targets,
    }
}

const STEADY: Load = Load {
    seconds: 30,
    rate: 200,
    median_ms: 2.0,
    serverless: false,
};

#[test]
fn a_slower_target_regresses_and_the_same_one_does_not() {
    let a = run(
        "api",
        vec![
            target("same", 0, STEADY, 1),
            target("slower", 1, STEADY, 2),
            target("gone", 2, STEADY, 3),
        ],
    );
    let slower = Load {
        median_ms: 2.5,
        ..STEADY
    };
    let b = run(
        "api",
        vec![
            target("same", 0, STEADY, 4),
            target("slower", 1, slower, 5),
            target("new", 2, STEADY, 6),
        ],
    );
    let comparison = compare(&a, &b, &Bootstrap::default(), 0.05).unwrap();
    assert_eq!(comparison.only_in_a, ["gone"]);
    assert_eq!(comparison.only_in_b, ["new"]);
    let names: Vec<&str> = comparison.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["same", "slower"]);
    let verdict = |target: usize, metric: &str| {
        let m = comparison.targets[target]
            .metrics
            .iter()
            .find(|m| m.metric == metric)
            .unwrap_or_else(|| panic!("{metric}"));
        (m.verdict, m.beyond_tolerance)
    };
    for metric in ["latency.p50", "latency.p90", "service_time.p50"] {
        assert_eq!(verdict(1, metric), (Verdict::Regressed, true), "{metric}");
        assert_eq!(
            verdict(0, metric).0,
            Verdict::NoSignificantChange,
            "{metric}"
        );
    }
    assert_eq!(verdict(1, "throughput_rps").0, Verdict::NoSignificantChange);
    assert_eq!(verdict(1, "timeout_rate").0, Verdict::NoSignificantChange);
    assert_eq!(
        verdict(1, "db_connections.mean").0,
        Verdict::NoSignificantChange
    );
    let failed: Vec<&str> = comparison
        .failures()
        .map(|(t, _)| t.name.as_str())
        .collect();
    assert!(failed.iter().all(|&t| t == "slower") && !failed.is_empty());
    // Targets without cold starts get no cold-start metric.
    assert!(comparison
        .metrics()
        .all(|(_, m)| !m.metric.starts_with("cold_latency")));
}

#[test]
fn cold_start_latency_is_compared_when_both_report_cold_starts() {
    let serverless = Load {
        seconds: 300,
        rate: 50,
        median_ms: 1.0,
        serverless: true,
    };
    let a = run("fn", vec![target("s", 0, serverless, 1)]);
    let b = run("fn", vec![target("s", 0, serverless, 2)]);
    let comparison = compare(&a, &b, &Bootstrap::default(), 0.05).unwrap();
    let cold: Vec<&MetricComparison> = comparison
        .metrics()
        .map(|(_, m)| m)
        .filter(|m| m.metric.starts_with("cold_latency"))
        .collect();
    assert_eq!(cold.len(), 2);
    for metric in cold {
        assert!(metric.a > 100.0, "{metric:?}");
        assert_ne!(metric.verdict, Verdict::Regressed, "{metric:?}");
    }
}

#[test]
fn different_scenarios_and_versions_are_refused_naming_both() {
    let a = run("alpha", vec![target("t", 0, STEADY, 1)]);
    let b = run("beta", vec![target("t", 0, STEADY, 1)]);
    let error = compare(&a, &b, &Bootstrap::default(), 0.05).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot compare result sets of different scenarios: A (/results/alpha) is \"alpha\", \
         B (/results/beta) is \"beta\""
    );
    let mut newer = run("alpha", vec![target("t", 0, STEADY, 1)]);
    newer.manifest.schema_version = SCHEMA_VERSION + 1;
    let error = compare(&a, &newer, &Bootstrap::default(), 0.05).unwrap_err();
    assert!(error.to_string().contains(&format!(
        "A (/results/alpha) is version {SCHEMA_VERSION}, B (/results/alpha) is version {}",
        SCHEMA_VERSION + 1
    )));
}

/// Writes `run` as an (interrupted) result set: manifest, series and logs, as a run would.
fn write_result_set(run: &ResultSet, dir: &Path) {
    use crate::resultset::{self, hlog, series};
    std::fs::create_dir_all(dir).unwrap();
    resultset::write_json(&dir.join(resultset::MANIFEST_FILE), &run.manifest).unwrap();
    let mut csv = format!("{}\n", series::HEADER).into_bytes();
    for target in &run.targets {
        for row in &target.series {
            row.write_csv(&mut csv).unwrap();
        }
        let mut log = Vec::new();
        let mut writer = hlog::HlogWriter::begin(&mut log, std::time::SystemTime::now()).unwrap();
        for k in 0..target.latency.len() {
            let logs = [
                &target.latency,
                &target.service_time,
                &target.cold_latency,
                &target.warm_latency,
            ];
            for interval in logs.iter().filter_map(|l| l.get(k)) {
                let tag = interval.tag.as_deref();
                writer
                    .write_interval(
                        &mut log,
                        tag,
                        &interval.histogram,
                        interval.start,
                        interval.length,
                    )
                    .unwrap();
            }
        }
        std::fs::write(dir.join(resultset::hlog_file(&target.name)), log).unwrap();
    }
    std::fs::write(dir.join(resultset::TIMESERIES_FILE), csv).unwrap();
}

/// A 10-minute pair at 1000 req/s (a serverless target with cold starts and a persistent
/// one): written to disk, loaded and compared. Run with
/// `cargo test --release -p coldfront --lib ten_minute -- --ignored --nocapture`.
#[test]
#[ignore = "timing: run in release"]
fn ten_minute_pair_compares_quickly() {
    let shape = |serverless| Load {
        seconds: 600,
        rate: 1000,
        median_ms: 2.0,
        serverless,
    };
    let build = |seed| {
        run(
            "ten-minutes",
            vec![
                target("serverless", 0, shape(true), seed),
                target("persistent", 1, shape(false), seed + 1),
            ],
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    write_result_set(&build(1), &a_dir);
    write_result_set(&build(3), &b_dir);

    let started = Instant::now();
    let (a, b) = load(&a_dir, &b_dir).unwrap();
    let loaded = started.elapsed();
    let (started, cpu_before) = (Instant::now(), process_cpu_time());
    let comparison = compare(&a, &b, &Bootstrap::default(), 0.05).unwrap();
    let (compared, cpu) = (started.elapsed(), process_cpu_time() - cpu_before);
    let metrics = comparison.metrics().count();
    println!(
        "10-minute pair, 2 targets, 1000 req/s: load {loaded:.2?}, compare {compared:.2?} \
         (CPU {cpu:.2?}; {metrics} metrics, {} resamples each)",
        comparison.method.resamples
    );
    assert_eq!(
        metrics,
        2 * 14 + 2,
        "every metric, cold starts for serverless"
    );
    if !cfg!(debug_assertions) {
        assert!(
            compared < Duration::from_secs(2),
            "compare took {compared:?}"
        );
    }
}

#[test]
fn tolerance_as_percent_or_fraction() {
    assert_eq!(parse_tolerance("5%"), Ok(0.05));
    assert_eq!(parse_tolerance("0.05"), Ok(0.05));
    assert_eq!(parse_tolerance(" 12.5 % "), Ok(0.125));
    assert_eq!(parse_tolerance("0"), Ok(0.0));
    assert!(parse_tolerance("five").unwrap_err().contains("\"5%\""));
    assert!(parse_tolerance("150%")
        .unwrap_err()
        .contains("out of range"));
    assert!(parse_tolerance("-1%").is_err());
}

/// CPU time of the whole process so far (all threads).
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a pointer to a timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
