//! One-line runs (`run --url … --rate … --duration …`) against the loopback test server: the
//! run and the scenario it saves send the same schedule into result sets of the same shape,
//! thresholds and exit codes work as in a file, and a bad flag stops the run before any load,
//! naming the flag.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use super::support::*;

fn coldfront(args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every file of a result set, by name.
fn files(set: &Path) -> BTreeSet<String> {
    std::fs::read_dir(set)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Per second: (second, sent), the schedule as the series recorded it.
fn sent(set: &Path) -> Vec<(u64, u64)> {
    read_series(set)
        .iter()
        .map(|row| (row.second, row.sent))
        .collect()
}

#[test]
fn a_one_liner_and_its_saved_scenario_run_alike() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("health.toml");
    let url = format!("{}/ok", server.url());
    let out = dir.path().join("one");
    let output = coldfront(&[
        "run",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--url",
        &url,
        "--rate",
        "40",
        "--duration",
        "2s",
        "--arrivals",
        "poisson",
        "--header",
        "x-from: one-liner",
        "--name",
        "health",
        "--threshold",
        "latency.p99<1s",
        "--threshold",
        "error_rate<1%",
        "--save-scenario",
        saved.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    let one = out.join("health");
    let text = std::fs::read_to_string(&saved).unwrap();
    let manifest = json(&one.join("manifest.json"));
    assert_eq!(
        manifest["scenario"]["source_text"],
        text.as_str(),
        "the manifest keeps it"
    );
    assert!(
        text.contains("[targets.target]") && text.contains("arrivals = \"poisson\""),
        "{text}"
    );

    let again = dir.path().join("file");
    let output = coldfront(&[
        "run",
        "--quiet",
        "--out",
        again.to_str().unwrap(),
        saved.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    let file = again.join("health");
    assert_eq!(files(&one), files(&file));
    assert_eq!(
        sent(&one),
        sent(&file),
        "the same schedule, second by second"
    );
    let scenario = |set: &Path| {
        let mut scenario = json(&set.join("manifest.json"))["scenario"].clone();
        scenario.as_object_mut().unwrap().remove("source");
        scenario
    };
    assert_eq!(scenario(&one), scenario(&file));
    let summary = read_summary(&one);
    let verdicts: Vec<(&str, bool)> = summary.targets["target"]
        .thresholds
        .iter()
        .map(|v| (v.key.as_str(), v.passed))
        .collect();
    assert_eq!(
        verdicts,
        [("target.latency.p99", true), ("target.error_rate", true)]
    );
    let sent_once: u64 = sent(&one).iter().map(|&(_, n)| n).sum();
    assert!(sent_once > 40, "2 s at 40 req/s (Poisson): {sent_once}");
    assert_eq!(
        server.requests(),
        2 * sent_once,
        "each run sent the same requests"
    );

    // A threshold the run cannot meet fails it with exit 1, as in a file.
    let output = coldfront(&[
        "run",
        "--quiet",
        "--out",
        dir.path().join("fail").to_str().unwrap(),
        "--url",
        &format!("{}/sleep/20", server.url()),
        "--concurrency",
        "2",
        "--duration",
        "1s",
        "--threshold",
        "latency.p50 < 5ms",
    ]);
    assert_exit(&output, 1);
}

#[test]
fn a_bad_flag_is_named_with_its_value_before_any_load() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = coldfront(&[
        "run",
        "--out",
        out.to_str().unwrap(),
        "--url",
        &server.url(),
        "--rate",
        "1e9",
        "--header",
        "no-colon",
        "--threshold",
        "latency.p99<50xs",
    ]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "error: --rate 1e9: ",
        "error: --header no-colon: expected NAME:VALUE",
    ] {
        assert!(stderr.contains(expected), "{expected} in {stderr}");
    }
    assert_eq!(server.requests(), 0, "no load");
    assert!(!out.exists(), "no result set");
    // A flag of the one-line group without --url is refused by the command line itself.
    let output = coldfront(&["run", "--rate", "5", "scenarios/crud-steady.toml"]);
    assert_exit(&output, 2);
}
