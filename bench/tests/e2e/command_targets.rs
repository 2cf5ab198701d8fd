//! Command targets through `coldfront run`: the user's own server (here `apps/app.py` and
//! `apps/app.js`) as a serverless and as a persistent target, with `[database] init_sql`
//! applied, and nothing of it left after the run, after Ctrl-C, SIGTERM, or a SIGKILL of
//! coldfront itself; and the errors a bad command, `prepare` or app gives before any load.

use std::path::Path;
use std::time::Duration;

use coldfront::testing::assert_exit;

use super::serverless::command::{apps_dir, assert_no_process_left, marked_processes, unique_mark};
use super::support::*;

/// `[targets.NAME]` running `program app MARK` from the test apps' directory.
fn command_target(name: &str, kind: &str, program: &str, mark: &str, extra: &str) -> String {
    let (app, ready) = match program {
        "node" => ("app.js", "/health"),
        _ => ("app.py", "/health"),
    };
    format!(
        "[targets.{name}]\nkind = \"{kind}\"\ncommand = [\"{program}\", \"{app}\", \"{mark}\"]\n\
         cwd = \"{}\"\nenv = {{ FORK_CHILD = \"1\", TEST_MARK = \"{mark}\" }}\nready = \"{ready}\"\n{extra}",
        apps_dir().display()
    )
}

fn scenario(name: &str, targets: &str, seconds: u32, path: &str, database: &str) -> String {
    format!(
        "name = \"{name}\"\n{targets}\n{database}\n[load]\nmodel = \"open\"\n[[load.phases]]\n\
         duration = \"{seconds}s\"\nrate = 10\n[[requests]]\npath = \"{path}\"\n"
    )
}

#[test]
fn a_users_app_runs_as_both_kinds_on_its_init_sql_and_leaves_nothing() {
    let mark = unique_mark("run");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("init.sql"),
        "CREATE TABLE marker (n int);\nINSERT INTO marker VALUES (1), (2), (3);\n",
    )
    .unwrap();
    let targets = command_target(
        "py-serverless",
        "serverless",
        "python3",
        &mark,
        "keep_warm = \"500ms\"\n",
    ) + &command_target("py-persistent", "persistent", "python3", &mark, "");
    let text = scenario(
        "own-app",
        &targets,
        2,
        "/db",
        "[database]\ninit_sql = \"init.sql\"\n[thresholds]\n\"*.error_rate\" = \"< 1%\"\n",
    );
    let file = write_scenario(dir.path(), "own-app", &text);
    let out = dir.path().join("out");
    let output = run_coldfront(&out, &[&file]);
    assert_exit(&output, 0);
    let set = out.join("own-app");
    let summary = read_summary(&set);
    let serverless = &summary.targets["py-serverless"];
    let persistent = &summary.targets["py-persistent"];
    for (name, target) in [("serverless", serverless), ("persistent", persistent)] {
        assert!(
            target.requests >= 15,
            "{name}: {} requests",
            target.requests
        );
        assert_eq!(
            target.ok, target.requests,
            "{name}: every /db read init_sql's table: {:?}",
            target.errors
        );
    }
    assert!(
        serverless.cold_starts.unwrap_or(0) >= 1,
        "counted by the gateway"
    );
    let log = std::fs::read_to_string(set.join("py-persistent.log")).unwrap();
    assert!(log.contains("listening on"), "the app's own output: {log}");
    assert_no_process_left(&mark, Duration::from_secs(5));
}

/// Ctrl-C and SIGTERM stop the run cleanly; a SIGKILL of coldfront leaves its `serve` child to
/// stop the app (parent-death signal SIGTERM): whichever way, no process of the app (nor the
/// child it forked) is left.
#[test]
fn no_app_process_outlives_ctrl_c_sigterm_or_sigkill_of_coldfront() {
    for (kind, program, signal) in [
        ("persistent", "python3", libc::SIGINT),
        ("serverless", "node", libc::SIGTERM),
        ("persistent", "node", libc::SIGKILL),
        ("serverless", "python3", libc::SIGKILL),
    ] {
        let mark = unique_mark("signal");
        let dir = tempfile::tempdir().unwrap();
        let target = command_target("app", kind, program, &mark, "");
        let file = write_scenario(
            dir.path(),
            "long",
            &scenario("long", &target, 60, "/health", ""),
        );
        let out = dir.path().join("out");
        let run = BackgroundRun::start(&out, &file);
        run.wait_for(&out.join("long/app.hlog.partial"), Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            !marked_processes(&mark).is_empty(),
            "{kind} {program}: the app runs during load"
        );
        let (status, _) = run.signal(signal, Duration::from_secs(10));
        if signal != libc::SIGKILL {
            assert_eq!(status.code(), Some(130), "{kind} {program} after {signal}");
        }
        assert_no_process_left(&mark, Duration::from_secs(10));
    }
}

#[test]
fn a_bad_command_prepare_or_app_fails_before_any_load_naming_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let apps = apps_dir();
    let cases = [
        (
            "missing",
            "command = [\"no-such-program-x\"]\n".to_owned(),
            vec!["target `app`", "`no-such-program-x` is not found on PATH"],
        ),
        (
            "prepare",
            format!(
                "command = [\"node\", \"app.js\"]\ncwd = \"{}\"\n\
                 prepare = [\"sh\", \"-c\", \"echo resolving; echo broken >&2; exit 4\"]\n",
                apps.display()
            ),
            vec!["target `app`", "prepare `sh -c", "exit status: 4", "broken"],
        ),
        (
            "crash",
            format!(
                "command = [\"node\", \"app.js\"]\ncwd = \"{}\"\nenv = {{ CRASH_AT_START = \"1\" }}\n",
                apps.display()
            ),
            vec!["target `app`", "`node app.js` exited (exit status: 3) before it was ready"],
        ),
        (
            "port",
            format!(
                "command = [\"node\", \"app.js\"]\ncwd = \"{}\"\nenv = {{ WRONG_PORT = \"1\" }}\n\
                 init_timeout = \"1s\"\n",
                apps.display()
            ),
            vec!["did not accept a connection", "$PORT"],
        ),
    ];
    for (name, keys, expected) in cases {
        // A scratch copy for `prepare`, which leaves its log and stamp in the app's directory.
        let keys = if name == "prepare" {
            let copy = dir.path().join("prepare-app");
            std::fs::create_dir_all(&copy).unwrap();
            std::fs::copy(apps.join("app.js"), copy.join("app.js")).unwrap();
            keys.replace(&apps.display().to_string(), &copy.display().to_string())
        } else {
            keys
        };
        let target = format!("[targets.app]\nkind = \"persistent\"\n{keys}");
        let file = write_scenario(dir.path(), name, &scenario(name, &target, 5, "/health", ""));
        let out = dir.path().join(format!("out-{name}"));
        let output = run_coldfront(&out, &[&file]);
        assert_exit(&output, 2);
        let stderr = String::from_utf8_lossy(&output.stderr);
        for part in expected {
            assert!(stderr.contains(part), "{name}: {part:?} in\n{stderr}");
        }
        let summary = Path::new(&out).join(name).join("summary.json");
        assert!(
            !summary.exists() || read_summary(summary.parent().unwrap()).targets.is_empty(),
            "{name}: no load was sent"
        );
    }
}
