//! The shape of a document: unknown keys, wrong types, missing sections, names, TOML syntax,
//! and how many errors are reported and displayed.

use super::*;
use crate::scenario::error::Position;

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
             init, max_instances, max_duration, queue_timeout, db_connect, concurrency, pool, command, cwd, env, ready, init_timeout, listen, prepare, tls (did you mean `pool`?)",
            "x.toml:7:1: load.timout: unknown key; expected one of model, arrivals, timeout, \
             connections, max_connections, phases (did you mean `timeout`?)",
            "x.toml:10:20: load.phases[0].rate.too: unknown key; expected one of from, to \
             (did you mean `to`?)",
            "x.toml:13:1: requests[0].wieght: unknown key; expected one of weight, method, path, \
             name, headers, body, kind, hold, send_every, data, data_order (did you mean `weight`?)",
        ]
    );
}

#[test]
fn unknown_key_without_a_close_match_has_no_suggestion() {
    let text = format!("{HEAD}{PHASE}{REQUEST}xyzzy = 1\n");
    assert_eq!(
        error(&text),
        "x.toml:9:1: requests[0].xyzzy: unknown key; expected one of weight, method, path, name, \
         headers, body, kind, hold, send_every, data, data_order"
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
            "x.toml:1:8: name: expected a name of lowercase letters, digits and `-`, at most 64 characters (like \
             \"cold-start-after-idle\"), found \"Cold Start\" (did you mean `cold-start`?)",
            "x.toml:2:10: targets.Prod: expected a name of lowercase letters, digits, `_` and `-`, at most 64 characters \
             (like \"serverless\"), found \"Prod\" (did you mean `prod`?)",
        ]
    );
}

// ---- syntax, many errors, display ------------------------------------------------------------

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
fn names_longer_than_a_result_set_file_can_carry_are_refused() {
    let long = "a".repeat(300);
    let text =
        format!("name = \"{long}\"\n[targets.t]\nurl = \"http://127.0.0.1:9\"\n{PHASE}{REQUEST}");
    let errors = errors(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("x.toml:1:8: name: expected a name of")
            && errors[0].contains("at most 64 characters"),
        "{errors:?}"
    );
    let text = format!(
        "name = \"{}\"\n[targets.t]\nurl = \"http://127.0.0.1:9\"\n{PHASE}{REQUEST}",
        "a".repeat(64)
    );
    assert!(parse(&text).is_ok());
}

#[test]
fn a_value_missing_at_the_end_of_the_file_is_said_in_words() {
    assert_eq!(
        errors("name = \"x\"\nseed = "),
        ["x.toml:2:8: invalid TOML: unexpected end of file (a value or a closing bracket is missing)"]
    );
}
