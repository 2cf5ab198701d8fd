//! The in-test SSE server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// An SSE server on 127.0.0.1:0:
/// `/events?count=N&interval_ms=M&first_ms=F&end=clean|cut` — waits F ms, sends N events M ms
/// apart (no `count`: forever), then ends the body cleanly or breaks the connection mid-body
/// (`cut`: no terminating chunk). `/status/N` answers N without a stream.
pub(super) struct SseServer {
    pub(super) addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl SseServer {
    pub(super) fn start() -> SseServer {
        Self::start_with(None)
    }

    /// With TLS: the acceptor offers h2 and http/1.1, but only HTTP/1.1 is served, so a held
    /// request that negotiated h2 would fail.
    pub(super) fn start_with(tls: Option<tokio_rustls::TlsAcceptor>) -> SseServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let tls = tls.clone();
                tokio::spawn(async move {
                    let http1 = hyper::server::conn::http1::Builder::new();
                    let _ = match tls {
                        None => {
                            http1
                                .serve_connection(TokioIo::new(stream), service_fn(respond))
                                .await
                        }
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            http1
                                .serve_connection(TokioIo::new(stream), service_fn(respond))
                                .await
                        }
                    };
                });
            }
        });
        SseServer {
            addr,
            runtime: Some(runtime),
        }
    }

    pub(super) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SseServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

async fn respond(request: Request<hyper::body::Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_string();
    if let Some(status) = path.strip_prefix("/status/") {
        let mut response = Response::new(
            Full::new(Bytes::from_static(b"no stream\n"))
                .map_err(|never| match never {})
                .boxed(),
        );
        *response.status_mut() = StatusCode::from_u16(status.parse().unwrap()).unwrap();
        return Ok(response);
    }
    let query = request.uri().query().unwrap_or("").to_string();
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    let number = |name: &str| param(name).map(|v| v.parse::<u64>().unwrap());
    let count = number("count");
    let interval = Duration::from_millis(number("interval_ms").unwrap_or(100));
    let first = Duration::from_millis(number("first_ms").unwrap_or(0));
    let cut = param("end").as_deref() == Some("cut");
    let (events, receiver) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(16);
    tokio::spawn(async move {
        tokio::time::sleep(first).await;
        let mut seq = 0u64;
        while count.is_none_or(|count| seq < count) {
            if seq > 0 {
                tokio::time::sleep(interval).await;
            }
            seq += 1;
            let event = format!("id: {seq}\ndata: {{\"seq\":{seq}}}\n\n");
            if events
                .send(Ok(Frame::data(Bytes::from(event))))
                .await
                .is_err()
            {
                return; // the client went away
            }
        }
        if cut {
            // Mid-stream, after the last event went out.
            tokio::time::sleep(interval).await;
            let _ = events.send(Err(std::io::Error::other("cut"))).await;
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let mut response = Response::new(StreamBody::new(stream).boxed());
    response
        .headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    Ok(response)
}
