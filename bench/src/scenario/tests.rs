//! Unit tests of the scenario module: valid text → the exact plan, invalid text → the exact
//! messages (file:line:column, key path, expected/found, suggestion).

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use coldfront_targets::settings::{DbConnect, PresetName};
use http::{HeaderName, HeaderValue, Method, Uri};

use super::*;

/// The example of design.md, verbatim.
const DESIGN_EXAMPLE: &str = r#"name = "cold-start-after-idle"          # [a-z0-9-]+
description = "What this scenario shows"

[targets.serverless]                     # named targets; built-in kind or external url
kind = "serverless"                      # "serverless" | "persistent"
preset = "vercel-hobby"                  # optional; explicit keys override it
keep_warm = "5s"
init = "120ms"
max_instances = 50
max_duration = "10s"
db_connect = "per-instance"

[targets.persistent]
kind = "persistent"
pool = 10

# [targets.production] url = "https://example.com"   # external; needs --allow-remote

[load]
model = "open"                           # "open" (arrival rate) | "closed" (concurrency)
timeout = "5s"                           # client timeout per request
connections = "keep-alive"               # or "per-request"
max_connections = 256

[[load.phases]]
duration = "20s"
rate = 50                                # open: requests/s; closed: `concurrency = N`
[[load.phases]]
duration = "15s"
rate = 0                                 # idle gap
[[load.phases]]
duration = "10s"
rate = { from = 10, to = 200 }           # linear ramp

[[requests]]
weight = 8
method = "GET"
path = "/api/blogs?category=rust"

[thresholds]
"serverless.latency.p99" = "< 800ms"
"*.timeout_rate" = "< 1%"
"#;

/// Lines 1–3: a name and one external target `t`.
const HEAD: &str = "name = \"x\"\n[targets.t]\nurl = \"http://127.0.0.1:9\"\n";
/// Three lines: one open-model phase.
const PHASE: &str = "[[load.phases]]\nduration = \"1s\"\nrate = 1\n";
/// Two lines: one request.
const REQUEST: &str = "[[requests]]\npath = \"/\"\n";

fn parse(text: &str) -> Result<Plan, ScenarioErrors> {
    parse_str(text, Path::new("x.toml"))
}

/// Every error of `text`, displayed; panics if it is valid.
fn errors(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(plan) => panic!("expected errors, got a plan: {plan:#?}"),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

/// The one error of `text`.
fn error(text: &str) -> String {
    let mut all = errors(text);
    assert_eq!(all.len(), 1, "expected exactly one error: {all:#?}");
    all.remove(0)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

// ---- valid scenarios -------------------------------------------------------------------------

#[test]
fn design_example_becomes_the_exact_plan() {
    let plan = parse_str(DESIGN_EXAMPLE, Path::new("scenarios/design.toml")).unwrap();
    let expected = Plan {
        name: "cold-start-after-idle".into(),
        description: "What this scenario shows".into(),
        source: PathBuf::from("scenarios/design.toml"),
        seed: 1,
        targets: vec![
            TargetPlan {
                name: "serverless".into(),
                setup: TargetSetup::Serverless(ServerlessSettings {
                    preset: PresetName::new("vercel-hobby"),
                    keep_warm: Some(secs(5)),
                    init: Some(ms(120)),
                    max_instances: Some(50),
                    max_duration: Some(secs(10)),
                    db_connect: Some(DbConnect::PerInstance),
                    ..ServerlessSettings::default()
                }),
            },
            TargetPlan {
                name: "persistent".into(),
                setup: TargetSetup::Persistent(PersistentSettings { pool: Some(10) }),
            },
        ],
        load: LoadPlan {
            model: LoadModel::Open {
                arrivals: Arrivals::Uniform,
            },
            timeout: secs(5),
            connections: ConnectionPolicy::KeepAlive,
            max_connections: 256,
            phases: vec![
                Phase {
                    name: None,
                    duration: secs(20),
                    load: PhaseLoad::Rate(Rate::Constant(50.0)),
                },
                Phase {
                    name: None,
                    duration: secs(15),
                    load: PhaseLoad::Rate(Rate::Constant(0.0)),
                },
                Phase {
                    name: None,
                    duration: secs(10),
                    load: PhaseLoad::Rate(Rate::Ramp {
                        from: 10.0,
                        to: 200.0,
                    }),
                },
            ],
        },
        requests: vec![RequestTemplate {
            name: "GET /api/blogs?category=rust".into(),
            weight: 8,
            method: Method::GET,
            path_and_query: "/api/blogs?category=rust".into(),
            headers: vec![],
            body: Bytes::new(),
            kind: RequestKind::Http,
        }],
        thresholds: vec![
            Threshold {
                key: "serverless.latency.p99".into(),
                condition: "< 800ms".into(),
                target: TargetSelector::Named("serverless".into()),
                metric: Metric::Latency(Stat::P99),
                comparison: Comparison::Less,
                limit: 800.0,
            },
            Threshold {
                key: "*.timeout_rate".into(),
                condition: "< 1%".into(),
                target: TargetSelector::All,
                metric: Metric::TimeoutRate,
                comparison: Comparison::Less,
                limit: 0.01,
            },
        ],
        database: DatabasePlan {
            max_connections: 100,
        },
    };
    assert_eq!(plan, expected);
    assert_eq!(plan.load.total_duration(), secs(45));
}

#[test]
fn database_max_connections_is_read_and_checked() {
    let plan = parse(&format!(
        "{HEAD}{PHASE}{REQUEST}[database]\nmax_connections = 20\n"
    ))
    .unwrap();
    assert_eq!(plan.database.max_connections, 20);
    let errors = parse(&format!(
        "{HEAD}{PHASE}{REQUEST}[database]\nmax_conections = 0\n"
    ))
    .unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains("database.max_conections: unknown key"),
        "{text}"
    );
    assert!(text.contains("did you mean `max_connections`?"), "{text}");
    let errors = parse(&format!(
        "{HEAD}{PHASE}{REQUEST}[database]\nmax_connections = 0\n"
    ))
    .unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("database.max_connections: expected an integer from 1 to 10000, found 0"),
        "{errors}"
    );
}

