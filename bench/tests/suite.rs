//! The scenario suite (`scenarios/`) end to end in its shortened form: every scenario at half
//! length against both built-in targets, each on its own throwaway PostgreSQL, and every
//! threshold — each encodes the finding its claim predicts — must hold.
//!
//! A test binary of its own: cargo runs test binaries one after another, so the suite's
//! measurements do not share the two cores with the end-to-end tests. Within it the two runs
//! take turns ([`ONE_RUN_AT_A_TIME`]): side by side on two cores, eight Next.js instances
//! starting at once took 5–8 s each in CI and missed thresholds the claims do hold.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use coldfront::testing::assert_exit;

fn read_summary(dir: &Path) -> coldfront::resultset::Summary {
    coldfront::resultset::read_json(&dir.join("summary.json"), "summary").unwrap()
}

/// Held by each measuring test for the length of its run, so no two share the machine.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> MutexGuard<'static, ()> {
    // A test that panicked while holding it poisons it; the next run is still alone.
    ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

const CLAIMS: [&str; 8] = [
    "cold-start-after-idle",
    "crud-steady",
    "db-connection-storm",
    "keep-warm-sweep",
    "long-jobs-timeout",
    "naive-vs-singleton",
    "rate-limit-leak",
    "realtime-sse-websocket",
];

#[test]
fn the_suite_validates() {
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .arg("validate")
        .arg(suite_dir())
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for claim in CLAIMS {
        assert!(
            stdout.contains(&format!("({claim})")),
            "{claim} validated:\n{stdout}"
        );
    }
}

#[test]
fn the_suite_at_half_length_holds_every_threshold() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .arg("run")
        .arg(suite_dir())
        .args(["--duration-scale", "0.5", "--out"])
        .arg(&out)
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    assert_exit(&output, 0);
    for claim in CLAIMS {
        let set = out.join(claim);
        let summary = read_summary(&set);
        assert_eq!(
            summary.targets.len(),
            if claim == "naive-vs-singleton" { 3 } else { 2 }
        );
        for (target, s) in &summary.targets {
            assert!(!s.thresholds.is_empty(), "{claim}/{target} has thresholds");
            for verdict in &s.thresholds {
                assert!(verdict.passed, "{claim}/{target}: {verdict:?}");
            }
        }
        assert!(set.join("report.html").is_file(), "{claim} has its report");
    }
}

const FRAMEWORKS: [&str; 4] = [
    "frameworks-cold-start",
    "frameworks-db-connection-storm",
    "frameworks-rate-limit-leak",
    "frameworks-realtime",
];

/// The framework scenarios (`scenarios/frameworks/`: the Express and Next.js examples as
/// command targets, serverless and persistent) at half length: `prepare` (npm ci, next build)
/// when their stamps say so, then every threshold must hold.
#[test]
fn the_framework_scenarios_at_half_length_hold_every_threshold() {
    let _alone = alone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .arg("run")
        .arg(suite_dir().join("frameworks"))
        .args(["--duration-scale", "0.5", "--out"])
        .arg(&out)
        .timeout(Duration::from_secs(900))
        .output()
        .unwrap();
    assert_exit(&output, 0);
    for scenario in FRAMEWORKS {
        let set = out.join(scenario);
        let summary = read_summary(&set);
        assert!(summary.targets.len() >= 3, "{scenario}");
        for (target, s) in &summary.targets {
            for verdict in &s.thresholds {
                assert!(verdict.passed, "{scenario}/{target}: {verdict:?}");
            }
        }
    }
}
