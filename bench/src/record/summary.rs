//! Turns a target's whole-run totals into its `summary.json` entry (counts, rates, statistics),
//! and a summary's counters back into totals, for `merge` (shards) and `run --repeat`
//! (repetitions) to add several.

use std::collections::BTreeMap;
use std::time::Duration;

use super::connections::ConnectionCounts;
use super::generator::{self, CpuUse};
use super::recorder::{HeldTotals, Totals};
use crate::model::{HeldEnd, Outcome};
use crate::resultset::{
    ConnectionSummary, DbConnectionSummary, HeldSummary, LatencyStats, TargetSummary, TlsSummary,
};

/// Everything measured about one target besides the recorder's totals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunFacts {
    /// Time the load ran on this target.
    pub duration: Duration,
    pub connections: ConnectionCounts,
    /// Highest database connection count sampled, when a sampler ran.
    pub db_connections_max: Option<u64>,
    /// The database server's `max_connections`, when read.
    pub db_max_connections: Option<u64>,
    /// The generator's CPU use during the run.
    pub cpu: CpuUse,
}

pub(crate) fn target_summary(totals: &Totals, facts: &RunFacts) -> TargetSummary {
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
    let errors: BTreeMap<Outcome, u64> = Outcome::ALL
        .iter()
        .filter(|&&o| o != Outcome::Ok)
        .map(|&o| (o, outcomes.get(o)))
        .collect();
    let seconds = facts.duration.as_secs_f64();
    let d = &totals.distributions;
    let cold_split = |h| totals.cold_starts.map(|_| LatencyStats::from_histogram(h));
    TargetSummary {
        requests,
        sent: totals.sent.max(requests),
        ok: outcomes.get(Outcome::Ok),
        errors,
        failures: totals.failures.clone(),
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
            stale: facts.connections.stale,
            max_open: facts.connections.max_open,
            tls: {
                let tls = facts.connections.tls;
                (tls.handshakes > 0).then_some(TlsSummary {
                    handshakes: tls.handshakes,
                    tls1_3: tls.tls13,
                    tls1_2: tls.tls12,
                    alpn_h2: tls.h2,
                    alpn_http1_1: tls.http1,
                    resumed: tls.resumed,
                })
            },
        },
        db_connections: facts.db_connections_max.map(|max| DbConnectionSummary {
            max,
            ceiling: facts.db_max_connections,
        }),
        thresholds: Vec::new(),
        generator: Some(generator::assess(totals, facts.cpu)),
        target_metrics: None,
        repetitions: Vec::new(),
        held: totals.held.as_ref().map(held_summary),
    }
}

/// A summary's counters added into `totals` (the inverse of [`target_summary`] for counts): how
/// `merge` adds shards and `run --repeat` pools repetitions.
pub(crate) fn add_counters(totals: &mut Totals, s: &TargetSummary) {
    totals.outcomes.0[Outcome::Ok.index()] += s.ok;
    for (outcome, n) in &s.errors {
        totals.outcomes.0[outcome.index()] += n;
    }
    for (cause, n) in &s.failures {
        *totals.failures.entry(*cause).or_default() += n;
    }
    if let Some(cold) = s.cold_starts {
        totals.cold_starts = Some(totals.cold_starts.unwrap_or(0) + cold);
    }
    if let Some(generator) = &s.generator {
        totals.late += generator.late;
        totals.late_timeouts += generator.late_timeouts;
    }
    totals.sent += s.sent;
    if let (Some(into), Some(held)) = (totals.held.as_mut(), &s.held) {
        for (end, n) in [
            (HeldEnd::Held, held.held),
            (HeldEnd::Completed, held.completed),
            (HeldEnd::Cut, held.cut),
            (HeldEnd::Refused, held.refused),
            (HeldEnd::Failed, held.failed),
        ] {
            into.ends[end.index()] += n;
        }
        for (status, n) in &held.refused_by_status {
            if let Ok(status) = status.parse::<u16>() {
                *into.refused_by_status.entry(status).or_default() += n;
            }
        }
        into.messages += held.messages;
        into.messages_sent += held.messages_sent;
        into.max_open += held.max_open;
    }
}

