//! Held connections (`kind = "sse" | "websocket"`) through `coldfront run`: against a small
//! in-test SSE server (exact message counts, time to the first message, every way a stream
//! ends, the closed model, Ctrl-C), and against the built-in targets (the serverless emulator
//! cuts SSE at `max_duration` and refuses WebSockets with 501; the persistent server holds
//! both).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use coldfront::resultset::{HeldSummary, TargetSummary};

use super::support::*;

/// An SSE server on 127.0.0.1:0:
/// `/events?count=N&interval_ms=M&first_ms=F&end=clean|cut` — waits F ms, sends N events M ms
/// apart (no `count`: forever), then ends the body cleanly or breaks the connection mid-body
/// (`cut`: no terminating chunk). `/status/N` answers N without a stream.
struct SseServer {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl SseServer {
    fn start() -> SseServer {
        Self::start_with(None)
    }

    /// With TLS: the acceptor offers h2 and http/1.1, but only HTTP/1.1 is served, so a held
    /// request that negotiated h2 would fail.
    fn start_with(tls: Option<tokio_rustls::TlsAcceptor>) -> SseServer {
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

    fn url(&self) -> String {
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

/// A self-signed certificate for `localhost`: a TLS acceptor offering h2 and http/1.1, and the
/// certificate's PEM (the CA to trust).
fn localhost_tls() -> (tokio_rustls::TlsAcceptor, String) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    (acceptor, cert.cert.pem())
}

/// A WebSocket echo server over TLS (`wss://localhost:PORT/…`); returns the port.
fn start_wss_echo(runtime: &tokio::runtime::Runtime, acceptor: tokio_rustls::TlsAcceptor) -> u16 {
    use futures_util::{SinkExt, StreamExt};
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut socket) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    if (message.is_text() || message.is_binary())
                        && socket.send(message).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// One scenario against `url`: `load` is the `[load]` body, `request` the `[[requests]]` body.
fn scenario(name: &str, url: &str, load: &str, request: &str) -> String {
    format!(
        r#"
name = "{name}"
[targets.t]
url = "{url}"
[load]
{load}
[[requests]]
{request}
"#
    )
}

const FIVE_IN_ONE_SECOND: &str = "[[load.phases]]\nduration = \"1s\"\nrate = 5";

/// Runs the scenarios (one `coldfront run`) and returns the summary of target `t` of each.
fn run(dir: &Path, scenarios: &[(&str, String)]) -> Vec<TargetSummary> {
    let paths: Vec<_> = scenarios
        .iter()
        .map(|(name, text)| write_scenario(dir, name, text))
        .collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let out = dir.join("out");
    assert_exit(&run_coldfront(&out, &refs), 0);
    scenarios
        .iter()
        .map(|(name, _)| read_summary(&out.join(name)).targets["t"].clone())
        .collect()
}

fn held(t: &TargetSummary) -> &HeldSummary {
    t.held.as_ref().expect("a held section")
}

/// Every connection opened was closed, none failed, and each request had its own.
fn assert_own_connections_all_closed(t: &TargetSummary) {
    let c = &t.connections;
    assert_eq!((c.opened, c.closed, c.failed), (t.requests, t.requests, 0));
    assert_eq!(c.reused, 0, "a held request never reuses a connection");
}

/// The last per-second row: nothing open any more.
fn assert_nothing_open_at_the_end(set: &Path) {
    let series = read_series(set);
    let last = series.last().expect("a row");
    assert_eq!(last.connections_open, 0, "{series:?}");
    assert_eq!(last.held_open, Some(0), "{series:?}");
}

#[test]
fn sse_streams_that_end_count_every_event_and_time_the_first() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let request = "kind = \"sse\"\npath = \"/events?count=3&interval_ms=100&first_ms=200\"\n\
                   hold = \"5s\"";
    let t = &run(
        dir.path(),
        &[(
            "sse-ends",
            scenario("sse-ends", &server.url(), FIVE_IN_ONE_SECOND, request),
        )],
    )[0];
    let h = held(t);
    assert_eq!(t.requests, 5);
    assert_eq!(t.ok, 5, "{:?}", t.errors);
    assert_eq!(
        (
            h.requests,
            h.opened,
            h.completed,
            h.held,
            h.cut,
            h.refused,
            h.failed
        ),
        (5, 5, 5, 0, 0, 0, 0)
    );
    assert_eq!(h.messages, 15, "three events per stream");
    assert_eq!(h.messages_sent, 0);
    // The first event comes 200 ms after the answer; on loopback, not much later. (Histogram
    // values are exact to 3 significant digits, so 200 may read 199.9.)
    let first = &h.time_to_first_message_ms;
    assert_eq!(first.count, 5);
    assert!(
        first.min >= 199.0 && first.max < 400.0,
        "time to first message {first:?}"
    );
    // The sample's latency is the time to the first message too.
    assert!(t.latency_ms.min >= 199.0 && t.latency_ms.max < 400.0);
    // Open from the answer to the end of the body: 200 + 2 × 100 ms.
    assert!(
        h.held_for_ms.min >= 300.0 && h.held_for_ms.max < 600.0,
        "held for {:?}",
        h.held_for_ms
    );
    // 400 ms streams started 200 ms apart: two or three at once.
    assert!((2..=3).contains(&h.max_open), "max open {}", h.max_open);
    assert_own_connections_all_closed(t);
    assert_nothing_open_at_the_end(&dir.path().join("out/sse-ends"));
}

#[test]
fn sse_streams_open_past_their_hold_are_held_then_closed_by_the_generator() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let request = "kind = \"sse\"\npath = \"/events?interval_ms=100\"\nhold = \"1s\"";
    let load = "[[load.phases]]\nduration = \"1s\"\nrate = 4";
    let t = &run(
        dir.path(),
        &[(
            "sse-held",
            scenario("sse-held", &server.url(), load, request),
        )],
    )[0];
    let h = held(t);
    assert_eq!((t.requests, t.ok), (4, 4), "{:?}", t.errors);
    assert_eq!((h.opened, h.held, h.completed, h.cut), (4, 4, 0, 0));
    // An event at once and every 100 ms: ten in a one-second hold (an eleventh may race it).
    assert!(
        (40..=44).contains(&h.messages),
        "messages {} for 4 streams",
        h.messages
    );
    assert!(
        h.held_for_ms.min >= 995.0 && h.held_for_ms.max < 1200.0,
        "held for {:?}",
        h.held_for_ms
    );
    assert!(h.time_to_first_message_ms.max < 200.0);
    assert_own_connections_all_closed(t);
    let set = dir.path().join("out/sse-held");
    let series = read_series(&set);
    assert!(
        series.iter().any(|r| r.held_open.is_some_and(|n| n >= 3)),
        "streams overlap: {series:?}"
    );
    assert_nothing_open_at_the_end(&set);
}

#[test]
fn cut_and_refused_streams_are_errors_of_their_kind() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let sse = |path: &str| format!("kind = \"sse\"\npath = \"{path}\"\nhold = \"3s\"");
    let summaries = run(
        dir.path(),
        &[
            (
                "cut",
                scenario(
                    "cut",
                    &url,
                    FIVE_IN_ONE_SECOND,
                    &sse("/events?count=2&interval_ms=50&end=cut"),
                ),
            ),
            (
                "refused",
                scenario("refused", &url, FIVE_IN_ONE_SECOND, &sse("/status/503")),
            ),
            (
                "throttled",
                scenario("throttled", &url, FIVE_IN_ONE_SECOND, &sse("/status/429")),
            ),
        ],
    );
    let (cut, refused, throttled) = (&summaries[0], &summaries[1], &summaries[2]);

