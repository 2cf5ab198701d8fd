//! The application: its routes and handlers, identical in both runtimes. A runtime hands every
//! request to [`handle`] with its [`AppConfig`] and [`Services`]; handlers know nothing else of
//! the runtime hosting them.
//!
//! | route | handler |
//! |---|---|
//! | `GET /api/health` | 200 `{"status":"ok"}`, no database |
//! | `GET /api/blogs?category=C` | the category's ten newest posts |
//! | `POST /api/blogs` | bearer token, then INSERT, 201 |
//! | `POST /api/report?work_ms=N[&async=1]` | N ms of CPU, inline or as a background job |
//! | `GET /api/jobs/{id}` | a background job's state |
//! | `GET /api/events?count=N&interval_ms=M` | Server-Sent Events |
//! | `GET /api/chat` | WebSocket echo and broadcast |
//! | `GET /api/limited` | fixed-window rate limit per `x-client-key` |

mod blogs;
mod chat;
mod events;
mod jobs;
mod limiter;
mod report;
mod request;
pub mod response;

use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use serde_json::json;

pub use blogs::{too_large, MAX_BODY_BYTES};
pub use jobs::{JobCounts, Jobs};
pub use limiter::{Decision, RateLimiter};

/// Every response body of the application.
pub type Body = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// The application's settings, the same in both runtimes.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `POST /api/blogs` needs `Authorization: Bearer <auth_token>`.
    pub auth_token: String,
    /// `GET /api/limited`: requests allowed per client key and window.
    pub rate_limit: u32,
    pub rate_window: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            auth_token: "coldfront-dev-token".into(),
            rate_limit: 10,
            rate_window: Duration::from_secs(1),
        }
    }
}

/// What the hosting runtime hands the handlers: the handlers know nothing else of it.
pub struct Services {
    pub db: Arc<crate::db::DbAccess>,
    /// Per process: shared in persistent, per instance in serverless.
    pub limiter: Arc<RateLimiter>,
    /// Some in persistent (background jobs), None in serverless.
    pub jobs: Option<Arc<Jobs>>,
    /// Persistent true; serverless false (501 `WEBSOCKETS_UNSUPPORTED`).
    pub websockets: bool,
}

/// The whole application: routes a request to its handler.
pub async fn handle(
    config: &AppConfig,
    services: &Services,
    request: Request<hyper::body::Incoming>,
) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match (&method, path.as_str()) {
        (&Method::GET, "/api/health") => response::json(StatusCode::OK, &json!({"status": "ok"})),
        (&Method::GET, "/api/blogs") => blogs::list(services, &request).await,
        (&Method::POST, "/api/blogs") => blogs::create(config, services, request).await,
        (&Method::POST, "/api/report") => report::handle(services, &request).await,
        (&Method::GET, "/api/events") => events::stream(&request),
        (&Method::GET, "/api/chat") => chat::upgrade(services, request),
        (&Method::GET, "/api/limited") => limiter::handle(services, &request),
        (&Method::GET, path) if path.starts_with(JOBS_PREFIX) => {
            jobs::handle(services, &path[JOBS_PREFIX.len()..])
        }
        (_, path) if is_route(path) => response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} is not allowed on {path}"),
        ),
        (_, path) => response::error(StatusCode::NOT_FOUND, &format!("no route for {path}")),
    }
}

const JOBS_PREFIX: &str = "/api/jobs/";

fn is_route(path: &str) -> bool {
    const ROUTES: [&str; 7] = [
        "/api/health",
        "/api/blogs",
        "/api/report",
        "/api/events",
        "/api/chat",
        "/api/limited",
        "/api/jobs",
    ];
    ROUTES.contains(&path) || path.starts_with(JOBS_PREFIX)
}
