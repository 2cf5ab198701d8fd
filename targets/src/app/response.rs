//! Building the application's responses: JSON bodies, `{"error": …}` bodies, and the 503 a
//! [`DbError`] becomes. Public so a runtime's own responses (throttling, timeouts) look the same.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use serde::Serialize;
use serde_json::json;

use super::Body;
use crate::db::DbError;

/// The header naming a failure's kind (`too_many_connections`, `pool_timeout`, …).
pub const ERROR_HEADER: &str = "x-coldfront-error";

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// `status` with `value` as its JSON body.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(value).expect("JSON values always serialize");
    let mut response = Response::new(full(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `status` with `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &json!({ "error": message }))
}

/// 503 `{"error":"database","kind":…,"sqlstate":…,"message":…}` with `x-coldfront-error: kind`.
pub fn db_error(error: &DbError) -> Response<Body> {
    let mut response = json(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({
            "error": "database",
            "kind": error.kind(),
            "sqlstate": error.sqlstate(),
            "message": error.to_string(),
        }),
    );
    response
        .headers_mut()
        .insert(ERROR_HEADER, HeaderValue::from_static(error.kind()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response<Body>) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn db_errors_are_503_with_kind_and_sqlstate() {
        let response = db_error(&DbError::TooManyConnections {
            message: "sorry, too many clients already".into(),
        });
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[ERROR_HEADER], "too_many_connections");
        let body = body_json(response).await;
        assert_eq!(body["error"], "database");
        assert_eq!(body["kind"], "too_many_connections");
        assert_eq!(body["sqlstate"], "53300");
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("too many clients"));
    }

    #[tokio::test]
    async fn errors_are_json() {
        let response = error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(body_json(response).await, json!({"error": "unauthorized"}));
    }
}
