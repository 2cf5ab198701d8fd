//! The application's schema and seed data: the `blogs` table, its `(category, created_at)`
//! index, [`SEED_ROWS`] deterministic posts spread over [`CATEGORIES`], and the grants the
//! role `app` needs. [`setup`] is idempotent and safe to run concurrently.

use super::{connect, DbError};

/// The seeded categories; each holds `SEED_ROWS / CATEGORIES.len()` posts.
pub const CATEGORIES: [&str; 10] = [
    "rust",
    "go",
    "python",
    "javascript",
    "java",
    "serverless",
    "databases",
    "devops",
    "security",
    "performance",
];

/// How many posts a fresh database is seeded with.
pub const SEED_ROWS: i64 = 1000;

/// Serialises concurrent setups (`pg_advisory_xact_lock` key).
const SETUP_LOCK: i64 = 0x636f_6c64_6672_6f6e; // "coldfron"

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blogs (
    id bigserial PRIMARY KEY,
    title text NOT NULL,
    category text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS blogs_category_created_at_idx ON blogs (category, created_at);
";

/// When the superuser runs setup, the application role still needs to read and write.
const GRANTS: &str = "
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') AND current_user <> 'app' THEN
        GRANT SELECT, INSERT ON blogs TO app;
        GRANT USAGE, SELECT ON SEQUENCE blogs_id_seq TO app;
    END IF;
END
$$;
";

/// Creates the schema, seeds an empty `blogs` table and grants the role `app` access, over
/// `url` (the superuser's or the owner's; the database itself must exist). Running it again
/// changes nothing.
pub async fn setup(url: &str) -> Result<(), DbError> {
    let client = connect(url).await?;
    let script = format!(
        "BEGIN;\nSELECT pg_advisory_xact_lock({SETUP_LOCK});\n{SCHEMA}{seed}{GRANTS}COMMIT;",
        seed = seed_sql()
    );
    client
        .batch_execute(&script)
        .await
        .map_err(DbError::from_query)
}

/// Inserts the seed rows only into an empty table: post `i` is in `CATEGORIES[i % 10]`, one
/// every 37 minutes from 2024-01-01, so every category's newest ten are well defined.
fn seed_sql() -> String {
    let categories = CATEGORIES
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let count = CATEGORIES.len();
    format!(
        "INSERT INTO blogs (title, category, body, created_at)
SELECT format('Post %s about %s', i, c.category),
       c.category,
       repeat(format('Notes on %s, part %s. ', c.category, i), 12),
       timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes'
FROM generate_series(1, {SEED_ROWS}) AS i,
     LATERAL (SELECT (ARRAY[{categories}])[1 + i % {count}] AS category) AS c
WHERE NOT EXISTS (SELECT 1 FROM blogs);\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_sql_names_every_category_and_guards_on_empty() {
        let sql = seed_sql();
        for category in CATEGORIES {
            assert!(sql.contains(&format!("'{category}'")), "{category}");
        }
        assert!(sql.contains("generate_series(1, 1000)"));
        assert!(sql.contains("WHERE NOT EXISTS (SELECT 1 FROM blogs)"));
    }
}
