//! The HTTP/1.1 fast path of the load client: each request template serialised once
//! ([`RequestBytes`], in `request`; placeholders rendered per request into the connection's
//! write buffer), one request in flight per connection ([`Http1Connection`]), responses
//! framed with `httparse` (RFC 9112 §6.3) in the connection's one read buffer, bodies dropped.
//!
//! Rules: no heap allocation per request once a connection's buffers have reached their
//! working size (bodies never grow the read buffer; only a head larger than 16 KiB does, up to
//! 64 KiB; the write buffer grows to the largest rendered request). No timers, counters,
//! retries or spawned tasks: deadlines and connection accounting belong to the caller.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::model::FailureCause;

mod request;
pub(crate) use request::{Part, RequestBytes, RequestParts};

/// Capacity of a connection's read buffer when it opens; bodies never grow it.
const INITIAL_BUFFER_BYTES: usize = 16 * 1024;
/// Largest response head (status line and fields) the read buffer grows to hold.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header fields one response head may carry.
const MAX_HEADERS: usize = 64;
/// The response header by which a target tells a cold start (`1`/`true`) from a warm one.
const COLD_HEADER: &str = "x-coldfront-cold";

/// What the response said that the load path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    /// The final status (1xx interim responses are skipped).
    pub status: u16,
    /// The `x-coldfront-cold` header: `1`/`true` → `Some(true)`, `0`/`false` → `Some(false)`.
    pub cold: Option<bool>,
    /// Whether the connection may carry another request: false after `Connection: close`, an
    /// HTTP/1.0 answer without `keep-alive`, a close-delimited body or unexpected extra bytes.
    pub keep_alive: bool,
}

