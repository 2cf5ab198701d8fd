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

use flate2::{Compress, Compression, FlushCompress, Status};
use hdrhistogram::serialization::interval_log::{
    IntervalLogHistogram, IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, LogIteratorError,
};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer, V2Serializer};
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
/// Tag of the generator's own send lag (from the intended time to the send, less any wait
/// for a free connection and the connect).
pub(crate) const TAG_SEND_LAG: &str = "send_lag";

/// Writes interval lines; the caller owns the output (a streamed file).
pub(crate) struct HlogWriter {
    serializer: V2Serializer,
    /// The histogram in the V2 encoding, before compression.
    uncompressed: Vec<u8>,
    /// The V2-deflate encoding: cookie, length, zlib stream.
    buffer: Vec<u8>,
    /// One zlib compressor for every interval: the serializer of the hdrhistogram crate makes
    /// a new one per histogram (some 300 KB zeroed, a few ms a second of the ticker's CPU).
    compress: Compress,
}

impl HlogWriter {
    /// Writes the header for a log whose intervals count from `start`.
    pub(crate) fn begin(out: &mut impl Write, start: SystemTime) -> std::io::Result<Self> {
        let mut serializer = V2Serializer::new();
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
            uncompressed: Vec::new(),
            buffer: Vec::new(),
            compress: Compress::new(Compression::default(), true),
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
        self.encode(histogram)?;
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

    /// Puts `histogram`'s V2-deflate encoding in `buffer`.
    fn encode(&mut self, histogram: &Histogram<u64>) -> std::io::Result<()> {
        self.uncompressed.clear();
        self.serializer
            .serialize(histogram, &mut self.uncompressed)
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        self.buffer.clear();
        self.buffer
            .extend_from_slice(&V2_COMPRESSED_COOKIE.to_be_bytes());
        self.buffer.extend_from_slice(&[0; 4]); // the length, filled in below
        self.compress.reset();
        loop {
            self.buffer.reserve(self.uncompressed.len() / 2 + 64);
            let consumed = self.compress.total_in() as usize;
            let status = self
                .compress
                .compress_vec(
                    &self.uncompressed[consumed..],
                    &mut self.buffer,
                    FlushCompress::Finish,
                )
                .map_err(std::io::Error::other)?;
            if status == Status::StreamEnd {
                break;
            }
        }
        let length = (self.buffer.len() - 8) as u32;
        self.buffer[4..8].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }
}

/// One interval read back. Its histogram stays in the log's compressed encoding (some 150 bytes
/// for a second of load, against up to 200 KB decoded with coldfront's bounds) and is decoded
/// when asked for, so reading a long run's logs holds kilobytes per second of it, not a full
/// histogram per interval.
#[derive(Debug, Clone)]
pub struct HlogInterval {
    /// `None` for corrected latency, else one of the `TAG_*` names.
    pub tag: Option<String>,
    pub start: Duration,
    pub length: Duration,
    /// A V2 compressed histogram with coldfront's bounds (checked when it was read or made).
    encoded: Vec<u8>,
}

impl HlogInterval {
    /// An interval holding `histogram`, which must have coldfront's bounds.
    pub fn new(
        tag: Option<&str>,
        start: Duration,
        length: Duration,
        histogram: &Histogram<u64>,
    ) -> HlogInterval {
        let mut encoded = Vec::new();
        V2DeflateSerializer::new()
            .serialize(histogram, &mut encoded)
            .expect("a histogram serialises into memory");
        let interval = HlogInterval {
            tag: tag.map(str::to_string),
            start,
            length,
            encoded,
        };
        assert!(
            interval.decoded(0).is_ok(),
            "an interval histogram has coldfront's bounds"
        );
        interval
    }

    /// The interval as `(start, length)` in seconds from the log's base time.
    pub(crate) fn span_s(&self) -> (f64, f64) {
        (self.start.as_secs_f64(), self.length.as_secs_f64())
    }

    /// The interval's histogram, decoded.
    pub fn histogram(&self) -> Histogram<u64> {
        self.decoded(0)
            .expect("an interval's histogram was checked when it was read or made")
    }

