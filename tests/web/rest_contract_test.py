#!/usr/bin/env python3
"""REST contract: every endpoint, its JSON (the same as the CLI's --json), bad input
(malformed JSON, wrong types, unknown state, missing ids, oversized bodies) and the
XSS case (a job whose output holds <script> comes back JSON-escaped)."""

import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Env, TestFailure, check, eq, run, wait_for  # noqa: E402

env = Env()
srv = env.start_dashboard()
XSS = "<script>alert(1)</script>"


def count_jobs():
    return srv.call("GET", "/api/status")["total"]


def test_status_shape():
    s = srv.call("GET", "/api/status")
    eq(sorted(s["counts"]), sorted(["pending", "processing", "completed", "failed", "dead", "canceled"]), "states")
    eq(s["total"], 0, "total on an empty queue")
    check(s["workers"]["active"] == 0 and s["workers"]["processes"] == [], "no workers")
    srv.expect_error("GET", "/api/status?x=1", 400, "queuectl.web.bad_param")


def test_enqueue_one_and_show_like_the_cli():
    r = srv.request("POST", "/api/jobs", {"id": "one", "command": "echo hello", "queue": "q1", "priority": 3})
    eq(r.status, 201, "status of enqueue")
    eq(r.json(), {"id": "one"}, "enqueue answer")
    eq(r.headers.get("location"), "/api/jobs/one", "Location")
    api = srv.call("GET", "/api/jobs/one")
    cli = env.cli_json("show", "one")
    eq(api, cli, "GET /api/jobs/one vs queuectl show --json")
    eq(api["state"], "pending", "state")
    eq(api["history"], [], "no attempts yet")
    # A generated id when none is given.
    gen = srv.call("POST", "/api/jobs", {"command": "true"}, expect=201)["id"]
    check(gen and srv.call("GET", "/api/jobs/" + gen)["command"] == "true", "generated id")


def test_enqueue_batch_is_all_or_nothing():
    before = count_jobs()
    ids = srv.call("POST", "/api/jobs", [{"id": "b1", "command": "true"}, {"id": "b2", "command": "true", "max_retries": 0}],
                   expect=201)["ids"]
    eq(ids, ["b1", "b2"], "batch ids in order")
    eq(count_jobs(), before + 2, "both stored")
    # One bad spec: 400, nothing stored, the message names the job.
    r = srv.expect_error("POST", "/api/jobs", 400, "queuectl.spec.max_retries",
                         body=[{"id": "b3", "command": "true"}, {"id": "b4", "command": "true", "max_retries": -1}])
    check("job 2" in r.json()["error"]["message"], f"message names the job: {r.body!r}")
    # A duplicate id (in storage): 409, nothing stored.
    srv.expect_error("POST", "/api/jobs", 409, "queuectl.storage.duplicate_id",
                     body=[{"id": "b5", "command": "true"}, {"id": "b1", "command": "true"}])
    eq(count_jobs(), before + 2, "nothing stored by refused batches")
    check(env.cli("show", "b3", check_rc=False).returncode == 3, "b3 not stored")
    check(env.cli("show", "b5", check_rc=False).returncode == 3, "b5 not stored")


