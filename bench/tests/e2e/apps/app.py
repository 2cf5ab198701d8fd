"""A small HTTP server for coldfront's command-target tests: Python's standard library only.

Listens on $HOSTNAME:$PORT (HTTP/1.1, keep-alive) and, with FORK_CHILD=1, forks a child that
sleeps until killed (to check that a whole process group is ended). Routes: /health, /info.
"""
import json
import os
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
        if self.path == "/health":
            body = {"status": "ok"}
        elif self.path == "/info":
            body = {"pid": os.getpid(), "port": os.environ.get("PORT")}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer((os.environ.get("HOSTNAME", "127.0.0.1"), int(os.environ["PORT"])), Handler)
print(f"listening on {server.server_address}", file=sys.stderr, flush=True)
server.serve_forever()
