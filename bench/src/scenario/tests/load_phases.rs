//! `[load]` and its phases: open and closed models, rates and ramps, durations.

use super::*;
use crate::model::{ConnectionPolicy, LoadModel};

#[test]
fn closed_model_phases_have_workers_and_think_time() {
    let text = head()
        .load("model = \"closed\"\nconnections = \"per-request\"")
        .phase("name = \"busy\"\nduration = \"1m30s\"\nconcurrency = 8\nthink_time = \"250ms\"")
        .phase("duration = \"1.5s\"\nconcurrency = 0")
        .request(REQUEST_BODY)
        .to_string();
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
fn ramps_may_be_written_with_dotted_keys_and_targets_keep_file_order() {
    let text = ScenarioText::new("x")
        .target("b", "kind = \"persistent\"")
        .target_url("a", "https://h.example/prefix")
        .phase("duration = \"1s\"\nrate.from = 1\nrate.to = 2.5")
        .request(REQUEST_BODY)
        .to_string();
    let plan = parse(&text).unwrap();
    let names: Vec<_> = plan.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(
        plan.load.phases[0].load,
        PhaseLoad::Rate(Rate::Ramp { from: 1.0, to: 2.5 })
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
            "x.toml:6:8: load.phases[0].rate: expected a rate from 0 to 1000000 requests/s (ten times one machine's generator; beyond it, shard the run), found -5",
            "x.toml:9:17: load.phases[1].rate.from: expected a rate from 0 to 1000000 requests/s (ten times one machine's generator; beyond it, shard the run), found -1",
            "x.toml:12:8: load.phases[2].rate: expected a rate from 0 to 1000000 requests/s (ten times one machine's generator; beyond it, shard the run), found inf",
        ]
    );
}

/// Values that would schedule billions of requests or workers, or panic a semaphore, are
/// located errors that say the limit and why.
#[test]
fn absurd_rates_concurrency_and_connections_are_bounded() {
    let open = format!(
        "{HEAD}[load]\nmax_connections = 9223372036854775807\n[[load.phases]]\nduration = \"1s\"\n\
         rate = 1e9\n[[load.phases]]\nduration = \"1s\"\nrate = {{ from = 1, to = 1e12 }}\n{REQUEST}"
    );
    assert_eq!(
        errors(&open),
        [
            "x.toml:5:19: load.max_connections: expected an integer from 1 to 1000000 (each is a \
             file descriptor), found 9223372036854775807",
            "x.toml:8:8: load.phases[0].rate: expected a rate from 0 to 1000000 requests/s (ten \
             times one machine's generator; beyond it, shard the run), found 1000000000",
            "x.toml:11:25: load.phases[1].rate.to: expected a rate from 0 to 1000000 requests/s \
             (ten times one machine's generator; beyond it, shard the run), found 1000000000000",
        ]
    );
    let closed = format!(
        "name = \"x\"\n[targets.t]\nurl = \"http://127.0.0.1:9\"\n[load]\nmodel = \"closed\"\n\
         [[load.phases]]\nduration = \"1s\"\nconcurrency = 10000000\n{REQUEST}"
    );
    assert_eq!(
        errors(&closed),
        [
            "x.toml:8:15: load.phases[0].concurrency: expected an integer from 0 to 100000 (each \
          worker holds a connection and a request at once), found 10000000"
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
