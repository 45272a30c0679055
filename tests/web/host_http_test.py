#!/usr/bin/env python3
"""`queuectl-host --http ADDR` serves the same REST API and dashboard as `queuectl
dashboard` while its workers run jobs; non-loopback needs a token (exit 2, one line,
nothing stored); with a token every /api call needs it; SIGTERM stops it cleanly."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Env, H, check, eq, free_port, run, wait_for  # noqa: E402

env = Env()


def test_host_serves_api_while_running_jobs():
    host = env.start_host("--workers", "2", "--http", "127.0.0.1:0")
    dash = env.start_dashboard()
    ids = host.call("POST", "/api/jobs", [{"id": f"h{i}", "command": "echo ran"} for i in range(6)], expect=201)["ids"]
    eq(len(ids), 6, "batch through the host")
    done = lambda: host.call("GET", "/api/status")["counts"]["completed"] == 6  # noqa: E731
    wait_for(30, done, "the host to run the jobs")
    w = host.call("GET", "/api/workers")
    eq(w["active"], 2, "the host's own slots")
    # Same data, same shapes, from both servers.
    for path in ["/api/status", "/api/jobs?limit=100", "/api/jobs/h3", "/api/config"]:
        a, b = host.call("GET", path), dash.call("GET", path)
        if path == "/api/status":
            for s in (a, b):
                for p in s["workers"]["processes"]:
                    p.pop("heartbeat_at")
        eq(a, b, f"{path}: host vs dashboard")
    eq(host.call("GET", "/api/jobs/h3/attempts/1")["output"].strip(), "ran", "output")
    eq(host.request("GET", "/").status, 200, "the dashboard page")
    env.stop(dash)
    # Other processes (here the CLI, with no other process holding the database open) open
    # and close the database: the host keeps its SQLite locks, so its WAL stays and it runs
    # what they enqueue.
    for i in range(3):
        env.enqueue({"id": f"c{i}", "command": "true"})
    wait_for(30, lambda: all(env.state(f"c{i}") == "completed" for i in range(3)), "the host to run CLI-enqueued jobs")
    check(os.path.exists(env.env["QUEUECTL_DB"] + "-wal"), "the host's WAL file was deleted under it")
    check(host.call("GET", "/api/workers")["workers"][0]["alive"], "the host's heartbeat is current")
    env.stop(host)


def test_host_non_loopback_without_token_refuses():
    before = env.cli("list", "--json").stdout
    r = subprocess.run([H, "--plugin", "shell", "--http", f"0.0.0.0:{free_port()}"], capture_output=True, text=True,
                       env=env.env, timeout=30)
    eq(r.returncode, 2, "exit code")
    eq(len(r.stderr.strip().splitlines()), 1, f"one line: {r.stderr!r}")
    check("token" in r.stderr, f"names the token: {r.stderr!r}")
    eq(env.cli("list", "--json").stdout, before, "nothing stored")
    check(not env.cli_json("status")["workers"]["processes"], "no worker registered")
    r = subprocess.run([H, "--plugin", "shell", "--http", "bogus"], capture_output=True, text=True, env=env.env, timeout=30)
    eq(r.returncode, 2, "bad address")


def test_host_with_token():
    e = dict(env.env, QUEUECTL_TOKEN="host-token")
    host = env.start_host("--http", "0.0.0.0:0", env=e, token="host-token")
    try:
        host.expect_error("GET", "/api/status", 401, "queuectl.web.unauthorized", token=None)
        host.expect_error("GET", "/api/status", 401, token="nope")
        host.call("GET", "/api/status")
        eq(host.request("GET", "/", token=None).status, 200, "page without token")
    finally:
        env.stop(host)
    host = env.start_host("--http", "127.0.0.1:0", "--token", "flag-token", token="flag-token")
    try:
        host.expect_error("GET", "/api/status", 401, token=None)
        host.call("GET", "/api/status")
    finally:
        env.stop(host)


try:
    run([test_host_serves_api_while_running_jobs, test_host_non_loopback_without_token_refuses, test_host_with_token])
finally:
    env.close()