#[test]
fn omitted_keys_take_their_defaults() {
    let plan = parse(&format!("{HEAD}{PHASE}{REQUEST}")).unwrap();
    assert_eq!(plan.description, "");
    assert_eq!(plan.seed, 1);
    assert_eq!(
        plan.targets,
        vec![TargetPlan {
            name: "t".into(),
            setup: TargetSetup::External {
                base_url: Uri::from_static("http://127.0.0.1:9")
            },
        }]
    );
    assert_eq!(
        plan.load.model,
        LoadModel::Open {
            arrivals: Arrivals::Uniform
        }
    );
    assert_eq!(plan.load.timeout, secs(10));
    assert_eq!(plan.load.connections, ConnectionPolicy::KeepAlive);
    assert_eq!(plan.load.max_connections, 256);
    let request = &plan.requests[0];
    assert_eq!((request.name.as_str(), request.weight), ("GET /", 1));
    assert_eq!(request.method, Method::GET);
    assert!(request.headers.is_empty() && request.body.is_empty());
    assert!(plan.thresholds.is_empty());
}

#[test]
fn closed_model_phases_have_workers_and_think_time() {
    let text = format!(
        "{HEAD}[load]\nmodel = \"closed\"\nconnections = \"per-request\"\n\
         [[load.phases]]\nname = \"busy\"\nduration = \"1m30s\"\nconcurrency = 8\nthink_time = \"250ms\"\n\
         [[load.phases]]\nduration = \"1.5s\"\nconcurrency = 0\n{REQUEST}"
    );
    let load = parse(&text).unwrap().load;
    assert_eq!(load.model, LoadModel::Closed);
    assert_eq!(load.connections, ConnectionPolicy::PerRequest);
    assert_eq!(
        load.phases,
        vec![
            Phase {
                name: Some("busy".into()),
                duration: secs(90),
                load: PhaseLoad::Concurrency {
                    workers: 8,
                    think_time: ms(250)
                },
            },
            Phase {
                name: None,
                duration: ms(1500),
                load: PhaseLoad::Concurrency {
                    workers: 0,
                    think_time: Duration::ZERO
                },
            },
        ]
    );
}

#[test]
fn requests_keep_method_headers_body_and_name() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\nname = \"create\"\nweight = 3\nmethod = \"POST\"\npath = \"/api/blogs\"\n\
         headers = {{ authorization = \"Bearer t0ken\", Content-Type = \"application/json\" }}\n\
         body = '{{\"title\":\"hi\"}}'\n"
    );
    let request = parse(&text).unwrap().requests.remove(0);
    assert_eq!(
        request,
        RequestTemplate {
            name: "create".into(),
            weight: 3,
            method: Method::POST,
            path_and_query: "/api/blogs".into(),
            headers: vec![
                (
                    HeaderName::from_static("authorization"),
                    HeaderValue::from_static("Bearer t0ken")
                ),
                (
                    HeaderName::from_static("content-type"),
                    HeaderValue::from_static("application/json")
                ),
            ],
            body: Bytes::from_static(br#"{"title":"hi"}"#),
            kind: RequestKind::Http,
        }
    );
}

