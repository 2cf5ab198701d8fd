//! `[targets.NAME]`: external URLs and built-in kinds, the keys each kind allows, their values.

use super::*;

#[test]
fn serverless_keys_on_other_kinds_name_the_key_and_the_kind() {
    let text = format!(
        "name = \"x\"\n[targets.p]\nkind = \"persistent\"\nkeep_warm = \"5s\"\n[targets.u]\nurl = \"http://h\"\n\
         max_instances = 2\n[targets.s]\nkind = \"serverless\"\npool = 4\n{PHASE}{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:4:13: targets.p.keep_warm: not allowed here: `keep_warm` applies to kind = \
             \"serverless\" targets; this target is kind = \"persistent\"",
            "x.toml:7:17: targets.u.max_instances: not allowed here: `max_instances` applies to kind = \
             \"serverless\" targets; this target is external (`url`)",
            "x.toml:10:8: targets.s.pool: not allowed here: `pool` applies to kind = \"persistent\" \
             targets; this target is kind = \"serverless\"",
        ]
    );
}

#[test]
fn a_target_needs_exactly_one_of_url_and_kind() {
    let text = format!(
        "name = \"x\"\n[targets.none]\n[targets.both]\nkind = \"persistent\"\nurl = \"http://h\"\n{PHASE}{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:2:1: targets.none.kind: missing required key; expected `kind = \"serverless\"`, \
             `kind = \"persistent\"` or `url = \"http://…\"`",
            "x.toml:5:7: targets.both.url: not allowed here: a target has either `url` (a server \
             coldfront does not start) or `kind` (a built-in target), not both",
        ]
    );
}

#[test]
fn target_values_are_checked() {
    let text = format!(
        "name = \"x\"\n[targets.a]\nkind = \"serverles\"\n[targets.b]\nkind = \"serverless\"\n\
         preset = \"lamda\"\nmax_instances = 0\ndb_connect = \"per_request\"\n[targets.c]\n\
         kind = \"persistent\"\npool = -1\n{PHASE}{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:3:8: targets.a.kind: expected one of \"serverless\", \"persistent\", found \
             \"serverles\" (did you mean `serverless`?)",
            "x.toml:6:10: targets.b.preset: expected one of \"lambda\", \"vercel-hobby\", \"vercel-pro\", \
             \"knative\", \"cgi\", found \"lamda\" (did you mean `lambda`?)",
            "x.toml:7:17: targets.b.max_instances: expected an integer from 1 to 4294967295, found 0",
            "x.toml:8:14: targets.b.db_connect: expected one of \"per-instance\", \"per-request\", found \
             \"per_request\" (did you mean `per-request`?)",
            "x.toml:11:8: targets.c.pool: expected an integer from 1 to 4294967295, found -1",
        ]
    );
}

#[test]
fn urls_need_http_or_https_a_host_and_no_query() {
    let text = format!(
        "name = \"x\"\n[targets.a]\nurl = \"ftp://h\"\n[targets.b]\nurl = \"127.0.0.1:9\"\n\
         [targets.c]\nurl = \"http://h/p?q=1\"\n[targets.d]\nurl = \"http://\"\n{PHASE}{REQUEST}"
    );
    let expected =
        "expected an http:// or https:// URL with a host, such as \"http://127.0.0.1:8080\"";
    assert_eq!(
        errors(&text),
        [
            format!("x.toml:3:7: targets.a.url: {expected}, found \"ftp://h\" (the scheme is not http or https)"),
            format!("x.toml:5:7: targets.b.url: {expected}, found \"127.0.0.1:9\" (no scheme)"),
            format!("x.toml:7:7: targets.c.url: {expected}, found \"http://h/p?q=1\" (a base URL cannot have a query)"),
            format!("x.toml:9:7: targets.d.url: {expected}, found \"http://\" (not a valid URL)"),
        ]
    );
}

#[test]
fn an_empty_targets_table_is_an_error() {
    let text = format!("name = \"x\"\ntargets = {{}}\n{PHASE}{REQUEST}");
    assert_eq!(
        error(&text),
        "x.toml:2:11: targets: at least one [targets.NAME] is needed"
    );
}

