//! Sharded runs: N shard processes started together (`--shard I/N --start-at`) send exactly
//! what one process sends, second by second; and every way of asking for a shard that cannot
//! be kept is refused before any load, naming what is wrong.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::support::*;

fn manifest(set: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(set.join("manifest.json")).unwrap()).unwrap()
}

/// `(second, sent)` of every second that sent something.
fn sent_by_second(set: &std::path::Path) -> Vec<(u64, u64)> {
    read_series(set)
        .iter()
        .filter(|row| row.sent > 0)
        .map(|row| (row.second, row.sent))
        .collect()
}

/// The corrected latency of every `.hlog` at `paths`, added (untagged intervals).
fn latency_union(paths: &[std::path::PathBuf]) -> coldfront::resultset::LatencyStats {
    use coldfront::resultset::hlog;
    let intervals: Vec<_> = paths.iter().flat_map(|p| hlog::read(p).unwrap()).collect();
    let latency = hlog::merged(hlog::with_tag(&intervals, None));
    coldfront::resultset::LatencyStats::from_histogram(&latency)
}

/// One process, then three shards of it started at a common time, against the same server,
/// then `merge`: the shards' per-second `sent` add up to the one process's exactly, each sends
/// its third, each result set names its shard, the one fingerprint and how late it began; the
/// merged set holds the same seconds and totals, its latency is exactly the union of the
/// shards' histograms, its threshold is judged on the merged numbers (each shard's third
/// passes `requests < 300`, the whole does not), and `report` and `compare` read it.
#[test]
fn three_shards_merged_are_exactly_one_process() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "sharded",
        &ScenarioText::new("sharded")
            .target_url("t", &server.url())
            .load("model = \"open\"\narrivals = \"poisson\"\nmax_connections = 12")
            .phase("duration = \"2s\"\nrate = 200")
            .phase("duration = \"1s\"\nrate = { from = 200, to = 50 }")
            .request("path = \"/ok\"")
            .threshold("t.requests", "< 300"),
    );
    let whole = dir.path().join("whole");
    assert_exit(&run_coldfront(&whole, &[&scenario]), 1);
    let expected = sent_by_second(&whole.join("sharded"));
    let expected_total: u64 = expected.iter().map(|&(_, sent)| sent).sum();
    assert!(expected_total > 400, "sent {expected_total}");

    let sets = run_shards(dir.path(), &scenario, 3);
    let mut summed: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut fingerprints = Vec::new();
    for (index, set) in sets.iter().enumerate() {
        let shard = &manifest(set)["shard"];
        assert_eq!(shard["index"], index as u64);
        assert_eq!(shard["count"], 3);
        fingerprints.push(shard["fingerprint"].as_str().unwrap().to_string());
        let late_ms = shard["start_late_ms"]["t"].as_f64().unwrap();
        assert!(
            (0.0..1000.0).contains(&late_ms),
            "shard {index} began {late_ms} ms late"
        );
        let sent = read_summary(set).targets["t"].sent;
        let third = expected_total as f64 / 3.0;
        assert!(
            (sent as f64 - third).abs() <= 1.0,
            "shard {index}: {sent} of {expected_total}"
        );
        for (second, sent) in sent_by_second(set) {
            *summed.entry(second).or_default() += sent;
        }
    }
    assert_eq!(summed.into_iter().collect::<Vec<_>>(), expected);
    assert!(
        fingerprints.iter().all(|f| f == &fingerprints[0]),
        "{fingerprints:?}"
    );
    assert_eq!(fingerprints[0].len(), 64, "SHA-256 in hex");
    assert_eq!(server.requests(), 2 * expected_total);

    let merged_out = dir.path().join("merged");
    let output = coldfront(&["merge", "--out"], &merged_out, &sets);
    assert_exit(&output, 1);
    let merged = merged_out.join("sharded");
    assert_eq!(sent_by_second(&merged), expected);
    let summary = read_summary(&merged);
    let t = &summary.targets["t"];
    assert_eq!(
        (t.requests, t.sent, t.ok),
        (expected_total, expected_total, expected_total)
    );
    let verdict = &t.thresholds[0];
    assert!(!verdict.passed, "judged on the merged count: {verdict:?}");
    assert_eq!(verdict.actual, Some(expected_total as f64));
    let shard_logs = |file: &str| sets.iter().map(|s| s.join(file)).collect::<Vec<_>>();
    // Every count and percentile exactly; the mean too, but for the last bit that reading a
    // float back from summary.json may round differently.
    let union = latency_union(&shard_logs("t.totals.hlog"));
    assert!(
        (t.latency_ms.mean - union.mean).abs() <= 1e-12 * union.mean,
        "{union:?}"
    );
    assert_eq!(
        coldfront::resultset::LatencyStats {
            mean: union.mean,
            ..t.latency_ms
        },
        union,
        "whole-run union"
    );
    assert_eq!(
        latency_union(&[merged.join("t.hlog")]),
        latency_union(&shard_logs("t.hlog")),
        "second-by-second union"
    );
    let record = &manifest(&merged)["merged"];
    assert_eq!(record["count"], 3);
    assert_eq!(record["shards"].as_array().unwrap().len(), 3);
    assert!(merged.join("report.html").is_file());
    assert_exit(&coldfront(&["report"], &merged, &[]), 0);
    let compared = coldfront(
        &["compare"],
        &whole.join("sharded"),
        std::slice::from_ref(&merged),
    );
    assert_exit(&compared, 0);
}

