//! End-to-end tests of `coldfront compare` on result sets written by `coldfront run` against
//! the loopback test server: verdicts, exit codes, formats, and refusals that name the problem.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::support::*;

/// A scenario called `name` sending 50 req/s for `seconds` to `path` on every target given.
fn scenario(name: &str, targets: &[(&str, &str)], seconds: u32, path: &str) -> String {
    targets
        .iter()
        .fold(ScenarioText::new(name), |text, (target, url)| {
            text.target_url(target, url)
        })
        .phase(&format!("duration = \"{seconds}s\"\nrate = 50"))
        .request(&format!("path = \"{path}\""))
        .to_string()
}

/// Runs `text` (a scenario called `name`) into `dir/label/` and returns the result set.
fn result_set(dir: &Path, label: &str, name: &str, text: &str, flags: &[&str]) -> PathBuf {
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

fn compare(a: &Path, b: &Path, flags: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .arg("compare")
        .arg(a)
        .arg(b)
        .args(flags)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_same_scenario_twice_compares_with_exit_0_in_every_format() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let text = scenario("same", &[("t", &url), ("u", &url)], 3, "/sleep/2");
    let a = result_set(dir.path(), "a", "same", &text, &[]);
    let b = result_set(dir.path(), "b", "same", &text, &["--target", "t"]);

    let output = compare(&a, &b, &[]);
    assert_exit(&output, 0);
    let table = stdout(&output);
    assert!(table.starts_with("coldfront compare: same\n"), "{table}");
    for expected in [
        "\nt (external)\n",
        "latency p50",
        "service time p99.9",
        "throughput",
        "timeout rate",
        "client connections open (mean)",
        "95% CI of change",
        "only in A (not compared): u",
        "method: block bootstrap over per-second intervals: 1000 resamples",
        "verdict: ",
    ] {
        assert!(table.contains(expected), "{expected:?} in\n{table}");
    }

    let output = compare(&a, &b, &["--format", "markdown"]);
    assert_exit(&output, 0);
    let comment = stdout(&output);
    assert!(
        comment.starts_with("## coldfront compare: `same`"),
        "{comment}"
    );
    assert!(comment.contains("| metric | A | B | change | relative | 95% CI of change | verdict |"));
    assert!(comment.contains("**Method:** block bootstrap"), "{comment}");

    let output = compare(&a, &b, &["--format", "json"]);
    assert_exit(&output, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["scenario"], "same");
    assert_eq!(json["only_in_a"], serde_json::json!(["u"]));
    assert_eq!(json["method"]["confidence"], 0.95);
    let metrics = json["targets"][0]["metrics"].as_array().unwrap();
    let p50 = metrics
        .iter()
        .find(|m| m["metric"] == "latency.p50")
        .unwrap();
    // The server sleeps 2 ms: both sides' median is a little over that.
    for side in ["a", "b"] {
        let ms = p50[side].as_f64().unwrap();
        assert!((2.0..20.0).contains(&ms), "{side}: {ms}");
    }
    assert!(metrics
        .iter()
        .any(|m| m["metric"] == "timeout_rate" && m["a"] == 0.0));

    // --chart draws both spectra, as SVG or PNG by the file's extension.
    let svg = dir.path().join("spectra.svg");
    let png = dir.path().join("spectra.png");
    for chart in [&svg, &png] {
        let output = compare(&a, &b, &["--chart", chart.to_str().unwrap()]);
        assert_exit(&output, 0);
        assert!(stderr(&output).contains(&format!("chart: {}", chart.display())));
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let output = compare(&a, &b, &["--chart", "spectra.pdf"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("must end in .svg or .png"));
}

#[test]
fn a_slower_server_fails_with_exit_1_naming_the_metric() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    // Same scenario name, different paths: B's server takes 8 ms where A's took 2.
    let fast = result_set(
        dir.path(),
        "fast",
        "api",
        &scenario("api", &[("t", &url)], 3, "/sleep/2"),
        &[],
    );
    let slow = result_set(
        dir.path(),
        "slow",
        "api",
        &scenario("api", &[("t", &url)], 3, "/sleep/8"),
        &[],
    );

    let output = compare(&fast, &slow, &["--fail-on-regression"]);
    assert_exit(&output, 1);
    let message = stderr(&output);
    assert!(
        message.contains("regressed beyond the 5% tolerance:"),
        "{message}"
    );
    assert!(message.contains("t latency.p50 +"), "{message}");
    assert!(stdout(&output).contains("regressed (beyond 5%)"));

    // Without the flag the verdicts are printed and the exit is 0.
    assert_exit(&compare(&fast, &slow, &[]), 0);
    // A bare number is a fraction: 5 would be 500%.
    let output = compare(&fast, &slow, &["--fail-on-regression", "--tolerance", "5"]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("out of range"),
        "{}",
        stderr(&output)
    );
    // The other way round it is an improvement.
    let output = compare(
        &slow,
        &fast,
        &["--fail-on-regression", "--tolerance", "0.05"],
    );
    assert_exit(&output, 0);
    let table = stdout(&output);
    let p50 = table.lines().find(|l| l.contains("latency p50")).unwrap();
    assert!(p50.ends_with("improved"), "{table}");
}

#[test]
fn refuses_different_scenarios_and_broken_result_sets_with_exit_2() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let alpha = result_set(
        dir.path(),
        "alpha",
        "alpha",
        &scenario("alpha", &[("t", &url)], 1, "/ok"),
        &[],
    );
    let beta = result_set(
        dir.path(),
        "beta",
        "beta",
        &scenario("beta", &[("t", &url)], 1, "/ok"),
        &[],
    );

    let output = compare(&alpha, &beta, &[]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(message.contains("different scenarios"), "{message}");
    assert!(
        message.contains("\"alpha\"") && message.contains("\"beta\""),
        "{message}"
    );

    let copy = |name: &str| -> PathBuf {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        // The result set's files (its charts/ directory is not needed to compare).
        for entry in std::fs::read_dir(&alpha).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
        to
    };

    let corrupt = copy("corrupt");
    std::fs::write(
        corrupt.join("summary.json"),
        "{\"schema_version\": 1, \"scen",
    )
    .unwrap();
    let output = compare(&alpha, &corrupt, &[]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    let file = corrupt.join("summary.json");
    assert!(
        message.contains(&format!("result set B ({})", corrupt.display())),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "{}: not a valid coldfront summary",
            file.display()
        )),
        "{message}"
    );

    let newer = copy("newer");
    let manifest = newer.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1),
    )
    .unwrap();
    let output = compare(&newer, &alpha, &[]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "{}: schema version 2, this coldfront reads version 1",
            manifest.display()
        )),
        "{message}"
    );

    let missing = dir.path().join("missing");
    let output = compare(&alpha, &missing, &[]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "{}: cannot read",
            missing.join("manifest.json").display()
        )),
        "{message}"
    );
}
