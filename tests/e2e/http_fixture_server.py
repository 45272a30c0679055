#!/usr/bin/env python3
"""Scripted HTTP server for the host-level http executor tests (127.0.0.1, ephemeral port).
Writes its port to argv[1] and serves until killed:
  /ok            200 "fine"
  /missing       404
  /flaky/NAME    503 on the first request for NAME, then 200
  /limited/NAME  429 with Retry-After: 1 on the first request for NAME, then 200
  /echo          200, echoes method and body
Every request is appended to argv[2] as "<monotonic time> <method> <path>"."""
import http.server, sys, threading, time

seen, lock = set(), threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            with open(sys.argv[2], "a") as f: f.write(f"{time.time():.3f} {self.command} {self.path}\n")
            first = self.path not in seen
            seen.add(self.path)
        if self.path == "/ok": return self.reply(200, b"fine")
        if self.path == "/missing": return self.reply(404, b"no such thing")
        if self.path.startswith("/flaky/"): return self.reply(503 if first else 200, b"flaky")
        if self.path.startswith("/limited/"):
            return self.reply(429, b"slow down", [("Retry-After", "1")]) if first else self.reply(200, b"ok now")
        if self.path == "/echo": return self.reply(200, self.command.encode() + b" " + body)
        self.reply(404)
    do_GET = do_POST = do_PUT = do_DELETE = handle_any

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(srv.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