#[test]
fn target_setting_types_are_checked_whatever_the_kind() {
    let text = format!(
        "name = \"x\"\n[targets.a]\nkind = \"serverles\"\npool = \"ten\"\n[targets.b]\n\
         kind = \"serverless\"\npool = \"ten\"\n[targets.c]\nurl = \"http://h\"\nkeep_warm = 5\n\
         [targets.d]\nkind = \"persistent\"\nkeep_wram = \"1s\"\n{PHASE}{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:3:8: targets.a.kind: expected one of \"serverless\", \"persistent\", found \
             \"serverles\" (did you mean `serverless`?)",
            "x.toml:4:8: targets.a.pool: expected an integer, found a string (\"ten\")",
            "x.toml:7:8: targets.b.pool: expected an integer, found a string (\"ten\")",
            "x.toml:10:13: targets.c.keep_warm: expected a duration string such as \"5s\", found an \
             integer (5)",
            "x.toml:13:1: targets.d.keep_wram: unknown key; expected one of url, kind, preset, \
             keep_warm, init, max_instances, max_duration, queue_timeout, db_connect, concurrency, pool, command, cwd, env, ready, init_timeout, listen, prepare, tls (did \
             you mean `keep_warm`?)",
        ]
    );
}

#[test]
fn ports_are_read_after_user_information_and_ipv6_brackets() {
    for url in [
        "http://[::1]:8080",
        "http://[::1]",
        "http://user:pw@127.0.0.1",
        "https://h:443/p",
    ] {
        let text = format!("name = \"x\"\n[targets.t]\nurl = \"{url}\"\n{PHASE}{REQUEST}");
        assert!(parse(&text).is_ok(), "{url}");
    }
}

#[test]
fn ports_no_server_listens_on_are_refused() {
    for (port, why) in [
        ("0", "port 0 is not a port a server listens on"),
        ("99999", "the port is out of range (1 to 65535)"),
    ] {
        let text = format!(
            "name = \"x\"\n[targets.t]\nurl = \"http://127.0.0.1:{port}\"\n{PHASE}{REQUEST}"
        );
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("x.toml:3:7: targets.t.url: expected an http:// or https:// URL")
                && errors[0].contains(why),
            "{errors:?}"
        );
    }
}

#[test]
fn tls_verification_is_a_setting_of_external_targets() {
    let text = |target: &str| format!("name = \"x\"\n[targets.t]\n{target}\n{PHASE}{REQUEST}");
    let plan = parse(&text(
        "url = \"https://localhost:8443\"\ntls = { verify = false }",
    ))
    .unwrap();
    assert!(matches!(
        plan.targets[0].setup,
        TargetSetup::External {
            verify_tls: false,
            ..
        }
    ));
    let plan = parse(&text("url = \"https://localhost:8443\"")).unwrap();
    assert!(matches!(
        plan.targets[0].setup,
        TargetSetup::External {
            verify_tls: true,
            ..
        }
    ));
    assert_eq!(
        errors(&text("url = \"https://h\"\ntls = { verify = \"no\" }")),
        ["x.toml:4:18: targets.t.tls.verify: expected a boolean (true or false), found a string (\"no\")"]
    );
    let misspelt = errors(&text("url = \"https://h\"\ntls = { verfy = false }"));
    assert!(
        misspelt[0].contains("targets.t.tls.verfy: unknown key")
            && misspelt[0].contains("did you mean `verify`?"),
        "{misspelt:?}"
    );
    assert_eq!(
        errors(&text("kind = \"serverless\"\ntls = { verify = false }")),
        ["x.toml:4:7: targets.t.tls: not allowed here: `tls` applies to external targets (`url = \"https://…\"`); this target is kind = \"serverless\""]
    );
}

