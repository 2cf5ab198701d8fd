//! `GET /api/chat`: a WebSocket (hyper upgrade + tokio-tungstenite). Each text message is
//! echoed to its sender and broadcast to the other chat clients of the same process (one room
//! per process). Without WebSockets (serverless): 501 `{"error":"WEBSOCKETS_UNSUPPORTED"}`.
//!
//! Whatever the runtime attached to the request's extensions (the persistent server's
//! connection guard) is kept until the WebSocket closes, so the connection is still counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::{SinkExt, StreamExt};
use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::{response, Body, Services};

/// Messages a slow client may fall behind by before it skips some.
const ROOM_BACKLOG: usize = 1024;

/// One broadcast line: who sent it, and the text.
type Line = Arc<(u64, Utf8Bytes)>;

/// The process's chat room.
fn room() -> &'static broadcast::Sender<Line> {
    static ROOM: OnceLock<broadcast::Sender<Line>> = OnceLock::new();
    ROOM.get_or_init(|| broadcast::channel(ROOM_BACKLOG).0)
}

pub fn upgrade(services: &Services, mut request: Request<hyper::body::Incoming>) -> Response<Body> {
    if !services.websockets {
        return response::error(StatusCode::NOT_IMPLEMENTED, "WEBSOCKETS_UNSUPPORTED");
    }
    let Some(accept) = accept_key(request.headers()) else {
        return response::error(
            StatusCode::BAD_REQUEST,
            "expected a WebSocket upgrade (version 13)",
        );
    };
    let on_upgrade = hyper::upgrade::on(&mut request);
    let extensions = std::mem::take(request.extensions_mut());
    // Subscribed before the 101 goes out: a client sees every line sent after its handshake.
    let lines = room().subscribe();
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let socket =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            converse(socket, lines).await;
        }
        drop(extensions);
    });
    switching_protocols(accept)
}

/// `Sec-WebSocket-Accept` for a valid version-13 upgrade request.
fn accept_key(headers: &HeaderMap) -> Option<HeaderValue> {
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    if !has(header::UPGRADE, "websocket")
        || !has(header::CONNECTION, "upgrade")
        || headers.get(header::SEC_WEBSOCKET_VERSION)? != "13"
    {
        return None;
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()
}

fn switching_protocols(accept: HeaderValue) -> Response<Body> {
    let mut response = Response::new(response::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}

/// Echoes and broadcasts the client's text, and forwards the others' lines, until either side
/// closes.
async fn converse<S>(socket: WebSocketStream<S>, mut lines: broadcast::Receiver<Line>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);
    let me = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
    let (mut outgoing, mut incoming) = socket.split();
    loop {
        let reply = tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let _ = room().send(Arc::new((me, text.clone())));
                    Message::Text(text)
                }
                Some(Ok(Message::Binary(bytes))) => Message::Binary(bytes),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue, // ping/pong: answered by tungstenite
            },
            line = lines.recv() => match line {
                Ok(line) if line.0 != me => Message::Text(line.1.clone()),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        if outgoing.send(reply).await.is_err() {
            break;
        }
    }
    let _ = outgoing.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade_headers(version: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        headers.insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_str(version).unwrap(),
        );
        headers.insert(
            header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        headers
    }

    #[test]
    fn accept_key_follows_rfc_6455() {
        // The example handshake of RFC 6455 section 1.3.
        assert_eq!(
            accept_key(&upgrade_headers("13")).unwrap(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert!(accept_key(&upgrade_headers("8")).is_none());
        assert!(accept_key(&HeaderMap::new()).is_none());
    }
}
