//! Where a target is ([`Endpoint`]), and a request ready to send to it, built once per
//! scenario request: for hyper (the `http::Request` of an exchange, an SSE stream or a
//! WebSocket upgrade) and, serialised, for the HTTP/1.1 fast path.
//!
//! A request with placeholders keeps its path, header values and body that have any as
//! templates: the fast path renders them into its connection's write buffer
//! ([`RequestBytes`](super::http1::RequestBytes)); hyper's requests are rendered into a copy
//! of the prepared request for each `seq` ([`PreparedRequest::for_seq`]). A request without
//! placeholders (or whose placeholders are only quoted text) is prepared exactly as before and
//! is used as it is.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST};
use http::{HeaderName, HeaderValue, Request, Uri};
use http_body_util::Full;

use super::http1::{Part, RequestBytes, RequestParts};
use super::tls::TlsSettings;
use crate::scenario::template::Template;
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
    /// The parts with placeholders; `None` when it is sent as prepared.
    values: Option<Arc<Values>>,
}

/// The parts of a prepared request that are rendered for each request.
#[derive(Debug)]
struct Values {
    /// The path and query, after the target's path prefix, when it has placeholders.
    path: Option<Template>,
    /// `scheme://authority` of the target, before the path in the absolute URI.
    origin: String,
    /// Header fields whose values have placeholders (not in the prepared `headers`).
    headers: Vec<(HeaderName, Template)>,
    body: Option<Template>,
}

/// A template with holes, or `None` when there is no template or it is only text (quoted
/// placeholders); then the text, as written or as the template has it.
fn split<'a>(
    written: &'a [u8],
    template: Option<&'a Template>,
) -> (&'a [u8], Option<&'a Template>) {
    match template {
        None => (written, None),
        Some(template) => match template.as_text() {
            Some(text) => (text, None),
            None => (written, Some(template)),
        },
    }
}

impl PreparedRequest {
    pub fn new(template: &RequestTemplate, endpoint: &Endpoint) -> anyhow::Result<Self> {
        let base = &endpoint.base_url;
        let prefix = base.path().trim_end_matches('/');
        let authority = base
            .authority()
            .ok_or_else(|| anyhow::anyhow!("target URL {base} has no host"))?;
        let scheme = base.scheme_str().unwrap_or("http");
        let placeholders = template.placeholders.as_ref();
        let written = template.path_and_query.as_bytes();
        let (path_text, path_template) = split(written, placeholders.and_then(|p| p.path.as_ref()));
        let path_template = path_template.map(|t| {
            let mut full = Template::default();
            full.push_text(prefix.as_bytes());
            full.push_template(t);
            full
        });
        let mut headers = http::HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_str(authority.as_str())?);
        let mut header_templates = Vec::new();
        for (index, (name, value)) in template.headers.iter().enumerate() {
            let template = placeholders.and_then(|p| p.header(index));
            match split(value.as_bytes(), template) {
                (_, Some(template)) => header_templates.push((name.clone(), template.clone())),
                (text, None) => {
                    headers.append(name.clone(), HeaderValue::from_bytes(text)?);
                }
            }
        }
        let (body, body_template) =
            split(&template.body, placeholders.and_then(|p| p.body.as_ref()));
        if !body.is_empty() && body_template.is_none() && !headers.contains_key(CONTENT_LENGTH) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        let values =
            (path_template.is_some() || !header_templates.is_empty() || body_template.is_some())
                .then(|| Values {
                    path: path_template,
                    origin: format!("{scheme}://{authority}"),
                    headers: header_templates,
                    body: body_template.cloned(),
                });
        let mut request = PreparedRequest {
            method: template.method.clone(),
            uri_origin: Uri::from_static("/"),
            uri_absolute: Uri::from_static("/"),
            headers,
            body: Bytes::copy_from_slice(body),
            wire: template.wire,
            values: values.map(Arc::new),
        };
        let path = match &request.values {
            Some(values) if values.path.is_some() => request.rendered_path(0),
            _ => format!("{prefix}{}", std::str::from_utf8(path_text)?),
        };
        request.uri_origin = path.parse()?;
        request.uri_absolute = format!("{scheme}://{authority}{path}").parse()?;
        Ok(request)
    }

    /// The request serialised for the HTTP/1.1 fast path (`Connection: close` when `close`);
    /// [`RequestBytes::render`] gives its bytes for each request.
    pub fn request_bytes(&self, close: bool) -> RequestBytes {
        let host = self
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let path = self.uri_origin.path_and_query().map_or("/", |p| p.as_str());
        let Some(values) = &self.values else {
            return RequestBytes::new(&self.method, path, host, &self.headers, &self.body, close);
        };
        let parts = RequestParts {
            method: &self.method,
            path: values
                .path
                .as_ref()
                .map_or(Part::Fixed(path.as_bytes()), Part::Template),
            host,
            headers: &self.headers,
            templated_headers: &values.headers,
            body: values
                .body
                .as_ref()
                .map_or(Part::Fixed(&self.body), Part::Template),
        };
        RequestBytes::from_parts(&parts, close)
    }

    /// This request as sent as request number `seq`: itself when it has no placeholders,
    /// else a copy with them rendered (and the `Content-Length` of its rendered body).
    pub(crate) fn for_seq(&self, seq: u64) -> Cow<'_, PreparedRequest> {
        let Some(values) = &self.values else {
            return Cow::Borrowed(self);
        };
        let mut request = PreparedRequest {
            values: None,
            ..self.clone()
        };
        if values.path.is_some() {
            let path = self.rendered_path(seq);
            request.uri_origin = rendered_uri(path.clone());
            request.uri_absolute = rendered_uri(format!("{}{path}", values.origin));
        }
        for (name, template) in &values.headers {
            let mut value = Vec::new();
            template.render(seq, &mut value);
            let value = HeaderValue::from_maybe_shared(Bytes::from(value))
                .expect("placeholders in a header render visible ASCII (checked when read)");
            request.headers.append(name.clone(), value);
        }
        if let Some(template) = &values.body {
            let mut body = Vec::new();
            template.render(seq, &mut body);
            request
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            request.body = Bytes::from(body);
        }
        Cow::Owned(request)
    }

    /// The path with the target's prefix, rendered for `seq` (a request whose path has
    /// placeholders).
    fn rendered_path(&self, seq: u64) -> String {
        let mut path = Vec::new();
        if let Some(template) = self.values.as_ref().and_then(|v| v.path.as_ref()) {
            template.render(seq, &mut path);
        }
        String::from_utf8(path).expect("placeholders render UTF-8 text")
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

    /// The hyper request of this prepared request as it is (see [`Self::for_seq`]).
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

/// A rendered path (or absolute URI) as a URI: its characters were checked when the scenario
/// was read (placeholders in a path render only characters a path may hold).
fn rendered_uri(text: String) -> Uri {
    Uri::try_from(text).expect("placeholders in a path render a valid path (checked when read)")
}
