//! The settings of the built-in targets, each defined once: the scenario keys of
//! `[targets.NAME]` (`kind = "serverless"` / `"persistent"`), the `coldfront serve` flags, and
//! what the harness hands the `serve` child are all these structs.
//!
//! - [`ServerlessSettings`] and [`PersistentSettings`]: every field optional (`None` = the
//!   preset's value or the default). Their serde field names are the scenario keys (`KEYS`
//!   lists them, a test proves the lists equal the field names); their clap attributes are the
//!   `serve` flags (`keep_warm` → `--keep-warm`, the doc comment is its `--help`).
//! - `resolve` turns settings into the runtime's config ([`ServerlessConfig`],
//!   [`PersistentConfig`]): the preset's values (`lambda` when none is named) or the defaults,
//!   overridden by the fields given.
//! - The harness passes a scenario target's settings to its `coldfront serve <kind>` child as
//!   one JSON object in the environment variable [`SETTINGS_ENV`], never as flags. `serve` uses
//!   that object when the variable is set, its flags otherwise ([`from_env_or_flags`]); both at
//!   once is an error, so nothing is silently ignored.
//!
//! Serialized form: JSON (or any serde format) with the scenario key names, fields that are
//! `None` left out, unknown fields rejected. Durations are
//! [humantime](https://docs.rs/humantime) strings (`"250ms"`, `"10m"`, `"1s 500us"`): exact to
//! the nanosecond, readable, and what the flags accept. `db_connect` is `"per-instance"` or
//! `"per-request"`; `preset` a preset name.
//!
//! # Adding a setting
//!
//! Say a serverless `concurrency` (requests one instance serves at once):
//!
//! 1. Here, the setting itself: a field of [`ServerlessSettings`] (`Option<_>`, a doc comment
//!    — its `--help` —, `#[arg(long)]` and `skip_serializing_if` like its neighbours, plus
//!    `value_parser = parse_duration` and `with = "humantime_opt"` for a duration), its name
//!    in [`ServerlessSettings::KEYS`] (`keys_are_the_serde_field_names` fails until both
//!    agree), and a value in the tests' `full()` (the compiler asks; the round-trip and flag
//!    tests then cover it). That is the scenario key (unknown-key suggestions included), the
//!    `--concurrency` flag and the field of the harness→`serve` JSON: nothing else spells it.
//! 2. Its scenario check: one line in `serverless_settings` in
//!    `bench/src/scenario/target.rs`, e.g. `concurrency: keys.count("concurrency"),` — the
//!    TOML type, the range or choices, and so the error messages (the compiler asks for the
//!    field; a debug assertion fails while a key of `KEYS` has no line there).
//! 3. Its use: a field of the runtime's config ([`ServerlessConfig`]), set in
//!    [`ServerlessSettings::resolve`] from the setting, else the preset's value (then also a
//!    [`Preset`] field with a value in each preset) or a default;
//!    the compiler also asks for it where a config is written out in full (the e2e tests'
//!    `config()`); and the runtime code that reads it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::app::AppConfig;
use crate::persistent::PersistentConfig;
use crate::serverless::{presets, InstanceCommand, Preset, ServerlessConfig, DEFAULT_PRESET};

mod app;

pub use app::{env_name_problem, AppSettings, Listen};

/// The environment variable through which the harness hands `coldfront serve <kind>` its
/// settings: [`ServerlessSettings`] or [`PersistentSettings`] as one JSON object.
pub const SETTINGS_ENV: &str = "COLDFRONT_TARGET_SETTINGS";

/// The environment variable through which the harness hands `coldfront serve <kind>` the
/// user's application to run instead of the built-in one: [`AppSettings`] as one JSON object.
pub const APP_ENV: &str = "COLDFRONT_TARGET_APP";

/// Each built-in kind (its `kind = "…"` name) and its scenario keys, in the order messages
/// list them.
pub const KEYS_BY_KIND: [(&str, &[&str]); 2] = [
    ("serverless", ServerlessSettings::KEYS),
    ("persistent", PersistentSettings::KEYS),
];