    let h = held(cut);
    assert_eq!((h.opened, h.cut, h.held, h.completed), (5, 5, 0, 0));
    assert_eq!(h.messages, 10, "the events before the cut count");
    assert_eq!(cut.errors[&coldfront::model::Outcome::IoError], 5);
    assert_eq!(cut.ok, 0);
    assert_own_connections_all_closed(cut);

    let h = held(refused);
    assert_eq!((h.refused, h.opened, h.messages), (5, 0, 0));
    assert_eq!(h.refused_by_status.get("503"), Some(&5));
    assert_eq!(refused.errors[&coldfront::model::Outcome::Http5xx], 5);
    assert_eq!(h.held_for_ms.count, 0, "never opened");
    assert_eq!(h.time_to_first_message_ms.count, 0);
    assert_eq!(
        refused.latency_ms.count, 5,
        "still recorded: time to the answer"
    );
    assert_own_connections_all_closed(refused);

    let h = held(throttled);
    assert_eq!(h.refused_by_status.get("429"), Some(&5));
    assert_eq!(
        (
            throttled.throttled,
            throttled.errors[&coldfront::model::Outcome::Throttled]
        ),
        (5, 5)
    );
}

#[test]
fn a_held_request_occupies_its_closed_model_worker_for_the_hold() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let load = "model = \"closed\"\n[[load.phases]]\nduration = \"1s\"\nconcurrency = 2";
    let request = "kind = \"sse\"\npath = \"/events?interval_ms=100\"\nhold = \"600ms\"";
    let t = &run(
        dir.path(),
        &[(
            "closed-held",
            scenario("closed-held", &server.url(), load, request),
        )],
    )[0];
    // Each worker: one hold from 0 to 0.6 s, a second from 0.6 to 1.2 s, then the phase is over.
    assert_eq!(t.requests, 4, "{t:?}");
    assert_eq!(held(t).held, 4);
    assert_eq!(held(t).max_open, 2);
    assert_own_connections_all_closed(t);
}

