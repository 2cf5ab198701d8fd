'use strict';
// The Express application: the same routes, methods, status codes and JSON as coldfront's
// built-in application (targets/src/app/mod.rs).
//
// | route                                   | handler                                    |
// |-----------------------------------------|--------------------------------------------|
// | GET  /api/health                        | 200 {"status":"ok"}, no database           |
// | GET  /api/blogs?category=C              | the category's ten newest posts            |
// | POST /api/blogs                         | bearer token, then INSERT, 201             |
// | POST /api/report?work_ms=N[&async=1]    | N ms of CPU, inline or as a background job |
// | GET  /api/jobs/:id                      | a background job's state                   |
// | GET  /api/events?count=N&interval_ms=M  | Server-Sent Events                         |
// | GET  /api/chat                          | WebSocket echo and broadcast (lib/chat.js) |
// | GET  /api/limited                       | fixed-window rate limit per x-client-key   |
// Any other method on these paths is 405, any other path 404, both {"error": …}.

const crypto = require('node:crypto');
const express = require('express');

const db = require('./db');
const events = require('./events');
const work = require('./work');
const { json, error, pathOf, queryParam, boundedNumber, flag } = require('./respond');
const { NOT_AN_UPGRADE } = require('./chat');

const AUTH_TOKEN = Buffer.from(process.env.AUTH_TOKEN || 'coldfront-dev-token');
const RATE_LIMIT = nonNegativeInt(process.env.RATE_LIMIT, 10);
const RATE_WINDOW_MS = nonNegativeInt(process.env.RATE_WINDOW_MS, 1000) || 1000;

/** Largest accepted POST /api/blogs body; larger is 413. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_TITLE_CHARS = 200;
const MAX_CATEGORY_CHARS = 64;

const LIST = 'SELECT id, title, category, created_at FROM blogs '
  + 'WHERE category = $1 ORDER BY created_at DESC LIMIT 10';
const INSERT = 'INSERT INTO blogs (title, category, body) VALUES ($1, $2, $3) '
  + 'RETURNING id, title, category, created_at';

const ROUTES = new Set(['/api/health', '/api/blogs', '/api/report', '/api/events', '/api/chat', '/api/limited', '/api/jobs']);
const JOBS_PREFIX = '/api/jobs/';

function nonNegativeInt(text, fallback) {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

function blog(row) {
  return { id: Number(row.id), title: row.title, category: row.category, created_at: row.created_at };
}

function dbFailure(res, err) {
  if (err instanceof db.DbError) {
    return json(res, 503, db.dbErrorBody(err), { 'x-coldfront-error': err.kind });
  }
  return error(res, 500, `internal error: ${err.message}`);
}

// GET /api/blogs?category=C
async function listBlogs(req, res) {
  const category = queryParam(req.url, 'category');
  if (category === undefined) return error(res, 400, 'query parameter category is required');
  const chars = [...category].length;
  // \p{Cc} is Rust's char::is_control: it also catches a NUL byte, which PostgreSQL refuses.
  if (chars === 0 || chars > MAX_CATEGORY_CHARS || /\p{Cc}/u.test(category)) {
    return error(res, 400, `query parameter category must be 1 to ${MAX_CATEGORY_CHARS} printable characters`);
  }
  try {
    const rows = await db.query(LIST, [category]);
    json(res, 200, rows.map(blog));
  } catch (err) {
    dbFailure(res, err);
  }
}

/** `Authorization: Bearer <token>`, compared in constant time. */
function authorized(req) {
  const value = req.headers.authorization;
  if (typeof value !== 'string' || !value.startsWith('Bearer ')) return false;
  const given = Buffer.from(value.slice('Bearer '.length), 'latin1');
  return given.length === AUTH_TOKEN.length && crypto.timingSafeEqual(given, AUTH_TOKEN);
}

/** The request body, at most MAX_BODY_BYTES; rejects with {status, message}. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const tooLarge = { status: 413, message: `the body is larger than ${MAX_BODY_BYTES / 1024} KiB` };
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) return reject(tooLarge);
    const chunks = [];
    let size = 0;
    const onData = (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.resume(); // discard the rest
        reject(tooLarge);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', (err) => reject({ status: 400, message: `reading the body: ${err.message}` }));
  });
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** {title, category, body} or the 400 message refusing it. */
function parseNewBlog(bytes) {
  const expected = (why) => ({ error: `expected JSON {"title","category","body"}: ${why}` });
  let value;
  try {
    value = JSON.parse(STRICT_UTF8.decode(bytes));
  } catch (err) {
    return expected(err instanceof TypeError ? 'invalid UTF-8' : err.message);
  }
  // serde accepts a struct as an object or as a sequence of its fields in order.
  if (Array.isArray(value)) {
    if (value.length !== 3) return expected(`invalid length ${value.length}, expected struct NewBlog with 3 elements`);
    value = { title: value[0], category: value[1], body: value[2] };
  }
  if (value === null || typeof value !== 'object') return expected('invalid type, expected struct NewBlog');
  for (const field of ['title', 'category', 'body']) {
    if (!(field in value)) return expected(`missing field \`${field}\``);
    if (typeof value[field] !== 'string') return expected(`invalid type for \`${field}\`, expected a string`);
    if (!value[field].isWellFormed()) return expected(`lone surrogate in \`${field}\``);
  }
  const check = (field, max) => {
    const chars = [...value[field].trim()].length;
    return chars === 0 || chars > max ? `${field} must have 1 to ${max} characters` : null;
  };
  const invalid = check('title', MAX_TITLE_CHARS) || check('category', MAX_CATEGORY_CHARS);
  if (invalid) return { error: invalid };
  // PostgreSQL text cannot hold NUL: refuse it here (400) rather than let the INSERT fail.
  for (const field of ['title', 'category', 'body']) {
    if (value[field].includes('\0')) return { error: `${field} must not contain NUL characters` };
  }
  return { value: { title: value.title, category: value.category, body: value.body } };
}

