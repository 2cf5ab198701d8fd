//! `GET /api/blogs?category=C` (the category's ten newest posts) and `POST /api/blogs` (bearer
//! token checked before the database is touched, then one INSERT). Each statement is one
//! round trip (`query_typed`: no separate prepare), the same in every runtime.

use http::{header, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde::{Deserialize, Serialize};
use tokio_postgres::types::Type;
use tokio_postgres::Row;

use super::request::query_param;
use super::{response, AppConfig, Body, Services};
use crate::db::DbError;

const LIST: &str = "SELECT id, title, category, created_at FROM blogs \
                    WHERE category = $1 ORDER BY created_at DESC LIMIT 10";
const INSERT: &str = "INSERT INTO blogs (title, category, body) VALUES ($1, $2, $3) \
                      RETURNING id, title, category, created_at";

/// Largest accepted request body (`POST /api/blogs`); a larger one is refused with 413, by
/// the app and, before any instance sees it, by the serverless gateway.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_TITLE_CHARS: usize = 200;
const MAX_CATEGORY_CHARS: usize = 64;

/// A post as the API returns it (`created_at` in RFC 3339, UTC).
#[derive(Debug, Serialize)]
struct Blog {
    id: i64,
    title: String,
    category: String,
    created_at: String,
}

impl Blog {
    fn from_row(row: &Row) -> Result<Blog, DbError> {
        let read = |error: tokio_postgres::Error| DbError::from_query(error);
        let created_at: std::time::SystemTime = row.try_get("created_at").map_err(read)?;
        Ok(Blog {
            id: row.try_get("id").map_err(read)?,
            title: row.try_get("title").map_err(read)?,
            category: row.try_get("category").map_err(read)?,
            created_at: humantime::format_rfc3339_millis(created_at).to_string(),
        })
    }
}

#[derive(Debug, Deserialize)]
struct NewBlog {
    title: String,
    category: String,
    body: String,
}

pub async fn list<B>(services: &Services, request: &Request<B>) -> Response<Body> {
    let Some(category) = query_param(request.uri(), "category") else {
        return response::error(
            StatusCode::BAD_REQUEST,
            "query parameter category is required",
        );
    };
    let chars = category.chars().count();
    if chars == 0 || chars > MAX_CATEGORY_CHARS || category.chars().any(char::is_control) {
        let message = format!(
            "query parameter category must be 1 to {MAX_CATEGORY_CHARS} printable characters"
        );
        return response::error(StatusCode::BAD_REQUEST, &message);
    }
    match fetch_category(services, &category).await {
        Ok(blogs) => response::json(StatusCode::OK, &blogs),
        Err(error) => response::db_error(&error),
    }
}

async fn fetch_category(services: &Services, category: &str) -> Result<Vec<Blog>, DbError> {
    let client = services.db.client().await?;
    let rows = client
        .query_typed(LIST, &[(&category, Type::TEXT)])
        .await
        .map_err(DbError::from_query)?;
    rows.iter().map(Blog::from_row).collect()
}

pub async fn create(
    config: &AppConfig,
    services: &Services,
    request: Request<hyper::body::Incoming>,
) -> Response<Body> {
    if !authorized(config, &request) {
        return response::error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let new = match read_new_blog(request).await {
        Ok(new) => new,
        Err((status, message)) => return response::error(status, &message),
    };
    match insert(services, &new).await {
        Ok(blog) => response::json(StatusCode::CREATED, &blog),
        Err(error) => response::db_error(&error),
    }
}

/// `Authorization: Bearer <auth_token>`, compared in constant time.
fn authorized<B>(config: &AppConfig, request: &Request<B>) -> bool {
    let Some(given) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return false;
    };
    let expected = config.auth_token.as_bytes();
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The new post, or the status and message that refuse it: 413 for a body over
/// [`MAX_BODY_BYTES`], 400 for anything else wrong with it.
async fn read_new_blog(
    request: Request<hyper::body::Incoming>,
) -> Result<NewBlog, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let bytes = Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                (StatusCode::PAYLOAD_TOO_LARGE, too_large())
            } else {
                bad(format!("reading the body: {e}"))
            }
        })?
        .to_bytes();
    let new: NewBlog = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "expected JSON {{\"title\",\"category\",\"body\"}}: {e}"
        ))
    })?;
    validate(&new).map_err(bad)?;
    Ok(new)
}

/// The message of a 413.
pub fn too_large() -> String {
    format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024)
}

fn validate(new: &NewBlog) -> Result<(), String> {
    let check = |field: &str, value: &str, max: usize| {
        let chars = value.trim().chars().count();
        if chars == 0 || chars > max {
            Err(format!("{field} must have 1 to {max} characters"))
        } else {
            Ok(())
        }
    };
    check("title", &new.title, MAX_TITLE_CHARS)?;
    check("category", &new.category, MAX_CATEGORY_CHARS)
}

async fn insert(services: &Services, new: &NewBlog) -> Result<Blog, DbError> {
    let client = services.db.client().await?;
    let row = client
        .query_typed_one(
            INSERT,
            &[
                (&new.title, Type::TEXT),
                (&new.category, Type::TEXT),
                (&new.body, Type::TEXT),
            ],
        )
        .await
        .map_err(DbError::from_query)?;
    Blog::from_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: Option<&str>) -> Request<()> {
        let mut builder = Request::post("/api/blogs");
        if let Some(value) = value {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn only_the_exact_bearer_token_is_authorized() {
        let config = AppConfig::default();
        assert!(authorized(
            &config,
            &with_auth(Some("Bearer coldfront-dev-token"))
        ));
        for value in [
            None,
            Some("Bearer coldfront-dev-tokex"),
            Some("Bearer coldfront-dev-token2"),
            Some("Basic coldfront-dev-token"),
            Some("coldfront-dev-token"),
        ] {
            assert!(!authorized(&config, &with_auth(value)), "{value:?}");
        }
    }

    #[test]
    fn titles_and_categories_must_be_present_and_short() {
        let blog = |title: &str, category: &str| NewBlog {
            title: title.into(),
            category: category.into(),
            body: String::new(),
        };
        assert!(validate(&blog("Hello", "rust")).is_ok());
        assert!(validate(&blog("  ", "rust")).is_err());
        assert!(validate(&blog("Hello", "")).is_err());
        assert!(validate(&blog(&"x".repeat(201), "rust")).is_err());
    }
}
