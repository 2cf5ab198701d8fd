//! Stage 2 of `[thresholds]`: `"<target|*>.<metric>" = "<op> <value>"`, where the value's
//! unit follows the metric (a duration for times, a percentage for rates, a number otherwise).

use toml::Spanned;

use super::check::{self, fail, Checked, Reported};
use super::duration;
use super::error::{Diagnostics, Problem};
use super::field::{Field, Named};
use super::key_path::KeyPath;
use super::plan::{Operator, TargetSelector, Threshold};
use super::suggest;
use crate::model::{HeldEnd, Metric, Stat, Unit};

/// Builds a metric from its statistic (`Metric::Latency`).
type WithStat = fn(Stat) -> Metric;

/// Metrics with a statistic: `latency.p99`, `service_time.mean`, …
const STAT_FAMILIES: [(&str, WithStat); 7] = [
    ("latency", Metric::Latency),
    ("service_time", Metric::ServiceTime),
    ("connect_time", Metric::ConnectTime),
    ("cold_latency", Metric::ColdLatency),
    ("warm_latency", Metric::WarmLatency),
    ("send_lag", Metric::SendLag),
    ("held.first_message", Metric::HeldFirstMessage),
];

/// Metrics without a statistic.
const SINGLE_METRICS: [(&str, Metric); 14] = [
    ("timeout_rate", Metric::TimeoutRate),
    ("error_rate", Metric::ErrorRate),
    ("throttle_rate", Metric::ThrottleRate),
    ("throughput_rps", Metric::ThroughputRps),
    ("ok_rps", Metric::OkRps),
    ("requests", Metric::Requests),
    ("cold_starts", Metric::ColdStarts),
    ("db_connections.max", Metric::DbConnectionsMax),
    ("held.opened", Metric::HeldOpened),
    ("held.held", Metric::Held(HeldEnd::Held)),
    ("held.completed", Metric::Held(HeldEnd::Completed)),
    ("held.cut", Metric::Held(HeldEnd::Cut)),
    ("held.refused", Metric::Held(HeldEnd::Refused)),
    ("held.failed", Metric::Held(HeldEnd::Failed)),
];

const OPERATORS: [(&str, Operator); 4] = [
    ("<=", Operator::LessOrEqual),
    (">=", Operator::GreaterOrEqual),
    ("<", Operator::Less),
    (">", Operator::Greater),
];

pub(crate) fn thresholds(
    field: &Field<Vec<Named<String>>>,
    targets: &[String],
    diag: &mut Diagnostics,
) -> Checked<Vec<Threshold>> {
    let path = KeyPath::root().key("thresholds");
    let raw = match field {
        Field::Absent => return Ok(Vec::new()),
        Field::Invalid => return Err(Reported),
        Field::Given(raw) => raw.get_ref(),
    };
    let checked = raw
        .iter()
        .map(|t| threshold(t, &path.key(t.name.get_ref()), targets, diag))
        .collect();
    check::all(checked)
}

fn threshold(
    raw: &Named<String>,
    path: &KeyPath,
    targets: &[String],
    diag: &mut Diagnostics,
) -> Checked<Threshold> {
    let key = raw.name.get_ref();
    let Some((target, metric)) = key.split_once('.') else {
        if raw.value == Field::Invalid {
            return Err(Reported); // an unquoted dotted key, already reported as a table
        }
        let expected =
            "a key \"<target>.<metric>\" such as \"serverless.latency.p99\" or \"*.error_rate\"";
        return fail(
            &raw.name,
            path,
            diag,
            Problem::invalid(expected, format!("{key:?}")),
        );
    };
    let selector = selector(target, &raw.name, path, targets, diag);
    let metric = self::metric(metric, &raw.name, path, diag);
    let Field::Given(condition) = &raw.value else {
        return Err(Reported);
    };
    let (operator, limit) = self::condition(condition, metric.ok(), path, diag)?;
    Ok(Threshold {
        key: key.clone(),
        condition: condition.get_ref().clone(),
        target: selector?,
        metric: metric?,
        operator,
        limit: limit.ok_or(Reported)?,
    })
}