// POST /api/blogs: the token is checked before the body is read or the database touched.
async function createBlog(req, res) {
  if (!authorized(req)) return error(res, 401, 'unauthorized');
  let bytes;
  try {
    bytes = await readBody(req);
  } catch (refusal) {
    return error(res, refusal.status, refusal.message);
  }
  const parsed = parseNewBlog(bytes);
  if (parsed.error) return error(res, 400, parsed.error);
  const { title, category, body } = parsed.value;
  try {
    const rows = await db.query(INSERT, [title, category, body]);
    json(res, 201, blog(rows[0]));
  } catch (err) {
    dbFailure(res, err);
  }
}

// POST /api/report?work_ms=N[&async=1]
async function runReport(req, res) {
  const workMs = boundedNumber(req.url, 'work_ms', undefined, work.MAX_WORK_MS);
  if (workMs.error) return error(res, 400, workMs.error);
  if (flag(req.url, 'async')) {
    const id = work.jobs.submit(workMs.value);
    return json(res, 202, { job: id }, { location: `/api/jobs/${id}` });
  }
  const done = await work.burnCpu(workMs.value);
  json(res, 200, work.report(workMs.value, done));
}

// GET /api/jobs/:id (any text after the prefix is the id, as in the Rust app)
function jobState(req, res, id) {
  const job = work.jobs.describe(id);
  if (job) return json(res, 200, job);
  error(res, 404, `no job ${id}`);
}

// GET /api/limited: express-rate-limit with its default MemoryStore, which keeps a window per
// key starting at the key's first request, like the Rust limiter. Its counters live in this
// process: one set for a persistent server, a fresh empty set in every serverless instance
// (so N instances let N × RATE_LIMIT through per window). Created on the first request to
// the route, so start-up does not pay for requiring it (its counters start empty either way).
let limiterMiddleware = null;
function limiter(req, res, next) {
  if (!limiterMiddleware) {
    const { rateLimit } = require('express-rate-limit');
    limiterMiddleware = rateLimit({
      windowMs: RATE_WINDOW_MS,
      limit: RATE_LIMIT,
      keyGenerator: (request) => (typeof request.headers['x-client-key'] === 'string' ? request.headers['x-client-key'] : 'anonymous'),
      legacyHeaders: true, // x-ratelimit-limit, x-ratelimit-remaining (and x-ratelimit-reset)
      standardHeaders: false,
      // Whole seconds until the window ends, at least 1, as the Rust app computes it.
      retryAfter: (request) => Math.max(1, Math.ceil((request.rateLimit.resetTime.getTime() - Date.now()) / 1000)),
      handler: (request, response) => error(response, 429, 'rate limited'),
      // It is created once, on the first request, not per request: that check does not apply.
      validate: { creationStack: false },
    });
  }
  return limiterMiddleware(req, res, next);
}

function limited(req, res) {
  json(res, 200, { allowed: true, remaining: req.rateLimit.remaining });
}

/** Unrouted requests: GET /api/jobs/<id>, else 405 on a known path, else 404. */
function fallback(req, res) {
  const path = pathOf(req.url);
  if (req.method === 'GET' && path.startsWith(JOBS_PREFIX)) return jobState(req, res, path.slice(JOBS_PREFIX.length));
  if (ROUTES.has(path) || path.startsWith(JOBS_PREFIX)) return error(res, 405, `${req.method} is not allowed on ${path}`);
  error(res, 404, `no route for ${path}`);
}

function createApp() {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false); // parameters are read from req.url, as the Rust app reads them
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

  // Express answers HEAD with GET routes; the Rust app routes GET only.
  app.use((req, res, next) => (req.method === 'HEAD' ? fallback(req, res) : next()));

  app.get('/api/health', (req, res) => json(res, 200, { status: 'ok' }));
  app.get('/api/blogs', listBlogs);
  app.post('/api/blogs', createBlog);
  app.post('/api/report', runReport);
  app.get('/api/events', events.stream);
  // WebSocket upgrades never reach Express (server.js hands them to lib/chat.js).
  app.get('/api/chat', (req, res) => error(res, 400, NOT_AN_UPGRADE));
  app.get('/api/limited', limiter, limited);
  app.use(fallback);
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    if (res.headersSent) return res.destroy();
    error(res, 500, `internal error: ${err.message}`);
  });
  return app;
}

module.exports = { createApp };