def test_enqueue_bad_input():
    before = count_jobs()
    cases = [
        ("{not json", 400, "queuectl.web.bad_json"),
        ('{"command": "true"} trailing', 400, "queuectl.web.bad_json"),
        ("", 400, "queuectl.web.bad_json"),
        ("[]", 400, "queuectl.spec.empty_batch"),
        ("42", 400, "queuectl.spec.not_object"),
        ('"text"', 400, "queuectl.spec.not_object"),
        ('{"command": 5}', 400, "queuectl.spec.command"),
        ('{"command": "true", "priority": "high"}', 400, "queuectl.spec.priority"),
        ('{"command": "true", "max_retries": 1.5}', 400, "queuectl.spec.max_retries"),
        ('{"command": "true", "bogus": 1}', 400, "queuectl.spec.unknown_field"),
        ('{"command": "true", "command": "false"}', 400, "queuectl.spec.duplicate_field"),
        ('{"executor": "shell"}', 400, "queuectl.spec.command"),
        ('{"command": "true", "payload": ' + "[" * 100 + "]" * 100 + "}", 400, "queuectl.web.bad_json"),
        (b'{"command": "\xff\xfe"}', 400, "queuectl.web.bad_json"),
    ]
    for body, status, error_id in cases:
        srv.expect_error("POST", "/api/jobs", status, error_id, body=body, headers={"Content-Type": "application/json"})
    # Not sent as JSON: 415.
    srv.expect_error("POST", "/api/jobs", 415, "queuectl.web.content_type", body='{"command": "true"}',
                     headers={"Content-Type": "text/plain"})
    srv.expect_error("POST", "/api/jobs", 415, "queuectl.web.content_type", body='{"command": "true"}')
    eq(count_jobs(), before, "bad input stores nothing")


def test_enqueue_too_large():
    before = count_jobs()
    big = json.dumps({"command": "echo " + "x" * (2 << 20)})
    srv.expect_error("POST", "/api/jobs", 413, "queuectl.web.too_large", body=big, headers={"Content-Type": "application/json"})
    # Just under the body limit but over the codec's limit for one command: 400, not 413.
    srv.expect_error("POST", "/api/jobs", 400, "queuectl.spec.too_large",
                     body=json.dumps({"command": "x" * (300 << 10)}), headers={"Content-Type": "application/json"})
    eq(count_jobs(), before, "nothing stored")
    check(srv.alive(), "server alive after a too-large body")


def test_list_filters_and_paging():
    for i in range(30):
        env.enqueue({"id": f"p{i:02d}", "command": f"echo page {i}", "queue": "paging" if i % 2 else "other"})
    env.enqueue({"id": "h1", "executor": "http", "payload": {"url": "http://127.0.0.1:1/"}, "queue": "paging"})
    page = srv.call("GET", "/api/jobs?limit=5")
    eq(len(page["jobs"]), 5, "page size")
    eq(page["jobs"][0]["id"], "h1", "newest first")
    check(isinstance(page["next_cursor"], str), "a next cursor")
    # All pages of a filtered listing, each job once.
    seen, cursor = [], None
    while True:
        path = "/api/jobs?queue=paging&limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = srv.call("GET", path)
        seen += [j["id"] for j in page["jobs"]]
        check(all(j["queue"] == "paging" for j in page["jobs"]), "queue filter")
        cursor = page["next_cursor"]
        if not cursor:
            break
    eq(len(seen), 16, "jobs of queue 'paging'")
    eq(len(set(seen)), 16, "no job twice")
    oldest = srv.call("GET", "/api/jobs?queue=paging&order=oldest&limit=100")["jobs"]
    eq([j["id"] for j in oldest], list(reversed(seen)), "oldest first is the reverse")
    # Same objects as `queuectl list --json`.
    cli = {j["id"]: j for j in env.cli_json("list", "--queue", "paging", "--limit", "0")}
    eq({j["id"]: j for j in oldest}, cli, "API list vs CLI list --json")
    # Executor and text filters.
    eq([j["id"] for j in srv.call("GET", "/api/jobs?executor=http")["jobs"]], ["h1"], "executor filter")
    eq([j["id"] for j in srv.call("GET", "/api/jobs?q=PAGE%2017")["jobs"]], ["p17"], "text search over command")
    eq([j["id"] for j in srv.call("GET", "/api/jobs?q=p2&queue=other&limit=100")["jobs"]],
       ["p28", "p26", "p24", "p22", "p20"], "text search over id with a queue filter")
    eq(srv.call("GET", "/api/jobs?state=completed")["jobs"], [], "state filter")
    # Bad parameters.
    srv.expect_error("GET", "/api/jobs?state=bogus", 400, "queuectl.web.bad_param")
    for bad in ["limit=0", "limit=501", "limit=x", "limit=-1", "order=up", "cursor=nope!", "cursor=", "stat=dead",
                "q=" + "x" * 300]:
        srv.expect_error("GET", "/api/jobs?" + bad, 400)
    srv.expect_error("GET", "/api/jobs?a=%zz", 400, "queuectl.web.bad_query")
    srv.expect_error("GET", "/api/jobs?limit=1&limit=2", 400, "queuectl.web.bad_query")
    srv.call("DELETE", "/api/jobs/h1")  # no http plugin in the hosts these tests run