fn selector(
    target: &str,
    key: &Spanned<String>,
    path: &KeyPath,
    targets: &[String],
    diag: &mut Diagnostics,
) -> Checked<TargetSelector> {
    if target == "*" {
        return Ok(TargetSelector::All);
    }
    if targets.iter().any(|t| t == target) {
        return Ok(TargetSelector::Named(target.to_owned()));
    }
    let names: Vec<&str> = targets.iter().map(String::as_str).chain(["*"]).collect();
    let problem = Problem::UnknownName {
        what: "target".into(),
        name: target.to_owned(),
        expected: names.join(", "),
        suggestion: suggest::closest(target, targets.iter().map(String::as_str)),
    };
    fail(key, path, diag, problem)
}

fn metric(
    name: &str,
    key: &Spanned<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<Metric> {
    let all = all_metrics();
    if let Some((_, metric)) = all.iter().find(|(key, _)| key == name) {
        return Ok(*metric);
    }
    let families = STAT_FAMILIES.map(|(family, _)| format!("{family}.STAT"));
    let singles = SINGLE_METRICS.map(|(name, _)| name.to_owned());
    let stats = Stat::ALL.map(Stat::as_str);
    let problem = Problem::UnknownName {
        what: "metric".into(),
        name: name.to_owned(),
        expected: format!(
            "{}, {} (STAT: {})",
            families.join(", "),
            singles.join(", "),
            stats.join(" ")
        ),
        suggestion: suggest::closest(name, all.iter().map(|(key, _)| key.as_str())),
    };
    fail(key, path, diag, problem)
}

/// Every metric key: `latency.min` … `send_lag.max`, then the single metrics.
fn all_metrics() -> Vec<(String, Metric)> {
    let with_stats = STAT_FAMILIES.iter().flat_map(|(family, metric)| {
        Stat::ALL.map(|stat| (format!("{family}.{}", stat.as_str()), metric(stat)))
    });
    let singles = SINGLE_METRICS
        .iter()
        .map(|(key, metric)| (key.to_string(), *metric));
    with_stats.chain(singles).collect()
}

/// `"< 800ms"` → (Less, Some(800.0)). The limit is `None` when the metric is unknown (its
/// unit is then unknown too; the metric error is reported elsewhere).
fn condition(
    value: &Spanned<String>,
    metric: Option<Metric>,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<(Operator, Option<f64>)> {
    let text = value.get_ref().trim();
    let Some((op, operator)) = OPERATORS.iter().find(|(op, _)| text.starts_with(op)) else {
        let expected =
            "a condition \"<op> <value>\" with op one of <, <=, >, >= (such as \"< 800ms\")";
        return fail(
            value,
            path,
            diag,
            Problem::invalid(expected, format!("{:?}", value.get_ref())),
        );
    };
    let Some(metric) = metric else {
        return Ok((*operator, None));
    };
    let limit_text = text[op.len()..].trim();
    match limit(limit_text, metric.unit()) {
        Ok(limit) => Ok((*operator, Some(limit))),
        Err(why) => {
            let expected = expected_limit(metric);
            let found = format!("{:?} ({why})", value.get_ref());
            fail(value, path, diag, Problem::invalid(expected, found))
        }
    }
}

/// The limit in the metric's unit, or why `text` is not one.
fn limit(text: &str, unit: Unit) -> Result<f64, String> {
    match unit {
        Unit::Milliseconds => duration::parse(text)
            .map(|d| d.as_secs_f64() * 1000.0)
            .map_err(|e| e.to_string()),
        Unit::Ratio => {
            let number = text.strip_suffix('%').ok_or("no `%`")?;
            match plain_number(number.trim()) {
                Some(percent) if percent <= 100.0 => Ok(percent / 100.0),
                Some(_) => Err("more than 100%".into()),
                None => Err(format!("`{number}` is not a number")),
            }
        }
        Unit::RequestsPerSecond | Unit::Count => {
            plain_number(text).ok_or_else(|| format!("`{text}` is not a plain number"))
        }
    }
}

/// A finite number >= 0.
fn plain_number(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

fn expected_limit(metric: Metric) -> String {
    let name = all_metrics()
        .into_iter()
        .find(|(_, m)| *m == metric)
        .map(|(key, _)| key)
        .unwrap_or_default();
    match metric.unit() {
        Unit::Milliseconds => format!("a duration such as \"< 800ms\" (`{name}` is a time)"),
        Unit::Ratio => format!("a percentage such as \"< 1%\" (`{name}` is a rate)"),
        Unit::RequestsPerSecond => {
            format!("a plain number such as \"> 100\" (`{name}` is requests/s)")
        }
        Unit::Count => format!("a plain number such as \"< 10\" (`{name}` is a count)"),
    }
}
