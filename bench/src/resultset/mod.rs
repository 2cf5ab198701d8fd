//! The result set: one directory per scenario run, its on-disk schema, the one writer of its
//! files and the one reader. `run` writes it; `report` and `compare` read it through
//! [`ResultSet::read`].
//!
//! On disk (schema version 1):
//! - `manifest.json` — [`Manifest`]: what ran, where, when, and whether it finished
//!   (`status`: `running` while load is under way, then `complete`, `interrupted` or
//!   `failed` with its `error`).
//! - `summary.json` — [`Summary`]: per target, counts, rates and latency statistics in
//!   milliseconds, with threshold verdicts. Fields that could not be measured are `null`.
//! - `<target>.hlog` — HdrHistogram interval log (V2 compressed, base64), corrected latency in
//!   microseconds, one interval per second; see [`hlog`].
//! - `<target>.hgrm`, `<target>.service_time.hgrm` — the whole run's corrected latency and
//!   service time as HdrHistogram's percentile distribution text, in milliseconds; see [`hgrm`].
//! - `timeseries.csv` — one row per second and target; see [`series`].
//!
//! The set of a `run --repeat N` holds its repetitions instead, each a result set as above in
//! `rep-<k>/` (its manifest says which repetition it is), with its own `manifest.json`
//! (listing them) and a `summary.json` pooling them: counts added, statistics of the added
//! whole-run histograms, throughput over the repetitions' time together, and per target each
//! repetition's own figures (`repetitions`). [`ResultSet::read_runs`] reads its repetitions.
//!
//! Files still being streamed carry a `.partial` suffix until they are complete ([`io`]).
//! The enums in the JSON (`status`, `model`, `kind`, outcome names, units) are the
//! [`model`](crate::model) words, serialized as the strings documented there.

pub(crate) mod hgrm;
pub mod hlog;
pub(crate) mod io;
mod reader;
mod schema;
pub mod series;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use reader::{ResultSet, TargetData};
pub use schema::{
    ConnectionSummary, DbConnectionSummary, GeneratorSummary, HeldSummary, HostInfo, LatencyStats,
    Manifest, MergedRecord, MergedShard, PhaseRecord, RepetitionFigures, RepetitionRecord,
    RepetitionsRecord, RequestRecord, ScenarioRecord, ShardRecord, Summary, TargetRecord,
    TargetSummary, ThresholdVerdict, TlsSummary,
};

/// Bumped on any incompatible change of the files above.
pub(crate) const SCHEMA_VERSION: u32 = 1;

pub(crate) const MANIFEST_FILE: &str = "manifest.json";
pub(crate) const SUMMARY_FILE: &str = "summary.json";
pub(crate) const TIMESERIES_FILE: &str = "timeseries.csv";
/// The suffix of a file still being written.
pub(crate) const PARTIAL_SUFFIX: &str = ".partial";

/// A time as the result set writes it: RFC 3339, UTC, milliseconds.
pub(crate) fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The directory of repetition `k` (1-based) of a `run --repeat`, inside its set.
pub(crate) fn repetition_dir(k: u32) -> String {
    format!("rep-{k}")
}

/// `k` of a repetition directory named `rep-<k>`; `None` for any other name.
pub(crate) fn repetition_index(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("rep-")?;
    let canonical = !digits.is_empty() && !digits.starts_with('0');
    digits
        .parse()
        .ok()
        .filter(|_| canonical && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// `<target>.hlog`
pub(crate) fn hlog_file(target: &str) -> String {
    format!("{target}.hlog")
}

/// `<target>.totals.hlog`: the whole run's histograms (see `record::totals_log`).
pub(crate) fn totals_hlog_file(target: &str) -> String {
    format!("{target}.totals.hlog")
}

/// Errors reading a result set: which file, and what is wrong with it. The cause's text is
/// part of the message (and not chained as a source, which would print it twice).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: cannot read: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: not a valid coldfront {what}: {cause}")]
    Json {
        path: PathBuf,
        what: &'static str,
        cause: serde_json::Error,
    },
    #[error("{path}: schema version {found}, this coldfront reads version {expected}")]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{path}: not a coldfront interval log: {cause}")]
    Hlog {
        path: PathBuf,
        cause: hlog::FormatError,
    },
    #[error("{path}: not a coldfront time series: {cause}")]
    Series {
        path: PathBuf,
        cause: series::FormatError,
    },
    #[error("{path}: summary of scenario {found:?}, but the manifest is of {expected:?}")]
    ScenarioMismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{path}: not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{path}: {size} bytes, more than a result set's file may have ({limit})")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}: {what} name {name:?} is not a coldfront name ([a-z0-9_-]+)")]
    BadName {
        path: PathBuf,
        what: &'static str,
        name: String,
    },
    #[error("{path}: {problem}")]
    Inconsistent { path: PathBuf, problem: String },
    #[error(
        "{path}: the set of a `run --repeat {count}`; each repetition is a result set of its \
         own ({path}/rep-1 …)"
    )]
    Repeated { path: PathBuf, count: u32 },
}

/// The largest file a result set may hold: far above an hour-long run's interval log (about
/// 30 MB), far below what would exhaust memory.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The bytes of a result-set file: a regular file (not a device, a FIFO or a directory, also
/// behind a symbolic link) of at most [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let io = |cause| ReadError::Io {
        path: path.to_path_buf(),
        cause,
    };
    let metadata = std::fs::metadata(path).map_err(io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size: metadata.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    std::fs::read(path).map_err(io)
}

/// Reads a JSON file, checking `schema_version` before the rest so an old or new file gets
/// a version message rather than a field error.
pub fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, ReadError> {
    let text = read_file(path)?;
    #[derive(Deserialize)]
    struct Versioned {
        schema_version: u32,
    }
    let json_error = |cause| ReadError::Json {
        path: path.to_path_buf(),
        what,
        cause,
    };
    let versioned: Versioned = serde_json::from_slice(&text).map_err(json_error)?;
    if versioned.schema_version != SCHEMA_VERSION {
        return Err(ReadError::Version {
            path: path.to_path_buf(),
            found: versioned.schema_version,
            expected: SCHEMA_VERSION,
        });
    }
    serde_json::from_slice(&text).map_err(json_error)
}

/// Writes `value` as pretty JSON to `path` atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    io::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests;
