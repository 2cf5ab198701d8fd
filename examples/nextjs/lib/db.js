// Database access in the two patterns of "Next.js API Routes vs Express":
//
//   DB_PATTERN=singleton (default): one pg.Pool per process, created lazily on the first
//     request that needs it and cached on globalThis (module state is not enough: each route
//     handler is its own bundle). Its size is PG_POOL_MAX (default 1: one connection per
//     serverless instance; a persistent deployment raises it).
//   DB_PATTERN=naive: a new pg.Client connected for every request and ended after it: the
//     pattern the article warns about (one connection, with its TCP + startup + auth round
//     trips, per request).
//
// Every failure becomes a DbError with the kinds of coldfront's Rust application
// (targets/src/db.rs) and is answered with the same 503 body and x-coldfront-error header.

import pg from "pg";
import { json } from "./http.js";

/** How long making one connection may take (the Rust CONNECT_TIMEOUT). */
const CONNECT_TIMEOUT_MS = 5000;
const TOO_MANY_CONNECTIONS = "53300";

export class DbError extends Error {
  /** kind: too_many_connections | pool_timeout | connect | query. */
  constructor(kind, message, sqlstate = null) {
    super(message);
    this.kind = kind;
    this.sqlstate = sqlstate;
  }

  /** 503 `{"error":"database","kind":…,"sqlstate":…,"message":…}`. */
  toResponse() {
    return json(
      503,
      { error: "database", kind: this.kind, sqlstate: this.sqlstate, message: this.message },
      { "x-coldfront-error": this.kind },
    );
  }
}

function tooMany(err) {
  return new DbError(
    "too_many_connections",
    `too many connections (SQLSTATE ${TOO_MANY_CONNECTIONS}): ${err.message}`,
    TOO_MANY_CONNECTIONS,
  );
}

/** A failure while establishing a connection (or waiting for a pooled one). */
function fromConnect(err) {
  if (err instanceof DbError) return err;
  if (err?.code === TOO_MANY_CONNECTIONS) return tooMany(err);
  if (err?.message === "timeout exceeded when trying to connect") {
    // pg-pool: every pooled connection stayed busy for connectionTimeoutMillis.
    return new DbError("pool_timeout", "timed out waiting for a free pooled connection");
  }
  if (/connection timeout/.test(err?.message ?? "")) {
    return new DbError(
      "connect",
      `database connection failed: no connection within ${CONNECT_TIMEOUT_MS / 1000}s`,
    );
  }
  if (typeof err?.code === "string" && /^[0-9A-Z]{5}$/.test(err.code) && err.severity) {
    return new DbError(
      "connect",
      `database connection failed: ${err.message} (SQLSTATE ${err.code})`,
    );
  }
  return new DbError("connect", `database connection failed: ${chain(err)}`);
}

/** A failure while running a statement on an open connection. */
function fromQuery(err) {
  if (err?.code === TOO_MANY_CONNECTIONS) return tooMany(err);
  if (err?.severity && typeof err.code === "string") {
    return new DbError("query", `query failed: ${err.message}`, err.code);
  }
  // No SQLSTATE: the connection broke (terminated, reset, not queryable).
  return new DbError("connect", `database connection failed: ${chain(err)}`);
}

/** Whether the error leaves the connection unusable (it must not go back to the pool). */
function broken(err) {
  return !(err?.severity && typeof err.code === "string");
}

function chain(err) {
  let text = String(err?.message ?? err);
  for (let cause = err?.cause; cause; cause = cause.cause) text += `: ${cause.message ?? cause}`;
  if (err?.code && !text.includes(err.code)) text += ` (${err.code})`;
  return text;
}

function settings() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new DbError("connect", "database connection failed: DATABASE_URL is not set");
  return { connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
}

function wholeEnv(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new DbError("connect", `${name} must be a whole number, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** The configured pattern: `singleton` or `naive`. */
export function pattern() {
  const value = process.env.DB_PATTERN || "singleton";
  if (value !== "singleton" && value !== "naive") {
    throw new DbError(
      "connect",
      `DB_PATTERN must be singleton or naive, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

const POOL = Symbol.for("coldfront.nextjs.pool");

/** The process's pool, made on first use. */
function sharedPool() {
  if (!globalThis[POOL]) {
    const pool = new pg.Pool({
      ...settings(),
      max: Math.max(1, wholeEnv("PG_POOL_MAX", 1)),
      // Keep idle connections: an instance keeps its connection as long as it lives.
      idleTimeoutMillis: wholeEnv("PG_IDLE_TIMEOUT_MS", 0),
    });
    // An idle connection that breaks is dropped by the pool; without a listener the
    // 'error' event would crash the process.
    pool.on("error", (err) => console.error(`idle database connection failed: ${err.message}`));
    globalThis[POOL] = pool;
  }
  return globalThis[POOL];
}

/**
 * Runs `text` with `values` on a connection of the configured pattern and returns its rows.
 * One statement, one round trip (the extended protocol's unnamed statement, as the Rust app's
 * query_typed). Throws DbError.
 */
export async function query(text, values) {
  if (pattern() === "naive") return queryNaive(text, values);
  const pool = sharedPool();
  let client;
  try {
    client = await pool.connect();
  } catch (err) {
    throw fromConnect(err);
  }
  let failure;
  try {
    return (await client.query(text, values)).rows;
  } catch (err) {
    failure = err;
    throw fromQuery(err);
  } finally {
    client.release(failure !== undefined && broken(failure) ? failure : undefined);
  }
}

async function queryNaive(text, values) {
  const client = new pg.Client(settings());
  client.on("error", () => {}); // reported through the failing connect/query instead
  try {
    try {
      await client.connect();
    } catch (err) {
      throw fromConnect(err);
    }
    try {
      return (await client.query(text, values)).rows;
    } catch (err) {
      throw fromQuery(err);
    }
  } finally {
    await client.end().catch(() => {});
  }
}
