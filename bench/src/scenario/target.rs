//! Stage 2 of `[targets.NAME]`: an external `url`, or a built-in `kind` with the keys that
//! kind accepts (a serverless-only key on another kind is an error naming both). The keys of
//! each kind are its settings struct's (`coldfront_targets::settings`); each is checked by one
//! line of [`serverless_settings`] or [`persistent_settings`]. A built-in target with
//! `command` runs the user's application ([`app_settings`], plus `prepare`): then the keys
//! that model the built-in application (`init`, `db_connect`, `pool`) are errors, and
//! without it the command keys and `concurrency` are.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use coldfront_targets::settings::{
    env_name_problem, AppSettings, DbConnect, Listen, PersistentSettings, PresetName,
    ServerlessSettings, KEYS_BY_KIND,
};
use http::Uri;
use toml::Spanned;

use super::check::{self, fail, Checked, MinDuration, Reported};
use super::document::NodeValue;
use super::duration;
use super::error::{Diagnostics, Problem};
use super::key_path::KeyPath;
use super::plan::{AppPlan, TargetPlan, TargetSetup};
use super::raw::{app_keys, Field, Named, RawTarget, A_STRING, PREPARE_KEY};
use super::reader::AN_INTEGER;
use crate::model::names::TARGET_NAME_EXTRA;
use crate::model::TargetKind;

/// One line per key of [`ServerlessSettings::KEYS`]: its TOML type and its range or choices.
fn serverless_settings(keys: &mut SettingsKeys) -> ServerlessSettings {
    let presets: Vec<_> = PresetName::all().map(|p| (p.as_str(), p)).collect();
    let db_connect = DbConnect::ALL.map(|d| (d.as_str(), d));
    ServerlessSettings {
        preset: keys.choice("preset", A_STRING, &presets),
        keep_warm: keys.duration("keep_warm", MinDuration::Zero),
        init: keys.duration("init", MinDuration::Zero),
        max_instances: keys.count("max_instances"),
        max_duration: keys.duration("max_duration", MinDuration::Positive),
        queue_timeout: keys.duration("queue_timeout", MinDuration::Zero),
        db_connect: keys.choice(
            "db_connect",
            "a string: \"per-instance\" or \"per-request\"",
            &db_connect,
        ),
        concurrency: keys.count("concurrency"),
    }
}

/// One line per key of [`PersistentSettings::KEYS`].
fn persistent_settings(keys: &mut SettingsKeys) -> PersistentSettings {
    PersistentSettings {
        pool: keys.count("pool"),
    }
}

/// The keys of the built-in kinds that model the built-in application, and why a command
/// target has none of them.
const BUILT_IN_APP_ONLY: [&str; 3] = ["init", "db_connect", "pool"];

/// One line per key of [`app_keys`]: the application's settings and `prepare`.
fn app_settings(keys: &mut SettingsKeys) -> (AppSettings, Vec<String>) {
    let listen = Listen::ALL.map(|l| (l.as_str(), l));
    let settings = AppSettings {
        command: keys.argv("command").unwrap_or_default(),
        cwd: keys.directory("cwd"),
        env: keys.env("env").unwrap_or_default(),
        ready: keys.http_path("ready"),
        init_timeout: keys.duration("init_timeout", MinDuration::Positive),
        listen: keys.choice("listen", "a string: \"port\" or \"fd\"", &listen),
    };
    (settings, keys.argv(PREPARE_KEY).unwrap_or_default())
}

/// `[targets.*]` of the scenario file `source` (command targets' paths are relative to it).
pub(crate) fn targets(
    field: &Field<Vec<Named<RawTarget>>>,
    root: &Range<usize>,
    source: &Path,
    diag: &mut Diagnostics,
) -> Checked<Vec<TargetPlan>> {
    let path = KeyPath::root().key("targets");
    let raw = check::non_empty(field, root, &path, diag, "[targets.NAME]")?;
    let checked = raw
        .iter()
        .map(|target| self::target(target, &path.key(target.name.get_ref()), source, diag))
        .collect();
    check::all(checked)
}

