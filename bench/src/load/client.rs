//! The connection-accounting HTTP client of the load path. It drives hyper's connection-level
//! API (`hyper::client::conn`) over sockets it opens itself, so every connection opened,
//! reused, closed and failed is counted exactly and the connect time of each is known.
//! HTTP/1.1 always; HTTP/2 when TLS negotiates it (ALPN) with an `https://` target.
//! Held requests (`load::held`) get a connection of their own from [`Client::open_own`]: the
//! same permits, sockets and counters, HTTP/1.1 only, never returned to the keep-alive pool.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONNECTION;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::request::{Endpoint, PreparedRequest};
use super::tls::{tls_cause, TlsSettings};
use crate::model::Outcome;
use crate::model::{ConnectionPolicy, FailureCause};
use crate::record::{ConnectionStats, Negotiated};

/// Decrements the open-connection gauge when the connection task ends, however it ends.
struct OpenGuard(Arc<ConnectionStats>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.on_close();
    }
}

enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        }
    }
}

/// What became of one request, with the clock readings the sample needs.
#[derive(Debug)]
pub struct Exchange {
    pub outcome: Outcome,
    /// Why it failed before an HTTP status, when it did (outcome `connect_error`, `io_error`,
    /// or `client_timeout` while waiting for a connection).
    pub failure: Option<Failure>,
    /// When the client took the request up, before any wait for a free connection: the end
    /// of the generator's own delay.
    pub began_at: Instant,
    /// When the request started to be written (after any connect); `None` if never sent.
    pub sent_at: Option<Instant>,
    /// When the response ended, or the request failed or was given up.
    pub done_at: Instant,
    /// Set when this request opened a connection.
    pub connect_time: Option<Duration>,
    /// From the `x-coldfront-cold` header.
    pub cold: Option<bool>,
}

/// The client: a bounded set of connections to one endpoint, with a connection policy.
pub struct Client {
    endpoint: Endpoint,
    policy: ConnectionPolicy,
    max_connections: usize,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Sender>>,
    stats: Arc<ConnectionStats>,
    /// The TLS settings of held connections: ALPN offers http/1.1 only (an upgrade or a
    /// stream read as HTTP/1.1).
    own_tls: Option<Arc<rustls::ClientConfig>>,
}

/// Why a request failed before it got an HTTP status, with the cause as the socket, TLS or
/// HTTP layer reported it (a reset and a malformed answer are told apart here, though both
/// are the outcome `io_error`).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("TCP connect: {0}")]
    Tcp(#[source] std::io::Error),
    #[error("TLS handshake: {0}")]
    Tls(#[source] std::io::Error),
    #[error("HTTP handshake: {0}")]
    Handshake(#[source] hyper::Error),
    /// The connection failed after it was established: reset, closed early, malformed answer.
    #[error("HTTP exchange: {0}")]
    Exchange(#[source] hyper::Error),
    /// The deadline passed while waiting for a connection slot.
    #[error("the deadline passed while waiting for a connection")]
    Expired,
}

impl Failure {
    /// The cause in the words of [`FailureCause`]; `None` for [`Failure::Expired`] (a client
    /// timeout, not a failure of the connection).
    pub fn cause(&self) -> Option<FailureCause> {
        match self {
            Failure::Tcp(error) if is_local_exhaustion(error) => Some(FailureCause::LocalResources),
            Failure::Tcp(error) => Some(match error.kind() {
                std::io::ErrorKind::ConnectionRefused => FailureCause::Refused,
                std::io::ErrorKind::TimedOut => FailureCause::ConnectTimeout,
                std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable => {
                    FailureCause::Unreachable
                }
                _ => FailureCause::OtherIo,
            }),
            Failure::Tls(error) => Some(tls_cause(error)),
            Failure::Handshake(error) | Failure::Exchange(error) => Some(http_cause(error)),
            Failure::Expired => None,
        }
    }

    /// The request outcome this failure counts as.
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            Failure::Tcp(_) | Failure::Tls(_) | Failure::Handshake(_) => Outcome::ConnectError,
            Failure::Exchange(_) => Outcome::IoError,
            Failure::Expired => Outcome::ClientTimeout,
        }
    }
}

/// Whether a socket call failed because this machine ran out of something: file descriptors
/// (per process or system-wide), local ports, or kernel memory for the socket.
pub(crate) fn is_local_exhaustion(error: &std::io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::EADDRNOTAVAIL | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// What hyper's error says happened to the exchange.
fn http_cause(error: &hyper::Error) -> FailureCause {
    let io = std::error::Error::source(error).and_then(|e| e.downcast_ref::<std::io::Error>());
    match io.map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe) => {
            FailureCause::Reset
        }
        _ if error.is_incomplete_message() || error.is_closed() => FailureCause::ClosedEarly,
        _ if error.is_parse() => FailureCause::Malformed,
        _ => FailureCause::OtherIo,
    }
}

