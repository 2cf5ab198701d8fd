//! Where a target is ([`Endpoint`]), and a request ready to send to it, built once per
//! scenario request: for hyper (the `http::Request` of an exchange, an SSE stream or a
//! WebSocket upgrade) and, serialised, for the HTTP/1.1 fast path.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST};
use http::{HeaderValue, Request, Uri};
use http_body_util::Full;

use super::tls::TlsSettings;
use crate::scenario::{RequestTemplate, Wire};

/// Where the target is and how to reach it.
#[derive(Clone)]
pub struct Endpoint {
    /// Scheme, authority and optional path prefix of the target.
    pub base_url: Uri,
    /// Resolved socket addresses (tried in order).
    pub addrs: Vec<SocketAddr>,
    /// `Some` for `https://` targets.
    pub tls: Option<TlsSettings>,
}

/// A request ready to send: built once per template, cloned per request.
#[derive(Clone)]
pub struct PreparedRequest {
    method: http::Method,
    uri_origin: Uri,
    uri_absolute: Uri,
    headers: http::HeaderMap,
    body: Bytes,
    wire: Wire,
}

impl PreparedRequest {
    pub fn new(template: &RequestTemplate, endpoint: &Endpoint) -> anyhow::Result<Self> {
        let base = &endpoint.base_url;
        let prefix = base.path().trim_end_matches('/');
        let path = format!("{prefix}{}", template.path_and_query);
        let authority = base
            .authority()
            .ok_or_else(|| anyhow::anyhow!("target URL {base} has no host"))?;
        let scheme = base.scheme_str().unwrap_or("http");
        let uri_origin: Uri = path.parse()?;
        let uri_absolute: Uri = format!("{scheme}://{authority}{path}").parse()?;
        let mut headers = http::HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_str(authority.as_str())?);
        for (name, value) in &template.headers {
            headers.append(name.clone(), value.clone());
        }
        if !template.body.is_empty() && !headers.contains_key(CONTENT_LENGTH) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(template.body.len()));
        }
        Ok(PreparedRequest {
            method: template.method.clone(),
            uri_origin,
            uri_absolute,
            headers,
            body: template.body.clone(),
            wire: template.wire,
        })
    }

    /// The request serialised for the HTTP/1.1 fast path (`Connection: close` when `close`).
    pub(crate) fn request_bytes(&self, close: bool) -> super::http1::RequestBytes {
        let host = self
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let path = self.uri_origin.path_and_query().map_or("/", |p| p.as_str());
        super::http1::RequestBytes::new(&self.method, path, host, &self.headers, &self.body, close)
    }

    /// What the request does on the wire: one exchange, or a held stream.
    pub(crate) fn wire(&self) -> Wire {
        self.wire
    }

    /// The SSE request of a held `kind = "sse"`: `GET` with `Accept: text/event-stream` (unless
    /// the scenario set its own `Accept`), HTTP/1.1.
    pub(super) fn sse_request(&self) -> Request<Full<Bytes>> {
        let mut request = self.build(false, false);
        *request.method_mut() = http::Method::GET;
        *request.body_mut() = Full::new(Bytes::new());
        let headers = request.headers_mut();
        headers.remove(CONTENT_LENGTH);
        if !headers.contains_key(http::header::ACCEPT) {
            headers.insert(
                http::header::ACCEPT,
                HeaderValue::from_static("text/event-stream"),
            );
        }
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        request
    }

    /// The upgrade request of a held `kind = "websocket"`: the target URL with `ws://` (or
    /// `wss://`), the scenario's headers and a fresh `Sec-WebSocket-Key`.
    pub(super) fn websocket_request(&self) -> anyhow::Result<Request<()>> {
        let uri = &self.uri_absolute;
        let scheme = match uri.scheme_str() {
            Some("https") => "wss",
            _ => "ws",
        };
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow::anyhow!("{uri} has no host"))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = Request::new(());
        *request.uri_mut() = format!("{scheme}://{authority}{path}").parse()?;
        *request.headers_mut() = self.headers.clone();
        let headers = request.headers_mut();
        headers.remove(CONTENT_LENGTH);
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(
            http::header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        let key = tokio_tungstenite::tungstenite::handshake::client::generate_key();
        headers.insert(
            http::header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_str(&key)?,
        );
        Ok(request)
    }

    pub(super) fn build(&self, http2: bool, close: bool) -> Request<Full<Bytes>> {
        let uri = if http2 {
            &self.uri_absolute
        } else {
            &self.uri_origin
        };
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = self.headers.clone();
        if http2 {
            request.headers_mut().remove(HOST);
        } else if close {
            request
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        request
    }
}