def test_missing_ids_are_404():
    for method, path in [("GET", "/api/jobs/nope"), ("DELETE", "/api/jobs/nope"), ("POST", "/api/jobs/nope/retry"),
                         ("POST", "/api/jobs/nope/cancel"), ("GET", "/api/jobs/nope/attempts"),
                         ("GET", "/api/jobs/nope/attempts/1")]:
        srv.expect_error(method, path, 404, "queuectl.queue.not_found")
    srv.expect_error("GET", "/api/jobs/one/attempts/1", 404, "queuectl.web.no_attempt")
    srv.expect_error("GET", "/api/jobs/one/attempts/zero", 400, "queuectl.web.bad_param")
    srv.expect_error("GET", "/api/jobs/one/attempts/0", 400, "queuectl.web.bad_param")
    srv.expect_error("GET", "/api/nothing-here", 404, "queuectl.web.not_found")
    srv.expect_error("GET", "/api/config/no-such-key", 404, "queuectl.config.unknown_key")


def test_run_jobs_then_attempts_logs_and_xss():
    env.cli("config", "set", "backoff-base", "1")
    env.enqueue({"id": "ok", "command": "echo fine; echo oops >&2"})
    env.enqueue({"id": "dead1", "command": "echo failing; exit 3", "max_retries": 1})
    env.enqueue({"id": "dead2", "command": "exit 4", "max_retries": 1})
    env.enqueue({"id": "xss", "command": f"echo '{XSS}'"})
    env.drain()
    eq(env.state("dead1"), "dead", "dead1")
    attempts = srv.call("GET", "/api/jobs/ok/attempts")
    eq(len(attempts), 1, "one attempt")
    a = attempts[0]
    eq((a["number"], a["outcome"], a["exit_code"]), (1, "succeeded", 0), "attempt record")
    check("fine" in a["output"] and "oops" in a["output"], f"stdout and stderr in output: {a['output']!r}")
    check(isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0, "duration")
    eq(srv.call("GET", "/api/jobs/ok/attempts/1"), a, "one attempt by number")
    eq(srv.call("GET", "/api/jobs/dead1")["history"], env.cli_json("show", "dead1")["history"], "history vs CLI")
    eq(srv.call("GET", "/api/jobs/dead1/attempts/1")["exit_code"], 3, "exit code of the failed attempt")
    # XSS: the output holds a script tag; the API sends it JSON-escaped, never raw.
    r = srv.request("GET", "/api/jobs/xss/attempts/1")
    check(b"<script>" not in r.body, f"raw <script> in the response: {r.body!r}")
    check(b"\\u003cscript\\u003e" in r.body, "escaped as \\u003c…")
    eq(r.json()["output"].strip(), XSS, "the decoded output is the text")
    eq(r.headers.get("content-type"), "application/json", "content type")
    eq(r.headers.get("x-content-type-options"), "nosniff", "nosniff")
    for path in ["/api/jobs/xss", "/api/jobs?q=script", "/api/jobs/xss/attempts"]:
        body = srv.request("GET", path).body
        check(b"<script" not in body and b"</script" not in body, f"{path}: raw markup in {body[:200]!r}")


