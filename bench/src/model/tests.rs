use serde::de::DeserializeOwned;
use serde::Serialize;

use super::*;

/// Each variant's serde string is its `Display`, and reads back as the same variant.
fn round_trips<T>(all: &[T])
where
    T: Serialize + DeserializeOwned + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    for word in all {
        let json = serde_json::to_string(word).unwrap();
        assert_eq!(json, format!("\"{word}\""), "{word:?}");
        assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), word);
    }
}

#[test]
fn every_word_serializes_as_it_displays() {
    round_trips(&Outcome::ALL);
    round_trips(&HeldEnd::ALL);
    round_trips(&FailureCause::ALL);
    round_trips(&RequestKind::ALL);
    round_trips(&[
        TargetKind::External,
        TargetKind::Serverless,
        TargetKind::Persistent,
    ]);
    round_trips(&[LoadModel::Open, LoadModel::Closed]);
    round_trips(&[Arrivals::Uniform, Arrivals::Poisson]);
    round_trips(&[ConnectionPolicy::KeepAlive, ConnectionPolicy::PerRequest]);
    round_trips(&[
        RunStatus::Running,
        RunStatus::Complete,
        RunStatus::Interrupted,
        RunStatus::Failed,
    ]);
    round_trips(&[
        Unit::Milliseconds,
        Unit::Ratio,
        Unit::RequestsPerSecond,
        Unit::Count,
    ]);
}

#[test]
fn the_contract_strings_are_unchanged() {
    // Result sets on disk spell these; changing one needs a schema version bump.
    assert_eq!(Outcome::Http4xx.to_string(), "http_4xx");
    assert_eq!(Outcome::FunctionTimeout.to_string(), "function_timeout");
    assert_eq!(ConnectionPolicy::KeepAlive.to_string(), "keep-alive");
    assert_eq!(RequestKind::WebSocket.to_string(), "websocket");
    assert_eq!(Unit::RequestsPerSecond.to_string(), "req/s");
    assert_eq!(Stat::P999.to_string(), "p999");
}

#[test]
fn percentages_have_at_most_two_decimals_and_no_trailing_zeros() {
    assert_eq!(percent(0.0), "0%");
    assert_eq!(percent(0.0052), "0.52%");
    assert_eq!(percent(0.125), "12.5%");
    assert_eq!(percent(0.95), "95%");
    assert_eq!(percent(1.0), "100%");
}

#[test]
fn units_format_values_for_people() {
    assert_eq!(Unit::Milliseconds.format(12.3), "12.30 ms");
    assert_eq!(Unit::Ratio.format(0.005), "0.5%");
    assert_eq!(Unit::RequestsPerSecond.format(950.0), "950.0 req/s");
    assert_eq!(Unit::Count.format(3.0), "3");
}

#[test]
fn an_outcome_follows_the_status() {
    assert_eq!(Outcome::from_status(204), Outcome::Ok);
    assert_eq!(Outcome::from_status(429), Outcome::Throttled);
    assert_eq!(Outcome::from_status(504), Outcome::FunctionTimeout);
    assert_eq!(Outcome::from_status(404), Outcome::Http4xx);
    assert_eq!(Outcome::from_status(503), Outcome::Http5xx);
}

#[test]
fn names_are_lowercase_letters_digits_and_the_extras() {
    use names::{is_name, SCENARIO_NAME_EXTRA, TARGET_NAME_EXTRA};
    assert!(is_name("cold-start-2", SCENARIO_NAME_EXTRA));
    assert!(!is_name("cold_start", SCENARIO_NAME_EXTRA));
    assert!(is_name("my_target-1", TARGET_NAME_EXTRA));
    for bad in ["", "../x", "A", "a b", "a/b", "é"] {
        assert!(!is_name(bad, TARGET_NAME_EXTRA), "{bad:?}");
    }
}