/// A whole added from parts (a merge's shards, a repeated set's repetitions) is
/// generator-limited when any part was: `limited_parts` says which ("on shards 1, 3 (each
/// shard's set says why)"), `None` when none was. The whole's own reason, if any, stays first.
pub(crate) fn carry_generator_limits(whole: &mut TargetSummary, limited_parts: Option<String>) {
    let (Some(generator), Some(said)) = (whole.generator.as_mut(), limited_parts) else {
        return;
    };
    generator.limited = true;
    generator.reason = Some(match generator.reason.take() {
        Some(own) => format!("{own}; {said}"),
        None => said,
    });
}

/// The most database connections any of `summaries` (shards or repetitions of one target)
/// saw open.
pub(crate) fn db_connections_max(summaries: &[&TargetSummary]) -> Option<u64> {
    summaries
        .iter()
        .filter_map(|s| s.db_connections.as_ref().map(|d| d.max))
        .max()
}

/// The database's `max_connections`, as the first of `summaries` that sampled it saw it.
pub(crate) fn db_max_connections(summaries: &[&TargetSummary]) -> Option<u64> {
    summaries
        .iter()
        .find_map(|s| s.db_connections.as_ref().and_then(|d| d.ceiling))
}

/// A summary's connection counts added into `into`, `max_open` included (shards side by side
/// hold their connections at once; a caller pooling runs one after another takes the largest).
pub(crate) fn add_connections(into: &mut ConnectionCounts, c: &ConnectionSummary) {
    into.opened += c.opened;
    into.closed += c.closed;
    into.failed += c.failed;
    into.reused += c.reused;
    into.stale += c.stale;
    into.max_open += c.max_open;
    if let Some(t) = &c.tls {
        let tls = &mut into.tls;
        tls.handshakes += t.handshakes;
        tls.tls13 += t.tls1_3;
        tls.tls12 += t.tls1_2;
        tls.h2 += t.alpn_h2;
        tls.http1 += t.alpn_http1_1;
        tls.resumed += t.resumed;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HeldSample, Sample};
    use crate::record::Recorder;

    fn facts() -> RunFacts {
        RunFacts {
            duration: Duration::from_secs(1),
            connections: ConnectionCounts::default(),
            db_connections_max: None,
            db_max_connections: None,
            cpu: CpuUse::default(),
        }
    }

    #[test]
    fn held_section_adds_up_and_is_absent_without_held_requests() {
        let recorder = Recorder::with_held_requests();
        let sample = |outcome| Sample {
            outcome,
            latency: Duration::from_millis(4),
            service_time: Some(Duration::from_millis(3)),
            connect_time: None,
            send_lag: Duration::ZERO,
            cold: None,
            request_index: 0,
            failure: None,
        };
        let held = |end, status| HeldSample {
            end,
            status,
            messages: 2,
            messages_sent: 0,
            time_to_first_message: Some(Duration::from_millis(4)),
            held_for: Some(Duration::from_secs(1)),
        };
        recorder.record_held(&sample(Outcome::Ok), &held(HeldEnd::Completed, Some(200)));
        recorder.record_held(&sample(Outcome::Ok), &held(HeldEnd::Held, Some(101)));
        recorder.record_held(
            &sample(Outcome::Throttled),
            &held(HeldEnd::Refused, Some(429)),
        );
        recorder.record_held(&sample(Outcome::ConnectError), &held(HeldEnd::Failed, None));
        let summary = target_summary(&recorder.totals(), &facts());
        let held = summary.held.expect("a held section");
        assert_eq!(held.requests, summary.requests);
        assert_eq!(
            (
                held.opened,
                held.held,
                held.completed,
                held.cut,
                held.refused,
                held.failed
            ),
            (2, 1, 1, 0, 1, 1)
        );
        assert_eq!(held.refused_by_status, BTreeMap::from([("429".into(), 1)]));
        assert_eq!(held.held + held.completed + held.cut, held.opened);
        assert_eq!(summary.throttled, 1);
        assert_eq!(held.held_for_ms.count, 4);

        let plain = target_summary(&Recorder::new().totals(), &facts());
        assert!(plain.held.is_none());
    }
}
