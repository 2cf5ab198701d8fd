//! Stage 2: a [`RawScenario`] → a [`Plan`]: typed values, defaults, cross-field checks.
//! Owns the top-level keys and `[[requests]]`; targets, load and thresholds have their own
//! modules, and so do a request's held kinds (`held`) and placeholders (`values`).

use std::path::Path;
use std::str::FromStr;

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderName, HeaderValue, Method};
use toml::Spanned;

use super::check::{self, fail, optional, required, Checked, Reported};
use super::error::{Diagnostics, Problem};
use super::key_path::KeyPath;
use super::plan::{DatabasePlan, Plan, RequestTemplate};
use super::raw::{Field, Named, RawRequest, RawScenario};
use super::template::Keys;
use super::values::RequestValues;
use super::{held, load, target, threshold};
use crate::model::names::SCENARIO_NAME_EXTRA;

/// The fewest `[database] max_connections` a run can work with: PostgreSQL's 3 superuser
/// slots, and two for a target.
const MIN_DATABASE_CONNECTIONS: i64 = 5;

const DEFAULT_SEED: u64 = 1;

/// Checks everything; a [`Plan`] only when nothing was reported.
pub(crate) fn plan(raw: &RawScenario, source: &Path, diag: &mut Diagnostics) -> Checked<Plan> {
    let root = KeyPath::root();
    let name_path = root.key("name");
    let name = required(
        &raw.name,
        &raw.span,
        &name_path,
        diag,
        "a scenario name such as \"cold-start-after-idle\"",
        |v, d| {
            check::name(
                v,
                &name_path,
                d,
                SCENARIO_NAME_EXTRA,
                "cold-start-after-idle",
            )
        },
    );
    let description = optional(&raw.description, |v| Ok(v.get_ref().clone()));
    let seed = optional(&raw.seed, |v| {
        check::integer(v, &root.key("seed"), diag, 0, i64::MAX)
    });
    let targets = target::targets(&raw.targets, &raw.span, source, diag);
    let load = load::load(&raw.load, &raw.span, diag);
    let requests = requests(
        &raw.requests,
        &raw.span,
        (source, seed.as_ref().ok().copied().flatten()),
        diag,
    );
    let thresholds = threshold::thresholds(&raw.thresholds, &target_names(raw), diag);
    let database = optional(&raw.database, |v| {
        let path = root.key("database").key("max_connections");
        let max_connections = optional(&v.get_ref().max_connections, |n| {
            // PostgreSQL keeps 3 connections for superusers (the harness's sampler among them)
            // and will not start with fewer than that plus one; a target needs a few more.
            check::integer(n, &path, diag, MIN_DATABASE_CONNECTIONS, 10_000)
        });
        let init_sql = optional(&v.get_ref().init_sql, |file| {
            check::file_beside(file, source, &root.key("database").key("init_sql"), diag)
        });
        Ok(DatabasePlan {
            max_connections: max_connections?.unwrap_or(DatabasePlan::default().max_connections),
            init_sql: init_sql?,
        })
    });
    Ok(Plan {
        name: name?,
        description: description?.unwrap_or_default(),
        source: source.to_path_buf(),
        source_text: String::new(),
        seed: seed?.unwrap_or(DEFAULT_SEED),
        targets: targets?,
        load: load?,
        requests: requests?,
        thresholds: thresholds?,
        database: database?.unwrap_or_default(),
    })
}

