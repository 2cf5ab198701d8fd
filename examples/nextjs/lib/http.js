// Responses and query parameters the way coldfront's Rust application builds and reads them
// (targets/src/app/response.rs and request.rs).

/**
 * `status` with `value` as its JSON body. (Next.js drops a content-length set here and sends
 * every body chunked.)
 */
export function json(status, value, headers = {}) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** `status` with `{"error": message}`. */
export function error(status, message, headers = {}) {
  return json(status, { error: message }, headers);
}

/** A malformed query parameter; its message names the parameter. */
export class BadParam extends Error {
  toResponse() {
    return error(400, this.message);
  }
}

/** The first value of query parameter `name`, percent-decoded (`+` is a space), or null. */
export function queryParam(request, name) {
  return new URL(request.url).searchParams.get(name);
}

const U64_MAX = (1n << 64n) - 1n;

/** Parameter `name` as a whole number in 0..=max, `fallback` when absent (null: required). */
export function boundedU64(request, name, fallback, max) {
  const text = queryParam(request, name);
  if (text === null) {
    if (fallback === null) throw new BadParam(`query parameter ${name} is required`);
    return fallback;
  }
  // Rust's u64::from_str: an optional '+', then ASCII digits, at most u64::MAX.
  if (!/^\+?[0-9]+$/.test(text) || BigInt(text) > U64_MAX) {
    throw new BadParam(
      `query parameter ${name} must be a whole number, got ${JSON.stringify(text)}`,
    );
  }
  const value = BigInt(text);
  if (value > BigInt(max)) throw new BadParam(`query parameter ${name} must be at most ${max}`);
  return Number(value);
}

/** Whether flag `name` is set (`1`, `true`, `yes`, or present without a value). */
export function flag(request, name) {
  return ["", "1", "true", "yes"].includes(queryParam(request, name));
}

/** The URL path of the request. */
export function pathOf(request) {
  return new URL(request.url).pathname;
}

/**
 * Handlers for the methods a route does not serve: 405 `{"error": "<METHOD> is not allowed on
 * <path>"}`, as the Rust router answers. (HEAD and OPTIONS are answered by Next.js itself.)
 */
export function notAllowed(request) {
  return error(405, `${request.method} is not allowed on ${pathOf(request)}`);
}