#[test]
fn thresholds_convert_limits_to_their_units() {
    let text = format!(
        "{HEAD}{PHASE}{REQUEST}[thresholds]\n\
         \"t.service_time.p999\" = \"<= 1.5s\"\n\"*.error_rate\" = \"<0.5%\"\n\
         \"t.throughput_rps\" = \"> 99.5\"\n\"*.db_connections.max\" = \">= 20\"\n\
         \"t.send_lag.max\" = \"< 500us\"\n"
    );
    let limits: Vec<_> = parse(&text)
        .unwrap()
        .thresholds
        .into_iter()
        .map(|t| (t.target, t.metric, t.comparison, t.limit))
        .collect();
    let t = || TargetSelector::Named("t".into());
    assert_eq!(
        limits,
        vec![
            (
                t(),
                Metric::ServiceTime(Stat::P999),
                Comparison::LessOrEqual,
                1500.0
            ),
            (
                TargetSelector::All,
                Metric::ErrorRate,
                Comparison::Less,
                0.005
            ),
            (t(), Metric::ThroughputRps, Comparison::Greater, 99.5),
            (
                TargetSelector::All,
                Metric::DbConnectionsMax,
                Comparison::GreaterOrEqual,
                20.0
            ),
            (t(), Metric::SendLag(Stat::Max), Comparison::Less, 0.5),
        ]
    );
}

#[test]
fn held_thresholds_count_stream_ends_and_time_the_first_message() {
    let text = format!(
        "{HEAD}{PHASE}{REQUEST}[thresholds]\n\
         \"t.held.cut\" = \">= 1\"\n\"*.held.held\" = \"< 1\"\n\
         \"t.held.first_message.p99\" = \"< 250ms\"\n\"t.held.refused\" = \"<= 0\"\n"
    );
    let limits: Vec<_> = parse(&text)
        .unwrap()
        .thresholds
        .into_iter()
        .map(|t| (t.metric, t.comparison, t.limit))
        .collect();
    assert_eq!(
        limits,
        vec![
            (Metric::Held(HeldEnd::Cut), Comparison::GreaterOrEqual, 1.0),
            (Metric::Held(HeldEnd::Held), Comparison::Less, 1.0),
            (Metric::HeldFirstMessage(Stat::P99), Comparison::Less, 250.0),
            (Metric::Held(HeldEnd::Refused), Comparison::LessOrEqual, 0.0),
        ]
    );
}

#[test]
fn ramps_may_be_written_with_dotted_keys_and_targets_keep_file_order() {
    let text = "name = \"x\"\n[targets.b]\nkind = \"persistent\"\n[targets.a]\nurl = \"https://h.example/prefix\"\n\
                [[load.phases]]\nduration = \"1s\"\nrate.from = 1\nrate.to = 2.5\n[[requests]]\npath = \"/\"\n";
    let plan = parse(text).unwrap();
    let names: Vec<_> = plan.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(
        plan.load.phases[0].load,
        PhaseLoad::Rate(Rate::Ramp { from: 1.0, to: 2.5 })
    );
}

// ---- unknown keys ----------------------------------------------------------------------------

#[test]
fn unknown_phase_key_names_position_path_and_suggestion() {
    let text = format!("{HEAD}{PHASE}[[load.phases]]\nduration = \"1s\"\nrat = 5\n{REQUEST}");
    assert_eq!(
        error(&text),
        "x.toml:9:1: load.phases[1].rat: unknown key; expected one of duration, rate, concurrency, \
         think_time, name (did you mean `rate`?)"
    );
}

#[test]
fn unknown_keys_are_reported_at_every_level() {
    let text = format!(
        "descripton = \"d\"\n{HEAD}pol = 3\n[load]\ntimout = \"5s\"\n\
         [[load.phases]]\nduration = \"1s\"\nrate = {{ from = 1, too = 5 }}\n{REQUEST}wieght = 2\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:1:1: descripton: unknown key; expected one of name, description, seed, targets, \
             load, requests, thresholds, database (did you mean `description`?)",
            "x.toml:5:1: targets.t.pol: unknown key; expected one of url, kind, preset, keep_warm, \
             init, max_instances, max_duration, queue_timeout, db_connect, pool (did you mean `pool`?)",
            "x.toml:7:1: load.timout: unknown key; expected one of model, arrivals, timeout, \
             connections, max_connections, phases (did you mean `timeout`?)",
            "x.toml:10:20: load.phases[0].rate.too: unknown key; expected one of from, to \
             (did you mean `to`?)",
            "x.toml:13:1: requests[0].wieght: unknown key; expected one of weight, method, path, \
             name, headers, body, kind, hold, send_every (did you mean `weight`?)",
        ]
    );
}

#[test]
fn unknown_key_without_a_close_match_has_no_suggestion() {
    let text = format!("{HEAD}{PHASE}{REQUEST}xyzzy = 1\n");
    assert_eq!(
        error(&text),
        "x.toml:9:1: requests[0].xyzzy: unknown key; expected one of weight, method, path, name, \
         headers, body, kind, hold, send_every"
    );
}

