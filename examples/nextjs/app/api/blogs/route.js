// GET /api/blogs?category=C: the category's ten newest posts. POST /api/blogs: bearer token
// checked before the body is read or the database touched, then one INSERT … RETURNING, 201.
// (targets/src/app/blogs.rs)
import { timingSafeEqual } from "node:crypto";

import { query, DbError } from "../../../lib/db.js";
import { error, json, notAllowed, queryParam } from "../../../lib/http.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const LIST =
  "SELECT id, title, category, created_at FROM blogs " +
  "WHERE category = $1 ORDER BY created_at DESC LIMIT 10";
const INSERT =
  "INSERT INTO blogs (title, category, body) VALUES ($1, $2, $3) " +
  "RETURNING id, title, category, created_at";

/** Largest accepted request body; a larger one is refused with 413. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_TITLE_CHARS = 200;
const MAX_CATEGORY_CHARS = 64;

/** A post as the API returns it (`created_at` in RFC 3339, UTC, milliseconds). */
function blog(row) {
  return {
    id: Number(row.id), // bigint arrives as a string
    title: row.title,
    category: row.category,
    created_at: row.created_at.toISOString(),
  };
}

function dbFailure(err) {
  if (err instanceof DbError) return err.toResponse();
  throw err;
}

const chars = (text) => [...text].length;
const CONTROL = /\p{Cc}/u;

export async function GET(request) {
  const category = queryParam(request, "category");
  if (category === null) return error(400, "query parameter category is required");
  const n = chars(category);
  if (n === 0 || n > MAX_CATEGORY_CHARS || CONTROL.test(category)) {
    return error(
      400,
      `query parameter category must be 1 to ${MAX_CATEGORY_CHARS} printable characters`,
    );
  }
  try {
    const rows = await query(LIST, [category]);
    return json(200, rows.map(blog));
  } catch (err) {
    return dbFailure(err);
  }
}

export async function POST(request) {
  if (!authorized(request)) return error(401, "unauthorized");
  let fields;
  try {
    fields = await readNewBlog(request);
  } catch (refusal) {
    if (refusal instanceof Refusal) return error(refusal.status, refusal.message);
    throw refusal;
  }
  try {
    const rows = await query(INSERT, [fields.title, fields.category, fields.body]);
    return json(201, blog(rows[0]));
  } catch (err) {
    return dbFailure(err);
  }
}

export { notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };

/** `Authorization: Bearer <AUTH_TOKEN>`, compared in constant time. */
function authorized(request) {
  const value = request.headers.get("authorization");
  if (!value?.startsWith("Bearer ")) return false;
  const given = Buffer.from(value.slice("Bearer ".length));
  const expected = Buffer.from(process.env.AUTH_TOKEN || "coldfront-dev-token");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

class Refusal extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The body's bytes, refusing (413) as soon as more than MAX_BODY_BYTES arrive. */
async function readLimited(request) {
  const tooLarge = () => new Refusal(413, `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  const declared = Number(request.headers.get("content-length"));
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const parts = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        reader.cancel().catch(() => {});
        throw tooLarge();
      }
      parts.push(value);
    }
  } catch (err) {
    if (err instanceof Refusal) throw err;
    throw new Refusal(400, `reading the body: ${err.message}`);
  }
  return Buffer.concat(parts, size);
}

/** The new post `{title, category, body}`, or a Refusal (413 too large, 400 anything else). */
async function readNewBlog(request) {
  const bytes = await readLimited(request);
  const expected = 'expected JSON {"title","category","body"}';
  let value;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new Refusal(400, `${expected}: ${err.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Refusal(400, `${expected}: not an object`);
  }
  for (const field of ["title", "category", "body"]) {
    if (!(field in value)) throw new Refusal(400, `${expected}: missing field \`${field}\``);
    if (typeof value[field] !== "string") {
      throw new Refusal(400, `${expected}: field \`${field}\` must be a string`);
    }
    // PostgreSQL text cannot hold NUL: refused here as bad input, not left to the database.
    if (value[field].includes("\u0000")) {
      throw new Refusal(400, `${field} must not contain NUL characters`);
    }
  }
  for (const [field, max] of [
    ["title", MAX_TITLE_CHARS],
    ["category", MAX_CATEGORY_CHARS],
  ]) {
    const n = chars(value[field].trim());
    if (n === 0 || n > max) throw new Refusal(400, `${field} must have 1 to ${max} characters`);
  }
  return { title: value.title, category: value.category, body: value.body };
}
