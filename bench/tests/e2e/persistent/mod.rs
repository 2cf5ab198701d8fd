//! The persistent runtime end to end: a throwaway PostgreSQL cluster, `db::setup`, the server on
//! 127.0.0.1:0 inside the test's runtime, and real HTTP/1.1 and WebSocket clients. Each test owns
//! its cluster (a cluster dies with the thread that started it).
//!
//! One file per concern; the server fixture they share is here.

use super::http_client::*;
use std::time::Duration;

use coldfront_targets::persistent::{self, PersistentConfig};

mod database;
mod every_route;
mod shutdown;

// --- fixtures -------------------------------------------------------------------------------

/// The persistent server, served by a task of the test's runtime.
type Target = ServedInTask;

async fn start_target(config: PersistentConfig) -> Target {
    ServedInTask::start(|listener, shutdown| persistent::serve(config, listener, shutdown)).await
}

/// How long the server may take to shut down in these tests.
const STOP_WITHIN: Duration = Duration::from_secs(10);