fn target(
    raw: &Named<RawTarget>,
    path: &KeyPath,
    source: &Path,
    diag: &mut Diagnostics,
) -> Checked<TargetPlan> {
    let name = check::name(&raw.name, path, diag, TARGET_NAME_EXTRA, "serverless");
    let Field::Given(target) = &raw.value else {
        return Err(Reported);
    };
    let setup = setup(target, path, source, diag);
    Ok(TargetPlan {
        name: name?,
        setup: setup?,
    })
}

fn setup(
    raw: &Spanned<RawTarget>,
    path: &KeyPath,
    source: &Path,
    diag: &mut Diagnostics,
) -> Checked<TargetSetup> {
    let (span, target) = (raw.span(), raw.get_ref());
    let kind = match (&target.url, &target.kind) {
        (Field::Invalid, _) | (_, Field::Invalid) => Err(Reported),
        (Field::Absent, Field::Absent) => {
            let expected =
                "`kind = \"serverless\"`, `kind = \"persistent\"` or `url = \"http://…\"`";
            diag.report(&span, &path.key("kind"), Problem::missing(expected));
            Err(Reported)
        }
        (Field::Given(url), Field::Given(_)) => {
            let reason = "a target has either `url` (a server coldfront does not start) or `kind` (a built-in target), not both";
            fail(url, &path.key("url"), diag, Problem::not_allowed(reason))
        }
        (Field::Given(url), Field::Absent) => return external(target, url, path, diag),
        (Field::Absent, Field::Given(kind)) => {
            let choices = TargetKind::BUILT_IN.map(|kind| (kind.as_str(), kind));
            check::one_of(kind, &path.key("kind"), diag, &choices)
        }
    };
    let Ok(kind) = kind else {
        // Which keys apply is unknown; their TOML types can still be checked.
        let _ = all_settings(target, path, diag, &Mode::TypesOnly);
        return Err(Reported);
    };
    let (serverless, persistent) = match kind {
        TargetKind::Serverless => (Mode::Apply, Mode::Reject(kind_is(kind))),
        TargetKind::Persistent => (Mode::Reject(kind_is(kind)), Mode::Apply),
        TargetKind::External => unreachable!("`kind` chooses among the built-in kinds"),
    };
    let has_command = matches!(target.setting("command"), Field::Given(_));
    let app = command_app(target, has_command, path, source, span, diag);
    let refused = refused_keys(has_command);
    let serverless = settings_refusing(
        target,
        path,
        diag,
        &serverless,
        &refused,
        serverless_settings,
    );
    let persistent = settings_refusing(
        target,
        path,
        diag,
        &persistent,
        &refused,
        persistent_settings,
    );
    if let Field::Given(tls) = &target.tls {
        let reason = format!(
            "`tls` applies to external targets (`url = \"https://…\"`); {}",
            kind_is(kind)
        );
        diag.report(&tls.span(), &path.key("tls"), Problem::not_allowed(reason));
        return Err(Reported);
    }
    let app = app?;
    if kind == TargetKind::Persistent {
        serverless?;
        Ok(TargetSetup::Persistent {
            settings: persistent?,
            app,
        })
    } else {
        persistent?;
        Ok(TargetSetup::Serverless {
            settings: serverless?,
            app,
        })
    }
}

/// A command target's application (`command` and its keys, `cwd` resolved against the
/// scenario file `source` and checked), `None` without `command` (the keys then refused).
fn command_app(
    target: &RawTarget,
    has_command: bool,
    path: &KeyPath,
    source: &Path,
    span: Range<usize>,
    diag: &mut Diagnostics,
) -> Checked<Option<AppPlan>> {
    let mode = if has_command {
        Mode::Apply
    } else {
        Mode::Reject("this target has no `command`: it runs the built-in application".into())
    };
    let (settings, prepare) = settings(target, path, diag, &mode, app_settings)?;
    if settings.command.is_empty() {
        return Ok(None);
    }
    let written = settings
        .cwd
        .as_ref()
        .map(|cwd| cwd.to_string_lossy().into_owned());
    let cwd = check::beside(source, written.as_deref().unwrap_or(""));
    if !cwd.is_dir() {
        let (span, key) = match target.setting("cwd") {
            Field::Given(raw) => (raw.span(), "cwd"),
            _ => (span, "command"),
        };
        let reason = format!("the directory {} does not exist", cwd.display());
        diag.report(&span, &path.key(key), Problem::not_allowed(reason));
        return Err(Reported);
    }
    Ok(Some(AppPlan {
        settings: AppSettings {
            cwd: Some(cwd),
            ..settings
        },
        prepare,
    }))
}