/// What a completed handshake negotiated.
fn negotiated(connection: &rustls::ClientConnection) -> Negotiated {
    Negotiated {
        tls13: connection.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3),
        h2: connection.alpn_protocol() == Some(b"h2"),
        resumed: connection.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
    }
}

/// A byte stream to the target: TCP, or TLS over TCP.
pub(super) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A connection of a held request's own, counted open from its opening until its
/// [`ConnectionSlot`] is dropped.
pub(super) struct OwnConnection {
    pub io: Box<dyn Io>,
    pub connect_time: Duration,
    pub slot: ConnectionSlot,
}

/// Holds one of the client's `max_connections` permits and the open-connection count: drop
/// it once the socket is closed.
pub(super) struct ConnectionSlot {
    _open: OpenGuard,
    _permit: OwnedSemaphorePermit,
}

impl Client {
    pub fn new(endpoint: Endpoint, policy: ConnectionPolicy, max_connections: usize) -> Self {
        Self::counting_into(endpoint, policy, max_connections, Arc::default())
    }

    /// A client whose connections are counted in `stats`, which other clients (the other
    /// workers' of the same target) may share, so opens at once are counted across them.
    pub(crate) fn counting_into(
        endpoint: Endpoint,
        policy: ConnectionPolicy,
        max_connections: usize,
        stats: Arc<ConnectionStats>,
    ) -> Self {
        Client {
            policy,
            max_connections: max_connections.max(1),
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            idle: Mutex::new(Vec::new()),
            stats,
            own_tls: endpoint.tls.as_ref().map(TlsSettings::http1_only),
            endpoint,
        }
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub(crate) fn policy(&self) -> ConnectionPolicy {
        self.policy
    }

    /// Connections this client may have open at once.
    pub(crate) fn max_connections(&self) -> usize {
        self.max_connections
    }

    pub(crate) fn connection_stats(&self) -> &Arc<ConnectionStats> {
        &self.stats
    }

    /// Sends one request and reads the whole response, giving up at `deadline`.
    pub async fn execute(&self, request: &PreparedRequest, deadline: Instant) -> Exchange {
        let now = Instant::now();
        if now >= deadline {
            // Already given up (the client is far behind): no I/O for a dead request.
            return Exchange {
                outcome: Outcome::ClientTimeout,
                failure: None,
                began_at: now,
                sent_at: None,
                done_at: now,
                connect_time: None,
                cold: None,
            };
        }
        let mut sent_at = None;
        let mut connect_time = None;
        let result = tokio::time::timeout_at(
            deadline.into(),
            self.exchange(request, deadline, &mut sent_at, &mut connect_time),
        )
        .await;
        let done_at = Instant::now();
        let (outcome, cold, failure) = match result {
            Ok(Ok((status, cold))) => (Outcome::from_status(status), cold, None),
            Ok(Err(failure)) => (failure.outcome(), None, Some(failure)),
            Err(_) => (Outcome::ClientTimeout, None, None),
        };
        Exchange {
            outcome,
            failure,
            began_at: now,
            sent_at,
            done_at,
            connect_time,
            cold,
        }
    }

    async fn exchange(
        &self,
        request: &PreparedRequest,
        deadline: Instant,
        sent_at: &mut Option<Instant>,
        connect_time: &mut Option<Duration>,
    ) -> Result<(u16, Option<bool>), Failure> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        if Instant::now() >= deadline {
            return Err(Failure::Expired);
        }
        let mut sender = match self.checkout_idle().await {
            Some(sender) => sender,
            None => {
                let started = Instant::now();
                let sender = self.connect().await?;
                *connect_time = Some(started.elapsed());
                sender
            }
        };
        let close = self.policy == ConnectionPolicy::PerRequest;
        *sent_at = Some(Instant::now());
        let response = match &mut sender {
            Sender::Http1(s) => {
                s.ready().await.map_err(Failure::Exchange)?;
                s.send_request(request.build(false, close)).await
            }
            Sender::Http2(s) => {
                s.ready().await.map_err(Failure::Exchange)?;
                s.send_request(request.build(true, close)).await
            }
        }
        .map_err(Failure::Exchange)?;
        let server_closes = response
            .headers()
            .get(CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let status = response.status().as_u16();
        let cold = cold_header(response.headers());
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(Failure::Exchange)?;
        }
        if !close && !server_closes && !sender.is_closed() {
            self.idle.lock().push(sender);
        }
        Ok((status, cold))
    }

