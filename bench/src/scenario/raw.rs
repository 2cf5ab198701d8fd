//! Stage 1: the scenario's shape. Which keys exist (unknown keys are reported with a
//! suggestion), and whether each value has the right TOML type; every value keeps its span.
//! Nothing is interpreted here: durations, URLs and names are still strings.

use std::ops::Range;

use coldfront_targets::settings::{AppSettings, KEYS_BY_KIND};
use toml::Spanned;

use super::document::{Node, NodeValue};
use super::duration;
use super::error::{Diagnostics, Problem};
pub(crate) use super::field::{Field, Named};
use super::key_path::KeyPath;
use super::reader::{array, named_strings, named_tables, TableReader};

/// Keys of each table, in the order messages list them.
pub(crate) const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "targets",
    "load",
    "requests",
    "thresholds",
    "database",
];
const DATABASE_KEYS: &[&str] = &["max_connections", "init_sql"];
const LOAD_KEYS: &[&str] = &[
    "model",
    "arrivals",
    "timeout",
    "connections",
    "max_connections",
    "phases",
];
const PHASE_KEYS: &[&str] = &["duration", "rate", "concurrency", "think_time", "name"];
const RAMP_KEYS: &[&str] = &["from", "to"];
const REQUEST_KEYS: &[&str] = &[
    "weight",
    "method",
    "path",
    "name",
    "headers",
    "body",
    "kind",
    "hold",
    "send_every",
    "data",
    "data_order",
];

pub(crate) const A_STRING: &str = "a string";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawScenario {
    pub span: Range<usize>,
    pub name: Field<String>,
    pub description: Field<String>,
    pub seed: Field<i64>,
    pub targets: Field<Vec<Named<RawTarget>>>,
    pub load: Field<RawLoad>,
    pub requests: Field<Vec<Field<RawRequest>>>,
    pub thresholds: Field<Vec<Named<String>>>,
    pub database: Field<RawDatabase>,
}

/// `[database]`: the throwaway PostgreSQL the harness starts for built-in targets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawDatabase {
    pub max_connections: Field<i64>,
    pub init_sql: Field<String>,
}

/// A target table: `url` and `kind`, and the settings keys of every built-in kind
/// ([`KEYS_BY_KIND`]) as raw values; stage 2 checks their types and which apply to which kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawTarget {
    pub url: Field<String>,
    pub kind: Field<String>,
    /// `tls = { verify = false }` (external `https://` targets).
    pub tls: Field<RawTls>,
    /// Every settings key of every kind, in [`KEYS_BY_KIND`] order, then [`app_keys`].
    pub settings: Vec<(&'static str, Field<NodeValue>)>,
}

/// `tls = { … }` of a target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawTls {
    pub verify: Field<bool>,
}

impl RawTarget {
    /// The raw value of the settings key `key`.
    pub(crate) fn setting(&self, key: &str) -> &Field<NodeValue> {
        self.settings
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value)
            .expect("a key of KEYS_BY_KIND")
    }
}

/// The harness's own key of a command target (`serve` never runs it).
pub(crate) const PREPARE_KEY: &str = "prepare";

/// A command target's keys: [`AppSettings::KEYS`], then [`PREPARE_KEY`].
pub(crate) fn app_keys() -> impl Iterator<Item = &'static str> {
    AppSettings::KEYS.iter().copied().chain([PREPARE_KEY])
}

/// The settings keys of every built-in kind, then a command target's.
fn settings_keys() -> impl Iterator<Item = &'static str> {
    KEYS_BY_KIND
        .into_iter()
        .flat_map(|(_, keys)| keys.iter().copied())
        .chain(app_keys())
}

