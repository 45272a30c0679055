#!/usr/bin/env python3
"""Load on the REST API: N concurrent clients x M requests against the list and status
endpoints while worker slots process jobs. Prints latency percentiles (p50/p90/p99/max)
and throughput.

Without --url it sets everything up in a temporary QUEUECTL_HOME: enqueues --jobs jobs,
starts `queuectl-host --plugin shell --workers W --http 127.0.0.1:0` and loads that
server (so the workers and the web server share the process, as in production).

  bench/web_load.py [--build build]     # Q/H from the environment or the build tree
  bench/web_load.py --url http://127.0.0.1:8080/ [--token T]
  bench/web_load.py --check             # exit 1 if any request failed (the ctest web_load)

Timings depend on the machine; --check asserts only that no request failed.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


class Client(threading.Thread):
    PATHS = ["/api/status", "/api/jobs?limit=50", "/api/jobs?state=pending&limit=20", "/api/status",
             "/api/jobs?state=completed&limit=50"]

    def __init__(self, idx, host, port, token, requests, start_gate):
        super().__init__(daemon=True)
        self.idx, self.host, self.port, self.token = idx, host, port, token
        self.requests = requests
        self.gate = start_gate
        self.latencies = []
        self.failures = []

    def run(self):
        headers = {"Authorization": "Bearer " + self.token} if self.token else {}
        conn = None
        self.gate.wait()
        for i in range(self.requests):
            path = self.PATHS[(self.idx + i) % len(self.PATHS)]
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    self.failures.append(f"{path}: HTTP {r.status} {body[:200]!r}")
                else:
                    json.loads(body)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.failures.append(f"{path}: {type(e).__name__}: {e}")
                if conn:
                    conn.close()
                conn = None
            self.latencies.append((time.perf_counter() - t0) * 1000.0)
        if conn:
            conn.close()


def counts(host, port, token):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/api/status", headers={"Authorization": "Bearer " + token} if token else {})
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data["counts"]


BUILD_DIR = os.path.join(HERE, "..", "build")


def find_binary(env_name, rel):
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = os.path.join(BUILD_DIR, rel)
    return path if os.path.exists(path) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=200, help="per client")
    ap.add_argument("--jobs", type=int, default=3000, help="jobs enqueued for the workers (own server only)")
    ap.add_argument("--job-command", default="sleep 0.01")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--url", help="load an already running server instead")
    ap.add_argument("--token", default=os.environ.get("QUEUECTL_TOKEN", ""))
    ap.add_argument("--check", action="store_true", help="exit 1 if any request failed")
    ap.add_argument("--build", default=BUILD_DIR, help="build tree holding queuectl and queuectl-host (default: build)")
    args = ap.parse_args()
    globals()["BUILD_DIR"] = args.build

    tmp = host_proc = None
    try:
        if args.url:
            url = args.url
        else:
            q, h = find_binary("Q", "apps/queuectl/queuectl"), find_binary("H", "apps/queuectl-host/queuectl-host")
            if not q or not h:
                sys.exit("web_load: set Q and H (queuectl, queuectl-host) or point --build at a build tree")
            tmp = tempfile.mkdtemp(prefix="queuectl-web-load-")
            env = dict(os.environ, QUEUECTL_HOME=os.path.join(tmp, "home"), QUEUECTL_DB=os.path.join(tmp, "home", "queue.db"))
            env.pop("QUEUECTL_TOKEN", None)
            os.makedirs(env["QUEUECTL_HOME"])
            specs = "".join(json.dumps({"command": args.job_command}) + "\n" for _ in range(args.jobs))
            subprocess.run([q, "enqueue", "--file", "-"], input=specs, text=True, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            log_path = os.path.join(tmp, "host.log")
            host_proc = subprocess.Popen([h, "--plugin", "shell", "--workers", str(args.workers), "--http", "127.0.0.1:0"],
                                         stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env)
            url = None
            deadline = time.monotonic() + 20
            while not url and time.monotonic() < deadline:
                if host_proc.poll() is not None:
                    sys.exit("web_load: host exited: " + open(log_path).read()[-500:])
                m = re.search(r"dashboard and REST API on (http://\S+)", open(log_path).read())
                url = m and m.group(1)
                time.sleep(0.05)
            if not url:
                sys.exit("web_load: the host's web server did not come up")
        u = urllib.parse.urlparse(url)
        before = counts(u.hostname, u.port, args.token)

        gate = threading.Event()
        clients = [Client(i, u.hostname, u.port, args.token, args.requests, gate) for i in range(args.clients)]
        for c in clients:
            c.start()
        t0 = time.perf_counter()
        gate.set()
        for c in clients:
            c.join()
        elapsed = time.perf_counter() - t0

        after = counts(u.hostname, u.port, args.token)
        lat = sorted(x for c in clients for x in c.latencies)
        failures = [f for c in clients for f in c.failures]
        total = len(lat)
        processed = (after["completed"] + after["dead"]) - (before["completed"] + before["dead"])
        print(f"web_load: {args.clients} clients x {args.requests} requests = {total} requests in {elapsed:.2f} s "
              f"({total / elapsed:.0f} req/s)")
        print(f"web_load: latency ms  p50 {percentile(lat, 50):.1f}  p90 {percentile(lat, 90):.1f}  "
              f"p99 {percentile(lat, 99):.1f}  max {lat[-1] if lat else 0:.1f}")
        print(f"web_load: failures {len(failures)}; jobs finished by {args.workers if not args.url else '?'} workers "
              f"meanwhile: {processed} (still running or waiting: {after['pending'] + after['processing']})")
        for f in failures[:10]:
            print("  failure:", f)
        if host_proc and host_proc.poll() is not None:
            print("web_load: the host died during the run")
            return 1
        if args.check and (failures or total != args.clients * args.requests):
            return 1
        if args.check and not args.url and processed == 0:
            print("web_load: the workers finished no job during the run (was the load run with workers busy?)")
            return 1
        return 0
    finally:
        if host_proc and host_proc.poll() is None:
            host_proc.send_signal(signal.SIGTERM)
            try:
                host_proc.wait(60)
            except subprocess.TimeoutExpired:
                host_proc.kill()
        if tmp and not os.environ.get("KEEP_T"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
