//! Stage 2 of `[load]` and `[[load.phases]]`: the load model, its defaults, and which phase
//! keys each model expects (`rate` for open, `concurrency` and `think_time` for closed).

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::check::{self, fail, optional, required, Checked, MinDuration, Reported};
use super::error::{Diagnostics, Problem};
use super::key_path::KeyPath;
use super::plan::{LoadPlan, Phase, PhaseLoad, Rate};
use super::raw::{Field, RawLoad, RawPhase, RawRate};
use crate::model::{Arrivals, ConnectionPolicy, LoadModel};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// The highest `rate` (requests/s), also of a ramp's ends: ten times what one machine's
/// generator can offer, so a typo (`1e9`) is caught before it schedules a billion requests.
pub(crate) const MAX_RATE: f64 = 1_000_000.0;
const MAX_RATE_WHY: &str = "ten times one machine's generator; beyond it, shard the run";
/// The most closed-model workers in a phase: each holds a request (and a connection) at once.
pub(crate) const MAX_CONCURRENCY: i64 = 100_000;
const MAX_CONCURRENCY_WHY: &str = "each worker holds a connection and a request at once";
/// The most connections open at once: each is a file descriptor, and a process's hard limit is
/// rarely above a million.
pub(crate) const MAX_CONNECTIONS: i64 = 1_000_000;
const MAX_CONNECTIONS_WHY: &str = "each is a file descriptor";

/// The `model` key, before the open model's `arrivals` is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    Open,
    Closed,
}

pub(crate) fn load(
    field: &Field<RawLoad>,
    root: &Range<usize>,
    diag: &mut Diagnostics,
) -> Checked<LoadPlan> {
    let path = KeyPath::root().key("load");
    let expected = "a [load] table with at least one [[load.phases]]";
    let raw = required(field, root, &path, diag, expected, |raw, _| Ok(raw))?;
    let (span, raw) = (raw.span(), raw.get_ref());
    let model = optional(&raw.model, |v| {
        check::one_of(
            v,
            &path.key("model"),
            diag,
            &[("open", Model::Open), ("closed", Model::Closed)],
        )
    });
    let arrivals = optional(&raw.arrivals, |v| {
        let choices = [
            ("uniform", Arrivals::Uniform),
            ("poisson", Arrivals::Poisson),
        ];
        check::one_of(v, &path.key("arrivals"), diag, &choices)
    });
    let timeout = optional(&raw.timeout, |v| {
        check::duration(v, &path.key("timeout"), diag, MinDuration::Positive)
    });
    let connections = optional(&raw.connections, |v| {
        let choices = [
            ("keep-alive", ConnectionPolicy::KeepAlive),
            ("per-request", ConnectionPolicy::PerRequest),
        ];
        check::one_of(v, &path.key("connections"), diag, &choices)
    });
    let max_connections = optional(&raw.max_connections, |v| {
        let path = path.key("max_connections");
        check::bounded_integer(
            v,
            &path,
            diag,
            1..=MAX_CONNECTIONS,
            Some(MAX_CONNECTIONS_WHY),
        )
    });
    let model = model.map(|m| m.unwrap_or(Model::Open));
    let phases = phases(&raw.phases, &span, &path, model.ok(), diag);
    let (model, arrivals) = load_model(model, arrivals, &raw.arrivals, &path, diag)?;
    Ok(LoadPlan {
        model,
        arrivals,
        timeout: timeout?.unwrap_or(DEFAULT_TIMEOUT),
        connections: connections?.unwrap_or(ConnectionPolicy::KeepAlive),
        max_connections: max_connections?.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        phases: phases?,
    })
}

