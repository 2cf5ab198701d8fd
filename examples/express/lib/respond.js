'use strict';
// Responses and request parsing shared by the handlers, mirroring targets/src/app/response.rs
// and request.rs: JSON bodies with exactly `content-type: application/json`, `{"error": …}`
// bodies, and query parameters read the way the Rust app reads them (first value,
// percent-decoded, `+` is a space, invalid UTF-8 replaced, a malformed `%` kept as is).
//
// Objects the Rust app builds with `json!` are written with their keys sorted (serde_json
// without `preserve_order`), so the bytes match too.

/** `status` with `value` as its JSON body; headers already set on `res` are kept. */
function json(res, status, value, headers) {
  const body = JSON.stringify(value);
  res.statusCode = status;
  if (headers) for (const [name, v] of Object.entries(headers)) res.setHeader(name, v);
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** `status` with `{"error": message}`. */
function error(res, status, message, headers) {
  json(res, status, { error: message }, headers);
}

/** The request target's path, not decoded (like `uri.path()`). */
function pathOf(url) {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The first value of query parameter `name`, percent-decoded; undefined when absent. */
function queryParam(url, name) {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (percentDecode(key) === name) return percentDecode(eq < 0 ? '' : pair.slice(eq + 1));
  }
  return undefined;
}

function hex(byte) {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

function percentDecode(text) {
  if (!/[%+]/.test(text)) return text;
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x2b) {
      out[n++] = 0x20;
    } else if (b === 0x25 && i + 2 < bytes.length && hex(bytes[i + 1]) >= 0 && hex(bytes[i + 2]) >= 0) {
      out[n++] = hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return out.toString('utf8', 0, n); // invalid UTF-8 becomes U+FFFD, like from_utf8_lossy
}

/** A string as Rust's `{:?}` prints it (quotes, and escapes for the unprintable). */
function debugString(text) {
  let out = '"';
  for (const ch of text) {
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\0': out += '\\0'; break;
      default:
        out += /[\p{C}\p{Zl}\p{Zp}]/u.test(ch) ? `\\u{${ch.codePointAt(0).toString(16)}}` : ch;
    }
  }
  return out + '"';
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Parameter `name` as a whole number in 0..=max, `fallback` when absent (required when
 * `fallback` is undefined). Returns `{value}` or `{error}`, the 400 message naming it.
 */
function boundedNumber(url, name, fallback, max) {
  const bad = (why) => ({ error: `query parameter ${name} ${why}` });
  const text = queryParam(url, name);
  if (text === undefined) return fallback === undefined ? bad('is required') : { value: fallback };
  // Rust's u64 parser: an optional '+', then ASCII digits, at most u64::MAX.
  if (!/^\+?[0-9]+$/.test(text) || BigInt(text) > U64_MAX) {
    return bad(`must be a whole number, got ${debugString(text)}`);
  }
  const value = BigInt(text);
  if (value > BigInt(max)) return bad(`must be at most ${max}`);
  return { value: Number(value) };
}

/** Whether flag `name` is set (`1`, `true`, `yes`, or present without a value). */
function flag(url, name) {
  const value = queryParam(url, name);
  return value === '' || value === '1' || value === 'true' || value === 'yes';
}

module.exports = { json, error, pathOf, queryParam, boundedNumber, flag, debugString };
