//! Threshold verdicts: each `[thresholds]` entry of the plan checked against each target's
//! summary it selects.

use crate::resultset::{LatencyStats, TargetSummary, ThresholdVerdict};

use crate::model::{HeldEnd, Metric};
use crate::scenario::{Operator, TargetSelector, Threshold};

/// The verdicts of every threshold that selects `target`.
pub(crate) fn evaluate(
    thresholds: &[Threshold],
    target: &str,
    summary: &TargetSummary,
) -> Vec<ThresholdVerdict> {
    thresholds
        .iter()
        .filter(|t| match &t.target {
            TargetSelector::All => true,
            TargetSelector::Named(name) => name == target,
        })
        .map(|t| {
            let unanswered = summary.ok == 0 && needs_an_answer(t.metric);
            let actual = (!unanswered)
                .then(|| metric_value(t.metric, summary))
                .flatten();
            ThresholdVerdict {
                key: t.key.clone(),
                condition: t.condition.clone(),
                actual,
                unit: t.metric.unit(),
                passed: actual.is_some_and(|value| holds(t.operator, value, t.limit)),
                reason: unanswered.then(|| NO_ANSWER.to_string()),
            }
        })
        .collect()
}

/// Why a latency or throughput threshold fails on a target that answered nothing.
const NO_ANSWER: &str = "no successful response (every request failed)";

/// Latency and throughput say something about the target only when it answered: the time to a
/// refused connection is not its latency, and a rate of failures is not its throughput.
fn needs_an_answer(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::Latency(_)
            | Metric::ServiceTime(_)
            | Metric::ColdLatency(_)
            | Metric::WarmLatency(_)
            | Metric::ThroughputRps
            | Metric::OkRps
    )
}

fn holds(operator: Operator, value: f64, limit: f64) -> bool {
    match operator {
        Operator::Less => value < limit,
        Operator::LessOrEqual => value <= limit,
        Operator::Greater => value > limit,
        Operator::GreaterOrEqual => value >= limit,
    }
}

/// The metric's value in its threshold unit; `None` when it was not measured.
pub(crate) fn metric_value(metric: Metric, s: &TargetSummary) -> Option<f64> {
    let stat =
        |stats: Option<&LatencyStats>, stat| stats.filter(|l| l.count > 0).map(|l| l.stat(stat));
    match metric {
        Metric::Latency(st) => stat(Some(&s.latency_ms), st),
        Metric::ServiceTime(st) => stat(Some(&s.service_time_ms), st),
        Metric::ConnectTime(st) => stat(Some(&s.connect_time_ms), st),
        Metric::SendLag(st) => stat(Some(&s.send_lag_ms), st),
        Metric::ColdLatency(st) => stat(s.cold_latency_ms.as_ref(), st),
        Metric::WarmLatency(st) => stat(s.warm_latency_ms.as_ref(), st),
        Metric::TimeoutRate => Some(s.timeout_rate),
        Metric::ErrorRate => Some(s.error_rate),
        Metric::ThrottleRate => Some(s.throttle_rate),
        Metric::ThroughputRps => Some(s.throughput_rps),
        Metric::OkRps => (s.duration_s > 0.0).then(|| s.ok as f64 / s.duration_s),
        Metric::Requests => Some(s.requests as f64),
        Metric::ColdStarts => s.cold_starts.map(|n| n as f64),
        Metric::DbConnectionsMax => s.db_connections.map(|d| d.max as f64),
        Metric::HeldFirstMessage(st) => {
            stat(s.held.as_ref().map(|h| &h.time_to_first_message_ms), st)
        }
        Metric::HeldOpened => s.held.as_ref().map(|h| h.opened as f64),
        Metric::Held(end) => s.held.as_ref().map(|h| {
            (match end {
                HeldEnd::Held => h.held,
                HeldEnd::Completed => h.completed,
                HeldEnd::Cut => h.cut,
                HeldEnd::Refused => h.refused,
                HeldEnd::Failed => h.failed,
            }) as f64
        }),
    }
}
