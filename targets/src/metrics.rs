//! `GET /__coldfront/metrics` of both runtimes: the document each target serves and the harness
//! reads, one type for both sides. The JSON keys are a documented contract:
//!
//! - serverless: `{"runtime":"serverless","instances":{"alive","busy","idle","max"},
//!   "cold_starts","init_failures","throttles","kills","requests","queued","uptime_ms"}`;
//! - persistent: `{"runtime":"persistent","pool":{"max","size","in_use","available","waiting"},
//!   "connections_open","connections_accepted","requests",
//!   "jobs":{"queued","running","done","failed"},"uptime_ms"}`.
//!
//! What each count means: `serverless::metrics` and `persistent::metrics`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::app::JobCounts;

/// The path of the metrics endpoint (not counted as a request).
pub const METRICS_PATH: &str = "/__coldfront/metrics";

/// A metrics document: `runtime` names the runtime, the other keys are its counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "runtime", rename_all = "lowercase")]
pub enum TargetMetrics {
    Serverless(ServerlessMetrics),
    Persistent(PersistentMetrics),
}

impl TargetMetrics {
    /// Serverless instance processes alive; `None` for a runtime without instances.
    pub fn instances_alive(&self) -> Option<u64> {
        match self {
            TargetMetrics::Serverless(metrics) => Some(metrics.instances.alive),
            TargetMetrics::Persistent(_) => None,
        }
    }
}

/// The serverless gateway's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerlessMetrics {
    pub instances: Instances,
    pub cold_starts: u64,
    pub init_failures: u64,
    pub throttles: u64,
    pub kills: u64,
    pub requests: u64,
    pub queued: u64,
    pub uptime_ms: u64,
    /// Where the completed cold starts' time went, by part (`init`, `spawn`, `runtime_init`,
    /// `db_connect`, `listening`, `ready`, `first_response`; those that apply), in
    /// microseconds. Absent before the first cold start completes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cold_start_us: BTreeMap<String, PartStats>,
}

/// One part of the cold starts so far: how many had it, and its distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartStats {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub max: u64,
}

/// Serverless instances now, and the most allowed (`max_instances`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instances {
    pub alive: u64,
    pub busy: u64,
    pub idle: u64,
    pub max: u32,
}

/// The persistent server's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistentMetrics {
    pub pool: PoolMetrics,
    pub connections_open: u64,
    pub connections_accepted: u64,
    pub requests: u64,
    pub jobs: JobCounts,
    pub uptime_ms: u64,
}

/// The database connection pool now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolMetrics {
    pub max: u64,
    pub size: u64,
    pub in_use: u64,
    pub available: u64,
    pub waiting: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn documents_have_the_contract_keys_and_round_trip() {
        let serverless = TargetMetrics::Serverless(ServerlessMetrics {
            instances: Instances {
                alive: 2,
                busy: 1,
                idle: 1,
                max: 4,
            },
            cold_starts: 3,
            init_failures: 0,
            throttles: 5,
            kills: 0,
            requests: 9,
            queued: 0,
            uptime_ms: 1200,
            cold_start_us: BTreeMap::new(),
        });
        let value = serde_json::to_value(&serverless).unwrap();
        assert_eq!(
            value,
            json!({
                "runtime": "serverless",
                "instances": {"alive": 2, "busy": 1, "idle": 1, "max": 4},
                "cold_starts": 3, "init_failures": 0, "throttles": 5, "kills": 0,
                "requests": 9, "queued": 0, "uptime_ms": 1200,
            })
        );
        assert_eq!(
            serde_json::from_value::<TargetMetrics>(value).unwrap(),
            serverless
        );
        assert_eq!(serverless.instances_alive(), Some(2));

        let persistent = TargetMetrics::Persistent(PersistentMetrics {
            pool: PoolMetrics {
                max: 10,
                size: 3,
                in_use: 1,
                available: 2,
                waiting: 0,
            },
            connections_open: 4,
            connections_accepted: 6,
            requests: 100,
            jobs: JobCounts {
                queued: 1,
                running: 2,
                done: 3,
                failed: 0,
            },
            uptime_ms: 50,
        });
        let value = serde_json::to_value(&persistent).unwrap();
        assert_eq!(
            value,
            json!({
                "runtime": "persistent",
                "pool": {"max": 10, "size": 3, "in_use": 1, "available": 2, "waiting": 0},
                "connections_open": 4, "connections_accepted": 6, "requests": 100,
                "jobs": {"queued": 1, "running": 2, "done": 3, "failed": 0},
                "uptime_ms": 50,
            })
        );
        assert_eq!(
            serde_json::from_value::<TargetMetrics>(value).unwrap(),
            persistent
        );
        assert_eq!(persistent.instances_alive(), None);
    }
}
