//! End-to-end tests of `run --repeat N` and of `compare` on several runs a side, against the
//! loopback test server: one set holding each repetition and their pooled summary, its
//! report, and comparisons whose interval is built between runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::support::*;

/// A scenario called `name`: 50 req/s for 3 s to `path` on target `t` at `url`.
fn scenario(name: &str, url: &str, path: &str) -> String {
    ScenarioText::new(name)
        .target_url("t", url)
        .phase("duration = \"3s\"\nrate = 50")
        .request(&format!("path = \"{path}\""))
        .threshold("t.latency.p50", "< 1s")
        .to_string()
}

/// Runs `text` with `flags` into `dir/label/out` and returns the set's directory.
fn run(dir: &Path, label: &str, name: &str, text: &str, flags: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir.join(label)).unwrap();
    let file = write_scenario(&dir.join(label), name, text);
    let out = dir.join(label).join("out");
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .args(flags)
        .arg(&file)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_exit(&output, 0);
    out.join(name)
}

fn compare(a: &str, b: &str, flags: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(["compare", a, b])
        .args(flags)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn repeat_3_writes_one_set_of_three_repetitions_and_their_pooled_summary() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("rep", &server.url(), "/sleep/2");
    let set = run(dir.path(), "r", "rep", &text, &["--repeat", "3"]);

    let manifest = json(&set.join("manifest.json"));
    assert_eq!(manifest["status"], "complete");
    assert_eq!(manifest["repetitions"]["count"], 3);
    assert_eq!(manifest["repetitions"]["completed"], 3);
    assert_eq!(
        manifest["repetitions"]["dirs"],
        serde_json::json!(["rep-1", "rep-2", "rep-3"])
    );
    let mut requests = 0;
    for k in 1..=3u64 {
        let rep = set.join(format!("rep-{k}"));
        let rep_manifest = json(&rep.join("manifest.json"));
        assert_eq!(rep_manifest["status"], "complete");
        assert_eq!(rep_manifest["repetition"]["index"], k);
        assert_eq!(rep_manifest["repetition"]["count"], 3);
        assert!(rep.join("t.hlog").is_file() && rep.join("timeseries.csv").is_file());
        assert!(rep.join("report.html").is_file());
        requests += read_summary(&rep).targets["t"].requests;
    }
    let pooled = &read_summary(&set).targets["t"];
    assert_eq!(
        pooled.requests, requests,
        "the pooled summary adds the repetitions"
    );
    assert_eq!(pooled.repetitions.len(), 3);
    assert_eq!(
        pooled
            .repetitions
            .iter()
            .map(|r| r.repetition)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        (2.0..20.0).contains(&pooled.latency_ms.p50),
        "{}",
        pooled.latency_ms.p50
    );
    assert!(
        (40.0..60.0).contains(&pooled.throughput_rps),
        "throughput over the repetitions' time together: {}",
        pooled.throughput_rps
    );
    assert_eq!(
        pooled.thresholds.len(),
        1,
        "thresholds are judged on the pooled figures"
    );
    assert!(pooled.thresholds[0].passed);

    let page = std::fs::read_to_string(set.join("report.html")).unwrap();
    for expected in [
        "3 of 3 repetitions completed",
        "<h2>Repetitions</h2>",
        "href=\"rep-2/report.html\"",
        "± half range ÷ mean",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} in the repeated set's page"
        );
    }
    // `report` draws the set anew, each repetition and the pooled page.
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .arg("report")
        .arg(&set)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(printed.matches("report: ").count(), 4, "{printed}");
}

#[test]
fn repeated_sets_compare_between_runs_same_server_passes_and_a_4x_slower_one_fails() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let a = run(
        dir.path(),
        "a",
        "rep",
        &scenario("rep", &url, "/sleep/2"),
        &["--repeat", "3"],
    );
    let b = run(
        dir.path(),
        "b",
        "rep",
        &scenario("rep", &url, "/sleep/2"),
        &["--repeat", "3"],
    );
    let slow = run(
        dir.path(),
        "slow",
        "rep",
        &scenario("rep", &url, "/sleep/8"),
        &["--repeat", "3"],
    );
    let path = |p: &PathBuf| p.to_str().unwrap().to_string();

    let output = compare(
        &path(&a),
        &path(&b),
        &["--fail-on-regression", "--format", "json"],
    );
    assert_exit(&output, 0);
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(comparison["runs"], serde_json::json!({"a": 3, "b": 3}));
    assert_eq!(comparison["run_to_run_noise"], "measured");
    assert_eq!(
        comparison["method"]["name"],
        "Student t between runs (Welch)"
    );
    let p50 = comparison["targets"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "latency.p50")
        .unwrap()
        .clone();
    assert_eq!(p50["a_runs"].as_array().unwrap().len(), 3);
    assert!(
        p50["allowance"].is_null(),
        "no allowance when the noise is measured"
    );

    let output = compare(&path(&a), &path(&slow), &["--fail-on-regression"]);
    assert_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("t latency.p50"), "{stderr}");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("run-to-run noise: measured (3 runs of A, 3 of B)"),
        "{table}"
    );

    // Several sets a side, separated by commas, are runs as repetitions are.
    let runs = |set: &PathBuf| {
        (1..=3)
            .map(|k| path(&set.join(format!("rep-{k}"))))
            .collect::<Vec<_>>()
            .join(",")
    };
    let output = compare(&runs(&a), &runs(&slow), &["--fail-on-regression"]);
    assert_exit(&output, 1);
}

#[test]
fn one_run_a_side_says_the_noise_was_not_measured_and_applies_the_allowance() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let a = run(
        dir.path(),
        "a",
        "one",
        &scenario("one", &url, "/sleep/2"),
        &[],
    );
    let b = run(
        dir.path(),
        "b",
        "one",
        &scenario("one", &url, "/sleep/2"),
        &[],
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());

    let output = compare(a, b, &["--format", "json"]);
    assert_exit(&output, 0);
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(comparison["run_to_run_noise"], "not_measured");
    for metric in comparison["targets"][0]["metrics"].as_array().unwrap() {
        // Every metric has its measured allowance (0 for those identical runs never moved).
        let allowance = metric["allowance"].as_f64().unwrap();
        assert!(allowance >= 0.0, "{metric}");
        if metric["verdict"] == "improved" || metric["verdict"] == "regressed" {
            let relative = metric["relative_change"].as_f64().unwrap_or(f64::INFINITY);
            assert!(
                relative.abs() > allowance,
                "a counted change exceeds its allowance: {metric}"
            );
        }
    }
    let text = String::from_utf8_lossy(&compare(a, b, &[]).stdout).into_owned();
    assert!(
        text.contains("run-to-run noise: not measured (one run a side)"),
        "{text}"
    );

    // --noise-allowance 100% for every metric: nothing within it counts.
    let output = compare(a, b, &["--format", "json", "--noise-allowance", "100%"]);
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for metric in comparison["targets"][0]["metrics"].as_array().unwrap() {
        assert_eq!(metric["allowance"], 1.0);
    }
    let output = compare(a, b, &["--noise-allowance", "-3"]);
    assert_exit(&output, 2);
}

#[test]
fn repeat_and_shard_together_are_refused_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("rep", &closed_port_url(), "/");
    let file = write_scenario(dir.path(), "rep", &text);
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(["run", "--repeat", "2", "--shard", "0/2", "--out"])
        .arg(dir.path().join("out"))
        .arg(&file)
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("--repeat"));
    assert!(!dir.path().join("out").exists(), "no load, no result set");
}