/// The keys a target table may have: `url`, `kind`, then every kind's settings keys.
fn target_keys() -> Vec<&'static str> {
    ["url", "kind"]
        .into_iter()
        .chain(settings_keys())
        .chain(["tls"])
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawLoad {
    pub model: Field<String>,
    pub arrivals: Field<String>,
    pub timeout: Field<String>,
    pub connections: Field<String>,
    pub max_connections: Field<i64>,
    pub phases: Field<Vec<Field<RawPhase>>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawPhase {
    pub duration: Field<String>,
    pub rate: Field<RawRate>,
    pub concurrency: Field<i64>,
    pub think_time: Field<String>,
    pub name: Field<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawRate {
    Constant(f64),
    Ramp { from: Field<f64>, to: Field<f64> },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRequest {
    pub weight: Field<i64>,
    pub method: Field<String>,
    pub path: Field<String>,
    pub name: Field<String>,
    pub headers: Field<Vec<Named<String>>>,
    pub body: Field<String>,
    pub kind: Field<String>,
    pub hold: Field<String>,
    pub send_every: Field<String>,
    /// A CSV file (relative to the scenario file) whose columns placeholders take.
    pub data: Field<String>,
    pub data_order: Field<String>,
}

/// Reads the document tree (a table) into a [`RawScenario`], reporting shape errors.
pub(crate) fn read(root: &Node, diag: &mut Diagnostics) -> RawScenario {
    let root_path = KeyPath::root();
    let mut t =
        TableReader::open(root, &root_path, TOP_KEYS, diag).expect("a TOML document is a table");
    RawScenario {
        span: root.span.clone(),
        name: t.string("name", A_STRING),
        description: t.string("description", A_STRING),
        seed: t.integer("seed"),
        targets: t.field("targets", |n, p, d| {
            named_tables(n, p, d, "[targets.NAME]", read_target)
        }),
        load: t.field("load", read_load),
        requests: t.field("requests", |n, p, d| {
            array(n, p, d, "[[requests]]", read_request)
        }),
        thresholds: t.field("thresholds", |n, p, d| named_strings(n, p, d, condition)),
        database: t.field("database", read_database),
    }
}

fn read_database(node: &Node, path: &KeyPath, diag: &mut Diagnostics) -> Field<RawDatabase> {
    let Some(mut t) = TableReader::open(node, path, DATABASE_KEYS, diag) else {
        return Field::Invalid;
    };
    let database = RawDatabase {
        max_connections: t.integer("max_connections"),
        init_sql: t.string("init_sql", "a path string such as \"schema.sql\""),
    };
    Field::Given(Spanned::new(node.span.clone(), database))
}

/// What a threshold's value should be. An unquoted key (`serverless.latency.p99 = …`) is a
/// dotted key, so TOML makes `serverless` a table: say to quote it.
fn condition(found: &NodeValue) -> &'static str {
    match found {
        NodeValue::Table(_) => {
            "a condition string; quote the whole key, as in \"serverless.latency.p99\" = \"< 800ms\""
        }
        _ => "a condition string such as \"< 800ms\"",
    }
}

fn read_target(node: &Node, path: &KeyPath, diag: &mut Diagnostics) -> Field<RawTarget> {
    let Some(mut t) = TableReader::open(node, path, &target_keys(), diag) else {
        return Field::Invalid;
    };
    let target = RawTarget {
        url: t.string("url", "a URL string such as \"http://127.0.0.1:8080\""),
        kind: t.string("kind", "a string: \"serverless\" or \"persistent\""),
        tls: t.field("tls", read_tls),
        settings: settings_keys()
            .map(|key| (key, t.field(key, raw_value)))
            .collect(),
    };
    Field::Given(Spanned::new(node.span.clone(), target))
}

fn read_tls(node: &Node, path: &KeyPath, diag: &mut Diagnostics) -> Field<RawTls> {
    let Some(mut t) = TableReader::open(node, path, &["verify"], diag) else {
        return Field::Invalid;
    };
    let tls = RawTls {
        verify: t.boolean("verify"),
    };
    Field::Given(Spanned::new(node.span.clone(), tls))
}

/// Any value, its type checked in stage 2.
fn raw_value(node: &Node, _: &KeyPath, _: &mut Diagnostics) -> Field<NodeValue> {
    Field::Given(Spanned::new(node.span.clone(), node.value.clone()))
}

fn read_load(node: &Node, path: &KeyPath, diag: &mut Diagnostics) -> Field<RawLoad> {
    let Some(mut t) = TableReader::open(node, path, LOAD_KEYS, diag) else {
        return Field::Invalid;
    };
    let load = RawLoad {
        model: t.string("model", "a string: \"open\" or \"closed\""),
        arrivals: t.string("arrivals", "a string: \"uniform\" or \"poisson\""),
        timeout: t.string("timeout", duration::EXPECTED),
        connections: t.string("connections", "a string: \"keep-alive\" or \"per-request\""),
        max_connections: t.integer("max_connections"),
        phases: t.field("phases", |n, p, d| {
            array(n, p, d, "[[load.phases]]", read_phase)
        }),
    };
    Field::Given(Spanned::new(node.span.clone(), load))
}

fn read_phase(node: &Node, path: &KeyPath, diag: &mut Diagnostics) -> Field<RawPhase> {
    let Some(mut t) = TableReader::open(node, path, PHASE_KEYS, diag) else {
        return Field::Invalid;
    };
    let phase = RawPhase {
        duration: t.string("duration", duration::EXPECTED),
        rate: t.field("rate", read_rate),
        concurrency: t.integer("concurrency"),
        think_time: t.string("think_time", duration::EXPECTED),
        name: t.string("name", A_STRING),
    };
    Field::Given(Spanned::new(node.span.clone(), phase))
}

fn read_rate(node: &Node, path: &KeyPath, diag: &mut Diagnostics) -> Field<RawRate> {
    let rate = match &node.value {
        NodeValue::Integer(i) => RawRate::Constant(*i as f64),
        NodeValue::Float(f) => RawRate::Constant(*f),
        NodeValue::Table(_) => {
            let mut t = TableReader::open(node, path, RAMP_KEYS, diag).expect("a table");
            RawRate::Ramp {
                from: t.number("from"),
                to: t.number("to"),
            }
        }
        other => {
            let expected = "a number of requests/s or a ramp such as { from = 10, to = 200 }";
            diag.report(
                &node.span,
                path,
                Problem::invalid(expected, other.describe()),
            );
            return Field::Invalid;
        }
    };
    Field::Given(Spanned::new(node.span.clone(), rate))
}

fn read_request(node: &Node, path: &KeyPath, diag: &mut Diagnostics) -> Field<RawRequest> {
    let Some(mut t) = TableReader::open(node, path, REQUEST_KEYS, diag) else {
        return Field::Invalid;
    };
    let request = RawRequest {
        weight: t.integer("weight"),
        method: t.string("method", "a string such as \"GET\""),
        path: t.string("path", "a string such as \"/api/health\""),
        name: t.string("name", A_STRING),
        headers: t.field("headers", |n, p, d| {
            named_strings(n, p, d, |_| "a header value string")
        }),
        body: t.string("body", A_STRING),
        kind: t.string("kind", "a string: \"http\", \"sse\" or \"websocket\""),
        hold: t.string("hold", duration::EXPECTED),
        send_every: t.string("send_every", duration::EXPECTED),
        data: t.string("data", "a path string such as \"users.csv\""),
        data_order: t.string("data_order", "a string: \"sequential\" or \"random\""),
    };
    Field::Given(Spanned::new(node.span.clone(), request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_keys_are_url_kind_and_every_kind_specific_key_once() {
        let keys = target_keys();
        assert_eq!(keys[..3], ["url", "kind", "preset"]);
        assert_eq!(keys.last(), Some(&"tls"));
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            keys.len(),
            "a key belongs to one kind: {keys:?}"
        );
    }
}