#[test]
fn a_command_target_takes_the_app_keys_relative_to_the_scenario_file() {
    let text = format!(
        "name = \"x\"\n[targets.s]\nkind = \"serverless\"\ncommand = [\"node\", \"server.js\"]\n\
         cwd = \"src\"\nenv = {{ NODE_ENV = \"production\" }}\nready = \"/api/health\"\n\
         init_timeout = \"5s\"\nlisten = \"fd\"\nprepare = [\"npm\", \"ci\"]\nconcurrency = 8\n\
         [targets.p]\nkind = \"persistent\"\ncommand = [\"node\", \"server.js\"]\n\
         [database]\ninit_sql = \"Cargo.toml\"\n{PHASE}{REQUEST}"
    );
    let plan = parse_str(&text, Path::new("./x.toml")).unwrap();
    let TargetSetup::Serverless { settings, app } = &plan.targets[0].setup else {
        panic!("{:?}", plan.targets[0].setup)
    };
    assert_eq!(settings.concurrency, Some(8));
    let app = app.as_ref().unwrap();
    assert_eq!(app.settings.command, ["node", "server.js"]);
    assert_eq!(app.settings.cwd.as_deref(), Some(Path::new("./src")));
    assert_eq!(app.settings.env, [("NODE_ENV".into(), "production".into())]);
    assert_eq!(app.settings.ready.as_deref(), Some("/api/health"));
    assert_eq!(app.settings.init_timeout, Some(Duration::from_secs(5)));
    assert_eq!(
        app.settings.listen,
        Some(coldfront_targets::settings::Listen::Fd)
    );
    assert_eq!(app.prepare, ["npm", "ci"]);
    let TargetSetup::Persistent { app, .. } = &plan.targets[1].setup else {
        panic!()
    };
    assert_eq!(
        app.as_ref().unwrap().settings.cwd.as_deref(),
        Some(Path::new("./")),
        "the scenario's directory by default"
    );
    assert_eq!(
        plan.database.init_sql.as_deref(),
        Some(Path::new("./Cargo.toml"))
    );
}

#[test]
fn keys_that_do_not_go_with_or_without_a_command_are_located_errors() {
    let text = format!(
        "name = \"x\"\n[targets.s]\nkind = \"serverless\"\ncommand = [\"node\"]\ninit = \"100ms\"\n\
         db_connect = \"per-request\"\n[targets.p]\nkind = \"persistent\"\ncommand = [\"node\"]\n\
         pool = 3\n[targets.b]\nkind = \"serverless\"\nconcurrency = 2\nready = \"/health\"\n\
         [targets.u]\nurl = \"http://h\"\ncommand = [\"node\"]\n{PHASE}{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:5:8: targets.s.init: not allowed here: `init` does not go with this target: it \
             models the built-in application; a command target's start-up, database access and \
             pool are its own",
            "x.toml:6:14: targets.s.db_connect: not allowed here: `db_connect` does not go with this \
             target: it models the built-in application; a command target's start-up, database \
             access and pool are its own",
            "x.toml:10:8: targets.p.pool: not allowed here: `pool` does not go with this target: it \
             models the built-in application; a command target's start-up, database access and \
             pool are its own",
            "x.toml:13:15: targets.b.concurrency: not allowed here: `concurrency` does not go with \
             this target: it applies to command targets (`command = [...]`); the built-in \
             instance serves one request at a time",
            "x.toml:14:9: targets.b.ready: not allowed here: `ready` applies to command targets \
             (kind = \"serverless\" or \"persistent\" with `command`); this target has no \
             `command`: it runs the built-in application",
            "x.toml:17:11: targets.u.command: not allowed here: `command` applies to command \
             targets (kind = \"serverless\" or \"persistent\" with `command`); this target is \
             external (`url`)",
        ]
    );
}

#[test]
fn command_target_values_are_checked() {
    let text = format!(
        "name = \"x\"\n[targets.a]\nkind = \"serverless\"\ncommand = []\n[targets.b]\n\
         kind = \"persistent\"\ncommand = [\"node\", 3]\nenv = {{ \"A=B\" = \"x\" }}\n\
         ready = \"health\"\nlisten = \"socket\"\ninit_timeout = \"0s\"\n[targets.c]\n\
         kind = \"persistent\"\ncommand = [\"node\"]\ncwd = \"no-such-directory\"\n\
         [database]\ninit_sql = \"missing.sql\"\n{PHASE}{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:4:11: targets.a.command: expected a non-empty array of strings such as \
             [\"node\", \"server.js\"], found an array",
            "x.toml:7:11: targets.b.command: expected a non-empty array of strings such as \
             [\"node\", \"server.js\"], found an array",
            "x.toml:8:7: targets.b.env.\"A=B\": not allowed here: \"A=B\" cannot be an environment \
             variable's name (it has `=` or NUL)",
            "x.toml:9:9: targets.b.ready: expected a path string such as \"/api/health\", found \
             \"health\"",
            "x.toml:10:10: targets.b.listen: expected one of \"port\", \"fd\", found \"socket\"",
            "x.toml:11:16: targets.b.init_timeout: expected a duration > 0 such as \"5s\", found \"0s\"",
            "x.toml:15:7: targets.c.cwd: not allowed here: the directory ./no-such-directory does \
             not exist",
            "x.toml:17:12: database.init_sql: expected a file, relative to the scenario file, found \
             \"missing.sql\" (./missing.sql is not a file)",
        ]
    );
}