/// Why an exchange failed. The connection is not reusable after any of these.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    /// Closed or reset before any byte of the response arrived (a write failing with EPIPE or
    /// ECONNRESET, or end of stream on the first read). On a reused keep-alive connection this
    /// is the stale-connection race: an idempotent request may be retried on a fresh one.
    #[error("connection closed before the response: {0}")]
    ClosedBeforeResponse(#[source] io::Error),
    /// Reset after part of the response arrived.
    #[error("connection reset during the response: {0}")]
    Reset(#[source] io::Error),
    /// End of stream in the middle of a response (head or body).
    #[error("connection closed in the middle of the response")]
    ClosedEarly,
    /// Not HTTP/1.x that this path can read; the reason names what was wrong.
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    /// Any other I/O error.
    #[error("I/O error: {0}")]
    Io(#[source] io::Error),
}

impl ExchangeError {
    /// The failure cause this error is counted under.
    pub(crate) fn cause(&self) -> FailureCause {
        match self {
            ExchangeError::ClosedBeforeResponse(e) if is_reset(e.kind()) => FailureCause::Reset,
            ExchangeError::ClosedBeforeResponse(_) | ExchangeError::ClosedEarly => {
                FailureCause::ClosedEarly
            }
            ExchangeError::Reset(_) => FailureCause::Reset,
            ExchangeError::Malformed(_) => FailureCause::Malformed,
            ExchangeError::Io(_) => FailureCause::OtherIo,
        }
    }
}

/// Whether an I/O error kind means the peer reset or abandoned the connection.
fn is_reset(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// An HTTP/1.1 connection over any byte stream (`TcpStream`, a rustls stream) with its one
/// read buffer. One request at a time; see [`Http1Connection::exchange`].
pub(crate) struct Http1Connection<S> {
    /// The byte stream.
    io: S,
    /// The read buffer; all of it is initialised, its length is its capacity.
    buf: Vec<u8>,
    /// The write buffer of requests with placeholders (empty until the first one).
    out: Vec<u8>,
    /// First unread byte in `buf`.
    start: usize,
    /// End of the bytes read into `buf`.
    end: usize,
    /// Whether another request may be sent (the last response was complete and keep-alive).
    reusable: bool,
    /// Whether any byte of the current exchange's response has arrived.
    response_started: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Http1Connection<S> {
    /// Wraps an open stream; its read buffer starts at 16 KiB.
    pub(crate) fn new(io: S) -> Self {
        Http1Connection {
            io,
            buf: vec![0; INITIAL_BUFFER_BYTES],
            out: Vec::new(),
            start: 0,
            end: 0,
            reusable: true,
            response_started: false,
        }
    }

    /// Writes the whole request (rendered for request number `seq` when it has placeholders),
    /// then reads the whole response (its body read and dropped) and returns its head once the
    /// response is complete. If this future is dropped midway (a
    /// deadline), the connection stays not [`reusable`](Self::reusable): the caller drops it.
    /// Called on a connection that is not reusable, it fails with `Io(NotConnected)`.
    pub(crate) async fn exchange(
        &mut self,
        request: &RequestBytes,
        seq: u64,
    ) -> Result<ResponseHead, ExchangeError> {
        if !self.reusable {
            return Err(ExchangeError::Io(io::ErrorKind::NotConnected.into()));
        }
        self.reusable = false;
        self.response_started = false;
        self.start = 0;
        self.end = 0;
        self.write_request(request, seq).await?;
        let head = self.read_final_head(request.expects_body).await?;
        self.skip_body(head.body).await?;
        // Bytes beyond the response with one request in flight: nothing can frame them.
        let keep_alive = head.keep_alive && self.start == self.end;
        self.reusable = keep_alive;
        Ok(ResponseHead {
            status: head.status,
            cold: head.cold,
            keep_alive,
        })
    }

    /// Whether another request may be sent on it (the last response was complete and
    /// keep-alive, and no exchange was abandoned midway).
    pub(crate) fn reusable(&self) -> bool {
        self.reusable
    }

    /// The read buffer's capacity, to check that bodies do not grow it.
    #[cfg(test)]
    fn buffer_capacity(&self) -> usize {
        self.buf.len()
    }

    /// Writes and flushes the serialised request, rendered for `seq`.
    async fn write_request(
        &mut self,
        request: &RequestBytes,
        seq: u64,
    ) -> Result<(), ExchangeError> {
        let bytes = request.render(seq, &mut self.out);
        let written = match self.io.write_all(bytes).await {
            Ok(()) => self.io.flush().await,
            Err(e) => Err(e),
        };
        written.map_err(|e| {
            if is_reset(e.kind()) || e.kind() == io::ErrorKind::WriteZero {
                ExchangeError::ClosedBeforeResponse(e)
            } else {
                ExchangeError::Io(e)
            }
        })
    }

    /// Reads response heads until a final one (1xx interim responses other than 101 skipped).
    async fn read_final_head(&mut self, expects_body: bool) -> Result<Head, ExchangeError> {
        loop {
            let head = self.read_head(expects_body).await?;
            if !(100..200).contains(&head.status) || head.status == 101 {
                return Ok(head);
            }
        }
    }

    /// Reads one response head, growing the buffer up to [`MAX_HEAD_BYTES`] if it must.
    async fn read_head(&mut self, expects_body: bool) -> Result<Head, ExchangeError> {
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(head) =
                parse_head(unread, expects_body).map_err(ExchangeError::Malformed)?
            {
                self.start += head.len;
                return Ok(head);
            }
            if self.end == self.buf.len() {
                if self.start > 0 {
                    self.compact();
                } else if self.buf.len() >= MAX_HEAD_BYTES {
                    return Err(ExchangeError::Malformed("response head too large"));
                } else {
                    let grown = (self.buf.len() * 2).min(MAX_HEAD_BYTES);
                    self.buf.resize(grown, 0);
                }
            }
            self.fill_or_fail().await?;
        }
    }

    /// Reads and drops a response body framed as `body` says.
    async fn skip_body(&mut self, body: Body) -> Result<(), ExchangeError> {
        match body {
            Body::Empty => Ok(()),
            Body::Length(length) => self.skip_exact(length).await,
            Body::Chunked => self.skip_chunked().await,
            Body::UntilClose => loop {
                self.start = self.end;
                if !self.fill().await? {
                    return Ok(());
                }
            },
        }
    }

    /// Reads and drops exactly `remaining` body bytes.
    async fn skip_exact(&mut self, mut remaining: u64) -> Result<(), ExchangeError> {
        loop {
            let available = self.end - self.start;
            let taken = usize::try_from(remaining).map_or(available, |r| r.min(available));
            self.start += taken;
            remaining -= taken as u64;
            if remaining == 0 {
                return Ok(());
            }
            self.fill_or_fail().await?;
        }
    }

    /// Reads and drops a chunked body: chunks, the last chunk, trailer fields, the final CRLF.
    async fn skip_chunked(&mut self) -> Result<(), ExchangeError> {
        loop {
            let line = self.next_line().await?;
            let size = parse_chunk_size(&self.buf[self.start..self.start + line])?;
            self.start += line;
            if size == 0 {
                break;
            }
            self.skip_exact(size).await?;
            let line = self.next_line().await?;
            if !is_blank(&self.buf[self.start..self.start + line]) {
                return Err(ExchangeError::Malformed("chunk data longer than its size"));
            }
            self.start += line;
        }
        loop {
            let line = self.next_line().await?;
            let blank = is_blank(&self.buf[self.start..self.start + line]);
            self.start += line;
            if blank {
                return Ok(());
            }
        }
    }

    /// Waits until the unread bytes hold a whole line; returns its length with the LF.
    async fn next_line(&mut self) -> Result<usize, ExchangeError> {
        loop {
            let unread = &self.buf[self.start..self.end];
            if let Some(lf) = unread.iter().position(|&b| b == b'\n') {
                return Ok(lf + 1);
            }
            if self.end == self.buf.len() {
                if self.start == 0 {
                    return Err(ExchangeError::Malformed("chunk line too long"));
                }
                self.compact();
            }
            self.fill_or_fail().await?;
        }
    }

    /// Reads more bytes; end of stream is an error (closed before or during the response).
    async fn fill_or_fail(&mut self) -> Result<(), ExchangeError> {
        match self.fill().await? {
            true => Ok(()),
            false if self.response_started => Err(ExchangeError::ClosedEarly),
            false => Err(ExchangeError::ClosedBeforeResponse(
                io::ErrorKind::UnexpectedEof.into(),
            )),
        }
    }

    /// Reads more bytes after the unread ones, into the buffer's free tail; `Ok(false)` at end
    /// of stream (`UnexpectedEof` counts as one: rustls reports a close without close_notify
    /// so). The caller leaves room at the tail.
    async fn fill(&mut self) -> Result<bool, ExchangeError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        debug_assert!(self.end < self.buf.len(), "fill needs room in the buffer");
        match self.io.read(&mut self.buf[self.end..]).await {
            Ok(0) => Ok(false),
            Ok(read) => {
                self.end += read;
                self.response_started = true;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) if is_reset(e.kind()) && self.response_started => Err(ExchangeError::Reset(e)),
            Err(e) if is_reset(e.kind()) => Err(ExchangeError::ClosedBeforeResponse(e)),
            Err(e) => Err(ExchangeError::Io(e)),
        }
    }

    /// Moves the unread bytes to the front of the buffer.
    fn compact(&mut self) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }
}

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// No body: a `HEAD` request, 1xx, 204, 304.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: ... chunked`.
    Chunked,
    /// Everything until the server closes.
    UntilClose,
}