/// `coldfront ARGS… PATH PATHS…` (for `merge --out DIR SETS…`, `report SET`, `compare A B`).
fn coldfront(
    args: &[&str],
    path: &std::path::Path,
    more: &[std::path::PathBuf],
) -> std::process::Output {
    assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(args)
        .arg(path)
        .args(more)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

/// Runs `count` shards of `scenario` side by side from a common start 3 s ahead; their sets.
fn run_shards(
    dir: &std::path::Path,
    scenario: &std::path::Path,
    count: u64,
) -> Vec<std::path::PathBuf> {
    let start_at = SystemTime::now() + Duration::from_secs(3);
    let unix = start_at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let start_flag = format!("{unix:.3}");
    let name = scenario.file_stem().unwrap().to_str().unwrap();
    let runs: Vec<_> = (0..count)
        .map(|index| {
            let out = dir.join(format!("shard-{index}"));
            let shard = format!("{index}/{count}");
            let flags = ["--shard", shard.as_str(), "--start-at", start_flag.as_str()];
            (
                out.join(name),
                BackgroundRun::start_with(&out, scenario, &flags),
            )
        })
        .collect();
    runs.into_iter()
        .map(|(set, run)| {
            run.wait(Duration::from_secs(60));
            assert!(set.join("summary.json").is_file(), "{}", set.display());
            set
        })
        .collect()
}

/// Sets that are not every shard of one complete run, each refused with exit 2, naming the
/// problem, nothing written; an interrupted shard is merged with `--allow-partial`, marked.
#[test]
fn merge_refuses_what_is_not_every_shard_of_one_run() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "parts",
        &ScenarioText::new("parts")
            .target_url("t", &server.url())
            .load("max_connections = 4")
            .phase("duration = \"1s\"\nrate = 40")
            .request("path = \"/ok\""),
    );
    let sets = run_shards(dir.path(), &scenario, 3);
    let whole = dir.path().join("whole");
    assert_exit(&run_coldfront(&whole, &[&scenario]), 0);
    let interrupted = dir.path().join("interrupted").join("parts");
    std::fs::create_dir_all(&interrupted).unwrap();
    for entry in std::fs::read_dir(&sets[2]).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), interrupted.join(entry.file_name())).unwrap();
        }
    }
    let mut record = manifest(&interrupted);
    record["status"] = "interrupted".into();
    std::fs::write(interrupted.join("manifest.json"), record.to_string()).unwrap();
    let whole_set = whole.join("parts");
    let other_count = dir.path().join("halves");
    assert_exit(
        &run_coldfront_with(&other_count, &[&scenario], &["--shard", "0/2"]),
        0,
    );
    let half = other_count.join("parts");
    let cases = [
        (vec![&sets[0], &sets[1]], "shard 2 of 3 is missing"),
        (vec![&sets[0], &sets[0], &sets[1]], "shard 0 is given twice"),
        (vec![&sets[0], &sets[1], &whole_set], "is not a shard"),
        (
            vec![&sets[0], &sets[1], &half],
            "is shard 0/2 of another run",
        ),
        (
            vec![&sets[0], &sets[1], &interrupted],
            "is interrupted, not complete",
        ),
    ];
    let out = dir.path().join("merged");
    for (given, expected) in cases {
        let given: Vec<_> = given.into_iter().cloned().collect();
        let output = coldfront(&["merge", "--out"], &out, &given);
        assert_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(!out.join("parts").exists(), "{expected}: nothing written");
    }
    let partial = [sets[0].clone(), sets[1].clone(), interrupted];
    assert_exit(
        &coldfront(&["merge", "--allow-partial", "--out"], &out, &partial),
        0,
    );
    assert_eq!(manifest(&out.join("parts"))["status"], "interrupted");
    assert_eq!(manifest(&out.join("parts"))["merged"]["partial"], true);
}