/// Settings of the serverless platform emulator. `None` = the preset's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct ServerlessSettings {
    /// Platform preset whose limits the other settings override (default lambda).
    #[arg(long, value_parser = PresetName::parser())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<PresetName>,
    /// Idle time before an instance is reaped; 0s = a cold start for every request.
    #[arg(long, value_parser = parse_duration)]
    #[serde(with = "humantime_opt", skip_serializing_if = "Option::is_none")]
    pub keep_warm: Option<Duration>,
    /// Modelled runtime start-up, on top of the real spawn and database connect.
    #[arg(long, value_parser = parse_duration)]
    #[serde(with = "humantime_opt", skip_serializing_if = "Option::is_none")]
    pub init: Option<Duration>,
    /// Most instances alive at once; past it requests queue for up to --queue-timeout.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u32>,
    /// Longest a request may run before its instance is killed (504).
    #[arg(long, value_parser = parse_duration)]
    #[serde(with = "humantime_opt", skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<Duration>,
    /// How long a request waits for an instance past max_instances before 429.
    #[arg(long, value_parser = parse_duration)]
    #[serde(with = "humantime_opt", skip_serializing_if = "Option::is_none")]
    pub queue_timeout: Option<Duration>,
    /// How an instance reaches the database (default per-instance).
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_connect: Option<DbConnect>,
    /// Requests one instance of a command target serves at once (default 1, as Lambda; more
    /// models Vercel's Fluid compute or Cloud Run).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

impl ServerlessSettings {
    /// The scenario keys: the serde field names, in declaration order.
    pub const KEYS: &'static [&'static str] = &[
        "preset",
        "keep_warm",
        "init",
        "max_instances",
        "max_duration",
        "queue_timeout",
        "db_connect",
        "concurrency",
    ];

    /// The runtime's config: the preset's values (default [`DEFAULT_PRESET`]) overridden by the
    /// fields given; one database connection per instance unless `db_connect` says otherwise;
    /// default application settings.
    pub fn resolve(
        &self,
        database_url: impl Into<String>,
        instances: InstanceCommand,
    ) -> ServerlessConfig {
        let preset = self.preset.unwrap_or_default().preset();
        ServerlessConfig {
            database_url: database_url.into(),
            keep_warm: self.keep_warm.unwrap_or(preset.keep_warm),
            init: self.init.unwrap_or(preset.init),
            max_instances: self.max_instances.unwrap_or(preset.max_instances),
            max_duration: self.max_duration.unwrap_or(preset.max_duration),
            queue_timeout: self.queue_timeout.unwrap_or(preset.queue_timeout),
            db_connect: self.db_connect.unwrap_or_default(),
            concurrency: self.concurrency.unwrap_or(1),
            app: AppConfig::default(),
            instances,
        }
    }
}

/// Settings of the persistent server. `None` = the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct PersistentSettings {
    /// Database connection pool size (default 10).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<u32>,
}

impl PersistentSettings {
    /// The scenario keys: the serde field names, in declaration order.
    pub const KEYS: &'static [&'static str] = &["pool"];

    /// The runtime's config: [`PersistentConfig::new`]'s defaults overridden by the fields
    /// given.
    pub fn resolve(&self, database_url: impl Into<String>) -> PersistentConfig {
        let defaults = PersistentConfig::new(database_url);
        PersistentConfig {
            pool: self.pool.map_or(defaults.pool, |pool| pool as usize),
            ..defaults
        }
    }
}

/// The settings in [`SETTINGS_ENV`] when it is set, else `flags` (what `serve` was given on
/// its command line). Settings in both places are an error.
pub fn from_env_or_flags<T>(flags: &T) -> anyhow::Result<T>
where
    T: DeserializeOwned + Default + PartialEq + Clone,
{
    choose(SETTINGS_ENV, std::env::var_os(SETTINGS_ENV), flags)
}

/// [`from_env_or_flags`] for the application: [`APP_ENV`] or the flags.
pub fn app_from_env_or_flags(flags: &AppSettings) -> anyhow::Result<AppSettings> {
    choose(APP_ENV, std::env::var_os(APP_ENV), flags)
}

