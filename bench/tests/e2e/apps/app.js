// A small HTTP server for coldfront's command-target tests: Node's own `http`, no framework, no
// dependencies. It reads the environment a command target gets (PORT, HOSTNAME, LISTEN_FDS,
// DATABASE_URL) and misbehaves on request, to test the harness around it:
//
//   STARTUP_MS=N      wait N ms before listening (a slow start)
//   WARMUP_MS=N       listen at once, but answer /health 503 for N ms (Next.js binds its port
//                     before its handlers are ready)
//   WRONG_PORT=1      listen on a random port instead of $PORT
//   CRASH_AT_START=1  exit 3 before listening
//   FORK_CHILD=1      start a child process that lives until killed (its argv holds TEST_MARK)
//   IGNORE_TERM=1     ignore SIGTERM (only SIGKILL ends it)
//
// Routes: /health, /info (pid, requests served by this process, what it was given),
// /sleep?ms=N (answers after N ms), /crash (exits mid-request).
"use strict";
const http = require("http");
const { spawn } = require("child_process");

const env = process.env;
const started = Date.now();
const startupMs = Number(env.STARTUP_MS || 0);
const warmupMs = Number(env.WARMUP_MS || 0);
let served = 0;

if (env.CRASH_AT_START === "1") {
  process.exit(3);
}
if (env.FORK_CHILD === "1") {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", env.TEST_MARK || ""], {
    stdio: "ignore",
  });
  child.unref();
}
process.on("SIGTERM", () => {
  if (env.IGNORE_TERM !== "1") process.exit(0);
});

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  served += 1;
  const url = new URL(req.url, "http://app");
  switch (url.pathname) {
    case "/health":
      if (Date.now() - started < startupMs + warmupMs) return json(res, 503, { status: "warming" });
      return json(res, 200, { status: "ok" });
    case "/info":
      return json(res, 200, {
        pid: process.pid,
        served,
        port: env.PORT,
        aws_lwa_port: env.AWS_LWA_PORT,
        hostname: env.HOSTNAME,
        database_url: env.DATABASE_URL,
        listen_fds: env.LISTEN_FDS || null,
        listen_pid: env.LISTEN_PID || null,
        custom: env.CUSTOM || null,
      });
    case "/sleep":
      return setTimeout(() => json(res, 200, { pid: process.pid }), Number(url.searchParams.get("ms") || 0));
    case "/crash":
      process.exit(7);
      break;
    default:
      return json(res, 404, { error: "not found" });
  }
});
server.keepAliveTimeout = 0; // keep idle connections open, as behind a platform's gateway

setTimeout(() => {
  if (env.LISTEN_FDS === "1") {
    server.listen({ fd: 3 });
  } else if (env.WRONG_PORT === "1") {
    server.listen(0, env.HOSTNAME);
  } else {
    server.listen(Number(env.PORT), env.HOSTNAME);
  }
}, startupMs);
