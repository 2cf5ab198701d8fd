//! The gateway's counters and `GET /__coldfront/metrics`, a
//! [`ServerlessMetrics`](crate::metrics::ServerlessMetrics) document:
//! `{"runtime":"serverless","instances":{"alive","busy","idle","max"},"cold_starts",
//! "init_failures","throttles","kills","requests","queued","uptime_ms"}`.
//!
//! `alive` counts instance processes from spawn until reaped, so it also includes instances
//! still starting and retired ones not yet exited; `busy` counts instances serving a request,
//! `idle` instances kept warm, `queued` requests waiting for capacity now. `requests` counts every request but metrics
//! reads; `cold_starts` every cold start begun, `init_failures` those that failed; `kills`
//! instances killed for running past `max_duration`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::cold_start::ColdStart;
use crate::metrics::{Instances, PartStats, ServerlessMetrics, TargetMetrics};

/// Cold starts whose parts are kept for the breakdown (the first ones; a run has far fewer).
const MAX_BREAKDOWNS: usize = 100_000;

pub use crate::metrics::METRICS_PATH;

pub struct Stats {
    started: Instant,
    requests: AtomicU64,
    cold_starts: AtomicU64,
    init_failures: AtomicU64,
    throttles: AtomicU64,
    kills: AtomicU64,
    alive: AtomicU64,
    busy: AtomicU64,
    queued: AtomicU64,
    /// Each completed cold start's parts, in microseconds, by part name.
    breakdowns: Mutex<BTreeMap<&'static str, Vec<u64>>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            requests: AtomicU64::new(0),
            cold_starts: AtomicU64::new(0),
            init_failures: AtomicU64::new(0),
            throttles: AtomicU64::new(0),
            kills: AtomicU64::new(0),
            alive: AtomicU64::new(0),
            busy: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            breakdowns: Mutex::default(),
        }
    }
}

fn add(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn sub(counter: &AtomicU64) {
    counter.fetch_sub(1, Ordering::Relaxed);
}

impl Stats {
    pub fn request(&self) {
        add(&self.requests);
    }
    pub fn cold_start(&self) {
        add(&self.cold_starts);
    }
    pub fn init_failed(&self) {
        add(&self.init_failures);
    }
    pub fn throttled(&self) {
        add(&self.throttles);
    }
    pub fn killed(&self) {
        add(&self.kills);
    }
    pub fn instance_spawned(&self) {
        add(&self.alive);
    }
    pub fn instance_exited(&self) {
        sub(&self.alive);
    }
    pub fn lease_started(&self) {
        add(&self.busy);
    }
    pub fn lease_ended(&self) {
        sub(&self.busy);
    }
    /// Counts a request as queued until the guard drops (also when its client goes away).
    pub fn queued(&self) -> QueuedGuard<'_> {
        add(&self.queued);
        QueuedGuard(&self.queued)
    }

    /// A cold start's first response was sent: keep where its time went.
    pub fn cold_start_served(&self, cold_start: &ColdStart, first_response: Duration) {
        let mut breakdowns = self.breakdowns.lock();
        for (part, took) in cold_start
            .parts()
            .chain([("first_response", Some(first_response))])
        {
            let Some(took) = took else { continue };
            let values = breakdowns.entry(part).or_default();
            if values.len() < MAX_BREAKDOWNS {
                values.push(took.as_micros() as u64);
            }
        }
    }

    pub fn alive(&self) -> u64 {
        self.alive.load(Ordering::Relaxed)
    }

    /// The metrics document, given the pool's idle count and capacity.
    pub fn document(&self, idle: usize, max_instances: u32) -> TargetMetrics {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TargetMetrics::Serverless(ServerlessMetrics {
            instances: Instances {
                alive: read(&self.alive),
                busy: read(&self.busy),
                idle: idle as u64,
                max: max_instances,
            },
            cold_starts: read(&self.cold_starts),
            init_failures: read(&self.init_failures),
            throttles: read(&self.throttles),
            kills: read(&self.kills),
            requests: read(&self.requests),
            queued: read(&self.queued),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            cold_start_us: self
                .breakdowns
                .lock()
                .iter()
                .map(|(part, values)| (part.to_string(), part_stats(values)))
                .collect(),
        })
    }
}

/// Count, median, 90th percentile (nearest rank) and maximum of `values`.
fn part_stats(values: &[u64]) -> PartStats {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = |q: f64| {
        let index = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    };
    PartStats {
        count: sorted.len() as u64,
        p50: rank(0.5),
        p90: rank(0.9),
        max: *sorted.last().unwrap_or(&0),
    }
}

/// One request waiting for capacity.
pub struct QueuedGuard<'a>(&'a AtomicU64);

impl Drop for QueuedGuard<'_> {
    fn drop(&mut self) {
        sub(self.0);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_document_has_the_contract_keys() {
        let stats = Stats::default();
        stats.request();
        stats.cold_start();
        stats.instance_spawned();
        stats.lease_started();
        stats.throttled();
        let doc = serde_json::to_value(stats.document(0, 4)).unwrap();
        assert_eq!(doc["runtime"], "serverless");
        assert_eq!(
            doc["instances"],
            json!({"alive": 1, "busy": 1, "idle": 0, "max": 4})
        );
        for key in ["cold_starts", "throttles", "requests"] {
            assert_eq!(doc[key], 1, "{key}");
        }
        assert_eq!(
            (doc["kills"].as_u64(), doc["queued"].as_u64()),
            (Some(0), Some(0))
        );
        assert!(doc.get("cold_start_us").is_none(), "none completed yet");
    }

    #[test]
    fn cold_start_parts_are_summarised_by_name() {
        let stats = Stats::default();
        for ms in [10, 20, 30, 40] {
            let cold_start = ColdStart {
                init: Duration::from_millis(ms + 1),
                spawn: Duration::from_millis(1),
                listening: Some(Duration::from_millis(ms)),
                ..ColdStart::default()
            };
            stats.cold_start_served(&cold_start, Duration::from_millis(2));
        }
        let doc = serde_json::to_value(stats.document(0, 4)).unwrap();
        let parts = &doc["cold_start_us"];
        assert_eq!(
            parts["listening"],
            json!({"count": 4, "p50": 20_000, "p90": 40_000, "max": 40_000})
        );
        assert_eq!(parts["first_response"]["p50"], 2_000);
        assert_eq!(parts["spawn"]["count"], 4);
        assert!(parts.get("db_connect").is_none(), "a part none had");
    }
}
