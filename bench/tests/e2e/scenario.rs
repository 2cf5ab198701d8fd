//! Process-level tests of scenario checking: `coldfront validate` accepts the good fixtures and
//! rejects each bad one with its specific message (file:line:column, key, suggestion), and
//! `coldfront run` on a bad scenario exits 2 before any load (no result set is written).

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use coldfront::testing::assert_exit;

/// Each bad fixture and every error line it must produce (after `error: <path>:`), in order.
const BAD: &[(&str, &[&str])] = &[
    ("bad-name.toml", &[
        "1:8: name: expected a name of lowercase letters, digits and `-`, at most 64 characters (like \"cold-start-after-idle\"), found \"Cold Start\" (did you mean `cold-start`?)",
    ]),
    ("bad-url.toml", &[
        "4:7: targets.t.url: expected an http:// or https:// URL with a host, such as \"http://127.0.0.1:8080\", found \"ftp://127.0.0.1:9\" (the scheme is not http or https)",
    ]),
    ("concurrency-under-open.toml", &[
        "7:15: load.phases[0].concurrency: not allowed here: the open model (model = \"open\") expects `rate`; `concurrency` is for model = \"closed\"",
    ]),
    ("duration-bare-number.toml", &[
        "6:12: load.phases[0].duration: expected a duration string such as \"5s\", found an integer (20)",
    ]),
    ("duration-malformed.toml", &[
        "5:13: targets.fn.keep_warm: expected a duration string such as \"5s\", found \"5 minutes\" (unknown unit `minutes`; use ns, us, ms, s, m or h)",
    ]),
    ("duration-negative.toml", &[
        "6:11: load.timeout: expected a duration string such as \"5s\", found \"-5s\" (durations cannot be negative)",
    ]),
    ("duration-zero.toml", &[
        "6:12: load.phases[0].duration: expected a duration > 0 such as \"5s\", found \"0s\"",
    ]),
    ("empty-requests.toml", &["1:1: requests: at least one [[requests]] is needed"]),
    ("held-without-hold.toml", &[
        "9:1: requests[0].hold: missing required key; expected a duration such as \"30s\" (how long the generator keeps a kind = \"sse\" connection open)",
    ]),
    ("hold-on-http.toml", &[
        "11:8: requests[0].hold: not allowed here: `hold` is for held connections (kind = \"sse\" or \"websocket\"); a kind = \"http\" request ends with its response",
    ]),
    ("many-errors.toml", &[
        "6:8: targets.t.pool: not allowed here: `pool` applies to kind = \"persistent\" targets; this target is external (`url`)",
        "9:9: load.model: expected one of \"open\", \"closed\", found \"opn\" (did you mean `open`?)",
        "12:12: load.phases[0].duration: expected a duration string such as \"5s\", found \"1 sec\" (unknown unit `sec`; use ns, us, ms, s, m or h)",
        "13:1: load.phases[0].rat: unknown key; expected one of duration, rate, concurrency, think_time, name (did you mean `rate`?)",
        "16:10: requests[0].method: expected an HTTP method in capitals (methods are case-sensitive), found \"get\" (did you mean `GET`?)",
        "17:8: requests[0].path: expected a path starting with `/` such as \"/api/blogs?category=rust\", found \"api\"",
    ]),
    ("missing-name.toml", &[
        "1:1: name: missing required key; expected a scenario name such as \"cold-start-after-idle\"",
    ]),
    ("missing-phase-duration.toml", &[
        "5:1: load.phases[0].duration: missing required key; expected a duration string such as \"20s\"",
    ]),
    ("ramp-missing-from.toml", &[
        "7:8: load.phases[0].rate.from: missing required key; expected `from = N` (requests/s at the start of the ramp)",
    ]),
    ("ramp-missing-to.toml", &[
        "7:8: load.phases[0].rate.to: missing required key; expected `to = N` (requests/s at the end of the ramp)",
    ]),
    ("rate-negative.toml", &["7:8: load.phases[0].rate: expected a rate from 0 to 1000000 requests/s (ten times one machine's generator; beyond it, shard the run), found -5"]),
    ("rate-under-closed.toml", &[
        "10:8: load.phases[0].rate: not allowed here: the closed model (model = \"closed\") expects `concurrency`; `rate` is for model = \"open\"",
    ]),
    ("serverless-key-on-persistent.toml", &[
        "6:13: targets.server.keep_warm: not allowed here: `keep_warm` applies to kind = \"serverless\" targets; this target is kind = \"persistent\"",
    ]),
    ("syntax-error.toml", &["2:21: invalid TOML: invalid basic string"]),
    ("threshold-unknown-metric.toml", &[
        "13:1: thresholds.\"*.latncy.p99\": unknown metric `latncy.p99`; expected one of latency.STAT, service_time.STAT, connect_time.STAT, cold_latency.STAT, warm_latency.STAT, send_lag.STAT, held.first_message.STAT, timeout_rate, error_rate, throttle_rate, throughput_rps, ok_rps, requests, cold_starts, db_connections.max, held.opened, held.held, held.completed, held.cut, held.refused, held.failed (STAT: min mean p50 p75 p90 p95 p99 p999 p9999 max) (did you mean `latency.p99`?)",
    ]),
    ("threshold-unknown-target.toml", &[
        "17:1: thresholds.\"serverles.latency.p99\": unknown target `serverles`; expected one of serverless, persistent, * (did you mean `serverless`?)",
    ]),
    ("threshold-unquoted-key.toml", &[
        "13:1: thresholds.t: expected a condition string; quote the whole key, as in \"serverless.latency.p99\" = \"< 800ms\", found a table",
    ]),
    ("threshold-wrong-unit.toml", &[
        "13:18: thresholds.\"*.error_rate\": expected a percentage such as \"< 1%\" (`error_rate` is a rate), found \"< 5ms\" (no `%`)",
    ]),
    ("unknown-key-load.toml", &[
        "6:1: load.max_connection: unknown key; expected one of model, arrivals, timeout, connections, max_connections, phases (did you mean `max_connections`?)",
    ]),
    ("unknown-key-phase.toml", &[
        "14:1: load.phases[1].rat: unknown key; expected one of duration, rate, concurrency, think_time, name (did you mean `rate`?)",
    ]),
    ("unknown-key-request.toml", &[
        "11:1: requests[0].heders: unknown key; expected one of weight, method, path, name, headers, body, kind, hold, send_every, data, data_order (did you mean `headers`?)",
    ]),
    ("unknown-key-target.toml", &[
        "5:1: targets.fn.keep_warn: unknown key; expected one of url, kind, preset, keep_warm, init, max_instances, max_duration, queue_timeout, db_connect, concurrency, pool, command, cwd, env, ready, init_timeout, listen, prepare, tls (did you mean `keep_warm`?)",
    ]),
    ("unknown-key-top.toml", &[
        "2:1: descripton: unknown key; expected one of name, description, seed, targets, load, requests, thresholds, database (did you mean `description`?)",
    ]),
    ("wrong-type.toml", &["6:19: load.max_connections: expected an integer, found a string (\"many\")"]),
];

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(kind)
}