/// Each refused before any load with exit 2, a message naming the problem, and no result set.
#[test]
fn a_shard_that_cannot_be_kept_is_refused_before_any_load() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let external = write_scenario(
        dir.path(),
        "external",
        &ScenarioText::new("external")
            .target_url("t", &server.url())
            .load("max_connections = 2")
            .phase("duration = \"1s\"\nrate = 10")
            .request("path = \"/ok\""),
    );
    let built_in = write_scenario(
        dir.path(),
        "built-in",
        &ScenarioText::new("built-in")
            .target("p", "kind = \"persistent\"")
            .phase("duration = \"1s\"\nrate = 10")
            .request("path = \"/api/health\""),
    );
    let past = (SystemTime::now() - Duration::from_secs(30))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let cases: [(&std::path::Path, Vec<&str>, &str); 6] = [
        (&external, vec!["--shard", "3/3"], "the last is 2/3"),
        (&external, vec!["--shard", "0/0"], "at least 1"),
        (&external, vec!["--shard", "half"], "is not I/N"),
        (
            &external,
            vec!["--shard", "2/3"],
            "leaves this shard no connection",
        ),
        (
            &external,
            vec!["--start-at", &past],
            "s ago; shards that start at different times",
        ),
        (&built_in, vec!["--shard", "0/2"], "target `p` is built in"),
    ];
    for (scenario, flags, expected) in cases {
        let out = dir.path().join("out");
        let output = run_coldfront_with(&out, &[scenario], &flags);
        assert_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(!out.exists(), "{flags:?}: nothing written");
    }
    assert_eq!(server.requests(), 0, "no load");
}

