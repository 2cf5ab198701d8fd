//! Stage 2 of a request's `kind`, `hold` and `send_every`: which kind it is, and which keys
//! each kind accepts (`hold` only for held kinds and required there, `send_every` only for
//! WebSocket, no `body` and no method but `GET` for held kinds).

use std::ops::Range;

use http::Method;

use super::check::{self, fail, optional, Checked, MinDuration, Reported};
use super::error::{Diagnostics, Problem};
use super::key_path::KeyPath;
use super::plan::{HeldProtocol, HeldRequest, Wire};
use super::raw::RawRequest;

/// The `kind` key, before the held kinds' keys are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Held(HeldProtocol),
}

const KINDS: [(&str, Kind); 3] = [
    ("http", Kind::Http),
    ("sse", Kind::Held(HeldProtocol::Sse)),
    ("websocket", Kind::Held(HeldProtocol::WebSocket)),
];

/// The request's kind with its keys checked. `method` is the checked `method` key (`None`
/// when it was invalid, already reported).
pub(crate) fn wire(
    raw: &RawRequest,
    span: &Range<usize>,
    path: &KeyPath,
    method: Option<&Option<Method>>,
    diag: &mut Diagnostics,
) -> Checked<Wire> {
    let kind = optional(&raw.kind, |v| {
        check::one_of(v, &path.key("kind"), diag, &KINDS)
    });
    match kind {
        // A misspelt kind: its keys' values are still checked, not their place.
        Err(Reported) => {
            let _ = hold_value(raw, path, diag);
            let _ = send_every_value(raw, path, diag);
            Err(Reported)
        }
        Ok(None | Some(Kind::Http)) => http_keys(raw, path, diag).map(|()| Wire::Http),
        Ok(Some(Kind::Held(protocol))) => held(raw, span, path, protocol, method, diag),
    }
}

/// Default request names of held kinds: "SSE /api/events", "WebSocket /api/chat".
pub(crate) fn label(protocol: HeldProtocol) -> &'static str {
    match protocol {
        HeldProtocol::Sse => "SSE",
        HeldProtocol::WebSocket => "WebSocket",
    }
}

/// `kind = "http"` (or no kind): the held kinds' keys have no place.
fn http_keys(raw: &RawRequest, path: &KeyPath, diag: &mut Diagnostics) -> Checked<()> {
    let mut result = Ok(());
    if let Some(hold) = raw.hold.given() {
        let reason = "`hold` is for held connections (kind = \"sse\" or \"websocket\"); \
                      a kind = \"http\" request ends with its response";
        result = fail(hold, &path.key("hold"), diag, Problem::not_allowed(reason));
    }
    if let Some(send_every) = raw.send_every.given() {
        let reason = "`send_every` is for kind = \"websocket\"";
        result = fail(
            send_every,
            &path.key("send_every"),
            diag,
            Problem::not_allowed(reason),
        );
    }
    result
}

fn held(
    raw: &RawRequest,
    span: &Range<usize>,
    path: &KeyPath,
    protocol: HeldProtocol,
    method: Option<&Option<Method>>,
    diag: &mut Diagnostics,
) -> Checked<Wire> {
    let kind = protocol.kind();
    let hold = match hold_value(raw, path, diag) {
        Ok(Some(hold)) => Ok(hold),
        Ok(None) => {
            let expected = format!(
                "a duration such as \"30s\" (how long the generator keeps a kind = \"{kind}\" \
                 connection open)"
            );
            diag.report(span, &path.key("hold"), Problem::missing(expected));
            Err(Reported)
        }
        Err(Reported) => Err(Reported),
    };
    let send_every = match protocol {
        HeldProtocol::WebSocket => send_every_value(raw, path, diag),
        HeldProtocol::Sse => match raw.send_every.given() {
            Some(value) => {
                let reason = "`send_every` is for kind = \"websocket\"; an SSE stream only \
                              receives";
                fail(
                    value,
                    &path.key("send_every"),
                    diag,
                    Problem::not_allowed(reason),
                )
            }
            None => Ok(None),
        },
    };
    let method = match (method, raw.method.given()) {
        (Some(Some(method)), Some(value)) if *method != Method::GET => {
            let reason = format!(
                "a kind = \"{kind}\" request is always a GET; `method = {:?}` is for kind = \"http\"",
                value.get_ref()
            );
            fail(
                value,
                &path.key("method"),
                diag,
                Problem::not_allowed(reason),
            )
        }
        _ => Ok(()),
    };
    let body = match raw.body.given() {
        Some(value) => {
            let sends = match protocol {
                HeldProtocol::Sse => "sends none",
                HeldProtocol::WebSocket => "sends messages with `send_every`",
            };
            let reason =
                format!("`body` is for kind = \"http\"; a kind = \"{kind}\" request {sends}");
            fail(value, &path.key("body"), diag, Problem::not_allowed(reason))
        }
        None => Ok(()),
    };
    method?;
    body?;
    Ok(Wire::Held(HeldRequest {
        protocol,
        hold: hold?,
        send_every: send_every?,
    }))
}

fn hold_value(
    raw: &RawRequest,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<Option<std::time::Duration>> {
    optional(&raw.hold, |v| {
        check::duration(v, &path.key("hold"), diag, MinDuration::Positive)
    })
}

fn send_every_value(
    raw: &RawRequest,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<Option<std::time::Duration>> {
    optional(&raw.send_every, |v| {
        check::duration(v, &path.key("send_every"), diag, MinDuration::Positive)
    })
}