// ---- wrong types -----------------------------------------------------------------------------

#[test]
fn wrong_types_say_what_was_expected_and_found() {
    let text = "name = 5\nseed = \"one\"\nrequests = \"all\"\n[targets.t]\nurl = \"http://h\"\n\
                [load]\nmax_connections = \"many\"\n[[load.phases]]\nduration = \"1s\"\nrate = true\n";
    assert_eq!(
        errors(text),
        [
            "x.toml:1:8: name: expected a string, found an integer (5)",
            "x.toml:2:8: seed: expected an integer, found a string (\"one\")",
            "x.toml:3:12: requests: expected an array of tables ([[requests]]), found a string (\"all\")",
            "x.toml:7:19: load.max_connections: expected an integer, found a string (\"many\")",
            "x.toml:10:8: load.phases[0].rate: expected a number of requests/s or a ramp such as \
             { from = 10, to = 200 }, found a boolean (true)",
        ]
    );
}

#[test]
fn a_datetime_is_not_a_string() {
    let text = format!("description = 1979-05-27\n{HEAD}{PHASE}{REQUEST}");
    assert_eq!(
        error(&text),
        "x.toml:1:15: description: expected a string, found a datetime (1979-05-27)"
    );
}

#[test]
fn a_table_where_a_value_belongs_is_a_type_error() {
    let text = "name = \"x\"\ntargets = 3\n[[load.phases]]\nduration = \"1s\"\nrate = 1\n[[requests]]\npath = \"/\"\n";
    assert_eq!(
        error(text),
        "x.toml:2:11: targets: expected a table ([targets.NAME]), found an integer (3)"
    );
}

// ---- durations -------------------------------------------------------------------------------

#[test]
fn a_bare_number_is_not_a_duration() {
    let text = format!("{HEAD}[[load.phases]]\nduration = 20\nrate = 1\n{REQUEST}");
    assert_eq!(
        error(&text),
        "x.toml:5:12: load.phases[0].duration: expected a duration string such as \"5s\", found an integer (20)"
    );
}

#[test]
fn negative_and_malformed_durations_say_what_was_found() {
    let text = "name = \"x\"\n[targets.f]\nkind = \"serverless\"\nkeep_warm = \"-5s\"\ninit = \"5 minutes\"\n\
                max_duration = \"0s\"\nqueue_timeout = \"fast\"\n[load]\ntimeout = \"10\"\n\
                [[load.phases]]\nduration = \"1s\"\nrate = 1\n[[requests]]\npath = \"/\"\n";
    assert_eq!(
        errors(text),
        [
            "x.toml:4:13: targets.f.keep_warm: expected a duration string such as \"5s\", found \"-5s\" \
             (durations cannot be negative)",
            "x.toml:5:8: targets.f.init: expected a duration string such as \"5s\", found \"5 minutes\" \
             (unknown unit `minutes`; use ns, us, ms, s, m or h)",
            "x.toml:6:16: targets.f.max_duration: expected a duration > 0 such as \"5s\", found \"0s\"",
            "x.toml:7:17: targets.f.queue_timeout: expected a duration string such as \"5s\", found \
             \"fast\" (`fast` is not a number)",
            "x.toml:9:11: load.timeout: expected a duration string such as \"5s\", found \"10\" (no unit; \
             use ns, us, ms, s, m or h)",
        ]
    );
}

// ---- rates and phases ------------------------------------------------------------------------

#[test]
fn negative_and_non_finite_rates_are_errors() {
    let text = format!(
        "{HEAD}[[load.phases]]\nduration = \"1s\"\nrate = -5\n[[load.phases]]\nduration = \"1s\"\n\
         rate = {{ from = -1, to = 5 }}\n[[load.phases]]\nduration = \"1s\"\nrate = inf\n{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:6:8: load.phases[0].rate: expected a rate >= 0 (requests/s), found -5",
            "x.toml:9:17: load.phases[1].rate.from: expected a rate >= 0 (requests/s), found -1",
            "x.toml:12:8: load.phases[2].rate: expected a rate >= 0 (requests/s), found inf",
        ]
    );
}

#[test]
fn a_ramp_without_from_or_to_names_the_missing_key() {
    let to = format!("{HEAD}[[load.phases]]\nduration = \"1s\"\nrate = {{ from = 10 }}\n{REQUEST}");
    assert_eq!(
        error(&to),
        "x.toml:6:8: load.phases[0].rate.to: missing required key; expected `to = N` (requests/s at \
         the end of the ramp)"
    );
    let from = format!("{HEAD}[[load.phases]]\nduration = \"1s\"\nrate.to = 10\n{REQUEST}");
    assert_eq!(
        error(&from),
        "x.toml:6:1: load.phases[0].rate.from: missing required key; expected `from = N` \
         (requests/s at the start of the ramp)"
    );
}