/// The kind keys that cannot go with a command (they model the built-in application), or
/// without one (`concurrency`), with the reason.
fn refused_keys(has_command: bool) -> Vec<(&'static str, String)> {
    if has_command {
        let why = "it models the built-in application; a command target's start-up, database \
                   access and pool are its own";
        BUILT_IN_APP_ONLY.map(|key| (key, why.to_owned())).to_vec()
    } else {
        let why = "it applies to command targets (`command = [...]`); the built-in instance \
                   serves one request at a time";
        vec![("concurrency", why.to_owned())]
    }
}

fn external(
    raw: &RawTarget,
    url: &Spanned<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<TargetSetup> {
    let this = Mode::Reject("this target is external (`url`)".to_owned());
    let misplaced = all_settings(raw, path, diag, &this);
    let app = settings(raw, path, diag, &this, app_settings);
    let base_url = base_url(url, &path.key("url"), diag);
    let verify_tls = match &raw.tls {
        Field::Invalid => Err(Reported),
        Field::Absent => Ok(true),
        Field::Given(tls) => match &tls.get_ref().verify {
            Field::Invalid => Err(Reported),
            Field::Absent => Ok(true),
            Field::Given(verify) => Ok(*verify.get_ref()),
        },
    };
    misplaced?;
    app?;
    Ok(TargetSetup::External {
        base_url: base_url?,
        verify_tls: verify_tls?,
    })
}

fn kind_is(kind: impl std::fmt::Display) -> String {
    format!("this target is kind = \"{kind}\"")
}

/// Both kinds' keys read in `mode` (which does not apply them).
fn all_settings(
    raw: &RawTarget,
    path: &KeyPath,
    diag: &mut Diagnostics,
    mode: &Mode,
) -> Checked<()> {
    let serverless = settings(raw, path, diag, mode, serverless_settings);
    let persistent = settings(raw, path, diag, mode, persistent_settings);
    let app = match mode {
        Mode::TypesOnly => settings(raw, path, diag, mode, app_settings).map(|_| ()),
        _ => Ok(()),
    };
    serverless.and(persistent).and(app).map(|_| ())
}

/// Reads one group of settings keys with `fill` (one line per key).
fn settings<S>(
    raw: &RawTarget,
    path: &KeyPath,
    diag: &mut Diagnostics,
    mode: &Mode,
    fill: fn(&mut SettingsKeys) -> S,
) -> Checked<S> {
    settings_refusing(raw, path, diag, mode, &[], fill)
}

/// [`settings`], where the keys of `refused` are errors (with their reason) even when the
/// group applies.
fn settings_refusing<S>(
    raw: &RawTarget,
    path: &KeyPath,
    diag: &mut Diagnostics,
    mode: &Mode,
    refused: &[(&str, String)],
    fill: fn(&mut SettingsKeys) -> S,
) -> Checked<S> {
    let mut keys = SettingsKeys {
        raw,
        path,
        diag,
        mode,
        refused,
        read: Vec::new(),
        result: Ok(()),
    };
    let settings = fill(&mut keys);
    debug_assert!(
        KEYS_BY_KIND.iter().any(|(_, kind)| *kind == keys.read)
            || keys.read.iter().copied().eq(app_keys()),
        "one line per settings key, in KEYS order: {:?}",
        keys.read
    );
    keys.result.map(|()| settings)
}

/// What reading a settings key does with its value.
enum Mode {
    /// The keys apply to this target: the value is checked and typed.
    Apply,
    /// The keys do not apply: a value (of the right TOML type) is reported as misplaced:
    /// "`pool` applies to kind = "persistent" targets; " and this reason.
    Reject(String),
    /// The target's kind is unknown (already reported): only the TOML type is checked.
    TypesOnly,
}

/// The settings keys of one target table, read one key at a time; every error is reported
/// and remembered in `result`.
struct SettingsKeys<'r, 'd, 'a> {
    raw: &'r RawTarget,
    path: &'r KeyPath,
    diag: &'d mut Diagnostics<'a>,
    mode: &'r Mode,
    /// Keys refused whatever the mode, with the reason.
    refused: &'r [(&'r str, String)],
    /// The keys read so far, to assert each key has its line.
    read: Vec<&'static str>,
    result: Checked<()>,
}

