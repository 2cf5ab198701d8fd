//! Held requests over TLS: SSE over HTTP/1.1 (never h2) and WebSockets over `wss://`.

use std::time::Duration;

use tokio::net::TcpListener;

use super::*;

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
