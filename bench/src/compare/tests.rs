//! `compare` on result sets built in memory: verdicts per target, targets on one side only,
//! refusals, and (ignored unless asked for) the time a 10-minute pair takes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;
use crate::compare::model::RunToRunNoise;
use crate::compare::stats::Verdict;
use crate::model::{RunStatus, TargetKind};
use crate::resultset::{TargetData, SCHEMA_VERSION};
use crate::testing::synthetic::{self, Shape};

/// 30 s at 200 requests/s, latency about 2 ms, no faults: what the verdicts are judged on.
const STEADY: Shape = Shape {
    kind: TargetKind::Persistent,
    seconds: 30,
    rate: |_| 200,
    median_ms: 2.0,
    recycle_s: None,
    faults: false,
    seed: 0,
};

/// A target of `shape` whose noise starts from `seed`.
fn target(name: &str, index: usize, shape: Shape, seed: u64) -> TargetData {
    synthetic::target(name, index, &Shape { seed, ..shape })
}

/// A result set of one steady phase as long as its longest target.
fn run(scenario: &str, targets: Vec<TargetData>) -> ResultSet {
    let seconds = targets.iter().map(|t| t.series.len()).max().unwrap_or(0) as f64;
    let mut run = synthetic::run(
        scenario,
        RunStatus::Interrupted,
        vec![synthetic::phase("steady", 0.0, seconds, 200.0)],
        targets,
    );
    run.dir = PathBuf::from(format!("/results/{scenario}"));
    run
}

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
    let slower = Shape {
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
    let comparison = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&b),
        &Bootstrap::default(),
        0.05,
        Some(0.0),
    )
    .unwrap();
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

/// `runs` result sets of one target whose median is `median_ms` × each run's own factor.
fn runs(medians_ms: &[f64], seed: u64) -> Vec<ResultSet> {
    medians_ms
        .iter()
        .enumerate()
        .map(|(k, &median_ms)| {
            let shape = Shape {
                median_ms,
                ..STEADY
            };
            run("api", vec![target("t", 0, shape, seed + k as u64)])
        })
        .collect()
}

fn p50(comparison: &Comparison) -> &MetricComparison {
    comparison
        .metrics()
        .find(|(_, m)| m.metric == "latency.p50")
        .unwrap()
        .1
}

#[test]
fn several_runs_a_side_build_the_interval_between_runs() {
    // Each run's level differs by a few percent, as runs on one machine do; the five runs of
    // each side overlap.
    let a = runs(&[2.0, 2.12, 1.94, 2.06, 1.9], 10);
    let b = runs(&[2.1, 1.96, 2.04, 1.92, 2.08], 20);
    let comparison = compare(&a, &b, &Bootstrap::default(), 0.05, None).unwrap();
    assert_eq!((comparison.a_runs.len(), comparison.b_runs.len()), (5, 5));
    let metric = p50(&comparison);
    assert_eq!((metric.a_runs.len(), metric.b_runs.len()), (5, 5));
    assert_eq!(
        metric.allowance, None,
        "the noise was measured: no allowance"
    );
    assert_eq!(metric.verdict, Verdict::NoSignificantChange);
    assert_eq!(comparison.failures().count(), 0);
    let single = compare(&a[1..2], &b[3..4], &Bootstrap::default(), 0.05, None).unwrap();
    assert_eq!(single.run_to_run_noise, RunToRunNoise::NotMeasured);
    assert!(p50(&single).a_runs.is_empty() && p50(&single).allowance.is_some());

    // The same spread with B 30% slower in every run: regressed, and --fail-on-regression fails.
    let slower = runs(&[2.73, 2.55, 2.65, 2.5, 2.7], 30);
    let comparison = compare(&a, &slower, &Bootstrap::default(), 0.05, None).unwrap();
    let metric = p50(&comparison);
    assert_eq!(metric.verdict, Verdict::Regressed);
    assert!(metric.beyond_tolerance);
    let interval = metric.interval.unwrap();
    assert!(interval.low > 0.3 && interval.high < 0.9, "{interval:?}");
}

#[test]
fn one_run_a_side_counts_a_significant_change_only_beyond_the_allowance() {
    let a = runs(&[2.0], 40);
    let b = runs(&[2.2], 41);
    let judged = |allowance| {
        let comparison = compare(&a, &b, &Bootstrap::default(), 0.05, Some(allowance)).unwrap();
        let metric = p50(&comparison).clone();
        (
            metric.verdict,
            metric.allowance,
            comparison.failures().count() > 0,
        )
    };
    // A 10% change: significant within the runs, so regressed with no allowance ...
    assert_eq!(judged(0.0), (Verdict::Regressed, Some(0.0), true));
    // ... and within run-to-run noise under a 20% allowance, which does not fail CI.
    let (verdict, allowance, fails) = judged(0.2);
    assert_eq!((verdict, allowance), (Verdict::WithinNoise, Some(0.2)));
    assert!(!fails);
}

#[test]
fn cold_start_latency_is_compared_when_both_report_cold_starts() {
    let serverless = Shape {
        kind: TargetKind::Serverless,
        seconds: 300,
        rate: |_| 50,
        median_ms: 1.0,
        recycle_s: Some(60),
        ..STEADY
    };
    let a = run("fn", vec![target("s", 0, serverless, 1)]);
    let b = run("fn", vec![target("s", 0, serverless, 2)]);
    let comparison = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&b),
        &Bootstrap::default(),
        0.05,
        Some(0.0),
    )
    .unwrap();
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
    let error = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&b),
        &Bootstrap::default(),
        0.05,
        Some(0.0),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot compare result sets of different scenarios: A (/results/alpha) is \"alpha\", \
         B (/results/beta) is \"beta\""
    );
    let mut newer = run("alpha", vec![target("t", 0, STEADY, 1)]);
    newer.manifest.schema_version = SCHEMA_VERSION + 1;
    let error = compare(
        std::slice::from_ref(&a),
        std::slice::from_ref(&newer),
        &Bootstrap::default(),
        0.05,
        Some(0.0),
    )
    .unwrap_err();
    assert!(error.to_string().contains(&format!(
        "A (/results/alpha) is version {SCHEMA_VERSION}, B (/results/alpha) is version {}",
        SCHEMA_VERSION + 1
    )));
}

/// A 10-minute pair at 1000 req/s (a serverless target with cold starts and a persistent
/// one): written to disk, loaded and compared. Run with
/// `cargo test --release -p coldfront --lib ten_minute -- --ignored --nocapture`.
#[test]
#[ignore = "timing: run in release"]
fn ten_minute_pair_compares_quickly() {
    let shape = |kind| Shape {
        kind,
        seconds: 600,
        rate: |_| 1000,
        recycle_s: Some(60),
        ..STEADY
    };
    let build = |seed| {
        run(
            "ten-minutes",
            vec![
                target("serverless", 0, shape(TargetKind::Serverless), seed),
                target("persistent", 1, shape(TargetKind::Persistent), seed + 1),
            ],
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    synthetic::write(&build(1), &a_dir).unwrap();
    synthetic::write(&build(3), &b_dir).unwrap();

    let started = Instant::now();
    let (a, b) = load(&[a_dir], &[b_dir]).unwrap();
    let loaded = started.elapsed();
    let (started, cpu_before) = (Instant::now(), process_cpu_time());
    let comparison = compare(&a, &b, &Bootstrap::default(), 0.05, Some(0.0)).unwrap();
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