impl SettingsKeys<'_, '_, '_> {
    /// A duration string (`"250ms"`) of at least `min`.
    fn duration(&mut self, key: &'static str, min: MinDuration) -> Option<Duration> {
        self.read(key, string, duration::EXPECTED, |value, path, diag| {
            check::duration(value, path, diag, min)
        })
    }

    /// An integer from 1 to `u32::MAX`.
    fn count(&mut self, key: &'static str) -> Option<u32> {
        self.read(key, integer, AN_INTEGER, |value, path, diag| {
            check::integer(value, path, diag, 1, u32::MAX.into())
        })
    }

    /// One of `choices`; `expected` describes the value when it is not a string.
    fn choice<T: Copy>(
        &mut self,
        key: &'static str,
        expected: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        self.read(key, string, expected, |value, path, diag| {
            check::one_of(value, path, diag, choices)
        })
    }

    /// A non-empty array of strings, the first not empty: a program and its arguments.
    fn argv(&mut self, key: &'static str) -> Option<Vec<String>> {
        let expected = "a non-empty array of strings such as [\"node\", \"server.js\"]";
        self.read(key, strings, expected, |value, path, diag| {
            if value
                .get_ref()
                .first()
                .is_some_and(|program| !program.is_empty())
            {
                Ok(value.get_ref().clone())
            } else {
                let found = format!("{:?}", value.get_ref());
                fail(value, path, diag, Problem::invalid(expected, found))
            }
        })
    }

    /// A directory path (resolved and checked by the caller).
    fn directory(&mut self, key: &'static str) -> Option<PathBuf> {
        self.read(key, string, "a directory path string", |value, _, _| {
            Ok(PathBuf::from(value.get_ref()))
        })
    }

    /// A table of strings whose keys are environment variable names.
    fn env(&mut self, key: &'static str) -> Option<Vec<(String, String)>> {
        let expected = "a table of strings such as { NODE_ENV = \"production\" }";
        self.read(key, string_table, expected, |value, path, diag| {
            for (name, _) in value.get_ref() {
                if let Some(problem) = env_name_problem(name) {
                    return fail(value, &path.key(name), diag, Problem::not_allowed(problem));
                }
            }
            Ok(value.get_ref().clone())
        })
    }

    /// An HTTP path: starts with `/`, no spaces.
    fn http_path(&mut self, key: &'static str) -> Option<String> {
        let expected = "a path string such as \"/api/health\"";
        self.read(key, string, expected, |value, path, diag| {
            let text = value.get_ref();
            if text.starts_with('/') && text.parse::<http::uri::PathAndQuery>().is_ok() {
                Ok(text.clone())
            } else {
                fail(
                    value,
                    path,
                    diag,
                    Problem::invalid(expected, format!("{text:?}")),
                )
            }
        })
    }

    /// `key`'s value: of the TOML type `typed` accepts (else "expected `expected`"), then
    /// checked by `check`, as the mode says.
    fn read<T, U>(
        &mut self,
        key: &'static str,
        typed: fn(&NodeValue) -> Option<T>,
        expected: &str,
        check: impl FnOnce(&Spanned<T>, &KeyPath, &mut Diagnostics) -> Checked<U>,
    ) -> Option<U> {
        self.read.push(key);
        let path = self.path.key(key);
        let raw = match self.raw.setting(key) {
            Field::Absent => return None,
            Field::Invalid => return self.failed(),
            Field::Given(raw) => raw,
        };
        let Some(value) = typed(raw.get_ref()) else {
            let found = raw.get_ref().describe();
            self.diag
                .report(&raw.span(), &path, Problem::invalid(expected, found));
            return self.failed();
        };
        let value = Spanned::new(raw.span(), value);
        let refused = self.refused.iter().find(|(name, _)| *name == key);
        let checked = match (self.mode, refused) {
            (Mode::TypesOnly, _) => Err(Reported),
            (Mode::Apply, Some((_, why))) => {
                let reason = format!("`{key}` does not go with this target: {why}");
                fail(&value, &path, self.diag, Problem::not_allowed(reason))
            }
            (Mode::Apply, None) => check(&value, &path, self.diag),
            (Mode::Reject(this), _) => {
                let owner = KEYS_BY_KIND
                    .iter()
                    .find(|(_, keys)| keys.contains(&key))
                    .map_or_else(
                        || "command targets (kind = \"serverless\" or \"persistent\" with `command`)".to_owned(),
                        |(kind, _)| format!("kind = \"{kind}\" targets"),
                    );
                let reason = format!("`{key}` applies to {owner}; {this}");
                fail(&value, &path, self.diag, Problem::not_allowed(reason))
            }
        };
        checked.map_or_else(|Reported| self.failed(), Some)
    }

    fn failed<U>(&mut self) -> Option<U> {
        self.result = Err(Reported);
        None
    }
}