/// A parsed response head, owning nothing from the buffer.
#[derive(Debug)]
struct Head {
    /// Length of the head in bytes, blank line included.
    len: usize,
    /// The status code.
    status: u16,
    /// The `x-coldfront-cold` header, read as [`ResponseHead::cold`].
    cold: Option<bool>,
    /// How the body that follows is delimited.
    body: Body,
    /// Whether the head allows another request on the connection.
    keep_alive: bool,
}

/// The header fields that frame a response and decide keep-alive.
#[derive(Debug, Default)]
struct Fields {
    /// The one value of every `Content-Length` field.
    content_length: Option<u64>,
    /// Some `Transfer-Encoding` field is present.
    transfer_encoding: bool,
    /// The last transfer coding is `chunked`.
    chunked: bool,
    /// `Connection` lists `close`.
    close: bool,
    /// `Connection` lists `keep-alive` (what an HTTP/1.0 response needs to stay open).
    keep_alive: bool,
    /// The `x-coldfront-cold` header.
    cold: Option<bool>,
}

/// Parses a response head from the start of `bytes`; `Ok(None)` if it is not complete yet.
fn parse_head(bytes: &[u8], expects_body: bool) -> Result<Option<Head>, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err("too many header fields"),
        Err(_) => return Err("invalid response head"),
    };
    let status = response.code.ok_or("no status code")?;
    let http10 = response.version == Some(0);
    let fields = read_fields(response.headers)?;
    let body = if !expects_body || status < 200 || status == 204 || status == 304 {
        Body::Empty
    } else if fields.transfer_encoding {
        if fields.chunked {
            Body::Chunked
        } else {
            Body::UntilClose
        }
    } else {
        fields.content_length.map_or(Body::UntilClose, Body::Length)
    };
    let doubtful_framing = fields.transfer_encoding && (fields.content_length.is_some() || http10);
    let keep_alive = !fields.close
        && (!http10 || fields.keep_alive)
        && !doubtful_framing
        && status != 101
        && body != Body::UntilClose;
    Ok(Some(Head {
        len,
        status,
        cold: fields.cold,
        body,
        keep_alive,
    }))
}

