//! Recording: histograms and counters on the hot path, the per-second series and interval log
//! written as the run goes, and the result set model with its on-disk IO.

pub mod gauges;
pub mod hlog;
pub mod io;
pub mod recorder;
pub mod resultset;
pub mod series;
pub mod summary;
pub mod ticker;

pub use recorder::{Interval, Recorder, Totals};
pub use resultset::{Manifest, ResultSet, RunStatus, Summary, TargetSummary};