#[test]
fn rate_under_the_closed_model_says_which_key_it_expects() {
    let text = format!("{HEAD}[load]\nmodel = \"closed\"\n{PHASE}{REQUEST}");
    assert_eq!(
        error(&text),
        "x.toml:8:8: load.phases[0].rate: not allowed here: the closed model (model = \"closed\") \
         expects `concurrency`; `rate` is for model = \"open\""
    );
}

#[test]
fn concurrency_and_think_time_under_the_open_model_say_which_key_it_expects() {
    let text = format!(
        "{HEAD}[[load.phases]]\nduration = \"1s\"\nconcurrency = 4\nthink_time = \"1s\"\n{REQUEST}"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:6:15: load.phases[0].concurrency: not allowed here: the open model (model = \
             \"open\") expects `rate`; `concurrency` is for model = \"closed\"",
            "x.toml:7:14: load.phases[0].think_time: not allowed here: the open model (model = \
             \"open\") expects `rate`; `think_time` is for model = \"closed\"",
        ]
    );
}

#[test]
fn arrivals_belong_to_the_open_model() {
    let text = format!(
        "{HEAD}[load]\nmodel = \"closed\"\narrivals = \"poisson\"\n[[load.phases]]\nduration = \"1s\"\n\
         concurrency = 1\n{REQUEST}"
    );
    assert_eq!(
        error(&text),
        "x.toml:6:12: load.arrivals: not allowed here: `arrivals` applies to the open model (model = \
         \"open\"); the closed model sends as soon as a worker is free"
    );
}

#[test]
fn misspelt_choices_are_suggested() {
    let text =
        format!("{HEAD}[load]\nmodel = \"opne\"\nconnections = \"keepalive\"\n{PHASE}{REQUEST}");
    assert_eq!(
        errors(&text),
        [
            "x.toml:5:9: load.model: expected one of \"open\", \"closed\", found \"opne\" (did you mean `open`?)",
            "x.toml:6:15: load.connections: expected one of \"keep-alive\", \"per-request\", found \
             \"keepalive\" (did you mean `keep-alive`?)",
        ]
    );
}

#[test]
fn missing_phases_and_missing_phase_duration() {
    let no_phases = format!("{HEAD}[load]\ntimeout = \"1s\"\n{REQUEST}");
    assert_eq!(
        error(&no_phases),
        "x.toml:4:1: load.phases: at least one [[load.phases]] is needed"
    );
    let no_duration = format!("{HEAD}[[load.phases]]\nrate = 1\n{REQUEST}");
    assert_eq!(
        error(&no_duration),
        "x.toml:4:1: load.phases[0].duration: missing required key; expected a duration string such as \"20s\""
    );
}

// ---- missing sections, empty lists, names ----------------------------------------------------

#[test]
fn missing_required_keys_are_reported_at_the_top() {
    let text = "description = \"nothing else\"\n";
    assert_eq!(
        errors(text),
        [
            "x.toml:1:1: name: missing required key; expected a scenario name such as \"cold-start-after-idle\"",
            "x.toml:1:1: targets: at least one [targets.NAME] is needed",
            "x.toml:1:1: load: missing required key; expected a [load] table with at least one [[load.phases]]",
            "x.toml:1:1: requests: at least one [[requests]] is needed",
        ]
    );
}

#[test]
fn an_empty_request_mix_is_an_error() {
    assert_eq!(
        error(&format!("{HEAD}{PHASE}")),
        "x.toml:1:1: requests: at least one [[requests]] is needed"
    );
    assert_eq!(
        error(&format!("requests = []\n{HEAD}{PHASE}")),
        "x.toml:1:12: requests: at least one [[requests]] is needed"
    );
}

#[test]
fn bad_names_suggest_a_valid_one() {
    let text = "name = \"Cold Start\"\n[targets.Prod]\nurl = \"http://h\"\n[[load.phases]]\nduration = \"1s\"\n\
                rate = 1\n[[requests]]\npath = \"/\"\n";
    assert_eq!(
        errors(text),
        [
            "x.toml:1:8: name: expected a name of lowercase letters, digits and `-` (like \
             \"cold-start-after-idle\"), found \"Cold Start\" (did you mean `cold-start`?)",
            "x.toml:2:10: targets.Prod: expected a name of lowercase letters, digits, `_` and `-` \
             (like \"serverless\"), found \"Prod\" (did you mean `prod`?)",
        ]
    );
}

// ---- targets ---------------------------------------------------------------------------------

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