fn string(value: &NodeValue) -> Option<String> {
    match value {
        NodeValue::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn strings(value: &NodeValue) -> Option<Vec<String>> {
    match value {
        NodeValue::Array(items) => items
            .iter()
            .map(|item| string(&item.value))
            .collect::<Option<Vec<_>>>()
            .filter(|items| !items.is_empty()),
        _ => None,
    }
}

fn string_table(value: &NodeValue) -> Option<Vec<(String, String)>> {
    match value {
        NodeValue::Table(entries) => entries
            .iter()
            .map(|entry| Some((entry.key.get_ref().clone(), string(&entry.node.value)?)))
            .collect(),
        _ => None,
    }
}

fn integer(value: &NodeValue) -> Option<i64> {
    match value {
        NodeValue::Integer(i) => Some(*i),
        _ => None,
    }
}

/// An `http://` or `https://` URL with a host, and maybe a path prefix; no query.
fn base_url(value: &Spanned<String>, path: &KeyPath, diag: &mut Diagnostics) -> Checked<Uri> {
    let text = value.get_ref();
    let why = match text.parse::<Uri>() {
        Err(_) => "not a valid URL".to_owned(),
        Ok(uri) => match url_problem(&uri) {
            None => return Ok(uri),
            Some(why) => why.to_owned(),
        },
    };
    let expected = "an http:// or https:// URL with a host, such as \"http://127.0.0.1:8080\"";
    fail(
        value,
        path,
        diag,
        Problem::invalid(expected, format!("{text:?} ({why})")),
    )
}

/// The port as written (`http::Uri` reports none for one past 65535): after the user
/// information and an IPv6 host's brackets.
fn port_text(uri: &Uri) -> Option<&str> {
    let authority = uri.authority()?.as_str();
    let after_host = [authority.rfind('@'), authority.rfind(']')]
        .into_iter()
        .flatten()
        .max()
        .map_or(0, |at| at + 1);
    let colon = authority[after_host..].rfind(':')? + after_host;
    Some(&authority[colon + 1..])
}

fn url_problem(uri: &Uri) -> Option<&'static str> {
    match uri.scheme_str() {
        None => return Some("no scheme"),
        Some("http" | "https") => {}
        Some(_) => return Some("the scheme is not http or https"),
    }
    if uri.host().is_none_or(|host| host.is_empty()) {
        return Some("no host");
    }
    match port_text(uri).map(str::parse::<u32>) {
        Some(Ok(0)) => return Some("port 0 is not a port a server listens on"),
        Some(Ok(1..=65535)) | None => {}
        Some(_) => return Some("the port is out of range (1 to 65535)"),
    }
    uri.query().map(|_| "a base URL cannot have a query")
}