/// [`from_env_or_flags`] given the variable `name` and its value.
fn choose<T>(name: &str, env: Option<std::ffi::OsString>, flags: &T) -> anyhow::Result<T>
where
    T: DeserializeOwned + Default + PartialEq + Clone,
{
    let Some(text) = env else {
        return Ok(flags.clone());
    };
    let text = text
        .into_string()
        .map_err(|_| anyhow::anyhow!("{name} is not UTF-8"))?;
    let settings = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    anyhow::ensure!(
        *flags == T::default(),
        "settings both in {name} and as flags; give them one way"
    );
    Ok(settings)
}

/// `settings` as the value of [`SETTINGS_ENV`].
pub fn to_env_value(settings: &impl Serialize) -> String {
    serde_json::to_string(settings).expect("settings always serialize")
}

/// How an instance reaches the database.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum DbConnect {
    /// The singleton pattern: one connection made during the cold start, kept while the
    /// instance lives.
    #[default]
    PerInstance,
    /// The naive pattern: a new connection for every request that needs the database.
    PerRequest,
}

impl DbConnect {
    pub const ALL: [DbConnect; 2] = [DbConnect::PerInstance, DbConnect::PerRequest];

    /// `"per-instance"` or `"per-request"`: the scenario value, flag value and serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            DbConnect::PerInstance => "per-instance",
            DbConnect::PerRequest => "per-request",
        }
    }
}

impl fmt::Display for DbConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DbConnect {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DbConnect::ALL
            .into_iter()
            .find(|d| d.as_str() == text)
            .ok_or_else(|| UnknownName::new("db_connect", text, DbConnect::ALL.map(|d| d.as_str())))
    }
}

/// The name of one of the serverless [`presets`] (valid by construction; the list of names is
/// the presets' own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PresetName(&'static str);

impl PresetName {
    /// The preset called `name`, if there is one.
    pub fn new(name: &str) -> Option<PresetName> {
        presets()
            .iter()
            .find(|preset| preset.name == name)
            .map(|preset| PresetName(preset.name))
    }

    /// Every preset name, in the presets' order.
    pub fn all() -> impl Iterator<Item = PresetName> {
        presets().iter().map(|preset| PresetName(preset.name))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The preset's limits.
    pub fn preset(self) -> Preset {
        crate::serverless::preset(self.0).expect("a PresetName names a preset")
    }

    /// The `--preset` parser: the preset names as clap's possible values.
    fn parser() -> impl clap::builder::TypedValueParser<Value = PresetName> {
        use clap::builder::TypedValueParser as _;
        let names: Vec<&'static str> = Self::all().map(Self::as_str).collect();
        clap::builder::PossibleValuesParser::new(names)
            .map(|name| PresetName::new(&name).expect("a possible value is a preset name"))
    }
}

impl Default for PresetName {
    /// [`DEFAULT_PRESET`].
    fn default() -> Self {
        PresetName::new(DEFAULT_PRESET).expect("the default preset exists")
    }
}

impl fmt::Display for PresetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for PresetName {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PresetName::new(text).ok_or_else(|| {
            let names: Vec<&str> = PresetName::all().map(PresetName::as_str).collect();
            UnknownName::new("preset", text, names)
        })
    }
}

impl Serialize for PresetName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for PresetName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A name that is not one of the choices: "unknown preset "heroku"; expected one of lambda, …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {found:?}; expected one of {}", .choices.join(", "))]
pub struct UnknownName {
    what: &'static str,
    found: String,
    choices: Vec<&'static str>,
}

impl UnknownName {
    fn new(
        what: &'static str,
        found: &str,
        choices: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        UnknownName {
            what,
            found: found.to_owned(),
            choices: choices.into_iter().collect(),
        }
    }
}

/// The flags' duration syntax (humantime): `250ms`, `5s`, `10m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e} (expected e.g. \"250ms\", \"5s\", \"10m\")"))
}

/// `Option<Duration>` as a humantime string (`"1s 500us"`), or nothing.
mod humantime_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => s.serialize_str(&humantime::format_duration(*duration).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|text| humantime::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests;