/// `arrivals` belongs to the open model (uniform when not given).
fn load_model(
    model: Checked<Model>,
    arrivals: Checked<Option<Arrivals>>,
    raw_arrivals: &Field<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<(LoadModel, Arrivals)> {
    match model? {
        Model::Open => Ok((LoadModel::Open, arrivals?.unwrap_or(Arrivals::Uniform))),
        Model::Closed => {
            arrivals?; // a misspelt value is reported once, as misspelt
            let Some(value) = raw_arrivals.given() else {
                return Ok((LoadModel::Closed, Arrivals::Uniform));
            };
            let reason = "`arrivals` applies to the open model (model = \"open\"); \
                          the closed model sends as soon as a worker is free";
            fail(
                value,
                &path.key("arrivals"),
                diag,
                Problem::not_allowed(reason),
            )
        }
    }
}

fn phases(
    field: &Field<Vec<Field<RawPhase>>>,
    load: &Range<usize>,
    load_path: &KeyPath,
    model: Option<Model>,
    diag: &mut Diagnostics,
) -> Checked<Vec<Phase>> {
    let path = load_path.key("phases");
    let raw = check::non_empty(field, load, &path, diag, "[[load.phases]]")?;
    let checked = raw
        .iter()
        .enumerate()
        .map(|(i, phase)| self::phase(phase, &path.index(i), model, diag))
        .collect();
    check::all(checked)
}

/// `model` is `None` when the model itself is invalid (already reported): the keys that
/// depend on it are not checked.
fn phase(
    field: &Field<RawPhase>,
    path: &KeyPath,
    model: Option<Model>,
    diag: &mut Diagnostics,
) -> Checked<Phase> {
    let Field::Given(raw) = field else {
        return Err(Reported);
    };
    let (span, raw) = (raw.span(), raw.get_ref());
    let duration_path = path.key("duration");
    let duration = required(
        &raw.duration,
        &span,
        &duration_path,
        diag,
        "a duration string such as \"20s\"",
        |v, d| check::duration(v, &duration_path, d, MinDuration::Positive),
    );
    let name = optional(&raw.name, |v| Ok(v.get_ref().clone()));
    let load = match model {
        Some(Model::Open) => open_phase(raw, &span, path, diag),
        Some(Model::Closed) => closed_phase(raw, &span, path, diag),
        None => Err(Reported),
    };
    Ok(Phase {
        name: name?,
        duration: duration?,
        load: load?,
    })
}

fn open_phase(
    raw: &RawPhase,
    span: &Range<usize>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<PhaseLoad> {
    let mut misplaced = Ok(());
    for (key, field_span) in [
        ("concurrency", check::given_span(&raw.concurrency)),
        ("think_time", check::given_span(&raw.think_time)),
    ] {
        if let Some(field_span) = field_span {
            let reason = format!("the open model (model = \"open\") expects `rate`; `{key}` is for model = \"closed\"");
            diag.report(&field_span, &path.key(key), Problem::not_allowed(reason));
            misplaced = Err(Reported);
        }
    }
    if misplaced.is_err() && raw.rate.is_absent() {
        return Err(Reported); // "expects `rate`" already says what is missing
    }
    let rate_path = path.key("rate");
    let expected = "`rate = N` (requests/s) or `rate = { from = A, to = B }`";
    let rate = required(&raw.rate, span, &rate_path, diag, expected, |v, d| {
        self::rate(v, &rate_path, d)
    });
    misplaced?;
    Ok(PhaseLoad::Rate(rate?))
}

fn closed_phase(
    raw: &RawPhase,
    span: &Range<usize>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<PhaseLoad> {
    let mut misplaced = Ok(());
    if let Some(rate_span) = check::given_span(&raw.rate) {
        let reason = "the closed model (model = \"closed\") expects `concurrency`; `rate` is for model = \"open\"";
        diag.report(&rate_span, &path.key("rate"), Problem::not_allowed(reason));
        misplaced = Err(Reported);
        if raw.concurrency.is_absent() {
            return Err(Reported); // "expects `concurrency`" already says what is missing
        }
    }
    let workers_path = path.key("concurrency");
    let workers = required(
        &raw.concurrency,
        span,
        &workers_path,
        diag,
        "`concurrency = N` (workers; 0 = idle)",
        |v, d| {
            let why = Some(MAX_CONCURRENCY_WHY);
            check::bounded_integer(v, &workers_path, d, 0..=MAX_CONCURRENCY, why)
        },
    );
    let think_time = optional(&raw.think_time, |v| {
        check::duration(v, &path.key("think_time"), diag, MinDuration::Zero)
    });
    misplaced?;
    Ok(PhaseLoad::Concurrency {
        workers: workers?,
        think_time: think_time?.unwrap_or_default(),
    })
}

fn rate(value: &Spanned<RawRate>, path: &KeyPath, diag: &mut Diagnostics) -> Checked<Rate> {
    match value.get_ref() {
        RawRate::Constant(rate) => {
            let rate = Spanned::new(value.span(), *rate);
            requests_per_second(&rate, path, diag).map(Rate::Constant)
        }
        RawRate::Ramp { from, to } => {
            let span = value.span();
            let (from_path, to_path) = (path.key("from"), path.key("to"));
            let from = required(
                from,
                &span,
                &from_path,
                diag,
                "`from = N` (requests/s at the start of the ramp)",
                |v, d| requests_per_second(v, &from_path, d),
            );
            let to = required(
                to,
                &span,
                &to_path,
                diag,
                "`to = N` (requests/s at the end of the ramp)",
                |v, d| requests_per_second(v, &to_path, d),
            );
            Ok(Rate::Ramp {
                from: from?,
                to: to?,
            })
        }
    }
}

fn requests_per_second(
    value: &Spanned<f64>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<f64> {
    let rate = *value.get_ref();
    if rate.is_finite() && (0.0..=MAX_RATE).contains(&rate) {
        return Ok(rate);
    }
    let expected = format!("a rate from 0 to {MAX_RATE} requests/s ({MAX_RATE_WHY})");
    fail(
        value,
        path,
        diag,
        Problem::invalid(expected, rate.to_string()),
    )
}