    /// The most recently used idle connection that can take a request now. Connections the
    /// server closed while idle are dropped here, before anything is sent on them, so a
    /// keep-alive race is not mistaken for a failed request.
    async fn checkout_idle(&self) -> Option<Sender> {
        if self.policy == ConnectionPolicy::PerRequest {
            return None;
        }
        loop {
            let mut sender = self.idle.lock().pop()?;
            let ready = match &mut sender {
                Sender::Http1(s) => s.ready().await.is_ok(),
                Sender::Http2(s) => s.ready().await.is_ok(),
            };
            if ready {
                self.stats.reused.fetch_add(1, Ordering::Relaxed);
                return Some(sender);
            }
        }
    }

    async fn connect(&self) -> Result<Sender, Failure> {
        let stream = match self.connect_tcp().await {
            Ok(stream) => stream,
            Err(cause) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                return Err(Failure::Tcp(cause));
            }
        };
        let _ = stream.set_nodelay(true);
        match &self.endpoint.tls {
            None => self.handshake_http1(TokioIo::new(stream)).await,
            Some(tls) => {
                let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
                let stream = match connector.connect(tls.server_name.clone(), stream).await {
                    Ok(stream) => stream,
                    Err(cause) => {
                        self.stats.failed.fetch_add(1, Ordering::Relaxed);
                        return Err(Failure::Tls(cause));
                    }
                };
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                self.stats.on_tls(negotiated(stream.get_ref().1));
                if h2 {
                    self.handshake_http2(TokioIo::new(stream)).await
                } else {
                    self.handshake_http1(TokioIo::new(stream)).await
                }
            }
        }
    }

    async fn connect_tcp(&self) -> std::io::Result<TcpStream> {
        let mut last_error = None;
        for addr in &self.endpoint.addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
    }

    async fn handshake_http1<T>(&self, io: TokioIo<T>) -> Result<Sender, Failure>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, connection) = http1::handshake(io).await.map_err(|cause| {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
            Failure::Handshake(cause)
        })?;
        self.spawn_connection(connection);
        Ok(Sender::Http1(sender))
    }

    async fn handshake_http2<T>(&self, io: TokioIo<T>) -> Result<Sender, Failure>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, connection) =
            http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|cause| {
                    self.stats.failed.fetch_add(1, Ordering::Relaxed);
                    Failure::Handshake(cause)
                })?;
        self.spawn_connection(connection);
        Ok(Sender::Http2(sender))
    }

    fn spawn_connection<F>(&self, connection: F)
    where
        F: std::future::Future + Send + 'static,
    {
        self.stats.on_open();
        let guard = OpenGuard(self.stats.clone());
        tokio::spawn(async move {
            let _guard = guard;
            let _ = connection.await;
        });
    }

    /// Opens one connection (TCP, TLS for `https://`, the HTTP handshake) and closes it again:
    /// whether the target can be reached at all, and if not, why. Gives up at `deadline`.
    pub(crate) async fn probe(&self, deadline: Instant) -> Result<(), Failure> {
        match tokio::time::timeout_at(deadline.into(), self.connect()).await {
            Ok(Ok(_sender)) => Ok(()),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(Failure::Tcp(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no connection within the preflight's time",
            ))),
        }
    }

    /// Drops idle connections so their tasks end and are counted closed.
    pub(crate) fn close_idle(&self) {
        self.idle.lock().clear();
    }

    /// Opens a connection outside the keep-alive pool (TCP, then TLS offering http/1.1 only)
    /// once a connection permit is free. The caller bounds the wait with its deadline.
    pub(super) async fn open_own(&self, deadline: Instant) -> Result<OwnConnection, Failure> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        if Instant::now() >= deadline {
            return Err(Failure::Expired);
        }
        let started = Instant::now();
        let stream = self.connect_tcp().await.map_err(|cause| {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
            Failure::Tcp(cause)
        })?;
        let _ = stream.set_nodelay(true);
        let io: Box<dyn Io> = match (&self.endpoint.tls, &self.own_tls) {
            (Some(tls), Some(config)) => {
                let connector = tokio_rustls::TlsConnector::from(config.clone());
                let stream = connector
                    .connect(tls.server_name.clone(), stream)
                    .await
                    .map_err(|cause| {
                        self.stats.failed.fetch_add(1, Ordering::Relaxed);
                        Failure::Tls(cause)
                    })?;
                self.stats.on_tls(negotiated(stream.get_ref().1));
                Box::new(stream)
            }
            _ => Box::new(stream),
        };
        self.stats.on_open();
        Ok(OwnConnection {
            io,
            connect_time: started.elapsed(),
            slot: ConnectionSlot {
                _open: OpenGuard(self.stats.clone()),
                _permit: permit,
            },
        })
    }
}

/// The `x-coldfront-cold` response header: `Some(true)` for a cold start.
pub(super) fn cold_header(headers: &http::HeaderMap) -> Option<bool> {
    headers
        .get("x-coldfront-cold")
        .and_then(|v| match v.as_bytes() {
            b"1" | b"true" => Some(true),
            b"0" | b"false" => Some(false),
            _ => None,
        })
}
