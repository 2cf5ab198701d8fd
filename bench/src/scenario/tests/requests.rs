//! `[[requests]]`: HTTP requests (method, headers, body, name) and held ones (`kind = "sse" |
//! "websocket"` with `hold` and `send_every`).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use super::*;

#[test]
fn requests_keep_method_headers_body_and_name() {
    let text = head()
        .phase(PHASE_BODY)
        .request(
            "name = \"create\"\nweight = 3\nmethod = \"POST\"\npath = \"/api/blogs\"\n\
             headers = { authorization = \"Bearer t0ken\", Content-Type = \"application/json\" }\n\
             body = '{\"title\":\"hi\"}'",
        )
        .to_string();
    let request = parse(&text).unwrap().requests.remove(0);
    assert_eq!(
        request,
        RequestTemplate {
            name: "create".into(),
            weight: 3,
            method: Method::POST,
            path_and_query: "/api/blogs".into(),
            headers: vec![
                (
                    HeaderName::from_static("authorization"),
                    HeaderValue::from_static("Bearer t0ken")
                ),
                (
                    HeaderName::from_static("content-type"),
                    HeaderValue::from_static("application/json")
                ),
            ],
            body: Bytes::from_static(br#"{"title":"hi"}"#),
            wire: Wire::Http,
            placeholders: None,
        }
    );
}

#[test]
fn request_values_are_checked() {
    let text = format!(
        "seed = -1\n{HEAD}{PHASE}[[requests]]\nweight = 0\nmethod = \"get\"\npath = \"api\"\n\
         [[requests]]\nmethod = \"GE T\"\npath = \"/\"\nheaders = {{ \"bad header\" = \"v\", ok = \"a\\nb\" }}\n\
         [[requests]]\nweight = 1\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:1:8: seed: expected an integer >= 0, found -1",
            "x.toml:9:10: requests[0].weight: expected an integer from 1 to 4294967295, found 0",
            "x.toml:10:10: requests[0].method: expected an HTTP method in capitals (methods are \
             case-sensitive), found \"get\" (did you mean `GET`?)",
            "x.toml:11:8: requests[0].path: expected a path starting with `/` such as \
             \"/api/blogs?category=rust\", found \"api\"",
            "x.toml:13:10: requests[1].method: expected an HTTP method such as \"GET\" or \"POST\", found \"GE T\"",
            "x.toml:15:13: requests[1].headers.\"bad header\": expected a header name (letters, digits and \
             !#$%&'*+-.^_`|~), found \"bad header\"",
            "x.toml:15:38: requests[1].headers.ok: expected a header value of visible ASCII characters \
             and spaces, found \"a\\nb\"",
            "x.toml:16:1: requests[2].path: missing required key; expected a path such as \"/api/health\"",
        ]
    );
}

// ---- held requests ---------------------------------------------------------------------------

#[test]
fn held_kinds_become_held_requests_with_their_hold() {
    let text = head()
        .phase(PHASE_BODY)
        .request("path = \"/api/events?count=5\"\nkind = \"sse\"\nhold = \"3s\"")
        .request(
            "path = \"/api/chat\"\nkind = \"websocket\"\nhold = \"1m\"\nsend_every = \"250ms\"\n\
             headers = { authorization = \"Bearer t\" }",
        )
        .request("path = \"/api/chat\"\nkind = \"websocket\"\nhold = \"2s\"\nmethod = \"GET\"")
        .request("path = \"/\"\nkind = \"http\"")
        .to_string();
    let plan = parse(&text).unwrap();
    let kinds: Vec<Wire> = plan.requests.iter().map(|r| r.wire).collect();
    assert_eq!(
        kinds,
        [
            Wire::Held(HeldRequest {
                protocol: HeldProtocol::Sse,
                hold: secs(3),
                send_every: None,
            }),
            Wire::Held(HeldRequest {
                protocol: HeldProtocol::WebSocket,
                hold: secs(60),
                send_every: Some(ms(250)),
            }),
            Wire::Held(HeldRequest {
                protocol: HeldProtocol::WebSocket,
                hold: secs(2),
                send_every: None,
            }),
            Wire::Http,
        ]
    );
    let names: Vec<&str> = plan.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SSE /api/events?count=5",
            "WebSocket /api/chat",
            "WebSocket /api/chat",
            "GET /"
        ]
    );
    assert_eq!(plan.requests[1].headers.len(), 1);
    assert_eq!(plan.requests[0].wire.kind(), crate::model::RequestKind::Sse);
    assert_eq!(plan.requests[1].wire.held().map(|h| h.hold), Some(secs(60)));
}

#[test]
fn a_held_kind_needs_a_hold() {
    let text = format!("{HEAD}{PHASE}[[requests]]\npath = \"/api/events\"\nkind = \"sse\"\n");
    assert_eq!(
        error(&text),
        "x.toml:7:1: requests[0].hold: missing required key; expected a duration such as \"30s\" \
         (how long the generator keeps a kind = \"sse\" connection open)"
    );
}

#[test]
fn hold_and_send_every_are_not_for_http_requests() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/\"\nhold = \"3s\"\n\
         [[requests]]\npath = \"/\"\nkind = \"http\"\nsend_every = \"1s\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:9:8: requests[0].hold: not allowed here: `hold` is for held connections \
             (kind = \"sse\" or \"websocket\"); a kind = \"http\" request ends with its response",
            "x.toml:13:14: requests[1].send_every: not allowed here: `send_every` is for \
             kind = \"websocket\"",
        ]
    );
}

#[test]
fn held_kinds_refuse_send_every_on_sse_a_method_and_a_body() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/e\"\nkind = \"sse\"\nhold = \"1s\"\nsend_every = \"1s\"\n\
         [[requests]]\npath = \"/c\"\nkind = \"websocket\"\nhold = \"1s\"\nmethod = \"POST\"\nbody = \"x\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:11:14: requests[0].send_every: not allowed here: `send_every` is for \
             kind = \"websocket\"; an SSE stream only receives",
            "x.toml:16:10: requests[1].method: not allowed here: a kind = \"websocket\" request is \
             always a GET; `method = \"POST\"` is for kind = \"http\"",
            "x.toml:17:8: requests[1].body: not allowed here: `body` is for kind = \"http\"; a \
             kind = \"websocket\" request sends messages with `send_every`",
        ]
    );
}

#[test]
fn held_values_are_checked_and_a_misspelt_kind_is_suggested() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/\"\nkind = \"websockets\"\nhold = \"0s\"\n\
         [[requests]]\npath = \"/\"\nkind = \"websocket\"\nhold = 3\nsend_every = \"-1s\"\n"
    );
    assert_eq!(
        errors(&text),
        [
            "x.toml:9:8: requests[0].kind: expected one of \"http\", \"sse\", \"websocket\", found \
             \"websockets\" (did you mean `websocket`?)",
            "x.toml:10:8: requests[0].hold: expected a duration > 0 such as \"5s\", found \"0s\"",
            "x.toml:14:8: requests[1].hold: expected a duration string such as \"5s\", found an \
             integer (3)",
            "x.toml:15:14: requests[1].send_every: expected a duration string such as \"5s\", found \
             \"-1s\" (durations cannot be negative)",
        ]
    );
}
