//! `[thresholds]`: keys, metrics and the units of their limits.

use super::*;
use crate::model::{HeldEnd, Metric, Stat};

#[test]
fn thresholds_convert_limits_to_their_units() {
    let text = minimal()
        .threshold("t.service_time.p999", "<= 1.5s")
        .threshold("*.error_rate", "<0.5%")
        .threshold("t.throughput_rps", "> 99.5")
        .threshold("*.db_connections.max", ">= 20")
        .threshold("t.send_lag.max", "< 500us")
        .to_string();
    let limits: Vec<_> = parse(&text)
        .unwrap()
        .thresholds
        .into_iter()
        .map(|t| (t.target, t.metric, t.operator, t.limit))
        .collect();
    let t = || TargetSelector::Named("t".into());
    assert_eq!(
        limits,
        vec![
            (
                t(),
                Metric::ServiceTime(Stat::P999),
                Operator::LessOrEqual,
                1500.0
            ),
            (
                TargetSelector::All,
                Metric::ErrorRate,
                Operator::Less,
                0.005
            ),
            (t(), Metric::ThroughputRps, Operator::Greater, 99.5),
            (
                TargetSelector::All,
                Metric::DbConnectionsMax,
                Operator::GreaterOrEqual,
                20.0
            ),
            (t(), Metric::SendLag(Stat::Max), Operator::Less, 0.5),
        ]
    );
}

#[test]
fn held_thresholds_count_stream_ends_and_time_the_first_message() {
    let text = minimal()
        .threshold("t.held.cut", ">= 1")
        .threshold("*.held.held", "< 1")
        .threshold("t.held.first_message.p99", "< 250ms")
        .threshold("t.held.refused", "<= 0")
        .to_string();
    let limits: Vec<_> = parse(&text)
        .unwrap()
        .thresholds
        .into_iter()
        .map(|t| (t.metric, t.operator, t.limit))
        .collect();
    assert_eq!(
        limits,
        vec![
            (Metric::Held(HeldEnd::Cut), Operator::GreaterOrEqual, 1.0),
            (Metric::Held(HeldEnd::Held), Operator::Less, 1.0),
            (Metric::HeldFirstMessage(Stat::P99), Operator::Less, 250.0),
            (Metric::Held(HeldEnd::Refused), Operator::LessOrEqual, 0.0),
        ]
    );
}

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
                   held.refused, held.failed (STAT: min mean p50 p75 p90 p95 p99 p999 p9999 max)";
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
