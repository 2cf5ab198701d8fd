//! The recorder: totals and intervals kept apart, held requests, clamping.

use super::*;

fn sample(outcome: Outcome, latency_ms: u64, cold: Option<bool>) -> Sample {
    Sample {
        outcome,
        latency: Duration::from_millis(latency_ms),
        service_time: Some(Duration::from_millis(latency_ms / 2)),
        connect_time: None,
        send_lag: Duration::ZERO,
        cold,
        request_index: 0,
        failure: None,
    }
}

#[test]
fn records_totals_and_intervals_separately() {
    let recorder = Recorder::new();
    recorder.record_sent(0);
    recorder.record_sent(1);
    recorder.record(&sample(Outcome::Ok, 10, Some(true)));
    recorder.record(&sample(Outcome::Throttled, 20, Some(false)));
    let mut interval = Recorder::empty_interval();
    recorder.take_interval(0, &mut interval);
    assert_eq!(interval.completed(), 2);
    assert_eq!(interval.sent, 1);
    assert_eq!(interval.cold_starts, 1);
    assert_eq!(interval.service_time.len(), 2);
    assert_eq!(interval.cold_latency.len(), 1);
    assert_eq!(interval.warm_latency.len(), 1);
    recorder.record(&sample(Outcome::Ok, 30, None));
    recorder.take_interval(1, &mut interval);
    assert_eq!(interval.completed(), 1);
    assert_eq!(interval.sent, 1, "sent in its own second");
    let totals = recorder.totals();
    assert_eq!(totals.outcomes.total(), 3);
    assert_eq!(totals.outcomes.errors(), 1);
    assert_eq!(totals.cold_starts, Some(1));
    assert_eq!(totals.distributions.cold_latency.len(), 1);
    assert_eq!(totals.distributions.warm_latency.len(), 1);
    assert_eq!(totals.distributions.latency.max(), 30_015); // 3 significant digits
}

#[test]
fn held_requests_count_as_requests_and_in_the_held_totals() {
    let recorder = Recorder::with_held_requests();
    assert_eq!(recorder.held_open(), Some(0));
    assert_eq!(recorder.totals().held.unwrap().get(HeldEnd::Held), 0);
    recorder.held_stream_opened();
    recorder.held_stream_opened();
    assert_eq!(recorder.held_open(), Some(2));
    recorder.held_stream_closed();
    recorder.held_stream_closed();
    let held = |end, status, messages, first_ms: Option<u64>, held_ms: Option<u64>| HeldSample {
        end,
        status,
        messages,
        messages_sent: 1,
        time_to_first_message: first_ms.map(Duration::from_millis),
        held_for: held_ms.map(Duration::from_millis),
    };
    recorder.record_held(
        &sample(Outcome::Ok, 5, None),
        &held(HeldEnd::Held, Some(200), 10, Some(5), Some(1000)),
    );
    recorder.record_held(
        &sample(Outcome::Http5xx, 3, Some(true)),
        &held(HeldEnd::Refused, Some(501), 0, None, None),
    );
    recorder.record_held(
        &sample(Outcome::IoError, 7, None),
        &held(HeldEnd::Cut, Some(200), 4, Some(7), Some(900)),
    );
    let totals = recorder.totals();
    assert_eq!(totals.outcomes.total(), 3, "each is one request");
    assert_eq!(totals.cold_starts, Some(1));
    let held = totals.held.unwrap();
    let ends: Vec<u64> = HeldEnd::ALL.iter().map(|&end| held.get(end)).collect();
    assert_eq!(ends, [1, 0, 1, 1, 0]);
    assert_eq!(held.refused_by_status, BTreeMap::from([(501, 1)]));
    assert_eq!(
        (held.messages, held.messages_sent, held.max_open),
        (14, 3, 2)
    );
    assert_eq!(held.time_to_first_message.len(), 2);
    assert_eq!(held.held_for.len(), 2);
    assert_eq!(recorder.held_open(), Some(0));
}

#[test]
fn a_run_without_held_requests_has_no_held_part() {
    let recorder = Recorder::new();
    recorder.record(&sample(Outcome::Ok, 1, None));
    assert_eq!(recorder.held_open(), None);
    assert!(recorder.totals().held.is_none());
}

#[test]
fn out_of_range_values_are_clamped_not_dropped() {
    let mut h = new_histogram();
    record_duration(&mut h, Duration::ZERO);
    record_duration(&mut h, Duration::from_secs(10_000));
    assert_eq!(h.len(), 2);
}
