//! Threshold verdicts: each `[thresholds]` entry of the plan checked against each target's
//! summary it selects.
//!
//! On a target whose generator was the bottleneck (`generator.limited`), a verdict the
//! generator's own delay could have decided is inconclusive: it neither passes nor fails, so
//! CI is never passed or failed by the instrument. The delay only pushes a metric one way
//! (latency and error rates up, throughput down), so a verdict it pushed against stands:
//! `latency.p99 < 50ms` measured at 40 ms holds however late the generator was (the target's
//! own p99 is lower still), while measured at 60 ms it might be the generator's.

use crate::record::generator::CPU_SATURATED;
use crate::resultset::{GeneratorSummary, LatencyStats, TargetSummary, ThresholdVerdict};

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
            let passed = actual.is_some_and(|value| holds(t.operator, value, t.limit));
            ThresholdVerdict {
                key: t.key.clone(),
                condition: t.condition.clone(),
                actual,
                unit: t.metric.unit(),
                passed,
                inconclusive: match (&summary.generator, actual) {
                    (Some(generator), Some(value)) if generator.limited => {
                        decided_by_the_generator(t, passed, value, summary, generator)
                    }
                    _ => false,
                },
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

/// Which way a late or saturated generator moves a metric: times up (its own delay is in
/// them), timeout and error rates up (late enough to time out, connections it failed itself),
/// what got through down (it sent less). `None` for its own send lag and for what the target
/// reports of itself (cold starts, database connections, held streams, throttling).
fn generator_bias(metric: Metric) -> Option<Bias> {
    match metric {
        Metric::Latency(_)
        | Metric::ServiceTime(_)
        | Metric::ConnectTime(_)
        | Metric::ColdLatency(_)
        | Metric::WarmLatency(_)
        | Metric::HeldFirstMessage(_)
        | Metric::TimeoutRate
        | Metric::ErrorRate => Some(Bias::Up),
        Metric::ThroughputRps | Metric::OkRps | Metric::Requests => Some(Bias::Down),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bias {
    Up,
    Down,
}

/// Whether a limited generator could have produced this verdict. Only a verdict in the
/// direction the bias pushes can be its doing (failing an upper bound on a metric it raises,
/// passing a lower bound on it, and the mirror for a metric it lowers). When the generator was
/// only late (its CPUs not saturated, no local failure), the target's own figures are known:
/// each request's latency less its send lag (`latency_net_ms`), the rates less the late
/// requests that timed out; a verdict that holds for them too stands. The times from the
/// actual send, and the counts (lateness sends every request, only later), hold none of the
/// delay and are judged as measured.
fn decided_by_the_generator(
    threshold: &Threshold,
    passed: bool,
    actual: f64,
    summary: &TargetSummary,
    generator: &GeneratorSummary,
) -> bool {
    let Some(bias) = generator_bias(threshold.metric) else {
        return false;
    };
    let upper_bound = matches!(threshold.operator, Operator::Less | Operator::LessOrEqual);
    let pushed = if (bias == Bias::Up) == upper_bound {
        !passed
    } else {
        passed
    };
    let only_late = generator.local_failures == 0 && generator.cpu_busy < CPU_SATURATED;
    if !pushed || !only_late {
        return pushed;
    }
    let net = |stats: &Option<LatencyStats>, stat| stats.as_ref().map(|l| l.stat(stat));
    // Timeouts the delay may have caused: the late requests that timed out.
    let spared = generator.late_timeouts as f64;
    let requests = summary.requests.max(1) as f64;
    let net_value = match threshold.metric {
        // Lateness sends every request, only later: counts and throughput are the target's.
        Metric::ServiceTime(_)
        | Metric::ConnectTime(_)
        | Metric::ThroughputRps
        | Metric::Requests => return false,
        Metric::TimeoutRate => Some(summary.timeout_rate - spared / requests),
        Metric::ErrorRate => Some(summary.error_rate - spared / requests),
        Metric::OkRps => {
            (summary.duration_s > 0.0).then(|| (summary.ok as f64 + spared) / summary.duration_s)
        }
        Metric::Latency(stat) => net(&generator.latency_net_ms, stat),
        Metric::ColdLatency(stat) => net(&generator.cold_latency_net_ms, stat),
        Metric::WarmLatency(stat) => net(&generator.warm_latency_net_ms, stat),
        // No net figure: the target's own is at least the measured less the largest lag.
        Metric::HeldFirstMessage(_) => Some(actual - generator.send_lag_max_ms),
        _ => return true,
    };
    // The verdict stands when the target's own value, net of the generator's delay, gives it
    // too.
    net_value.is_none_or(|value| holds(threshold.operator, value, threshold.limit) != passed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stat;
    use crate::resultset::GeneratorSummary;
    use crate::scenario::Threshold;

    fn threshold(key: &str, metric: Metric, operator: Operator, limit: f64) -> Threshold {
        Threshold {
            key: key.into(),
            condition: "x".into(),
            target: TargetSelector::All,
            metric,
            operator,
            limit,
        }
    }

    fn summary(limited: bool) -> TargetSummary {
        let latency = hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        let mut summary = crate::testing::synthetic::summarize(&[], &latency, None);
        summary.ok = 100;
        summary.latency_ms.count = 100;
        summary.latency_ms.p99 = 80.0;
        summary.service_time_ms = summary.latency_ms;
        summary.send_lag_ms.count = 100;
        summary.send_lag_ms.p99 = 30.0;
        summary.generator = Some(GeneratorSummary {
            limited,
            reason: limited.then(|| "late".into()),
            late: 0,
            late_share: 0.0,
            late_timeouts: 0,
            local_failures: 0,
            send_lag_p50_ms: 0.0,
            send_lag_p99_ms: 30.0,
            send_lag_max_ms: 40.0,
            cpus: 1,
            cpu_busy: 0.5,
            cpu_busy_max: 0.5,
            latency_net_ms: Some(LatencyStats {
                p99: 40.0,
                ..summary.latency_ms
            }),
            cold_latency_net_ms: None,
            warm_latency_net_ms: None,
        });
        summary
    }

    #[test]
    fn on_a_generator_limited_target_only_verdicts_its_delay_could_decide_are_inconclusive() {
        let thresholds = [
            threshold(
                "*.latency.p99",
                Metric::Latency(Stat::P99),
                Operator::Less,
                50.0,
            ),
            threshold(
                "*.send_lag.p99",
                Metric::SendLag(Stat::P99),
                Operator::Less,
                10.0,
            ),
            threshold("*.cold_starts", Metric::ColdStarts, Operator::Less, 5.0),
            // Held despite the generator's delay: the target's own p99 is lower still.
            threshold(
                "*.latency.p99",
                Metric::Latency(Stat::P99),
                Operator::Less,
                100.0,
            ),
            // Reached only perhaps because of the delay.
            threshold(
                "*.latency.p99",
                Metric::Latency(Stat::P99),
                Operator::Greater,
                60.0,
            ),
            // A late generator still sends every request: counts are the target's.
            threshold(
                "*.requests",
                Metric::Requests,
                Operator::GreaterOrEqual,
                1e6,
            ),
            threshold("*.requests", Metric::Requests, Operator::Less, 1e6),
        ];
        let limited = evaluate(&thresholds, "t", &summary(true));
        let words: Vec<_> = limited.iter().map(ThresholdVerdict::word).collect();
        // Cold starts were not reported: not measured fails, whatever the generator did.
        assert_eq!(
            words,
            [
                "INCONCLUSIVE",
                "FAIL",
                "FAIL",
                "PASS",
                "INCONCLUSIVE",
                "FAIL",
                "PASS"
            ]
        );
        assert!(!limited[0].failed() && limited[1].failed());

        let easy = evaluate(&thresholds, "t", &summary(false));
        let words: Vec<_> = easy.iter().map(ThresholdVerdict::word).collect();
        assert_eq!(
            words,
            ["FAIL", "FAIL", "FAIL", "PASS", "PASS", "FAIL", "PASS"]
        );
    }

    /// A generator that was only late leaves the target's own latency known (p99 40 ms net of
    /// the delay, 80 ms measured): a verdict that holds for both stands, and service time
    /// (from the actual send) is judged as measured. A saturated one could have done anything
    /// in its direction.
    #[test]
    fn a_late_generators_verdicts_stand_when_the_targets_own_latency_gives_them_too() {
        let thresholds = [
            threshold(
                "*.latency.p99",
                Metric::Latency(Stat::P99),
                Operator::Less,
                30.0,
            ),
            threshold(
                "*.latency.p99",
                Metric::Latency(Stat::P99),
                Operator::Less,
                50.0,
            ),
            threshold(
                "*.service_time.p99",
                Metric::ServiceTime(Stat::P99),
                Operator::Less,
                1.0,
            ),
        ];
        let words = |summary: &TargetSummary| -> Vec<&'static str> {
            evaluate(&thresholds, "t", summary)
                .iter()
                .map(ThresholdVerdict::word)
                .collect()
        };
        let late = summary(true);
        assert_eq!(words(&late), ["FAIL", "INCONCLUSIVE", "FAIL"]);
        let mut saturated = summary(true);
        saturated.generator.as_mut().unwrap().cpu_busy = 0.95;
        assert_eq!(
            words(&saturated),
            ["INCONCLUSIVE", "INCONCLUSIVE", "INCONCLUSIVE"]
        );
    }
}
