//! Recording: histograms and counters on the hot path, connection accounting, the per-second
//! ticker that streams the series and interval log into the result set, the generator's
//! measure of itself, and the summary of a target's run. What it writes is defined by [`crate::resultset`].
//! The ticker also publishes running totals that `--metrics-addr` serves to Prometheus.

pub(crate) mod connections;
pub(crate) mod exposition;
pub(crate) mod gauges;
pub(crate) mod generator;
pub(crate) mod live;
pub(crate) mod metrics_endpoint;
pub(crate) mod recorder;
pub(crate) mod recorders;
pub(crate) mod summary;
pub(crate) mod ticker;
pub(crate) mod totals_log;

pub(crate) use connections::{ConnectionStats, Negotiated};
pub use recorder::Recorder;
pub use recorders::Recorders;