def test_retry_cancel_delete_state_rules():
    eq(srv.call("POST", "/api/jobs/dead1/retry")["state"], "pending", "retried dead job")
    eq(env.state("dead1"), "pending", "CLI sees it pending")
    srv.expect_error("POST", "/api/jobs/dead1/retry", 409, "queuectl.queue.not_dead")
    eq(srv.call("POST", "/api/jobs/dead1/cancel")["state"], "canceled", "cancel pending")
    srv.expect_error("POST", "/api/jobs/dead1/cancel", 409, "queuectl.queue.final")
    srv.expect_error("POST", "/api/jobs/ok/cancel", 409, "queuectl.queue.final")
    eq(srv.call("DELETE", "/api/jobs/dead1"), {"deleted": "dead1"}, "delete")
    srv.expect_error("GET", "/api/jobs/dead1", 404)
    srv.expect_error("DELETE", "/api/jobs/dead1", 404)
    # Ids with URL-special characters (':' and '.') are addressed percent-encoded.
    env.enqueue({"id": "a:b.c", "command": "true"})
    eq(srv.call("GET", "/api/jobs/a%3Ab.c")["id"], "a:b.c", "percent-encoded id")


def test_dlq_list_and_retry_all():
    env.enqueue({"id": "dead3", "command": "exit 1", "max_retries": 1})
    env.drain()
    dlq = srv.call("GET", "/api/dlq")
    ids = sorted(j["id"] for j in dlq["jobs"])
    eq(ids, ["dead2", "dead3"], "dead jobs")
    eq(ids, sorted(j["id"] for j in env.cli_json("dlq", "list")), "API dlq vs CLI dlq list")
    srv.expect_error("GET", "/api/dlq?state=pending", 400, "queuectl.web.bad_param")
    eq(srv.call("POST", "/api/dlq/retry-all"), {"requeued": 2}, "retry all")
    eq(srv.call("GET", "/api/dlq")["jobs"], [], "DLQ empty")
    eq(env.state("dead3"), "pending", "requeued")
    eq(srv.call("POST", "/api/dlq/retry-all"), {"requeued": 0}, "nothing left")


def test_config_get_set():
    c = srv.call("GET", "/api/config")
    eq(c["config"], env.cli_json("config", "get"), "API config vs CLI config get --json")
    keys = [s["key"] for s in c["settings"]]
    check("max-retries" in keys and all(s["about"] for s in c["settings"]), "settings with descriptions")
    one = srv.call("GET", "/api/config/max_retries")
    eq((one["key"], one["value"], one["is_set"]), ("max-retries", 3, False), "one setting, either spelling")
    eq(srv.call("POST", "/api/config/max-retries", {"value": 5})["value"], 5, "set by number")
    eq(env.cli("config", "get", "max-retries").stdout.strip(), "5", "CLI sees it")
    eq(srv.call("POST", "/api/config/backoff-base", {"value": "1.5"})["value"], 1.5, "set by string")
    srv.expect_error("POST", "/api/config/max-retries", 400, "queuectl.config.invalid_value", body={"value": -1})
    srv.expect_error("POST", "/api/config/max-retries", 400, "queuectl.config.invalid_value", body={"value": "lots"})
    srv.expect_error("POST", "/api/config/max-retries", 400, "queuectl.config.bad_body", body={"value": True})
    srv.expect_error("POST", "/api/config/max-retries", 400, "queuectl.config.bad_body", body={"v": 1})
    srv.expect_error("POST", "/api/config/max-retries", 400, "queuectl.config.bad_body", body=[5])
    srv.expect_error("POST", "/api/config/nope", 404, "queuectl.config.unknown_key", body={"value": 1})
    eq(env.cli("config", "get", "max-retries").stdout.strip(), "5", "bad values stored nothing")
    # A job enqueued through the API takes the new default.
    srv.call("POST", "/api/jobs", {"id": "cfg", "command": "true"}, expect=201)
    eq(srv.call("GET", "/api/jobs/cfg")["max_retries"], 5, "default from config")
    env.cli("config", "reset")


