'use strict';
// coldfront's built-in application as an Express app: `node server.js`.
//
// coldfront starts this same file two ways:
//   persistent: one long-lived process serving all traffic;
//   serverless: one process per instance, started on a cold start, reclaimed when idle.
// The code is identical; what differs is what the process-scoped state is shared by: the
// database pool (lib/db.js), the rate limiter's counters and the background jobs
// (lib/app.js, lib/work.js), and the chat room (lib/chat.js) are per process, so per instance
// when serverless.
//
// Environment:
//   PORT, HOSTNAME      where to listen (default 3000 on 127.0.0.1; AWS_LWA_PORT when PORT is
//                       unset), unless socket-activated:
//   LISTEN_FDS=1        the listening socket is already open at fd 3 (LISTEN_PID, when set,
//                       must be this process's pid)
//   DATABASE_URL        postgres://…; the pool connects lazily, on the first query
//   PG_POOL_MAX         pool size (default 10)
//   AUTH_TOKEN          the bearer token of POST /api/blogs (default coldfront-dev-token)
//   RATE_LIMIT, RATE_WINDOW_MS   GET /api/limited: requests per key and window (10 per 1000 ms)
//
// Start-up does nothing but require the modules, create the (unconnected) pool and listen:
// that is all a cold start pays before its first request.

const http = require('node:http');

const { createApp } = require('./lib/app');
const { pool } = require('./lib/db');
const events = require('./lib/events');
const chat = require('./lib/chat');
const { pathOf } = require('./lib/respond');

/** SIGTERM must end the process within about a second: in-flight requests get this long. */
const SHUTDOWN_DEADLINE_MS = 750;

const app = createApp();
const server = http.createServer(app);
// Keep idle keep-alive connections open, like the Rust server (hyper): Node's default closes
// them after 5 s idle, racing a client that reuses one at that moment.
server.keepAliveTimeout = 0;

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  if (req.method === 'GET' && pathOf(req.url) === '/api/chat') return chat.upgrade(req, socket, head);
  // An Upgrade header on any other route: serve it as an ordinary request (no upgrade), as
  // the Rust app does, then close the connection.
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.on('finish', () => socket.end());
  app(req, res);
});

function listen() {
  const fds = Number.parseInt(process.env.LISTEN_FDS || '0', 10);
  const pid = process.env.LISTEN_PID;
  if (fds >= 1 && (!pid || Number(pid) === process.pid)) {
    // Socket activation: the socket is already bound and listening at fd 3, so requests that
    // arrive during start-up wait in its backlog instead of being refused.
    server.listen({ fd: 3 }, () => console.log('listening on fd 3'));
  } else {
    const port = Number.parseInt(process.env.PORT || process.env.AWS_LWA_PORT || '3000', 10);
    const host = process.env.HOSTNAME || '127.0.0.1';
    server.listen(port, host, () => console.log(`listening on http://${host}:${port}`));
  }
}

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, SHUTDOWN_DEADLINE_MS).unref();
  const closed = new Promise((resolve) => server.close(resolve));
  events.closeAll();
  chat.closeAll();
  // Keep-alive connections between requests (and the streams just ended) are closed now;
  // busy ones after their response, or at the deadline.
  server.closeIdleConnections();
  setImmediate(() => server.closeIdleConnections());
  Promise.allSettled([closed, pool.end()]).then(() => process.exit(0));
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
server.on('error', (err) => {
  console.error(`server: ${err.message}`);
  process.exit(1);
});

listen();