/// Every target name written in the file, valid or not (thresholds refer to them).
fn target_names(raw: &RawScenario) -> Vec<String> {
    raw.targets
        .given()
        .map(|targets| {
            targets
                .get_ref()
                .iter()
                .map(|t| t.name.get_ref().clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The `[[requests]]`; `source` is the scenario file (data files are beside it), `seed` its
/// seed when given (the placeholders' values are drawn from it).
fn requests(
    field: &Field<Vec<Field<RawRequest>>>,
    root: &std::ops::Range<usize>,
    (source, seed): (&Path, Option<u64>),
    diag: &mut Diagnostics,
) -> Checked<Vec<RequestTemplate>> {
    let path = KeyPath::root().key("requests");
    let raw = check::non_empty(field, root, &path, diag, "[[requests]]")?;
    let seed = seed.unwrap_or(DEFAULT_SEED);
    let checked = raw
        .iter()
        .enumerate()
        .map(|(i, request)| {
            self::request(request, &path.index(i), (source, Keys::new(seed, i)), diag)
        })
        .collect();
    check::all(checked)
}

fn request(
    field: &Field<RawRequest>,
    path: &KeyPath,
    (source, keys): (&Path, Keys),
    diag: &mut Diagnostics,
) -> Checked<RequestTemplate> {
    let Field::Given(raw) = field else {
        return Err(Reported);
    };
    let span = raw.span();
    let raw = raw.get_ref();
    let mut values = RequestValues::new(raw, path, source, keys, diag);
    let weight = optional(&raw.weight, |v| {
        check::integer(v, &path.key("weight"), diag, 1, u32::MAX.into())
    });
    let method = optional(&raw.method, |v| self::method(v, &path.key("method"), diag));
    let path_key = path.key("path");
    let target = required(
        &raw.path,
        &span,
        &path_key,
        diag,
        "a path such as \"/api/health\"",
        |v, d| path_and_query(v, &path_key, d, &mut values),
    );
    let headers = optional(&raw.headers, |v| {
        self::headers(v.get_ref(), &path.key("headers"), diag, &mut values)
    });
    let name = optional(&raw.name, |v| Ok(v.get_ref().clone()));
    let body = optional(&raw.body, |v| {
        values.body(v, &path.key("body"), diag)?;
        Ok(Bytes::from(v.get_ref().clone()))
    });
    let wire = held::wire(raw, &span, path, method.as_ref().ok(), diag);
    let placeholders = values.finish();
    let method = method?.unwrap_or(Method::GET);
    let path_and_query = target?;
    let wire = wire?;
    let default_name = match wire.held() {
        None => format!("{method} {path_and_query}"),
        Some(held) => format!("{} {path_and_query}", held::label(held.protocol)),
    };
    Ok(RequestTemplate {
        name: name?.unwrap_or(default_name),
        weight: weight?.unwrap_or(1),
        method,
        path_and_query,
        headers: headers?.unwrap_or_default(),
        body: body?.unwrap_or_default(),
        wire,
        placeholders: placeholders?,
    })
}

/// Methods are case-sensitive: `"get"` is a different (and almost surely unintended) method.
fn method(value: &Spanned<String>, path: &KeyPath, diag: &mut Diagnostics) -> Checked<Method> {
    let text = value.get_ref();
    let upper = text.to_ascii_uppercase();
    let standard = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    if *text != upper && standard.contains(&upper.as_str()) {
        let problem = Problem::Invalid {
            expected: "an HTTP method in capitals (methods are case-sensitive)".into(),
            found: format!("{text:?}"),
            suggestion: Some(upper),
        };
        return fail(value, path, diag, problem);
    }
    Method::from_bytes(text.as_bytes()).or_else(|_| {
        let problem = Problem::invalid(
            "an HTTP method such as \"GET\" or \"POST\"",
            format!("{text:?}"),
        );
        fail(value, path, diag, problem)
    })
}

/// The path as written; with placeholders, it is checked with each written as `0`.
fn path_and_query(
    value: &Spanned<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    values: &mut RequestValues,
) -> Checked<String> {
    let text = value.get_ref();
    let sample = values.path(value, path, diag)?;
    let checked = sample.as_deref().unwrap_or(text);
    if text.starts_with('/') && PathAndQuery::from_str(checked).is_ok() {
        return Ok(text.clone());
    }
    let expected = "a path starting with `/` such as \"/api/blogs?category=rust\"";
    fail(
        value,
        path,
        diag,
        Problem::invalid(expected, format!("{text:?}")),
    )
}

fn headers(
    raw: &[Named<String>],
    path: &KeyPath,
    diag: &mut Diagnostics,
    values: &mut RequestValues,
) -> Checked<Vec<(HeaderName, HeaderValue)>> {
    let checked = raw
        .iter()
        .enumerate()
        .map(|(i, h)| header(h, (i, &path.key(h.name.get_ref())), diag, values))
        .collect();
    check::all(checked)
}

/// Header `index`: its name, and its value as written (with placeholders, also checked with
/// each written as `0`).
fn header(
    raw: &Named<String>,
    (index, path): (usize, &KeyPath),
    diag: &mut Diagnostics,
    values: &mut RequestValues,
) -> Checked<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(raw.name.get_ref().as_bytes()).or_else(|_| {
        let expected = "a header name (letters, digits and !#$%&'*+-.^_`|~)";
        let found = format!("{:?}", raw.name.get_ref());
        fail(&raw.name, path, diag, Problem::invalid(expected, found))
    });
    let value = optional(&raw.value, |v| {
        let sample = values.header(index, v, path, diag)?;
        let sample_ok = sample.is_none_or(|s| HeaderValue::from_str(&s).is_ok());
        match HeaderValue::from_str(v.get_ref()) {
            Ok(value) if sample_ok => Ok(value),
            _ => {
                let expected = "a header value of visible ASCII characters and spaces";
                let found = format!("{:?}", v.get_ref());
                fail(v, path, diag, Problem::invalid(expected, found))
            }
        }
    });
    Ok((name?, value?.ok_or(Reported)?))
}
