'use strict';
// The database: ONE pg.Pool per process, created when the module is first required (at
// start-up) and shared by every request. Creating a pool opens no connection: the first
// query connects, so start-up (and a serverless cold start) does not wait for PostgreSQL.
//
// Persistent deployment: one process, so one pool of at most PG_POOL_MAX connections serves
// all traffic and connections are reused across requests.
// Serverless deployment: one process per instance, so every instance has its own pool; N
// warm instances hold up to N × PG_POOL_MAX connections, and a cold instance pays for a fresh
// connection on its first query. That is the "singleton" pattern: the pool lives in module
// scope, outside the handler, so it survives between the requests one instance serves.
//
// Failures become the Rust app's DbError kinds (targets/src/db.rs): 503
// {"error":"database","kind","message","sqlstate"} with `x-coldfront-error: <kind>`.

const pg = require('pg');

/** How long establishing one connection, or waiting for a free pooled one, may take. */
const CONNECT_TIMEOUT_MS = 5000;
const TOO_MANY_CONNECTIONS = '53300';
const TIMESTAMPTZ_OID = 1184;

/**
 * timestamptz as RFC 3339 UTC with milliseconds (truncated, like humantime's
 * format_rfc3339_millis), parsed from PostgreSQL's text without floating-point rounding.
 */
function parseTimestamptz(text) {
  const m = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(text);
  if (!m) return text; // infinity, BC dates: not produced by this schema
  const millis = Number(((m[7] || '') + '000').slice(0, 3));
  const offsetSeconds = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] || 0) * 60 + Number(m[11] || 0));
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), millis);
  return new Date(utc - offsetSeconds * 1000).toISOString();
}

const types = {
  getTypeParser(oid, format) {
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return pg.types.getTypeParser(oid, format);
  },
};

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: positiveInt(process.env.PG_POOL_MAX, 10),
  // Both the wait for a free connection and making one are bounded, like the Rust pool
  // (deadpool: wait 5 s, create 5 s): a database problem is a 503, never a hang.
  connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  // Keep idle connections open for the life of the process, like deadpool (pg's default
  // closes them after 10 s idle, which would add reconnects after every quiet spell).
  idleTimeoutMillis: 0,
  types,
});

// An idle pooled connection can fail (PostgreSQL restarted, connection killed); pg then
// drops it from the pool. Without a listener the 'error' would crash the process.
pool.on('error', (err) => {
  console.error(`idle database connection failed: ${err.message}`);
});

function positiveInt(text, fallback) {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

class DbError extends Error {
  constructor(kind, sqlstate, message) {
    super(message);
    this.kind = kind;
    this.sqlstate = sqlstate;
  }
}

/** A server-reported error (ErrorResponse): it carries a SQLSTATE and a severity. */
function isServerError(err) {
  return err instanceof pg.DatabaseError || (typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && 'severity' in err);
}

function tooMany(err) {
  return new DbError('too_many_connections', TOO_MANY_CONNECTIONS, `too many connections (SQLSTATE ${TOO_MANY_CONNECTIONS}): ${err.message}`);
}

/** A failure checking a connection out of the pool (waiting for one, or making one). */
function fromConnect(err) {
  if (err.message === 'timeout exceeded when trying to connect') {
    return new DbError('pool_timeout', null, 'timed out waiting for a free pooled connection');
  }
  if (err.message === 'Connection terminated due to connection timeout') {
    return new DbError('connect', null, `database connection failed: no connection within ${CONNECT_TIMEOUT_MS / 1000}s`);
  }
  if (isServerError(err)) {
    if (err.code === TOO_MANY_CONNECTIONS) return tooMany(err);
    return new DbError('connect', null, `database connection failed: ${err.message} (SQLSTATE ${err.code})`);
  }
  return new DbError('connect', null, `database connection failed: ${err.message}`);
}

/** A failure running a statement on an open connection. */
function fromQuery(err) {
  if (isServerError(err)) {
    if (err.code === TOO_MANY_CONNECTIONS) return tooMany(err);
    return new DbError('query', err.code, `query failed: ${err.message}`);
  }
  // No SQLSTATE: the connection broke under the statement.
  return new DbError('connect', null, `database connection failed: ${err.message}`);
}

/**
 * Runs one statement on a pooled connection and returns its rows. One round trip: pg sends
 * Parse/Bind/Execute/Sync with an unnamed statement, as the Rust app's `query_typed` does.
 */
async function query(text, values) {
  let client;
  try {
    client = await pool.connect();
  } catch (err) {
    throw fromConnect(err);
  }
  try {
    const result = await client.query(text, values);
    client.release();
    return result.rows;
  } catch (err) {
    // A broken connection is destroyed rather than returned to the pool.
    client.release(isServerError(err) ? undefined : err);
    throw fromQuery(err);
  }
}

/** The body of the 503 a DbError becomes (keys sorted, like the Rust app's json!). */
function dbErrorBody(err) {
  return {
    error: 'database',
    kind: err.kind,
    message: err.message,
    sqlstate: err.sqlstate,
  };
}

module.exports = { pool, query, DbError, dbErrorBody };