def test_metrics_and_throughput():
    m = srv.call("GET", "/api/metrics")
    cli = env.cli_json("metrics")
    for k in ["finished_attempts", "succeeded", "failed", "counts", "queues"]:
        eq(m[k], cli[k], f"metrics {k} vs CLI")
    check(m["finished_attempts"] >= 6, "attempts counted")
    w = srv.call("GET", "/api/metrics?since=1h")
    eq(w["window_seconds"], 3600, "window")
    for bad in ["since=soon", "since=0s", "x=1"]:
        srv.expect_error("GET", "/api/metrics?" + bad, 400, "queuectl.web.bad_param")
    t = srv.call("GET", "/api/metrics/throughput")
    eq(t["bucket_seconds"], 60, "bucket size")
    eq(len(t["buckets"]), 60, "an hour of buckets")
    eq(sum(b["succeeded"] + b["failed"] for b in t["buckets"]), w["finished_attempts"], "buckets add up to the hour's attempts")
    eq(sum(b["failed"] for b in t["buckets"]), w["failed"], "failed attempts")
    eq(len(srv.call("GET", "/api/metrics/throughput?minutes=5")["buckets"]), 5, "minutes")
    for bad in ["minutes=0", "minutes=181", "minutes=x"]:
        srv.expect_error("GET", "/api/metrics/throughput?" + bad, 400, "queuectl.web.bad_param")


def test_workers_with_a_running_host():
    host = env.start_host("--workers", "3")
    try:
        w = wait_for(20, lambda: (lambda x: x if x["active"] == 3 else None)(srv.call("GET", "/api/workers")), "the host's slots")
        eq(len(w["workers"]), 1, "one process")
        check(w["workers"][0]["alive"], "alive")
        eq(w["hosts"][0]["alive_slots"], 3, "host summary")
        eq(srv.call("GET", "/api/status")["workers"]["active"], 3, "status agrees")
    finally:
        env.stop(host)


def test_patch_job():
    """PATCH /api/jobs/{id} (issue 10): the fields of `queuectl update`, 200 with the job as
    GET shows it, 400 bad input, 404 unknown id, 409 running or a move the state forbids."""
    env.enqueue({"id": "pj", "command": "echo before"})
    r = srv.call("PATCH", "/api/jobs/pj", {"command": "echo after", "priority": 4, "queue": "edited",
                                           "env": {"X": "1"}, "payload": {"k": 1}, "timeout": 3, "max_retries": 2,
                                           "cwd": "/tmp", "run_at": "2099-01-01T00:00:00Z"})
    eq(r, srv.call("GET", "/api/jobs/pj"), "PATCH answers with the job as GET shows it")
    eq(r, env.cli_json("show", "pj"), "and as queuectl show --json")
    eq((r["command"], r["priority"], r["queue"], r["env"], r["payload"], r["timeout"], r["max_retries"], r["cwd"], r["run_at"]),
       ("echo after", 4, "edited", {"X": "1"}, {"k": 1}, 3, 2, "/tmp", "2099-01-01T00:00:00.000Z"), "fields changed")
    before = srv.call("GET", "/api/jobs/pj")
    for body, err_id in [({"colour": "red"}, "queuectl.spec.unknown_field"), ({"priority": "high"}, "queuectl.spec.priority"),
                         ({"max_retries": 5000}, "queuectl.spec.max_retries"), ({"state": "completed"}, "queuectl.update.state"),
                         ({"id": "other"}, "queuectl.spec.id"), ({"command": ""}, "queuectl.spec.command"),
                         ([1], "queuectl.spec.not_object")]:
        srv.expect_error("PATCH", "/api/jobs/pj", 400, err_id, body=body)
    srv.expect_error("PATCH", "/api/jobs/pj", 400, "queuectl.web.bad_json", body="{oops",
                     headers={"Content-Type": "application/json"})
    srv.expect_error("PATCH", "/api/jobs/pj", 415, "queuectl.web.content_type", body="{}", headers={"Content-Type": "text/plain"})
    srv.expect_error("PATCH", "/api/jobs/pj?x=1", 400, "queuectl.web.bad_param", body={"priority": 1})
    eq(srv.call("GET", "/api/jobs/pj"), before, "refused PATCHes changed nothing")
    srv.expect_error("PATCH", "/api/jobs/nope", 404, "queuectl.queue.not_found", body={"priority": 1})
    # Moves: pending -> canceled -> pending; completed -> canceled is refused (409).
    eq(srv.call("PATCH", "/api/jobs/pj", {"state": "canceled"})["state"], "canceled", "pending -> canceled")
    eq(srv.call("PATCH", "/api/jobs/pj", {"state": "pending", "run_at": "2099-01-01T00:00:00Z"})["state"], "pending",
       "canceled -> pending")
    # A running job: 409, untouched.
    env.enqueue({"id": "pdone", "command": "true"})
    env.enqueue({"id": "pslow", "command": "sleep 30"})
    host = env.start_host("--workers", "1")
    try:
        wait_for(20, lambda: env.state("pslow") == "processing", "pslow running")
        srv.expect_error("PATCH", "/api/jobs/pslow", 409, "queuectl.queue.running", body={"command": "echo never"})
        eq(srv.call("GET", "/api/jobs/pslow")["command"], "sleep 30", "running job untouched")
        srv.call("POST", "/api/jobs/pslow/cancel")
    finally:
        env.stop(host)
    # completed -> canceled is refused (409); completed -> pending starts again.
    eq(env.state("pdone"), "completed", "pdone ran")
    srv.expect_error("PATCH", "/api/jobs/pdone", 409, "queuectl.update.move", body={"state": "canceled"})
    back = srv.call("PATCH", "/api/jobs/pdone", {"state": "pending", "run_at": "2099-01-01T00:00:00Z"})
    eq((back["state"], back["attempts"]), ("pending", 0), "completed -> pending starts again")


