// GET /api/limited: 200 {"allowed":true,"remaining":n} while the x-client-key is under the
// limit, else 429 {"error":"rate limited"} with retry-after; both carry x-ratelimit-limit and
// x-ratelimit-remaining. (targets/src/app/limiter.rs; the state is in lib/limiter.js)
import { error, json, notAllowed } from "../../../lib/http.js";
import { check, limiter } from "../../../lib/limiter.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(request) {
  const key = request.headers.get("x-client-key") ?? "anonymous";
  const decision = check(key);
  const headers = {
    "x-ratelimit-limit": String(limiter().limit),
    "x-ratelimit-remaining": String(decision.remaining),
  };
  if (decision.allowed) {
    return json(200, { allowed: true, remaining: decision.remaining }, headers);
  }
  const retryAfter = Math.max(1, Math.ceil(decision.resetAfterMs / 1000));
  return error(429, "rate limited", { ...headers, "retry-after": String(retryAfter) });
}

export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