// ---- requests --------------------------------------------------------------------------------

#[test]
fn request_values_are_checked() {
    let text = format!(
        "seed = -1\n{HEAD}{PHASE}[[requests]]\nweight = 0\nmethod = \"get\"\npath = \"api\"\n\
         [[requests]]\nmethod = \"GE T\"\npath = \"/\"\nheaders = {{ \"bad header\" = \"v\", ok = \"a\\nb\" }}\n\
         [[requests]]\nweight = 1\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:1:8: seed: expected an integer >= 0, found -1",
            "x.toml:9:10: requests[0].weight: expected an integer from 1 to 4294967295, found 0",
            "x.toml:10:10: requests[0].method: expected an HTTP method in capitals (methods are \
             case-sensitive), found \"get\" (did you mean `GET`?)",
            "x.toml:11:8: requests[0].path: expected a path starting with `/` such as \
             \"/api/blogs?category=rust\", found \"api\"",
            "x.toml:13:10: requests[1].method: expected an HTTP method such as \"GET\" or \"POST\", found \"GE T\"",
            "x.toml:15:13: requests[1].headers.\"bad header\": expected a header name (letters, digits and \
             !#$%&'*+-.^_`|~), found \"bad header\"",
            "x.toml:15:38: requests[1].headers.ok: expected a header value of visible ASCII characters \
             and spaces, found \"a\\nb\"",
            "x.toml:16:1: requests[2].path: missing required key; expected a path such as \"/api/health\"",
        ]
    );
}

// ---- held requests ---------------------------------------------------------------------------

#[test]
fn held_kinds_become_held_requests_with_their_hold() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/api/events?count=5\"\nkind = \"sse\"\nhold = \"3s\"\n\
         [[requests]]\npath = \"/api/chat\"\nkind = \"websocket\"\nhold = \"1m\"\nsend_every = \"250ms\"\n\
         headers = {{ authorization = \"Bearer t\" }}\n\
         [[requests]]\npath = \"/api/chat\"\nkind = \"websocket\"\nhold = \"2s\"\nmethod = \"GET\"\n\
         [[requests]]\npath = \"/\"\nkind = \"http\"\n"
    );
    let plan = parse(&text).unwrap();
    let kinds: Vec<RequestKind> = plan.requests.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Held(HeldRequest {
                protocol: HeldProtocol::Sse,
                hold: secs(3),
                send_every: None,
            }),
            RequestKind::Held(HeldRequest {
                protocol: HeldProtocol::WebSocket,
                hold: secs(60),
                send_every: Some(ms(250)),
            }),
            RequestKind::Held(HeldRequest {
                protocol: HeldProtocol::WebSocket,
                hold: secs(2),
                send_every: None,
            }),
            RequestKind::Http,
        ]
    );
    let names: Vec<&str> = plan.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SSE /api/events?count=5",
            "WebSocket /api/chat",
            "WebSocket /api/chat",
            "GET /"
        ]
    );
    assert_eq!(plan.requests[1].headers.len(), 1);
    assert_eq!(plan.requests[0].kind.key(), "sse");
    assert_eq!(plan.requests[1].kind.held().map(|h| h.hold), Some(secs(60)));
}

#[test]
fn a_held_kind_needs_a_hold() {
    let text = format!("{HEAD}{PHASE}[[requests]]\npath = \"/api/events\"\nkind = \"sse\"\n");
    assert_eq!(
        error(&text),
        "x.toml:7:1: requests[0].hold: missing required key; expected a duration such as \"30s\" \
         (how long the generator keeps a kind = \"sse\" connection open)"
    );
}

#[test]
fn hold_and_send_every_are_not_for_http_requests() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/\"\nhold = \"3s\"\n\
         [[requests]]\npath = \"/\"\nkind = \"http\"\nsend_every = \"1s\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:9:8: requests[0].hold: not allowed here: `hold` is for held connections \
             (kind = \"sse\" or \"websocket\"); a kind = \"http\" request ends with its response",
            "x.toml:13:14: requests[1].send_every: not allowed here: `send_every` is for \
             kind = \"websocket\"",
        ]
    );
}

#[test]
fn held_kinds_refuse_send_every_on_sse_a_method_and_a_body() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/e\"\nkind = \"sse\"\nhold = \"1s\"\nsend_every = \"1s\"\n\
         [[requests]]\npath = \"/c\"\nkind = \"websocket\"\nhold = \"1s\"\nmethod = \"POST\"\nbody = \"x\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:11:14: requests[0].send_every: not allowed here: `send_every` is for \
             kind = \"websocket\"; an SSE stream only receives",
            "x.toml:16:10: requests[1].method: not allowed here: a kind = \"websocket\" request is \
             always a GET; `method = \"POST\"` is for kind = \"http\"",
            "x.toml:17:8: requests[1].body: not allowed here: `body` is for kind = \"http\"; a \
             kind = \"websocket\" request sends messages with `send_every`",
        ]
    );
}

