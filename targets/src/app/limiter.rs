//! `GET /api/limited`: an in-memory fixed-window rate limiter keyed by `x-client-key`
//! (default `anonymous`). Its state lives in one process: the persistent server shares one
//! limiter, while each serverless instance starts with empty counters of its own.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use http::{HeaderValue, Request, Response, StatusCode};
use parking_lot::Mutex;
use serde_json::json;

use super::{response, Body, Services};

/// The header naming the client a request is counted against.
pub const CLIENT_KEY_HEADER: &str = "x-client-key";
const DEFAULT_CLIENT_KEY: &str = "anonymous";
/// Expired windows are swept when the table grows past this many keys.
const SWEEP_ABOVE: usize = 4096;

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests still allowed in this window.
    pub remaining: u32,
    /// When this window ends.
    pub reset_after: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// At most `limit` requests per key in each window of `window`, the window starting at the
/// key's first request after the previous one ended.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            windows: Mutex::default(),
        }
    }

    /// Counts one request from `key` now.
    pub fn check(&self, key: &str) -> Decision {
        self.check_at(key, Instant::now())
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    fn check_at(&self, key: &str, now: Instant) -> Decision {
        let mut windows = self.windows.lock();
        if windows.len() > SWEEP_ABOVE && !windows.contains_key(key) {
            windows.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        let window = windows.entry(key.to_string()).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(window.started) >= self.window {
            *window = Window {
                started: now,
                count: 0,
            };
        }
        let allowed = window.count < self.limit;
        if allowed {
            window.count += 1;
        }
        Decision {
            allowed,
            remaining: self.limit - window.count,
            reset_after: self
                .window
                .saturating_sub(now.duration_since(window.started)),
        }
    }
}

/// 200 while the client is under the limit, else 429 `{"error":"rate limited"}` with
/// `retry-after`; both carry `x-ratelimit-limit` and `x-ratelimit-remaining`.
pub fn handle<B>(services: &Services, request: &Request<B>) -> Response<Body> {
    let key = request
        .headers()
        .get(CLIENT_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or(DEFAULT_CLIENT_KEY);
    let decision = services.limiter.check(key);
    let mut response = if decision.allowed {
        response::json(
            StatusCode::OK,
            &json!({ "allowed": true, "remaining": decision.remaining }),
        )
    } else {
        let mut response = response::error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
        let retry_after = decision.reset_after.as_secs_f64().ceil().max(1.0) as u64;
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(retry_after));
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        "x-ratelimit-limit",
        HeaderValue::from(services.limiter.limit()),
    );
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_per_window_per_key() {
        let limiter = RateLimiter::new(3, Duration::from_secs(1));
        let start = Instant::now();
        let allowed: Vec<bool> = (0..5)
            .map(|i| {
                limiter
                    .check_at("a", start + Duration::from_millis(i))
                    .allowed
            })
            .collect();
        assert_eq!(allowed, [true, true, true, false, false]);
        assert!(limiter.check_at("b", start).allowed, "keys are independent");
        let denied = limiter.check_at("a", start + Duration::from_millis(400));
        assert_eq!(denied.remaining, 0);
        assert_eq!(denied.reset_after, Duration::from_millis(600));
    }

    #[test]
    fn a_new_window_starts_after_the_last_one_ends() {
        let limiter = RateLimiter::new(1, Duration::from_secs(1));
        let start = Instant::now();
        assert!(limiter.check_at("a", start).allowed);
        assert!(
            !limiter
                .check_at("a", start + Duration::from_millis(999))
                .allowed
        );
        let next = limiter.check_at("a", start + Duration::from_millis(1000));
        assert!(next.allowed);
        assert_eq!(next.remaining, 0);
    }

    #[test]
    fn expired_keys_are_swept() {
        let limiter = RateLimiter::new(1, Duration::from_secs(1));
        let start = Instant::now();
        for i in 0..=SWEEP_ABOVE {
            limiter.check_at(&i.to_string(), start);
        }
        limiter.check_at("late", start + Duration::from_secs(2));
        assert_eq!(limiter.windows.lock().len(), 1);
    }
}
