//! `<target>.hlog`: the standard HdrHistogram interval log (the format of HdrHistogram's
//! `HistogramLogWriter`: `#[StartTime: …]` and `#[BaseTime: …]` headers, then one line per
//! interval `start,length,max,<base64 V2-deflate histogram>`). Values are microseconds; with
//! Java's `HistogramLogProcessor` pass `-outputValueUnitRatio 1000` to read milliseconds.
//!
//! Untagged intervals hold corrected latency, which is what HdrHistogram's tools read by
//! default. Each second also has tagged intervals (`Tag=service_time,…`, and for targets that
//! report cold starts `Tag=cold_latency,…` and `Tag=warm_latency,…`), read with `-tag <name>`.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{
    IntervalLogHistogram, IntervalLogIterator, IntervalLogWriterBuilder, LogEntry,
};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::ReadError;

/// Lowest and highest trackable values, in microseconds (1 µs to 1 h), 3 significant digits.
pub(crate) const LOWEST_US: u64 = 1;
pub(crate) const HIGHEST_US: u64 = 3_600_000_000;
pub(crate) const SIGFIG: u8 = 3;

/// A histogram with coldfront's range and precision (microseconds): the bounds every
/// recorded and logged histogram shares, so any two can be added.
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG).expect("valid histogram bounds")
}

/// The column legend line Java's `HistogramLogWriter` writes after the headers.
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";

/// Tag of the service-time intervals (from the actual send).
pub const TAG_SERVICE_TIME: &str = "service_time";
/// Tag of the corrected latency of cold-start responses.
pub(crate) const TAG_COLD_LATENCY: &str = "cold_latency";
/// Tag of the corrected latency of warm responses.
pub(crate) const TAG_WARM_LATENCY: &str = "warm_latency";

/// Writes interval lines; the caller owns the output (a streamed file).
pub(crate) struct HlogWriter {
    serializer: V2DeflateSerializer,
    buffer: Vec<u8>,
}

impl HlogWriter {
    /// Writes the header for a log whose intervals count from `start`.
    pub(crate) fn begin(out: &mut impl Write, start: SystemTime) -> std::io::Result<Self> {
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment("coldfront corrected latency, values in microseconds")
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1.0)
            .begin_log_with(&mut *out, &mut serializer)
            .map_err(std::io::Error::other)?;
        writeln!(out, "{LEGEND}")?;
        Ok(HlogWriter {
            serializer,
            buffer: Vec::new(),
        })
    }

    /// Appends one interval starting `start` after the base time and lasting `length`;
    /// `tag` `None` is corrected latency.
    pub(crate) fn write_interval(
        &mut self,
        out: &mut impl Write,
        tag: Option<&str>,
        histogram: &Histogram<u64>,
        start: Duration,
        length: Duration,
    ) -> std::io::Result<()> {
        use base64::Engine as _;
        self.buffer.clear();
        self.serializer
            .serialize(histogram, &mut self.buffer)
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.buffer);
        if let Some(tag) = tag {
            write!(out, "Tag={tag},")?;
        }
        writeln!(
            out,
            "{:.3},{:.3},{:.3},{}",
            start.as_secs_f64(),
            length.as_secs_f64(),
            histogram.max() as f64,
            encoded
        )
    }
}

/// One interval read back.
#[derive(Debug, Clone)]
pub struct HlogInterval {
    /// `None` for corrected latency, else one of the `TAG_*` names.
    pub tag: Option<String>,
    pub start: Duration,
    pub length: Duration,
    pub histogram: Histogram<u64>,
}

impl HlogInterval {
    /// The interval as `(start, length)` in seconds from the log's base time.
    pub(crate) fn span_s(&self) -> (f64, f64) {
        (self.start.as_secs_f64(), self.length.as_secs_f64())
    }
}

/// Why an interval log's bytes are not a coldfront `.hlog` (the file is named by the caller,
/// [`ReadError::Hlog`]).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("entry {entry}: {detail}")]
    Entry { entry: usize, detail: String },
    #[error("interval {entry}: bad base64: {cause}")]
    Base64 {
        entry: usize,
        cause: base64::DecodeError,
    },
    #[error("interval {entry}: bad histogram: {cause}")]
    Histogram {
        entry: usize,
        cause: hdrhistogram::serialization::DeserializeError,
    },
}

/// Reads every interval of the log at `path`, in file order.
pub fn read(path: &Path) -> Result<Vec<HlogInterval>, ReadError> {
    let bytes = std::fs::read(path).map_err(|cause| ReadError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    parse(&bytes).map_err(|cause| ReadError::Hlog {
        path: path.to_path_buf(),
        cause,
    })
}

/// The intervals of an interval log's bytes, in order.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<HlogInterval>, FormatError> {
    let mut deserializer = Deserializer::new();
    let mut intervals = Vec::new();
    for (index, entry) in IntervalLogIterator::new(bytes).enumerate() {
        let entry = entry.map_err(|e| FormatError::Entry {
            entry: index + 1,
            detail: format!("{e:?}"),
        })?;
        if let LogEntry::Interval(interval) = entry {
            intervals.push(decode(&mut deserializer, &interval, index + 1)?);
        }
    }
    Ok(intervals)
}

fn decode(
    deserializer: &mut Deserializer,
    interval: &IntervalLogHistogram,
    entry: usize,
) -> Result<HlogInterval, FormatError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(interval.encoded_histogram())
        .map_err(|cause| FormatError::Base64 { entry, cause })?;
    let histogram: Histogram<u64> = deserializer
        .deserialize(&mut bytes.as_slice())
        .map_err(|cause| FormatError::Histogram { entry, cause })?;
    Ok(HlogInterval {
        tag: interval.tag().map(|tag| tag.as_str().to_string()),
        start: interval.start_timestamp(),
        length: interval.duration(),
        histogram,
    })
}

/// The intervals with `tag` (`None`: corrected latency), in file order.
pub fn with_tag<'a>(
    intervals: &'a [HlogInterval],
    tag: Option<&'a str>,
) -> impl Iterator<Item = &'a HlogInterval> + 'a {
    intervals
        .iter()
        .filter(move |interval| interval.tag.as_deref() == tag)
}

/// The intervals merged into one histogram with coldfront's bounds.
pub fn merged<'a>(intervals: impl IntoIterator<Item = &'a HlogInterval>) -> Histogram<u64> {
    let mut total = new_histogram();
    for interval in intervals {
        total.add(&interval.histogram).expect("same bounds");
    }
    total
}
