//! Before any load: external targets off this machine need `--allow-remote` (in `validate`
//! too), and one that cannot be reached stops the run with its cause.

use super::load::open_scenario;
use super::support::*;

#[test]
fn remote_targets_need_allow_remote() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "remote",
        &open_scenario(
            "remote",
            "http://192.0.2.1:80",
            "[[load.phases]]\nduration = \"1s\"\nrate = 1",
            "/",
        ),
    );
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert!(!out.join("remote").exists(), "no load, no result set");

    // `validate` says so too, and accepts it with --allow-remote (it connects to nothing).
    let validate = |flags: &[&str]| {
        assert_cmd::Command::cargo_bin("coldfront")
            .unwrap()
            .arg("validate")
            .args(flags)
            .arg(&scenario)
            .output()
            .unwrap()
    };
    let refused = validate(&[]);
    assert_exit(&refused, 2);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("target `t`: http://192.0.2.1:80/ resolves to 192.0.2.1:80, which is not on this machine; pass --allow-remote"),
        "{stderr}"
    );
    assert_exit(&validate(&["--allow-remote"]), 0);
}

/// An external target with nothing listening fails before any load, naming the target and the
/// cause; with `--no-preflight` the load runs, and a latency threshold over a target that
/// never answered fails with that reason instead of passing on the time to a refusal.
#[test]
fn an_unreachable_target_fails_before_load_and_never_passes_a_latency_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("nobody")
        .target_url("t", &closed_port_url())
        .phase("duration = \"1s\"\nrate = 20")
        .request("path = \"/\"")
        .threshold("t.latency.p99", "< 100ms")
        .threshold("t.error_rate", "> 50%");
    let scenario = write_scenario(dir.path(), "nobody", &text);
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&scenario]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("target `t`: cannot connect to http://127.0.0.1:")
            && stderr.contains("TCP connect: Connection refused"),
        "{stderr}"
    );
    assert!(!out.join("nobody").exists(), "no load, no result set");

    let output = run_coldfront_with(&out, &[&scenario], &["--no-preflight"]);
    assert_exit(&output, 1);
    let verdicts = &read_summary(&out.join("nobody")).targets["t"].thresholds;
    let latency = &verdicts[0];
    assert_eq!(
        (latency.key.as_str(), latency.passed),
        ("t.latency.p99", false)
    );
    assert_eq!(latency.actual, None);
    assert_eq!(
        latency.actual_text(),
        "not measured: no successful response (every request failed)"
    );
    let errors = &verdicts[1];
    assert_eq!((errors.key.as_str(), errors.passed), ("t.error_rate", true));
    assert_eq!(errors.reason, None);
}

/// Without thresholds, a target whose every request failed says so on the terminal, with the
/// cause in words.
#[test]
fn a_run_where_every_request_failed_says_so_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("refused")
        .target_url("t", &closed_port_url())
        .phase("duration = \"1s\"\nrate = 10")
        .request("path = \"/\"");
    let scenario = write_scenario(dir.path(), "refused", &text);
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(["run", "--no-preflight", "--out"])
        .arg(dir.path().join("out"))
        .arg(&scenario)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "EVERY REQUEST OF t FAILED (10 requests): connection refused: nothing listens at \
             that address"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("t: 10 failed before an answer: connection refused"),
        "{stdout}"
    );
}

/// `max_connections` beyond what the process may open would turn into the target's connect
/// errors: the run raises its soft limit to the hard one, and refuses before any load when even
/// that is too low, saying so.
#[test]
fn more_connections_than_the_file_limit_allows_are_refused_before_load() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "files",
        &open_scenario(
            "files",
            &server.url(),
            "max_connections = 1000\n[[load.phases]]\nduration = \"1s\"\nrate = 5",
            "/ok",
        ),
    );
    let out = dir.path().join("out");
    let run_with_hard_limit = |hard: u64| {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldfront"));
        command
            .args(["run", "--quiet", "--out"])
            .arg(&out)
            .arg(&scenario);
        // SAFETY: setrlimit in the child between fork and exec, on a stack value.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: 256,
                    rlim_max: hard,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        command.output().unwrap()
    };
    let refused = run_with_hard_limit(512);
    assert_exit(&refused, 2);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("load.max_connections = 1000") && stderr.contains("may open 512"),
        "{stderr}"
    );
    assert!(!out.join("files").exists(), "no load, no result set");
    // A soft limit of 256 with room under the hard one: raised, and the run goes ahead.
    let raised = run_with_hard_limit(4096);
    assert_exit(&raised, 0);
}
