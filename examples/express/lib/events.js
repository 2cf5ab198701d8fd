'use strict';
// GET /api/events?count=N&interval_ms=M (targets/src/app/events.rs): N Server-Sent Events M ms
// apart, the first at once, then the end of the stream. Each event is
//   id: <seq>\ndata: {"seq":<seq>,"count":N}\n\n
// A slow reader delays later events rather than getting a burst (tokio's
// MissedTickBehavior::Delay): the next event waits for the socket to drain, and a tick missed
// by more than 5 ms restarts the schedule from now.

const { boundedNumber, error } = require('./respond');

const DEFAULT_COUNT = 10;
const MAX_COUNT = 100000;
const DEFAULT_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 3600000;
const MISSED_TICK_MS = 5;

/** Open streams, ended at shutdown. */
const open = new Set();

function stream(req, res) {
  const count = boundedNumber(req.url, 'count', DEFAULT_COUNT, MAX_COUNT);
  if (count.error) return error(res, 400, count.error);
  const interval = boundedNumber(req.url, 'interval_ms', DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS);
  if (interval.error) return error(res, 400, interval.error);
  const total = count.value;
  const intervalMs = interval.value;

  res.statusCode = 200;
  res.setHeader('content-type', 'text/event-stream');
  res.setHeader('cache-control', 'no-cache');
  if (total === 0) return res.end();
  res.flushHeaders();

  let sent = 0;
  let due = performance.now();
  let timer = null;
  let closed = false;
  const finish = () => {
    closed = true;
    open.delete(closer);
    if (timer) clearTimeout(timer);
  };
  const closer = () => {
    finish();
    res.end();
  };
  open.add(closer);
  res.on('close', finish);

  const tick = () => {
    timer = null;
    if (closed) return;
    const now = performance.now();
    due = intervalMs > 0 && now > due + MISSED_TICK_MS ? now : due;
    let writable = true;
    // With a zero interval every event is ready at once: write until the socket pushes back.
    do {
      sent++;
      writable = res.write(`id: ${sent}\ndata: {"seq":${sent},"count":${total}}\n\n`);
    } while (intervalMs === 0 && writable && sent < total);
    if (sent >= total) {
      finish();
      res.end();
      return;
    }
    due += intervalMs;
    const schedule = () => {
      if (!closed) timer = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    if (writable) schedule();
    else res.once('drain', schedule);
  };
  tick();
}

/** Ends every open stream (shutdown). */
function closeAll() {
  for (const close of [...open]) close();
}

module.exports = { stream, closeAll };
