-- coldfront's built-in schema and seed data (targets/src/db/schema.rs), for applications
-- that bring their own code but share the built-in database shape (examples/express).
--
-- Idempotent and safe to run concurrently: the table and index are created only if missing,
-- the 1000 seed posts are inserted only into an empty table, and concurrent runs queue on
-- the same advisory lock as the built-in setup. Run it as the role that owns the database:
--     psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f examples/schema.sql

BEGIN;

-- 7165064710641053550 = 0x636f6c6466726f6e ("coldfron"), the built-in setup's lock key.
SELECT pg_advisory_xact_lock(7165064710641053550);

CREATE TABLE IF NOT EXISTS blogs (
    id bigserial PRIMARY KEY,
    title text NOT NULL,
    category text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS blogs_category_created_at_idx ON blogs (category, created_at);

-- Post i is in category i % 10 (of the ten below, 1-based array), one every 37 minutes
-- from 2024-01-01 UTC, so every category's newest ten are well defined.
INSERT INTO blogs (title, category, body, created_at)
SELECT format('Post %s about %s', i, c.category),
       c.category,
       repeat(format('Notes on %s, part %s. ', c.category, i), 12),
       timestamptz '2024-01-01 00:00:00+00' + i * interval '37 minutes'
FROM generate_series(1, 1000) AS i,
     LATERAL (SELECT (ARRAY['rust', 'go', 'python', 'javascript', 'java', 'serverless', 'databases', 'devops', 'security', 'performance'])[1 + i % 10] AS category) AS c
WHERE NOT EXISTS (SELECT 1 FROM blogs);

COMMIT;
