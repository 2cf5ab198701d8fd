"""A small HTTP server for coldfront's command-target tests: Python's standard library only.

Listens on $HOSTNAME:$PORT (HTTP/1.1, keep-alive) and, with FORK_CHILD=1, forks a child that
sleeps until killed (to check that a whole process group is ended). Routes: /health, /info,
/db (the rows of table `marker` in $DATABASE_URL, read with psql: one database connection per
request).
"""
import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if os.environ.get("FORK_CHILD") == "1" and os.fork() == 0:
    # The child: same process group, same argv (so the test finds it by its mark).
    while True:
        time.sleep(1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 200
        if self.path == "/health":
            body = {"status": "ok"}
        elif self.path == "/info":
            body = {"pid": os.getpid(), "port": os.environ.get("PORT")}
        elif self.path == "/db":
            query = ["psql", os.environ["DATABASE_URL"], "-tAc", "SELECT count(*) FROM marker"]
            done = subprocess.run(query, capture_output=True, text=True)
            body = {"rows": done.stdout.strip(), "error": done.stderr.strip()}
            status = 200 if done.returncode == 0 else 500
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer((os.environ.get("HOSTNAME", "127.0.0.1"), int(os.environ["PORT"])), Handler)
print(f"listening on {server.server_address}", file=sys.stderr, flush=True)
server.serve_forever()
