//! The request path through the gateway: answer what needs no instance (metrics, WebSocket
//! upgrades), get an instance (warm, cold-started, queued, or throttled), send the request
//! over its connection with `max_duration` as the deadline, and relay the response with the
//! `x-coldfront-*` headers and a body that hands the instance back when it ends.

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;
use tokio::time::Instant;

use super::body::InstanceBody;
use super::cold_start::{connect, millis, ColdStart};
use super::gateway::Gateway;
use super::metrics::METRICS_PATH;
use super::pool::{Grant, Lease, Refusal};
use crate::app::response::{self, ERROR_HEADER};
use crate::app::{too_large, Body, MAX_BODY_BYTES};

/// How long an idle instance's connection may take to be ready again before it is given up.
const WARM_READY_WITHIN: Duration = Duration::from_secs(1);

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), and `expect`
/// (the gateway's own server answers `100-continue`).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "proxy-authenticate",
];

/// Who served a response, for its headers.
struct Served {
    id: u64,
    pid: u32,
    cold_start: Option<ColdStart>,
    /// A cold start's first request: from sending it to the instance to its response head.
    first_response: Option<Duration>,
}

impl Gateway {
    /// Answers one client request.
    pub async fn respond(&self, request: Request<Incoming>) -> Response<Body> {
        if request.uri().path() == METRICS_PATH {
            let document = self
                .stats
                .document(self.pool.idle_count(), self.pool.max_instances());
            return response::json(StatusCode::OK, &document);
        }
        self.stats.request();
        if request.headers().contains_key(header::UPGRADE) {
            return gateway_error(
                StatusCode::NOT_IMPLEMENTED,
                "WEBSOCKETS_UNSUPPORTED",
                "websockets_unsupported",
            );
        }
        if declared_length(&request).is_some_and(|length| length > MAX_BODY_BYTES as u64) {
            // Refused before an instance is involved: an instance answering early while the
            // body still streams in would break its connection and be discarded.
            return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, &too_large(), "too_large");
        }
        match self.acquire().await {
            Ok(lease) => self.forward(lease, request).await,
            Err(refused) => refused,
        }
    }

    /// A warm instance whose connection is ready, else a cold-started one; or the response
    /// that says why there is none.
    async fn acquire(&self) -> Result<Lease, Response<Body>> {
        loop {
            match self.pool.checkout(self.queue_timeout).await {
                Ok(Grant::Warm(mut lane)) => {
                    if lane.sender.is_closed() {
                        // A command instance closed an idle connection: connect again.
                        let Some(addr) = lane.running.addr else {
                            continue;
                        };
                        let Ok(sender) = connect(addr).await else {
                            continue;
                        };
                        lane.sender = sender;
                    }
                    let ready = tokio::time::timeout(WARM_READY_WITHIN, lane.sender.ready()).await;
                    if matches!(ready, Ok(Ok(()))) {
                        return Ok(Lease::new(lane, &self.pool));
                    }
                    // Died while idle: it retires here; try the next one.
                }
                Ok(Grant::Cold(slot)) => {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    return match self.starter.start(id, slot, &self.pool).await {
                        Ok(lane) => Ok(Lease::new(lane, &self.pool)),
                        Err(failure) => Err(failure.response(id)),
                    };
                }
                Err(Refusal::Throttled) => {
                    self.stats.throttled();
                    return Err(gateway_error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "TOO_MANY_REQUESTS",
                        "throttled",
                    ));
                }
                Err(Refusal::Closed) => {
                    return Err(gateway_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "SHUTTING_DOWN",
                        "shutting_down",
                    ))
                }
            }
        }
    }

    /// Sends `request` to the leased instance and relays its answer, within `max_duration`.
    async fn forward(&self, mut lease: Lease, request: Request<Incoming>) -> Response<Body> {
        let sent_at = Instant::now();
        let deadline = sent_at + self.max_duration;
        let lane = lease.lane();
        let mut served = Served {
            id: lane.running.id,
            pid: lane.running.pid,
            cold_start: lane.cold_start.take(),
            first_response: None,
        };
        let sent = lane.sender.send_request(to_instance(request));
        match tokio::time::timeout_at(deadline, sent).await {
            Ok(Ok(response)) => {
                if let Some(cold_start) = &served.cold_start {
                    let first_response = sent_at.elapsed();
                    served.first_response = Some(first_response);
                    self.stats.cold_start_served(cold_start, first_response);
                }
                relay(response, lease, deadline, &served)
            }
            Ok(Err(error)) => {
                drop(lease);
                let message = format!("instance {} failed during the request: {error}", served.id);
                let mut response = response::json(
                    StatusCode::BAD_GATEWAY,
                    &json!({"error": "INSTANCE_CRASHED", "message": message}),
                );
                mark(&mut response, "instance_crashed");
                served.add_headers(response.headers_mut());
                response
            }
            Err(_) => {
                lease.kill();
                let mut response = gateway_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "FUNCTION_INVOCATION_TIMEOUT",
                    "function_timeout",
                );
                served.add_headers(response.headers_mut());
                response
            }
        }
    }
}