    fn decoded(&self, entry: usize) -> Result<Histogram<u64>, FormatError> {
        let inner = bounded_v2(&self.encoded, entry)?;
        let histogram: Histogram<u64> = Deserializer::new()
            .deserialize(&mut inner.as_slice())
            .map_err(|cause| FormatError::Histogram { entry, cause })?;
        let ours = new_histogram();
        if (histogram.low(), histogram.high(), histogram.sigfig())
            != (ours.low(), ours.high(), ours.sigfig())
        {
            return Err(FormatError::Bounds { entry });
        }
        Ok(histogram)
    }
}

/// Why an interval log's bytes are not a coldfront `.hlog` (the file is named by the caller,
/// [`ReadError::Hlog`]).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A line that is neither a header, a comment nor an interval.
    #[error("line {line}: not a header, comment or interval line")]
    Line { line: usize },
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
    #[error("interval {entry}: bad histogram: {problem}")]
    Payload { entry: usize, problem: &'static str },
    #[error("interval {entry}: a histogram with other bounds than coldfront's (1 µs to 1 h, 3 significant digits)")]
    Bounds { entry: usize },
}

/// The V2 encodings' cookies (HdrHistogram's serialization format; `0x10`: 8-byte counts).
const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;
/// Length of a V2 histogram's header, before its counts.
const V2_HEADER_BYTES: usize = 40;
/// The most a histogram with coldfront's bounds takes uncompressed: its counts (about 24,000
/// for 1 µs to 1 h at 3 significant digits) at 9 bytes each at most, with room to spare.
const MAX_HISTOGRAM_BYTES: u64 = 1 << 20;

/// A compressed V2 histogram decompressed within [`MAX_HISTOGRAM_BYTES`], its declared
/// lengths checked against the bytes that are really there, so a small file cannot make the
/// decoder reserve gigabytes.
fn bounded_v2(bytes: &[u8], entry: usize) -> Result<Vec<u8>, FormatError> {
    use std::io::Read as _;
    let fail = |problem| FormatError::Payload { entry, problem };
    let word = |at: usize, bytes: &[u8]| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    match word(0, bytes) {
        Some(V2_COMPRESSED_COOKIE) => {}
        Some(V2_COOKIE) => {
            return Err(fail(
                "an uncompressed histogram (coldfront writes V2 compressed)",
            ))
        }
        _ => return Err(fail("not an HdrHistogram V2 encoding")),
    }
    let compressed_len = word(4, bytes).ok_or_else(|| fail("truncated header"))? as usize;
    let compressed = bytes
        .get(8..8 + compressed_len)
        .ok_or_else(|| fail("declares more compressed bytes than it has"))?;
    let mut inner = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_HISTOGRAM_BYTES + 1)
        .read_to_end(&mut inner)
        .map_err(|_| fail("the compressed payload does not inflate"))?;
    if inner.len() as u64 > MAX_HISTOGRAM_BYTES {
        return Err(fail("inflates to more than any coldfront histogram"));
    }
    if word(0, &inner) != Some(V2_COOKIE) {
        return Err(fail("the inflated payload is not a V2 histogram"));
    }
    let payload_len = word(4, &inner).ok_or_else(|| fail("truncated header"))? as usize;
    if inner.len() < V2_HEADER_BYTES || payload_len > inner.len() - V2_HEADER_BYTES {
        return Err(fail("declares more counts than it has"));
    }
    Ok(inner)
}

/// Reads every interval of the log at `path`, in file order.
pub fn read(path: &Path) -> Result<Vec<HlogInterval>, ReadError> {
    let bytes = super::read_file(path)?;
    parse(&bytes).map_err(|cause| ReadError::Hlog {
        path: path.to_path_buf(),
        cause,
    })
}

/// The intervals of an interval log's bytes, in order.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<HlogInterval>, FormatError> {
    let mut intervals = Vec::new();
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|error| {
            let LogIteratorError::ParseError { offset } = error;
            let line = bytes[..offset.min(bytes.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            FormatError::Line { line: line + 1 }
        })?;
        if let LogEntry::Interval(interval) = entry {
            let number = intervals.len() + 1;
            intervals.push(decode(&interval, number)?);
        }
    }
    Ok(intervals)
}

fn decode(interval: &IntervalLogHistogram, entry: usize) -> Result<HlogInterval, FormatError> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD
        .decode(interval.encoded_histogram())
        .map_err(|cause| FormatError::Base64 { entry, cause })?;
    let decoded = HlogInterval {
        tag: interval.tag().map(|tag| tag.as_str().to_string()),
        start: interval.start_timestamp(),
        length: interval.duration(),
        encoded,
    };
    decoded.decoded(entry)?;
    Ok(decoded)
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
        total.add(interval.histogram()).expect("same bounds");
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's one compressor, reset between intervals, encodes each histogram as the
    /// hdrhistogram crate's own V2-deflate serializer does: the crate's reader gets every
    /// interval back exactly, however large or empty.
    #[test]
    fn intervals_written_with_one_compressor_read_back_exactly() {
        let mut histograms = Vec::new();
        let sets: [Vec<u64>; 3] = [(1..=50_000).step_by(7).collect(), vec![1], vec![]];
        for (i, values) in sets.into_iter().enumerate() {
            let mut histogram = new_histogram();
            for value in values {
                histogram.record(value * (i as u64 + 1)).unwrap();
            }
            histograms.push(histogram);
        }
        let mut big = new_histogram();
        big.record_n(HIGHEST_US, 3).unwrap();
        histograms.push(big);
        let mut out = Vec::new();
        let mut writer = HlogWriter::begin(&mut out, SystemTime::UNIX_EPOCH).unwrap();
        for (i, histogram) in histograms.iter().enumerate() {
            let tag = (i % 2 == 1).then_some(TAG_SERVICE_TIME);
            let start = Duration::from_secs(i as u64);
            writer
                .write_interval(&mut out, tag, histogram, start, Duration::from_secs(1))
                .unwrap();
        }
        let read = parse(&out).unwrap();
        assert_eq!(read.len(), histograms.len());
        for (interval, histogram) in read.iter().zip(&histograms) {
            assert_eq!(&interval.histogram(), histogram);
        }
        assert_eq!(read[1].tag.as_deref(), Some(TAG_SERVICE_TIME));
        assert_eq!(read[2].tag, None);
    }
}
