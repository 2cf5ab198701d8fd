//! `run --metrics-addr ADDR`: a small HTTP/1.1 server (keep-alive, `GET`/`HEAD`) that answers
//! `/metrics` with the [`LiveBoard`]'s copy rendered by [`exposition`]. It listens before any
//! load and stops when the run ends; a scrape reads the board only, never a recorder.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::exposition::{self, Format};
use super::live::LiveBoard;

/// The path the metrics are served at (Prometheus's default `metrics_path`).
pub(crate) const METRICS_PATH: &str = "/metrics";

/// A connection with no complete request for this long is closed.
const IDLE: Duration = Duration::from_secs(60);

/// The largest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// `--metrics-addr` could not be listened on.
#[derive(Debug, thiserror::Error)]
#[error("--metrics-addr {addr}: cannot listen there")]
pub(crate) struct BindError {
    addr: SocketAddr,
    #[source]
    source: std::io::Error,
}

/// The running endpoint.
pub(crate) struct MetricsEndpoint {
    addr: SocketAddr,
    board: Arc<LiveBoard>,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<()>,
}

impl MetricsEndpoint {
    /// Listens on `addr` and serves an empty board until [`MetricsEndpoint::stop`].
    pub(crate) async fn start(addr: SocketAddr) -> Result<Self, BindError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| BindError { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| BindError { addr, source })?;
        let board = Arc::new(LiveBoard::default());
        let stop = CancellationToken::new();
        let server = tokio::spawn(accept_loop(listener, board.clone(), stop.clone()));
        Ok(MetricsEndpoint {
            addr: bound,
            board,
            stop,
            server,
        })
    }

    /// The address listened on (the port chosen when `addr` asked for port 0).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The board the run publishes on.
    pub(crate) fn board(&self) -> Arc<LiveBoard> {
        self.board.clone()
    }

    /// Stops listening and closes every connection.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let _ = self.server.await;
    }
}

async fn accept_loop(listener: TcpListener, board: Arc<LiveBoard>, stop: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, board.clone()));
                }
                // Out of file descriptors or an aborted handshake: try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// Answers requests on one connection until the client closes it, asks to, or idles.
async fn serve_connection(mut stream: TcpStream, board: Arc<LiveBoard>) {
    let mut buffer = Vec::with_capacity(1024);
    loop {
        let head = match tokio::time::timeout(IDLE, read_head(&mut stream, &mut buffer)).await {
            Ok(Ok(Some(head))) => head,
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return,
        };
        let (response, keep_alive, head_only) = match head {
            Ok(request) => (
                respond(&request, &board),
                request.keep_alive,
                request.method == "HEAD",
            ),
            Err(status) => (Response::error(status), false, false),
        };
        let bytes = response.to_bytes(head_only, keep_alive);
        if stream.write_all(&bytes).await.is_err() || !keep_alive {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// What the server needs of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RequestHead {
    method: String,
    /// Without the query.
    path: String,
    accept: Option<String>,
    keep_alive: bool,
}

/// Status of a request that cannot be answered.
type Refusal = u16;

/// Reads one request head from `stream` (keeping any bytes after it in `buffer`): `None` when
/// the client closed the connection between requests; `Some(Err(status))` for a request that
/// gets an error and a closed connection.
async fn read_head(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<Result<RequestHead, Refusal>>> {
    loop {
        if !buffer.is_empty() {
            match parse_head(buffer) {
                Parsed::Complete(head, length) => {
                    buffer.drain(..length);
                    return Ok(Some(head));
                }
                Parsed::Partial if buffer.len() >= MAX_HEAD => return Ok(Some(Err(431))),
                Parsed::Partial => {}
                Parsed::Invalid => return Ok(Some(Err(400))),
            }
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

enum Parsed {
    /// A head, or the refusal it gets, and its length in bytes.
    Complete(Result<RequestHead, Refusal>, usize),
    Partial,
    Invalid,
}

fn parse_head(bytes: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let length = match request.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => return Parsed::Complete(Err(431), bytes.len()),
        Err(_) => return Parsed::Invalid,
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    };
    // A body would have to be read past; no route takes one.
    let has_body = header("transfer-encoding").is_some()
        || header("content-length").is_some_and(|n| n.trim() != "0");
    if has_body {
        return Parsed::Complete(Err(400), length);
    }
    let closes = header("connection").is_some_and(|c| {
        c.split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("close"))
    });
    let target = request.path.unwrap_or("/");
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Parsed::Complete(
        Ok(RequestHead {
            method: request.method.unwrap_or("").to_string(),
            path: path.to_string(),
            accept: header("accept").map(str::to_string),
            keep_alive: request.version == Some(1) && !closes,
        }),
        length,
    )
}

/// A response before it is written.
#[derive(Debug)]
struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Response {
    fn error(status: u16) -> Response {
        let body = match status {
            404 => "not found: the metrics are at /metrics\n",
            405 => "method not allowed: GET or HEAD\n",
            431 => "request header too large\n",
            _ => "bad request\n",
        };
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
        }
    }

    /// Status line, headers and (unless `head_only`) the body; `Connection: close` when the
    /// connection ends after it.
    fn to_bytes(&self, head_only: bool, keep_alive: bool) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            404 => "Not Found",
            405 => "Method Not Allowed",
            431 => "Request Header Fields Too Large",
            _ => "Bad Request",
        };
        let mut text = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            self.content_type,
            self.body.len()
        );
        if self.status == 405 {
            text.push_str("Allow: GET, HEAD\r\n");
        }
        if !keep_alive {
            text.push_str("Connection: close\r\n");
        }
        text.push_str("\r\n");
        if !head_only {
            text.push_str(&self.body);
        }
        text.into_bytes()
    }
}

/// The response to a parsed request: the metrics, in the format its `Accept` asks for.
fn respond(request: &RequestHead, board: &LiveBoard) -> Response {
    if request.path != METRICS_PATH {
        return Response::error(404);
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Response::error(405);
    }
    let format = Format::negotiate(request.accept.as_deref());
    Response {
        status: 200,
        content_type: format.content_type(),
        body: exposition::render(&board.read(), format),
    }
}

#[cfg(test)]
mod tests;