#[test]
fn held_values_are_checked_and_a_misspelt_kind_is_suggested() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/\"\nkind = \"websockets\"\nhold = \"0s\"\n\
         [[requests]]\npath = \"/\"\nkind = \"websocket\"\nhold = 3\nsend_every = \"-1s\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:9:8: requests[0].kind: expected one of \"http\", \"sse\", \"websocket\", found \
             \"websockets\" (did you mean `websocket`?)",
            "x.toml:10:8: requests[0].hold: expected a duration > 0 such as \"5s\", found \"0s\"",
            "x.toml:14:8: requests[1].hold: expected a duration string such as \"5s\", found an \
             integer (3)",
            "x.toml:15:14: requests[1].send_every: expected a duration string such as \"5s\", found \
             \"-1s\" (durations cannot be negative)",
        ]
    );
}

// ---- thresholds ------------------------------------------------------------------------------

const TWO_TARGETS: &str = "name = \"x\"\n[targets.serverless]\nkind = \"serverless\"\n\
                           [targets.persistent]\nkind = \"persistent\"\n";

#[test]
fn a_threshold_on_an_unknown_target_lists_the_defined_ones() {
    let text = format!(
        "{TWO_TARGETS}{PHASE}{REQUEST}[thresholds]\n\"serverles.latency.p99\" = \"< 800ms\"\n"
    );
    assert_eq!(
        error(&text),
        "x.toml:12:1: thresholds.\"serverles.latency.p99\": unknown target `serverles`; expected one of \
         serverless, persistent, * (did you mean `serverless`?)"
    );
}

#[test]
fn a_threshold_on_an_unknown_metric_suggests_one() {
    let text = format!(
        "{HEAD}{PHASE}{REQUEST}[thresholds]\n\"*.latncy.p99\" = \"< 800ms\"\n\"t.throughput\" = \"> 5\"\n"
    );
    let metrics = "latency.STAT, service_time.STAT, connect_time.STAT, cold_latency.STAT, \
                   warm_latency.STAT, send_lag.STAT, held.first_message.STAT, timeout_rate, \
                   error_rate, throttle_rate, throughput_rps, ok_rps, requests, cold_starts, \
                   db_connections.max, held.opened, held.held, held.completed, held.cut, \
                   held.refused (STAT: min mean p50 p75 p90 p95 p99 p999 p9999 max)";
    assert_eq!(
        errors(&text),
        [
            format!(
                "x.toml:10:1: thresholds.\"*.latncy.p99\": unknown metric `latncy.p99`; expected one of \
                 {metrics} (did you mean `latency.p99`?)"
            ),
            format!(
                "x.toml:11:1: thresholds.\"t.throughput\": unknown metric `throughput`; expected one of \
                 {metrics} (did you mean `throughput_rps`?)"
            ),
        ]
    );
}

#[test]
fn a_threshold_in_the_wrong_unit_says_which_unit_is_expected() {
    let text = format!(
        "{HEAD}{PHASE}{REQUEST}[thresholds]\n\"t.latency.p99\" = \"< 1%\"\n\"*.error_rate\" = \"< 0.01\"\n\
         \"*.throughput_rps\" = \"> 5ms\"\n\"*.cold_starts\" = \"< 101%\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:10:19: thresholds.\"t.latency.p99\": expected a duration such as \"< 800ms\" \
             (`latency.p99` is a time), found \"< 1%\" (unknown unit `%`; use ns, us, ms, s, m or h)",
            "x.toml:11:18: thresholds.\"*.error_rate\": expected a percentage such as \"< 1%\" \
             (`error_rate` is a rate), found \"< 0.01\" (no `%`)",
            "x.toml:12:22: thresholds.\"*.throughput_rps\": expected a plain number such as \"> 100\" \
             (`throughput_rps` is requests/s), found \"> 5ms\" (`5ms` is not a plain number)",
            "x.toml:13:19: thresholds.\"*.cold_starts\": expected a plain number such as \"< 10\" \
             (`cold_starts` is a count), found \"< 101%\" (`101%` is not a plain number)",
        ]
    );
}

