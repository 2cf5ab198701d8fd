//! A request as the HTTP/1.1 fast path writes it ([`RequestBytes`]): serialised once, with
//! its framing. A request without placeholders is one fixed run of bytes; one with
//! placeholders is a template of fixed pieces and holes, rendered for each request into the
//! connection's write buffer, with the `Content-Length` of its rendered body.

use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, Method};

use crate::scenario::template::{decimal, Template};

/// One request serialised once: request line, `Host`, the scenario's headers, `Content-Length`
/// (when there is a body, or the method defines one), `Connection: close` if asked, the body.
#[derive(Debug, Clone)]
pub struct RequestBytes {
    wire: Wire,
    /// Whether the response can carry a body (false for `HEAD`).
    pub(super) expects_body: bool,
    /// Whether the method is idempotent (RFC 9110 §9.2.2), so a stale connection may be retried.
    idempotent: bool,
}

/// What is written to the wire.
#[derive(Debug, Clone)]
enum Wire {
    /// The whole request, the same every time.
    Fixed(Box<[u8]>),
    /// Rendered for each request: `head` (everything when the body is fixed), then, for a body
    /// with placeholders, its `Content-Length`, `Connection: close` if `close`, and the body.
    Rendered {
        head: Template,
        body: Option<Template>,
        close: bool,
    },
}

/// One part of a request to serialise: fixed bytes, or a template.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    Fixed(&'a [u8]),
    Template(&'a Template),
}

/// A request to serialise, its path, header values and body fixed or with placeholders.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestParts<'a> {
    pub method: &'a Method,
    /// The path and query (empty means `/`).
    pub path: Part<'a>,
    pub host: &'a str,
    pub headers: &'a HeaderMap,
    /// Header fields whose values have placeholders, written after `headers`.
    pub templated_headers: &'a [(HeaderName, Template)],
    pub body: Part<'a>,
}

impl RequestBytes {
    /// Serialises a request without placeholders. The scenario's own `Host`, `Content-Length`
    /// and `Transfer-Encoding` are left out (this writes `Host` and the body's length itself),
    /// and so is its `Connection` when `close` adds `Connection: close`.
    pub(crate) fn new(
        method: &Method,
        path_and_query: &str,
        host: &str,
        headers: &HeaderMap,
        body: &[u8],
        close: bool,
    ) -> Self {
        Self::from_parts(
            &RequestParts {
                method,
                path: Part::Fixed(path_and_query.as_bytes()),
                host,
                headers,
                templated_headers: &[],
                body: Part::Fixed(body),
            },
            close,
        )
    }

    /// Serialises a request whose parts may have placeholders, with the rules of [`new`]
    /// (`Self::new`). Without any hole, it is one fixed run of bytes.
    pub(crate) fn from_parts(parts: &RequestParts<'_>, close: bool) -> Self {
        let mut head = Template::default();
        head.push_text(parts.method.as_str().as_bytes());
        head.push_text(b" ");
        match parts.path {
            Part::Fixed(b"") => head.push_text(b"/"),
            path => push_part(&mut head, path),
        }
        head.push_text(b" HTTP/1.1\r\nHost: ");
        head.push_text(parts.host.as_bytes());
        head.push_text(b"\r\n");
        let skipped = |name: &HeaderName| {
            *name == HOST
                || *name == CONTENT_LENGTH
                || *name == TRANSFER_ENCODING
                || (close && *name == CONNECTION)
        };
        let fixed = parts
            .headers
            .iter()
            .map(|(n, v)| (n, Part::Fixed(v.as_bytes())));
        let templated = parts
            .templated_headers
            .iter()
            .map(|(n, t)| (n, Part::Template(t)));
        for (name, value) in fixed.chain(templated).filter(|(n, _)| !skipped(n)) {
            head.push_text(name.as_str().as_bytes());
            head.push_text(b": ");
            push_part(&mut head, value);
            head.push_text(b"\r\n");
        }
        let body = match parts.body {
            Part::Template(body) if body.has_holes() => Some(body.clone()),
            Part::Template(body) => {
                fixed_body(
                    &mut head,
                    parts.method,
                    body.as_text().unwrap_or_default(),
                    close,
                );
                None
            }
            Part::Fixed(body) => {
                fixed_body(&mut head, parts.method, body, close);
                None
            }
        };
        let wire = match body {
            None if !head.has_holes() => Wire::Fixed(head.as_text().unwrap_or_default().into()),
            body => Wire::Rendered { head, body, close },
        };
        RequestBytes {
            wire,
            expects_body: *parts.method != Method::HEAD,
            idempotent: matches!(
                *parts.method,
                Method::GET
                    | Method::HEAD
                    | Method::PUT
                    | Method::DELETE
                    | Method::OPTIONS
                    | Method::TRACE
            ),
        }
    }

    /// The request as written to the wire for request number `seq`: the fixed bytes of a
    /// request without placeholders (`buf` untouched), else rendered into `buf` (cleared
    /// first; its capacity is kept, so a warm buffer allocates nothing).
    pub fn render<'a>(&'a self, seq: u64, buf: &'a mut Vec<u8>) -> &'a [u8] {
        let (head, body, close) = match &self.wire {
            Wire::Fixed(bytes) => return bytes,
            Wire::Rendered { head, body, close } => (head, body, *close),
        };
        buf.clear();
        head.render(seq, buf);
        if let Some(body) = body {
            let start = buf.len();
            body.render(seq, buf);
            let mut digits = [0u8; 20];
            let length = decimal((buf.len() - start) as u64, &mut digits);
            let fields_start = buf.len();
            for part in [&b"Content-Length: "[..], length, b"\r\n"] {
                buf.extend_from_slice(part);
            }
            if close {
                buf.extend_from_slice(b"Connection: close\r\n");
            }
            buf.extend_from_slice(b"\r\n");
            // The fields go before the body they measure.
            let fields = buf.len() - fields_start;
            buf[start..].rotate_right(fields);
        }
        buf
    }

    /// The request as written to the wire, when it has no placeholders.
    #[cfg(test)]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.wire {
            Wire::Fixed(bytes) => bytes,
            Wire::Rendered { .. } => panic!("a request with placeholders is rendered per request"),
        }
    }

    /// Whether the method is idempotent: a request that met a stale keep-alive connection
    /// ([`super::ExchangeError::ClosedBeforeResponse`]) may be sent once more on a fresh one.
    pub(crate) fn is_idempotent(&self) -> bool {
        self.idempotent
    }
}

fn push_part(head: &mut Template, part: Part<'_>) {
    match part {
        Part::Fixed(bytes) => head.push_text(bytes),
        Part::Template(template) => head.push_template(template),
    }
}

/// A fixed body's framing fields and the body, at the end of the head.
fn fixed_body(head: &mut Template, method: &Method, body: &[u8], close: bool) {
    let defines_content = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !body.is_empty() || defines_content {
        head.push_text(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    if close {
        head.push_text(b"Connection: close\r\n");
    }
    head.push_text(b"\r\n");
    head.push_text(body);
}