def test_wrong_methods_are_405():
    for method, path, allow in [("GET", "/api/jobs/x/retry", "POST"), ("GET", "/api/jobs/x/cancel", "POST"),
                                ("GET", "/api/dlq/retry-all", "POST"), ("PUT", "/api/jobs", "GET, POST"),
                                ("POST", "/api/status", "GET"), ("PUT", "/api/jobs/x", "GET, DELETE, PATCH"),
                                ("DELETE", "/api/config/max-retries", "GET, POST"), ("POST", "/", "GET")]:
        r = srv.expect_error(method, path, 405, "queuectl.web.method_not_allowed")
        eq(r.headers.get("allow"), allow, f"Allow of {method} {path}")
    eq(env.state("ok"), "completed", "GETs changed nothing")


def test_openapi_document():
    r = srv.request("GET", "/openapi.json")
    eq(r.status, 200, "status")
    doc = r.json()
    check(doc["openapi"].startswith("3."), "OpenAPI 3")
    for p in ["/api/jobs", "/api/jobs/{id}", "/api/dlq/retry-all", "/api/config/{key}", "/api/metrics/throughput"]:
        check(p in doc["paths"], f"{p} documented")
    check("patch" in doc["paths"]["/api/jobs/{id}"] and "JobPatch" in doc["components"]["schemas"], "PATCH documented")


def test_server_still_healthy():
    check(srv.alive(), "server process alive")
    srv.call("GET", "/api/status")
    env.stop(srv)


try:
    run([test_status_shape, test_enqueue_one_and_show_like_the_cli, test_enqueue_batch_is_all_or_nothing,
         test_enqueue_bad_input, test_enqueue_too_large, test_list_filters_and_paging, test_missing_ids_are_404,
         test_run_jobs_then_attempts_logs_and_xss, test_retry_cancel_delete_state_rules, test_dlq_list_and_retry_all,
         test_config_get_set, test_metrics_and_throughput, test_workers_with_a_running_host, test_patch_job, test_wrong_methods_are_405,
         test_openapi_document, test_server_still_healthy])
finally:
    env.close()