#[test]
fn ctrl_c_closes_held_connections_promptly() {
    let server = SseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "long-hold",
        &server.url(),
        "[[load.phases]]\nduration = \"30s\"\nrate = 4",
        "kind = \"sse\"\npath = \"/events?interval_ms=100\"\nhold = \"60s\"",
    );
    let path = write_scenario(dir.path(), "long-hold", &text);
    let out = dir.path().join("out");
    let run = BackgroundRun::start(&out, &path);
    let set = out.join("long-hold");
    run.wait_for(&set.join("t.hlog.partial"), Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1500));
    // Without the interruption the 60 s holds would keep the run going for a minute; the exit
    // also waits for the report, so the holds' own ends are checked below.
    let (status, _) = run.interrupt(Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    let summary = read_summary(&set);
    assert_eq!(summary.status, coldfront::model::RunStatus::Interrupted);
    let t = &summary.targets["t"];
    let h = held(t);
    assert!(h.held >= 4, "{h:?}");
    assert_eq!(h.held, h.requests, "closed by the generator: held");
    assert!(
        h.held_for_ms.max < 4000.0,
        "60 s holds ended at once: {:?}",
        h.held_for_ms
    );
    assert_eq!(t.connections.opened, t.connections.closed);
}

#[test]
fn held_requests_run_over_tls_as_http1_sse_and_wss() {
    let (acceptor, ca_pem) = localhost_tls();
    let sse_server = SseServer::start_with(Some(acceptor.clone()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let wss_port = start_wss_echo(&runtime, acceptor);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let https = |port: u16| format!("https://localhost:{port}");
    let sse = write_scenario(
        dir.path(),
        "tls-sse",
        &scenario(
            "tls-sse",
            &https(sse_server.addr.port()),
            FIVE_IN_ONE_SECOND,
            "kind = \"sse\"\npath = \"/events?count=3&interval_ms=50\"\nhold = \"2s\"",
        ),
    );
    let wss = write_scenario(
        dir.path(),
        "tls-ws",
        &scenario(
            "tls-ws",
            &https(wss_port),
            FIVE_IN_ONE_SECOND,
            "kind = \"websocket\"\npath = \"/echo\"\nhold = \"1s\"\nsend_every = \"200ms\"",
        ),
    );
    let out = dir.path().join("out");
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .args(["run", "--quiet", "--ca-cert"])
        .arg(&ca)
        .arg("--out")
        .arg(&out)
        .args([&sse, &wss])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&output, 0);

    let t = &read_summary(&out.join("tls-sse")).targets["t"];
    let h = held(t);
    assert_eq!((h.completed, h.messages), (5, 15), "{h:?} {:?}", t.errors);
    assert_own_connections_all_closed(t);

    let t = &read_summary(&out.join("tls-ws")).targets["t"];
    let h = held(t);
    assert_eq!(h.held, 5, "{h:?} {:?}", t.errors);
    // Sent at once and every 200 ms of a 1 s hold: five (a sixth may race the end); every one
    // sent before the last is echoed within the hold.
    assert!((25..=30).contains(&h.messages_sent), "{h:?}");
    assert!(
        h.messages + 5 >= h.messages_sent && h.messages <= h.messages_sent,
        "{h:?}"
    );
    assert_own_connections_all_closed(t);
}

// ---- built-in targets ----------------------------------------------------------------------

/// A scenario with a serverless target (`max_duration = 1s`) and a persistent one, 2 s of one
/// held request kind at 3/s.
fn realtime_scenario(name: &str, request: &str) -> String {
    format!(
        r#"
name = "{name}"
[targets.serverless]
kind = "serverless"
max_duration = "1s"
init = "10ms"
[targets.persistent]
kind = "persistent"
pool = 2
[load]
[[load.phases]]
duration = "2s"
rate = 3
[[requests]]
{request}
[database]
max_connections = 20
"#
    )
}

fn run_builtin(dir: &Path, name: &str, text: &str) -> (TargetSummary, TargetSummary) {
    let scenario = write_scenario(dir, name, text);
    let out = dir.join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let set = out.join(name);
    assert_nothing_open_at_the_end(&set);
    let mut summary = read_summary(&set);
    let serverless = summary.targets.remove("serverless").unwrap();
    let persistent = summary.targets.remove("persistent").unwrap();
    (serverless, persistent)
}

#[test]
fn sse_is_cut_at_max_duration_on_serverless_and_held_on_persistent() {
    let dir = tempfile::tempdir().unwrap();
    let request = "kind = \"sse\"\npath = \"/api/events?count=100&interval_ms=200\"\nhold = \"3s\"";
    let (serverless, persistent) = run_builtin(
        dir.path(),
        "sse-realtime",
        &realtime_scenario("sse-realtime", request),
    );

    let h = held(&serverless);
    assert_eq!(serverless.requests, 6);
    assert_eq!((h.opened, h.cut, h.held), (6, 6, 0), "{h:?}");
    assert_eq!(serverless.errors[&coldfront::model::Outcome::IoError], 6);
    // Cut a second after the instance started on it, long before the 3 s hold.
    assert!(
        h.held_for_ms.max < 1500.0 && h.held_for_ms.min >= 700.0,
        "{:?}",
        h.held_for_ms
    );
    // An event at once and every 200 ms until the cut: about five each.
    assert!(
        (6 * 4..=6 * 6).contains(&h.messages),
        "messages {}",
        h.messages
    );
    assert_own_connections_all_closed(&serverless);

    let h = held(&persistent);
    assert_eq!(persistent.ok, 6, "{:?}", persistent.errors);
    assert_eq!((h.opened, h.held, h.cut), (6, 6, 0), "{h:?}");
    // An event at once and every 200 ms for 3 s: fifteen each (a sixteenth may race the end).
    assert!(
        (6 * 15..=6 * 16).contains(&h.messages),
        "messages {}",
        h.messages
    );
    assert!(h.held_for_ms.min >= 2990.0, "{:?}", h.held_for_ms);
    assert_own_connections_all_closed(&persistent);
}

#[test]
fn websockets_are_refused_by_serverless_and_held_with_echoes_on_persistent() {
    let dir = tempfile::tempdir().unwrap();
    let request =
        "kind = \"websocket\"\npath = \"/api/chat\"\nhold = \"2200ms\"\nsend_every = \"500ms\"";
    let (serverless, persistent) = run_builtin(
        dir.path(),
        "ws-realtime",
        &realtime_scenario("ws-realtime", request),
    );

    let h = held(&serverless);
    assert_eq!(serverless.requests, 6);
    assert_eq!((h.refused, h.opened, h.messages_sent), (6, 0, 0), "{h:?}");
    assert_eq!(h.refused_by_status.get("501"), Some(&6));
    assert_eq!(serverless.errors[&coldfront::model::Outcome::Http5xx], 6);
    assert_own_connections_all_closed(&serverless);

    let h = held(&persistent);
    assert_eq!(persistent.ok, 6, "{:?}", persistent.errors);
    assert_eq!((h.opened, h.held, h.cut, h.refused), (6, 6, 0, 0), "{h:?}");
    // Sent at the opening and every 500 ms of a 2.2 s hold: five each, each echoed; the other
    // chat clients open at the time also receive it (broadcast).
    assert_eq!(h.messages_sent, 6 * 5);
    assert!(
        h.messages >= h.messages_sent && h.messages <= h.messages_sent * 6,
        "messages {} for {} sent",
        h.messages,
        h.messages_sent
    );
    assert!(h.held_for_ms.min >= 2190.0, "{:?}", h.held_for_ms);
    assert!(
        h.time_to_first_message_ms.count == 6 && h.time_to_first_message_ms.max < 500.0,
        "the first echo comes right after the first send: {:?}",
        h.time_to_first_message_ms
    );
    assert_own_connections_all_closed(&persistent);
}
