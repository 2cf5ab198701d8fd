//! Stage 2 of `[targets.NAME]`: an external `url`, or a built-in `kind` with the keys that
//! kind accepts (a serverless-only key on another kind is an error naming both).

use std::ops::Range;

use http::Uri;
use toml::Spanned;

use super::check::{self, fail, optional, Checked, MinDuration, Reported};
use super::error::{Diagnostics, Problem};
use super::key_path::KeyPath;
use super::plan::{DbConnect, PersistentSpec, ServerlessSpec, TargetKind, TargetPlan};
use super::raw::{Field, Named, RawTarget, PERSISTENT_KEYS, SERVERLESS_KEYS};

/// Platform presets of the serverless emulator.
pub(crate) const PRESETS: [&str; 5] = ["lambda", "vercel-hobby", "vercel-pro", "knative", "cgi"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Serverless,
    Persistent,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Serverless => "serverless",
            Kind::Persistent => "persistent",
        }
    }
}

pub(crate) fn targets(
    field: &Field<Vec<Named<RawTarget>>>,
    root: &Range<usize>,
    diag: &mut Diagnostics,
) -> Checked<Vec<TargetPlan>> {
    let path = KeyPath::root().key("targets");
    let raw = check::non_empty(field, root, &path, diag, "[targets.NAME]")?;
    let checked = raw
        .iter()
        .map(|target| self::target(target, &path.key(target.name.get_ref()), diag))
        .collect();
    check::all(checked)
}

fn target(raw: &Named<RawTarget>, path: &KeyPath, diag: &mut Diagnostics) -> Checked<TargetPlan> {
    let name = check::name(&raw.name, path, diag, &['_', '-'], "serverless");
    let Field::Given(target) = &raw.value else {
        return Err(Reported);
    };
    let kind = kind(target, path, diag);
    Ok(TargetPlan {
        name: name?,
        kind: kind?,
    })
}

fn kind(raw: &Spanned<RawTarget>, path: &KeyPath, diag: &mut Diagnostics) -> Checked<TargetKind> {
    let (span, target) = (raw.span(), raw.get_ref());
    match (&target.url, &target.kind) {
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
        (Field::Given(url), Field::Absent) => external(target, url, path, diag),
        (Field::Absent, Field::Given(kind)) => {
            let choices = [
                ("serverless", Kind::Serverless),
                ("persistent", Kind::Persistent),
            ];
            match check::one_of(kind, &path.key("kind"), diag, &choices)? {
                Kind::Serverless => serverless(target, path, diag),
                Kind::Persistent => persistent(target, path, diag),
            }
        }
    }
}

fn external(
    raw: &RawTarget,
    url: &Spanned<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<TargetKind> {
    let misplaced = reject_keys(
        raw,
        &all_kind_keys(),
        path,
        diag,
        "this target is external (`url`)",
    );
    let base_url = base_url(url, &path.key("url"), diag);
    misplaced?;
    Ok(TargetKind::External {
        base_url: base_url?,
    })
}

fn serverless(raw: &RawTarget, path: &KeyPath, diag: &mut Diagnostics) -> Checked<TargetKind> {
    let misplaced = reject_keys(raw, PERSISTENT_KEYS, path, diag, &kind_is(Kind::Serverless));
    let duration = |field: &Field<String>, key: &str, min, diag: &mut Diagnostics| {
        optional(field, |v| check::duration(v, &path.key(key), diag, min))
    };
    let preset = optional(&raw.preset, |v| {
        let choices = PRESETS.map(|p| (p, p));
        check::one_of(v, &path.key("preset"), diag, &choices).map(str::to_owned)
    });
    let keep_warm = duration(&raw.keep_warm, "keep_warm", MinDuration::Zero, diag);
    let init = duration(&raw.init, "init", MinDuration::Zero, diag);
    let max_instances = optional(&raw.max_instances, |v| {
        check::integer(v, &path.key("max_instances"), diag, 1, u32::MAX.into())
    });
    let max_duration = duration(
        &raw.max_duration,
        "max_duration",
        MinDuration::Positive,
        diag,
    );
    let queue_timeout = duration(&raw.queue_timeout, "queue_timeout", MinDuration::Zero, diag);
    let db_connect = optional(&raw.db_connect, |v| {
        let choices = [
            ("per-instance", DbConnect::PerInstance),
            ("per-request", DbConnect::PerRequest),
        ];
        check::one_of(v, &path.key("db_connect"), diag, &choices)
    });
    misplaced?;
    Ok(TargetKind::Serverless(ServerlessSpec {
        preset: preset?,
        keep_warm: keep_warm?,
        init: init?,
        max_instances: max_instances?,
        max_duration: max_duration?,
        queue_timeout: queue_timeout?,
        db_connect: db_connect?,
    }))
}

fn persistent(raw: &RawTarget, path: &KeyPath, diag: &mut Diagnostics) -> Checked<TargetKind> {
    let misplaced = reject_keys(raw, SERVERLESS_KEYS, path, diag, &kind_is(Kind::Persistent));
    let pool = optional(&raw.pool, |v| {
        check::integer(v, &path.key("pool"), diag, 1, u32::MAX.into())
    });
    misplaced?;
    Ok(TargetKind::Persistent(PersistentSpec { pool: pool? }))
}

fn kind_is(kind: Kind) -> String {
    format!("this target is kind = \"{}\"", kind.name())
}

fn all_kind_keys() -> Vec<&'static str> {
    SERVERLESS_KEYS
        .iter()
        .chain(PERSISTENT_KEYS)
        .copied()
        .collect()
}

/// Reports every key of `keys` that `raw` sets: "`pool` applies to kind = "persistent"
/// targets; this target is kind = "serverless"".
fn reject_keys(
    raw: &RawTarget,
    keys: &[&str],
    path: &KeyPath,
    diag: &mut Diagnostics,
    this: &str,
) -> Checked<()> {
    let mut result = Ok(());
    for key in keys {
        if let Some(span) = key_span(raw, key) {
            let owner = if SERVERLESS_KEYS.contains(key) {
                Kind::Serverless
            } else {
                Kind::Persistent
            };
            let reason = format!(
                "`{key}` applies to kind = \"{}\" targets; {this}",
                owner.name()
            );
            diag.report(&span, &path.key(key), Problem::not_allowed(reason));
            result = Err(Reported);
        }
    }
    result
}

/// The span of a kind-specific key when it is set.
fn key_span(raw: &RawTarget, key: &str) -> Option<Range<usize>> {
    match key {
        "preset" => check::given_span(&raw.preset),
        "keep_warm" => check::given_span(&raw.keep_warm),
        "init" => check::given_span(&raw.init),
        "max_instances" => check::given_span(&raw.max_instances),
        "max_duration" => check::given_span(&raw.max_duration),
        "queue_timeout" => check::given_span(&raw.queue_timeout),
        "db_connect" => check::given_span(&raw.db_connect),
        "pool" => check::given_span(&raw.pool),
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

fn url_problem(uri: &Uri) -> Option<&'static str> {
    match uri.scheme_str() {
        None => return Some("no scheme"),
        Some("http" | "https") => {}
        Some(_) => return Some("the scheme is not http or https"),
    }
    if uri.host().is_none_or(|host| host.is_empty()) {
        return Some("no host");
    }
    uri.query().map(|_| "a base URL cannot have a query")
}
