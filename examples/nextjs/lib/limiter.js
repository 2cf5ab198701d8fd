// GET /api/limited (targets/src/app/limiter.rs): an in-memory fixed-window rate limiter keyed
// by x-client-key (default `anonymous`), at most RATE_LIMIT (default 10) requests per key in
// each window of RATE_WINDOW_MS (default 1000); a key's window starts at its first request
// after the previous one ended. The table is on globalThis: one per process, so each
// serverless instance starts with empty counters of its own.

/** Expired windows are swept when the table grows past this many keys. */
const SWEEP_ABOVE = 4096;
const KEY = Symbol.for("coldfront.nextjs.limiter");

function positiveEnv(name, fallback) {
  const value = Number(process.env[name]);
  return process.env[name] && Number.isFinite(value) && value >= 0 ? value : fallback;
}

export function limiter() {
  globalThis[KEY] ??= {
    limit: Math.floor(positiveEnv("RATE_LIMIT", 10)),
    windowMs: positiveEnv("RATE_WINDOW_MS", 1000),
    windows: new Map(),
  };
  return globalThis[KEY];
}

/** Counts one request from `key` now: `{allowed, remaining, resetAfterMs}`. */
export function check(key, now = performance.now()) {
  const l = limiter();
  if (l.windows.size > SWEEP_ABOVE && !l.windows.has(key)) {
    for (const [k, w] of l.windows) if (now - w.started >= l.windowMs) l.windows.delete(k);
  }
  let window = l.windows.get(key);
  if (!window || now - window.started >= l.windowMs) {
    window = { started: now, count: 0 };
    l.windows.set(key, window);
  }
  const allowed = window.count < l.limit;
  if (allowed) window.count++;
  return {
    allowed,
    remaining: l.limit - window.count,
    resetAfterMs: Math.max(0, l.windowMs - (now - window.started)),
  };
}
