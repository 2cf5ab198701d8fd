// GET /api/events?count=N&interval_ms=M: a Server-Sent Events stream of N events M ms apart
// (the first at once), then the end of the stream. Each event is
// `id: <seq>\ndata: {"seq":<seq>,"count":N}\n\n`. (targets/src/app/events.rs)
import { BadParam, boundedU64, notAllowed } from "../../../lib/http.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const DEFAULT_COUNT = 10;
const MAX_COUNT = 100_000;
const DEFAULT_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 3_600_000;

export function GET(request) {
  let count;
  let intervalMs;
  try {
    count = boundedU64(request, "count", DEFAULT_COUNT, MAX_COUNT);
    intervalMs = boundedU64(request, "interval_ms", DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS);
  } catch (bad) {
    if (bad instanceof BadParam) return bad.toResponse();
    throw bad;
  }
  return new Response(eventStream(count, intervalMs), {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };

/**
 * Pull-based: the next event is produced only when the reader has taken the previous one, so
 * a slow reader delays later events rather than getting a burst (tokio's
 * MissedTickBehavior::Delay in the Rust app). With a zero interval every event is ready at once.
 */
function eventStream(count, intervalMs) {
  const encoder = new TextEncoder();
  let sent = 0;
  let due = performance.now();
  let timer = null;
  let wake = null;
  return new ReadableStream({
    async pull(controller) {
      if (sent >= count) {
        controller.close();
        return;
      }
      const wait = due - performance.now();
      if (intervalMs > 0 && wait > 0) {
        await new Promise((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, wait);
        });
        timer = null;
        wake = null;
      }
      if (intervalMs > 0) {
        // On time (tokio allows 5 ms of lateness): keep the schedule; later: restart from now.
        const now = performance.now();
        due = (now > due + 5 ? now : due) + intervalMs;
      }
      sent += 1;
      controller.enqueue(encoder.encode(`id: ${sent}\ndata: {"seq":${sent},"count":${count}}\n\n`));
      if (sent >= count) controller.close();
    },
    cancel() {
      // The client went away: stop the timer, end the pull.
      sent = count;
      if (timer) clearTimeout(timer);
      wake?.();
    },
  });
}