/// The instance's response, with its connection headers replaced by the gateway's own.
fn relay(
    response: Response<Incoming>,
    lease: Lease,
    deadline: Instant,
    served: &Served,
) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    served.add_headers(&mut parts.headers);
    Response::from_parts(parts, InstanceBody::new(body, lease, deadline).boxed())
}

impl Served {
    fn add_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-coldfront-instance", HeaderValue::from(self.id));
        headers.insert("x-coldfront-instance-pid", HeaderValue::from(self.pid));
        let cold = if self.cold_start.is_some() { "1" } else { "0" };
        headers.insert("x-coldfront-cold", HeaderValue::from_static(cold));
        if let Some(cold_start) = &self.cold_start {
            cold_start.add_headers(headers);
        }
        if let Some(first_response) = self.first_response {
            headers.insert("x-coldfront-first-response-ms", millis(first_response));
        }
    }
}

/// The client's request as the instance gets it: origin-form URI, HTTP/1.1, its own `Host`,
/// no connection headers.
fn to_instance(request: Request<Incoming>) -> Request<Incoming> {
    let (mut parts, body) = request.into_parts();
    parts.uri = parts
        .uri
        .path_and_query()
        .map_or_else(|| Uri::from_static("/"), |path| Uri::from(path.clone()));
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    if !parts.headers.contains_key(header::HOST) {
        parts
            .headers
            .insert(header::HOST, HeaderValue::from_static("instance"));
    }
    Request::from_parts(parts, body)
}

/// Removes the hop-by-hop headers and those the `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    for name in named.iter().map(String::as_str).chain(HOP_BY_HOP) {
        headers.remove(name);
    }
}

/// A response the gateway makes itself: `{"error": error}` and `x-coldfront-error: kind`.
/// The request's `Content-Length`, when it has a valid one.
fn declared_length<B>(request: &Request<B>) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn gateway_error(status: StatusCode, error: &str, kind: &'static str) -> Response<Body> {
    let mut response = response::error(status, error);
    mark(&mut response, kind);
    response
}

fn mark(response: &mut Response<Body>, kind: &'static str) {
    response
        .headers_mut()
        .insert(ERROR_HEADER, HeaderValue::from_static(kind));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_removed() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-private"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("content-type", "application/json"),
            ("authorization", "Bearer t"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(|name| name.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["authorization", "content-type"]);
    }

    #[test]
    fn gateway_errors_name_their_kind() {
        let response = gateway_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "throttled",
        );
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[ERROR_HEADER], "throttled");
    }

    #[test]
    fn cold_responses_carry_the_breakdown() {
        let served = Served {
            id: 3,
            pid: 1234,
            cold_start: Some(ColdStart {
                init: Duration::from_micros(12_345),
                spawn: Duration::from_micros(900),
                runtime_init: Some(Duration::from_millis(10)),
                ..ColdStart::default()
            }),
            first_response: Some(Duration::from_micros(1_500)),
        };
        let mut headers = HeaderMap::new();
        served.add_headers(&mut headers);
        assert_eq!(headers["x-coldfront-instance"], "3");
        assert_eq!(headers["x-coldfront-cold"], "1");
        assert_eq!(headers["x-coldfront-init-ms"], "12.345");
        assert_eq!(headers["x-coldfront-spawn-ms"], "0.900");
        assert!(!headers.contains_key("x-coldfront-db-connect-ms"));
        assert_eq!(headers["x-coldfront-first-response-ms"], "1.500");
        let warm = Served {
            cold_start: None,
            first_response: None,
            ..served
        };
        let mut headers = HeaderMap::new();
        warm.add_headers(&mut headers);
        assert_eq!(headers["x-coldfront-cold"], "0");
        assert!(!headers.contains_key("x-coldfront-init-ms"));
    }
}