/// Reads the framing, connection and cold-start fields of a response head.
fn read_fields(headers: &[httparse::Header<'_>]) -> Result<Fields, &'static str> {
    let mut fields = Fields::default();
    for header in headers {
        let name = header.name;
        let mut tokens = header.value.split(|&b| b == b',').map(<[u8]>::trim_ascii);
        if name.eq_ignore_ascii_case("content-length") {
            for token in tokens {
                let length = parse_decimal(token).ok_or("invalid content-length")?;
                if fields.content_length.is_some_and(|seen| seen != length) {
                    return Err("conflicting content-length");
                }
                fields.content_length = Some(length);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            fields.transfer_encoding = true;
            if let Some(last) = tokens.rfind(|t| !t.is_empty()) {
                fields.chunked = last.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for token in tokens {
                fields.close |= token.eq_ignore_ascii_case(b"close");
                fields.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(COLD_HEADER) {
            fields.cold = match header.value {
                b"1" | b"true" => Some(true),
                b"0" | b"false" => Some(false),
                _ => None,
            };
        }
    }
    Ok(fields)
}

/// A non-empty run of ASCII digits as a number; `None` for anything else or on overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &digit| {
        if !digit.is_ascii_digit() {
            return None;
        }
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// The size of a chunk from its whole size line (hex digits, optional `;extensions`, CRLF).
fn parse_chunk_size(line: &[u8]) -> Result<u64, ExchangeError> {
    let invalid = ExchangeError::Malformed("invalid chunk size");
    if !line.first().is_some_and(u8::is_ascii_hexdigit) {
        return Err(invalid);
    }
    match httparse::parse_chunk_size(line) {
        Ok(httparse::Status::Complete((used, size))) if used == line.len() => Ok(size),
        _ => Err(invalid),
    }
}

/// Whether a line (LF included) is empty: the end of a chunk or of the trailer section.
fn is_blank(line: &[u8]) -> bool {
    line == b"\r\n" || line == b"\n"
}

#[cfg(test)]
mod tests;