/// `coldfront k8s` writes manifests the Kubernetes API schema accepts (`kubernetes-validate
/// --strict`), and their own commands run a sharded run: each shard pod's script with
/// `JOB_COMPLETION_INDEX` and `HOSTNAME` set as Kubernetes sets them and the mounts
/// (`/etc/coldfront`, `/results`) at directories of the test's, side by side, then the merge
/// pod's script, which merges exactly the schedule. A second pod for a written index leaves
/// that shard's set as it was.
#[test]
fn the_kubernetes_manifests_own_commands_run_a_sharded_run() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "k8s-run",
        &ScenarioText::new("k8s-run")
            .target_url("t", &server.url())
            .load("max_connections = 6")
            .phase("duration = \"2s\"\nrate = 100")
            .request("path = \"/ok\"")
            .threshold("t.error_rate", "< 1%"),
    );
    let file = dir.path().join("k8s.yaml");
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args([
            "k8s",
            "--shards",
            "3",
            "--image",
            "coldfront:test",
            "--start-in",
            "4s",
        ])
        .arg("--out")
        .arg(&file)
        .arg(&scenario)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let validated = std::process::Command::new("kubernetes-validate")
        .args(["--strict", "--quiet"])
        .arg(&file)
        .output()
        .expect("kubernetes-validate (pip install kubernetes-validate; .ci/run installs it)");
    assert!(validated.status.success(), "{validated:?}");

    let documents = yaml_documents(&file);
    let kind = |kind: &str, name: &str| {
        documents
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name} in {documents:?}"))
    };
    let shards = &kind("Job", "coldfront-k8s-run-shards")["spec"];
    assert_eq!(shards["completionMode"], "Indexed");
    assert_eq!(
        (&shards["completions"], &shards["parallelism"]),
        (&3.into(), &3.into())
    );
    assert_eq!(shards["backoffLimitPerIndex"], 0);
    let claim = &kind("PersistentVolumeClaim", "coldfront-k8s-run-results")["spec"];
    assert_eq!(claim["accessModes"][0], "ReadWriteMany");
    let config = &kind("ConfigMap", "coldfront-k8s-run-scenario")["data"]["k8s-run.toml"];
    let mounts = dir.path().join("mounts");
    let (etc, results) = (mounts.join("etc"), mounts.join("results"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("k8s-run.toml"), config.as_str().unwrap()).unwrap();
    let script = |job: &serde_json::Value| {
        let command = &job["spec"]["template"]["spec"]["containers"][0]["command"];
        assert_eq!((&command[0], &command[1]), (&"sh".into(), &"-c".into()));
        command[2]
            .as_str()
            .unwrap()
            .replace("/etc/coldfront", etc.to_str().unwrap())
            .replace("/results", results.to_str().unwrap())
    };
    let pod = |script: &str, index: Option<u64>, hostname: &str| {
        let bin = assert_cmd::cargo::cargo_bin("coldfront");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = std::process::Command::new("sh");
        command
            .args(["-c", script])
            .env("PATH", path)
            .env("HOSTNAME", hostname);
        if let Some(index) = index {
            command.env("JOB_COMPLETION_INDEX", index.to_string());
        }
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command.spawn().unwrap()
    };
    let shard_script = script(kind("Job", "coldfront-k8s-run-shards"));
    let pods: Vec<_> = (0..3)
        .map(|i| pod(&shard_script, Some(i), &format!("k8s-run-shards-{i}-x")))
        .collect();
    for (i, pod) in pods.into_iter().enumerate() {
        let output = pod.wait_with_output().unwrap();
        assert!(output.status.success(), "shard pod {i}: {output:?}");
    }
    let written = std::fs::read(results.join("shards/0/summary.json")).unwrap();
    let merge = pod(
        &script(kind("Job", "coldfront-k8s-run-merge")),
        None,
        "merge",
    );
    let merged = merge.wait_with_output().unwrap();
    assert!(merged.status.success(), "merge pod: {merged:?}");
    let summary = read_summary(&results.join("merged/k8s-run"));
    assert_eq!(
        summary.targets["t"].requests, 200,
        "100/s for 2 s, all shards"
    );
    assert!(summary.targets["t"].thresholds[0].passed);

    // A second pod for index 0, after the first wrote it: whatever it does, shard 0 stays.
    let duplicate = pod(&shard_script, Some(0), "k8s-run-shards-0-y").wait_with_output();
    let _ = duplicate.unwrap();
    let after = std::fs::read(results.join("shards/0/summary.json")).unwrap();
    assert_eq!(after, written, "shard 0's set unchanged");
}

/// The documents of a YAML file (as JSON values), read by PyYAML (kubernetes-validate's own
/// dependency).
fn yaml_documents(file: &std::path::Path) -> Vec<serde_json::Value> {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], sys.stdout)",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}
