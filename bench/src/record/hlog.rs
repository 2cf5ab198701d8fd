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

use super::recorder::new_histogram;

/// The column legend line Java's `HistogramLogWriter` writes after the headers.
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";

/// Tag of the service-time intervals (from the actual send).
pub const TAG_SERVICE_TIME: &str = "service_time";
/// Tag of the corrected latency of cold-start responses.
pub const TAG_COLD_LATENCY: &str = "cold_latency";
/// Tag of the corrected latency of warm responses.
pub const TAG_WARM_LATENCY: &str = "warm_latency";

/// Writes interval lines; the caller owns the output (a streamed file).
pub struct HlogWriter {
    serializer: V2DeflateSerializer,
    buffer: Vec<u8>,
}

impl HlogWriter {
    /// Writes the header for a log whose intervals count from `start`.
    pub fn begin(out: &mut impl Write, start: SystemTime) -> std::io::Result<Self> {
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
    pub fn write_interval(
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

/// Reads every interval of an `.hlog` file, whatever its tag, in file order.
pub fn read(path: &Path) -> Result<Vec<HlogInterval>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut deserializer = Deserializer::new();
    let mut intervals = Vec::new();
    for (index, entry) in IntervalLogIterator::new(&bytes).enumerate() {
        let entry = entry.map_err(|e| format!("{}: entry {}: {e:?}", path.display(), index + 1))?;
        if let LogEntry::Interval(interval) = entry {
            intervals.push(
                decode(&mut deserializer, &interval)
                    .map_err(|e| format!("{}: interval {}: {e}", path.display(), index + 1))?,
            );
        }
    }
    Ok(intervals)
}

fn decode(
    deserializer: &mut Deserializer,
    interval: &IntervalLogHistogram,
) -> Result<HlogInterval, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(interval.encoded_histogram())
        .map_err(|e| format!("bad base64: {e}"))?;
    let histogram: Histogram<u64> = deserializer
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("bad histogram: {e:?}"))?;
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
