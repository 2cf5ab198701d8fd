//! Turns a target's whole-run totals into its `summary.json` entry (counts, rates, statistics).

use std::collections::BTreeMap;
use std::time::Duration;

use super::recorder::{HeldTotals, Totals};
use super::resultset::{
    ConnectionSummary, DbConnectionSummary, HeldSummary, LatencyStats, TargetSummary,
};
use crate::load::{ConnectionCounts, HeldEnd, Outcome};

/// Everything measured about one target besides the recorder's totals.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts {
    /// Time the load ran on this target.
    pub duration: Duration,
    pub connections: ConnectionCounts,
    /// Highest database connection count sampled, when a sampler ran.
    pub db_connections_max: Option<u64>,
    /// The database server's `max_connections`, when read.
    pub db_max_connections: Option<u64>,
}

pub fn target_summary(totals: &Totals, facts: &RunFacts) -> TargetSummary {
    let outcomes = &totals.outcomes;
    let requests = outcomes.total();
    let rate = |n: u64| {
        if requests == 0 {
            0.0
        } else {
            n as f64 / requests as f64
        }
    };
    let throttled = outcomes.get(Outcome::Throttled);
    let function_timeouts = outcomes.get(Outcome::FunctionTimeout);
    let timeouts = outcomes.get(Outcome::ClientTimeout) + function_timeouts;
    let errors: BTreeMap<String, u64> = Outcome::ALL
        .iter()
        .filter(|&&o| o != Outcome::Ok)
        .map(|&o| (o.key().to_string(), outcomes.get(o)))
        .collect();
    let seconds = facts.duration.as_secs_f64();
    let d = &totals.distributions;
    let cold_split = |h| totals.cold_starts.map(|_| LatencyStats::from_histogram(h));
    TargetSummary {
        requests,
        sent: totals.sent.max(requests),
        ok: outcomes.get(Outcome::Ok),
        errors,
        timeouts,
        timeout_rate: rate(timeouts),
        error_rate: rate(outcomes.errors()),
        throttled,
        throttle_rate: rate(throttled),
        function_timeouts,
        throughput_rps: if seconds > 0.0 {
            requests as f64 / seconds
        } else {
            0.0
        },
        duration_s: seconds,
        latency_ms: LatencyStats::from_histogram(&d.latency),
        service_time_ms: LatencyStats::from_histogram(&d.service_time),
        connect_time_ms: LatencyStats::from_histogram(&d.connect_time),
        send_lag_ms: LatencyStats::from_histogram(&d.send_lag),
        cold_starts: totals.cold_starts,
        cold_latency_ms: cold_split(&d.cold_latency),
        warm_latency_ms: cold_split(&d.warm_latency),
        connections: ConnectionSummary {
            opened: facts.connections.opened,
            closed: facts.connections.closed,
            failed: facts.connections.failed,
            reused: facts.connections.reused,
            max_open: facts.connections.max_open,
        },
        db_connections: facts.db_connections_max.map(|max| DbConnectionSummary {
            max,
            ceiling: facts.db_max_connections,
        }),
        thresholds: Vec::new(),
        target_metrics: None,
        held: totals.held.as_ref().map(held_summary),
    }
}

fn held_summary(held: &HeldTotals) -> HeldSummary {
    let count = |end| held.get(end);
    HeldSummary {
        requests: HeldEnd::ALL.iter().map(|&end| count(end)).sum(),
        opened: count(HeldEnd::Held) + count(HeldEnd::Completed) + count(HeldEnd::Cut),
        held: count(HeldEnd::Held),
        completed: count(HeldEnd::Completed),
        cut: count(HeldEnd::Cut),
        refused: count(HeldEnd::Refused),
        refused_by_status: held
            .refused_by_status
            .iter()
            .map(|(status, n)| (status.to_string(), *n))
            .collect(),
        failed: count(HeldEnd::Failed),
        messages: held.messages,
        messages_sent: held.messages_sent,
        max_open: held.max_open,
        time_to_first_message_ms: LatencyStats::from_histogram(&held.time_to_first_message),
        held_for_ms: LatencyStats::from_histogram(&held.held_for),
    }
}