fn coldfront(args: &[&std::ffi::OsStr]) -> Output {
    Command::cargo_bin("coldfront")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn validate(path: &Path) -> Output {
    coldfront(&["validate".as_ref(), path.as_os_str()])
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn validate_accepts_every_good_fixture() {
    let output = validate(&fixtures("good"));
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok: ")).count(),
        4,
        "{stdout}"
    );
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn validate_rejects_each_bad_fixture_with_its_message() {
    for (file, expected) in BAD {
        let path = fixtures("bad").join(file);
        let output = validate(&path);
        assert_exit(&output, 2);
        let lines: Vec<String> = stderr(&output).lines().map(str::to_owned).collect();
        let wanted: Vec<String> = expected
            .iter()
            .map(|line| format!("error: {}:{line}", path.display()))
            .collect();
        assert_eq!(lines, wanted, "{file}");
        assert!(
            output.stdout.is_empty(),
            "{file}: a bad scenario is not `ok`"
        );
    }
}

#[test]
fn every_bad_fixture_is_covered() {
    let mut files: Vec<String> = std::fs::read_dir(fixtures("bad"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let covered: Vec<&str> = BAD.iter().map(|(file, _)| *file).collect();
    assert_eq!(files, covered);
}

#[test]
fn validate_reports_errors_of_every_file_in_a_directory() {
    let output = validate(&fixtures("bad"));
    assert_exit(&output, 2);
    let expected: usize = BAD.iter().map(|(_, lines)| lines.len()).sum();
    assert_eq!(
        stderr(&output).lines().count(),
        expected,
        "{}",
        stderr(&output)
    );
}

#[test]
fn validate_reports_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let output = validate(&missing);
    assert_exit(&output, 2);
    let expected = format!("error: {}: cannot read the scenario: ", missing.display());
    assert!(
        stderr(&output).starts_with(&expected),
        "{}",
        stderr(&output)
    );
}

#[test]
fn run_with_a_bad_scenario_exits_2_and_writes_no_result_set() {
    for (file, expected) in BAD {
        let out = tempfile::tempdir().unwrap();
        let path = fixtures("bad").join(file);
        let output = coldfront(&[
            "run".as_ref(),
            "--quiet".as_ref(),
            "--out".as_ref(),
            out.path().as_os_str(),
            path.as_os_str(),
        ]);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains(&format!("{}:{}", path.display(), expected[0])),
            "{file}: {}",
            stderr(&output)
        );
        let written: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
        assert!(
            written.is_empty(),
            "{file}: a bad scenario wrote {written:?}"
        );
    }
}

#[test]
fn run_starts_nothing_when_any_scenario_is_bad() {
    let out = tempfile::tempdir().unwrap();
    let good = fixtures("good").join("minimal.toml");
    let bad = fixtures("bad").join("rate-negative.toml");
    let output = coldfront(&[
        "run".as_ref(),
        "--quiet".as_ref(),
        "--out".as_ref(),
        out.path().as_os_str(),
        good.as_os_str(),
        bad.as_os_str(),
    ]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("load.phases[0].rate: expected a rate from 0 to 1000000"),
        "{}",
        stderr(&output)
    );
    let written: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert!(
        written.is_empty(),
        "wrote {written:?} although a scenario was bad"
    );
}
