//! Unit tests of the scenario module: valid text → the exact plan, invalid text → the exact
//! messages (file:line:column, key path, expected/found, suggestion). One file per concern; the
//! text fragments and helpers they share are here.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::testing::ScenarioText;

mod database;
mod design;
mod files;
mod load_phases;
mod placeholders;
mod requests;
mod shape;
mod targets;
mod thresholds;

/// Lines 1–3: a name and one external target `t`.
const HEAD: &str = "name = \"x\"\n[targets.t]\nurl = \"http://127.0.0.1:9\"\n";

/// Three lines: one open-model phase.
const PHASE: &str = "[[load.phases]]\nduration = \"1s\"\nrate = 1\n";

/// Two lines: one request.
const REQUEST: &str = "[[requests]]\npath = \"/\"\n";

/// The body of `PHASE` and of `REQUEST`, for [`ScenarioText`].
const PHASE_BODY: &str = "duration = \"1s\"\nrate = 1";
const REQUEST_BODY: &str = "path = \"/\"";

/// `HEAD` built: a scenario `x` with one external target `t`. For valid scenarios whose error
/// positions do not matter; tests of positions keep the literal fragments.
fn head() -> ScenarioText {
    ScenarioText::new("x").target_url("t", "http://127.0.0.1:9")
}

/// `{HEAD}{PHASE}{REQUEST}` built: the smallest valid scenario.
fn minimal() -> ScenarioText {
    head().phase(PHASE_BODY).request(REQUEST_BODY)
}

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