#[test]
fn threshold_keys_and_conditions_need_their_shape() {
    let text = format!(
        "{HEAD}{PHASE}{REQUEST}[thresholds]\n\"latency\" = \"< 1s\"\n\"*.error_rate\" = \"1%\"\n\
         \"*.timeout_rate\" = 0.01\n\"*.throttle_rate\" = \"< 120%\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:10:1: thresholds.latency: expected a key \"<target>.<metric>\" such as \
             \"serverless.latency.p99\" or \"*.error_rate\", found \"latency\"",
            "x.toml:11:18: thresholds.\"*.error_rate\": expected a condition \"<op> <value>\" with op one \
             of <, <=, >, >= (such as \"< 800ms\"), found \"1%\"",
            "x.toml:12:20: thresholds.\"*.timeout_rate\": expected a condition string such as \"< 800ms\", \
             found a float (0.01)",
            "x.toml:13:21: thresholds.\"*.throttle_rate\": expected a percentage such as \"< 1%\" \
             (`throttle_rate` is a rate), found \"< 120%\" (more than 100%)",
        ]
    );
}

#[test]
fn an_unquoted_threshold_key_is_told_to_be_quoted() {
    let text = format!("{HEAD}{PHASE}{REQUEST}[thresholds]\nt.latency.p99 = \"< 800ms\"\n");
    assert_eq!(
        error(&text),
        "x.toml:10:1: thresholds.t: expected a condition string; quote the whole key, as in \
         \"serverless.latency.p99\" = \"< 800ms\", found a table"
    );
}

// ---- syntax, many errors, files --------------------------------------------------------------

#[test]
fn a_syntax_error_has_a_position() {
    let all = errors("name = \"x\"\nname = \"y\"\n");
    assert_eq!(
        all,
        ["x.toml:2:1: invalid TOML: duplicate key `name` in document root"]
    );
}

#[test]
fn independent_errors_are_all_reported_in_file_order() {
    let text = format!(
        "{HEAD}pool = 4\n[load]\nmodel = \"opn\"\n[[load.phases]]\nduration = \"1 sec\"\nrat = 5\n\
         [[requests]]\nmethod = \"get\"\npath = \"api\"\n"
    );
    let all = errors(&text);
    let positions: Vec<&str> = all.iter().map(|e| e.split(": ").next().unwrap()).collect();
    assert_eq!(
        positions,
        [
            "x.toml:4:8",
            "x.toml:6:9",
            "x.toml:8:12",
            "x.toml:9:1",
            "x.toml:11:10",
            "x.toml:12:8"
        ]
    );
}

#[test]
fn load_file_reports_an_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let errors = load_file(&missing).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    let message = errors.to_string();
    assert!(
        message.starts_with(&format!(
            "{}: cannot read the scenario: ",
            missing.display()
        )),
        "{message}"
    );
}

#[test]
fn load_paths_reads_directories_in_name_order_and_collects_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let valid = |name: &str| {
        format!("name = \"{name}\"\n[targets.t]\nurl = \"http://h\"\n{PHASE}{REQUEST}")
    };
    std::fs::write(dir.path().join("b.toml"), valid("b")).unwrap();
    std::fs::write(dir.path().join("a.toml"), valid("a")).unwrap();
    std::fs::write(dir.path().join("c.toml"), "name = 1\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a scenario").unwrap();
    std::fs::create_dir(dir.path().join("nested.toml")).unwrap();
    let missing = dir.path().join("missing.toml");

    let (plans, errors) = load_paths(&[dir.path().to_path_buf(), missing.clone()]);

    let names: Vec<_> = plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(plans[0].source, dir.path().join("a.toml"));
    let files: Vec<_> = errors.iter().map(|e| e.file.clone()).collect();
    let c = dir.path().join("c.toml");
    // c.toml: `name` has the wrong type; targets, load and requests are missing.
    assert_eq!(files, [c.clone(), c.clone(), c.clone(), c, missing]);
}

#[test]
fn two_files_may_not_share_a_scenario_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEAD}{PHASE}{REQUEST}");
    let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
    std::fs::write(&a, &text).unwrap();
    std::fs::write(&b, &text).unwrap();
    let (plans, errors) = load_paths(&[a.clone(), b.clone(), a.clone()]);
    assert_eq!(plans.len(), 3);
    let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [format!(
            "{}: name: scenario name `x` is already used by {}",
            b.display(),
            a.display()
        )]
    );
}

#[test]
fn errors_display_one_per_line() {
    let errors = parse(&format!(
        "name = 5\nseed = -1\n[targets.t]\nurl = \"http://h\"\n{PHASE}{REQUEST}"
    ))
    .unwrap_err();
    let text = errors.to_string();
    assert_eq!(text.lines().count(), errors.0.len());
    assert!(
        text.starts_with("x.toml:1:8: name: expected a string, found an integer (5)\n"),
        "{text}"
    );
    let first = &errors.0[0];
    assert_eq!(first.position, Some(Position { line: 1, column: 8 }));
    assert_eq!(first.key.as_deref(), Some("name"));
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
             keep_warm, init, max_instances, max_duration, queue_timeout, db_connect, pool (did \
             you mean `keep_warm`?)",
        ]
    );
}
