use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::record::connections::ConnectionStats;
use crate::record::gauges::TargetGauges;
use crate::record::live::LiveTarget;
use crate::record::{Recorder, Recorders};

/// A response read off a connection: status, headers (lowercase names), body.
#[derive(Debug)]
struct Read {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Read {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response (its body by `Content-Length`, none when `head_only`), keeping what
/// follows it in `buffer`.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>, head_only: bool) -> Read {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(length) = response.parse(buffer).unwrap() {
            let headers: Vec<(String, String)> = response
                .headers
                .iter()
                .map(|h| {
                    let value = String::from_utf8(h.value.to_vec()).unwrap();
                    (h.name.to_ascii_lowercase(), value)
                })
                .collect();
            let status = response.code.unwrap();
            let find = |name: &str| headers.iter().find(|(n, _)| n == name).unwrap().1.clone();
            let body_length: usize = if head_only {
                0
            } else {
                find("content-length").parse().unwrap()
            };
            while buffer.len() < length + body_length {
                let mut chunk = [0u8; 4096];
                let read = stream.read(&mut chunk).await.unwrap();
                assert!(read > 0, "closed inside a body");
                buffer.extend_from_slice(&chunk[..read]);
            }
            let body = String::from_utf8(buffer[length..length + body_length].to_vec()).unwrap();
            buffer.drain(..length + body_length);
            return Read {
                status,
                headers,
                body,
            };
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "closed before a response");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

async fn endpoint_with_target() -> (MetricsEndpoint, LiveTarget) {
    let endpoint = MetricsEndpoint::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let live = LiveTarget::start(
        endpoint.board(),
        "t",
        &Recorders::new(Recorder::new(), 1),
        &Arc::new(ConnectionStats::default()),
        &Arc::new(TargetGauges::default()),
    );
    (endpoint, live)
}

const OPENMETRICS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
                                  text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// One keep-alive connection: a plain scrape, an OpenMetrics one, then two pipelined in one
/// write (HEAD and a wrong path), each answered in order.
#[tokio::test]
async fn serves_both_formats_on_one_keep_alive_connection() {
    let (endpoint, _live) = endpoint_with_target().await;
    let mut stream = TcpStream::connect(endpoint.addr()).await.unwrap();
    let mut buffer = Vec::new();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let plain = read_response(&mut stream, &mut buffer, false).await;
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(plain
        .body
        .contains("\ncoldfront_requests_in_flight{target=\"t\"} 0\n"));
    assert!(!plain.body.contains("# EOF"));
    let request =
        format!("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nAccept: {OPENMETRICS_ACCEPT}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let openmetrics = read_response(&mut stream, &mut buffer, false).await;
    assert_eq!(
        openmetrics.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(openmetrics.body.ends_with("# EOF\n"));
    assert!(openmetrics
        .body
        .contains("# TYPE coldfront_requests counter\n"));
    stream
        .write_all(b"HEAD /metrics HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let head = read_response(&mut stream, &mut buffer, true).await;
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(plain.body.len().to_string().as_str())
    );
    let missing = read_response(&mut stream, &mut buffer, false).await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("/metrics"));
    endpoint.stop().await;
}

#[tokio::test]
async fn refuses_other_methods_and_bodies_and_closes_when_asked() {
    let (endpoint, _live) = endpoint_with_target().await;
    let cases: [(&[u8], u16); 3] = [
        (b"POST /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", 405),
        (
            b"GET /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            400,
        ),
        (b"GET /metrics HTTP/1.0\r\n\r\n", 200),
    ];
    for (request, status) in cases {
        let mut stream = TcpStream::connect(endpoint.addr()).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut buffer = Vec::new();
        let response = read_response(&mut stream, &mut buffer, false).await;
        assert_eq!(response.status, status);
        assert_eq!(response.header("connection"), Some("close"));
        if status == 405 {
            assert_eq!(response.header("allow"), Some("GET, HEAD"));
        }
        assert!(buffer.is_empty(), "nothing after the response");
        // Closed after it: the end of the stream (or a reset, had a request byte been unread).
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest));
        assert!(
            matches!(closed.await, Ok(Ok(0)) | Ok(Err(_))),
            "closed after it"
        );
    }
    endpoint.stop().await;
}

/// Stopping closes idle keep-alive connections and the listener.
#[tokio::test]
async fn stop_closes_connections_and_the_listener() {
    let (endpoint, _live) = endpoint_with_target().await;
    let addr = endpoint.addr();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /metrics HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    read_response(&mut idle, &mut Vec::new(), false).await;
    endpoint.stop().await;
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn an_address_in_use_is_named_in_the_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = MetricsEndpoint::start(addr).await.err().unwrap();
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("--metrics-addr {addr}: ")),
        "{message}"
    );
    assert_eq!(error.source.kind(), std::io::ErrorKind::AddrInUse);
}
