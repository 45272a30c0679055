"""Helpers for the web tests (Python 3 stdlib only).

Each test script gets Q (queuectl) and H (queuectl-host) in the environment, works in its
own temporary QUEUECTL_HOME, starts its servers on 127.0.0.1 with a free port (port 0:
the server prints the URL it got) and stops every process it started.
"""

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

Q = os.environ.get("Q")
H = os.environ.get("H")


class TestFailure(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def eq(actual, expected, what):
    if actual != expected:
        raise TestFailure(f"{what}: expected {expected!r}, got {actual!r}")


def wait_for(seconds, fn, what):
    """Polls fn() every 50 ms until it returns a true value; fails after `seconds`."""
    end = time.monotonic() + seconds
    last = None
    while time.monotonic() < end:
        try:
            last = fn()
            if last:
                return last
        except (OSError, TestFailure) as e:  # server not up yet, state not reached yet
            last = e
        time.sleep(0.05)
    raise TestFailure(f"timed out after {seconds}s waiting for {what} (last: {last!r})")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_id(self):
        try:
            return self.json()["error"]["id"]
        except Exception:
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    """A running queuectl dashboard / queuectl-host --http."""

    def __init__(self, proc, url, token=None, log=None):
        self.proc = proc
        self.url = url
        self.token = token
        self.log = log
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None, headers=None, token=..., timeout=30):
        """One request on a fresh connection; body: dict/list (sent as JSON), str or bytes."""
        h = {}
        tok = self.token if token is ... else token
        if tok:
            h["Authorization"] = "Bearer " + tok
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        h.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def call(self, method, path, body=None, expect=200, **kw):
        """request() that checks the status and returns the parsed JSON."""
        r = self.request(method, path, body, **kw)
        if r.status != expect:
            raise TestFailure(f"{method} {path}: expected {expect}, got {r.status}: {r.body[:500]!r}")
        return r.json() if r.body else None

    def expect_error(self, method, path, status, error_id=None, body=None, **kw):
        r = self.request(method, path, body, **kw)
        check(r.status == status, f"{method} {path}: expected {status}, got {r.status}: {r.body[:300]!r}")
        check(r.headers.get("content-type", "").startswith("application/json"), f"{method} {path}: error not JSON")
        err = r.json().get("error", {})
        check(isinstance(err.get("id"), str) and isinstance(err.get("message"), str),
              f"{method} {path}: error body is not {{error: {{id, message}}}}: {r.body!r}")
        if error_id:
            eq(err["id"], error_id, f"{method} {path} error id")
        return r

    def alive(self):
        return self.proc.poll() is None


class Env:
    """A private QUEUECTL_HOME and every process started in it."""

    def __init__(self):
        check(Q and H, "Q and H must point at queuectl and queuectl-host")
        self.tmp = tempfile.mkdtemp(prefix="queuectl-web-")
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        self.env = dict(os.environ, QUEUECTL_HOME=home, QUEUECTL_DB=os.path.join(home, "queue.db"))
        self.env.pop("QUEUECTL_TOKEN", None)
        self.procs = []

    # ---- the CLI ----------------------------------------------------------------------
    def cli(self, *args, input=None, check_rc=True, env=None):
        r = subprocess.run([Q, *args], input=input, capture_output=True, text=True, env=env or self.env, timeout=120)
        if check_rc and r.returncode != 0:
            raise TestFailure(f"queuectl {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def cli_json(self, *args):
        return json.loads(self.cli(*args, "--json").stdout)

    def enqueue(self, spec):
        return self.cli("enqueue", json.dumps(spec)).stdout.strip()

    def state(self, job_id):
        return self.cli_json("show", job_id)["state"]

    def drain(self, workers=2):
        """Runs queuectl-host until no job is left to run."""
        r = subprocess.run([H, "--plugin", "shell", "--workers", str(workers), "--drain"], capture_output=True, text=True,
                           env=self.env, timeout=120)
        if r.returncode != 0:
            raise TestFailure(f"queuectl-host --drain exited {r.returncode}: {r.stderr[-500:]}")

    # ---- servers ------------------------------------------------------------------------
    def start_dashboard(self, *args, token=None, env=None, bind="127.0.0.1:0"):
        cmd = [Q, "dashboard", "--bind", bind, *args]
        if token:
            cmd += ["--token", token]
        log = open(os.path.join(self.tmp, f"dashboard-{len(self.procs)}.log"), "w+")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env or self.env)
        self.procs.append(proc)
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else ""
        m = re.search(r"serving (http://\S+)", line)
        if not m:
            log.seek(0)
            raise TestFailure(f"dashboard did not start: stdout {line!r}, stderr {log.read()!r}")
        return Server(proc, m.group(1), token)

    def start_host(self, *args, token=None, env=None):
        """queuectl-host --plugin shell ARGS (give --http 127.0.0.1:0 to get a Server)."""
        path = os.path.join(self.tmp, f"host-{len(self.procs)}.log")
        log = open(path, "w")
        proc = subprocess.Popen([H, "--plugin", "shell", *args], stdout=log, stderr=subprocess.STDOUT, env=env or self.env)
        self.procs.append(proc)
        if "--http" not in args:
            return proc

        def url():
            if proc.poll() is not None:
                raise TestFailure(f"host exited {proc.returncode}: {open(path).read()[-500:]}")
            m = re.search(r"dashboard and REST API on (http://\S+)", open(path).read())
            return m and m.group(1)

        return Server(proc, wait_for(20, url, "the host's web server"), token, log=path)

    def stop(self, server_or_proc, expect_rc=0):
        proc = server_or_proc.proc if isinstance(server_or_proc, Server) else server_or_proc
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise TestFailure("server did not stop within 30 s of SIGTERM")
        eq(rc, expect_rc, "exit code after SIGTERM")

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        if not os.environ.get("KEEP_T"):
            shutil.rmtree(self.tmp, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(tests):
    """Runs test functions in order (each gets nothing and may use shared state through
    closures); prints ok/FAIL per test; exits 1 if any failed."""
    failed = 0
    for t in tests:
        name = t.__name__
        try:
            t()
            print(f"ok: {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - report every kind of failure and go on
            failed += 1
            print(f"FAIL: {name}: {e}", flush=True)
            if not isinstance(e, TestFailure):
                traceback.print_exc()
    print(f"{len(tests) - failed}/{len(tests)} passed", flush=True)
    sys.exit(1 if failed else 0)
