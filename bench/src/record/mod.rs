//! Recording: histograms and counters on the hot path, connection accounting, the per-second
//! ticker that streams the series and interval log into the result set, and the summary of a
//! target's run. What it writes is defined by [`crate::resultset`].

pub mod connections;
pub mod gauges;
pub mod recorder;
pub mod summary;
pub mod ticker;

pub use connections::{ConnectionCounts, ConnectionStats};
pub use recorder::{Interval, Recorder, Totals};
