//! A command target's application settings ([`AppSettings`]): the scenario keys `command`,
//! `cwd`, `env`, `ready`, `init_timeout` and `listen`, the `serve` flags, and the JSON the
//! harness hands `serve` in [`APP_ENV`](super::APP_ENV). See the parent module for the rules
//! every settings struct follows.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{humantime_opt, parse_duration};
use crate::command::AppCommand;

/// The user's own HTTP server as a built-in target's application (a "command target"): the
/// persistent kind runs it once, the serverless kind once per instance. `None`/empty = the
/// built-in application. Harness-only keys (`prepare`, `[database] init_sql`) are not here:
/// `serve` never runs them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct AppSettings {
    /// The application's program and arguments, run without a shell (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Directory the command runs in (default: the current one).
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// Extra environment of the application, KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env_var)]
    #[serde(with = "env_map", skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
    /// HTTP path polled until it answers 100–499 (default: a TCP accept is ready).
    #[arg(long, value_name = "PATH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    /// Longest the application may take to become ready (default 10s, Lambda's init limit).
    #[arg(long, value_parser = parse_duration)]
    #[serde(with = "humantime_opt", skip_serializing_if = "Option::is_none")]
    pub init_timeout: Option<Duration>,
    /// How the application gets its socket: `port` (it binds $PORT) or `fd` (an already
    /// listening socket as fd 3, LISTEN_FDS=1: systemd's socket activation).
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<Listen>,
}

impl AppSettings {
    /// The scenario keys: the serde field names, in declaration order.
    pub const KEYS: &'static [&'static str] =
        &["command", "cwd", "env", "ready", "init_timeout", "listen"];

    /// The application to run, or `None` for the built-in one.
    pub fn resolve(&self) -> Option<AppCommand> {
        let (program, args) = self.command.split_first()?;
        Some(AppCommand {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            ready: self.ready.clone(),
            init_timeout: self.init_timeout.unwrap_or(crate::command::INIT_TIMEOUT),
            listen: self.listen.unwrap_or_default(),
        })
    }
}

/// How a command target's application gets its listening socket.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Listen {
    /// The application binds `127.0.0.1:$PORT` itself.
    #[default]
    Port,
    /// The harness binds the socket and passes it as fd 3 (`LISTEN_FDS=1`, `LISTEN_PID`):
    /// the kernel queues requests while the application starts.
    Fd,
}

impl Listen {
    pub const ALL: [Listen; 2] = [Listen::Port, Listen::Fd];

    pub fn as_str(self) -> &'static str {
        match self {
            Listen::Port => "port",
            Listen::Fd => "fd",
        }
    }
}

/// `KEY=VALUE` of `--env`.
fn parse_env_var(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} has no `=` (expected KEY=VALUE)"))?;
    env_name_problem(key).map_or(Ok((key.to_owned(), value.to_owned())), Err)
}

/// Why `name` cannot be an environment variable's name, if it cannot.
pub fn env_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("an environment variable's name cannot be empty".into())
    } else if name.contains(['=', '\0']) {
        Some(format!(
            "{name:?} cannot be an environment variable's name (it has `=` or NUL)"
        ))
    } else {
        None
    }
}

/// `Vec<(String, String)>` as a JSON object, in order.
mod env_map {
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(value.len()))?;
        for (key, value) in value {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
        Ok(map.into_iter().collect())
    }
}
