#!/usr/bin/env python3
"""Security of the web server: foreign Host names refused before routing (421, DNS
rebinding), token (401, one Bearer rule), loopback-only without a token (exit 2),
cross-site refusal (403), security headers and a page with no inline script, body and
header limits (413/431), per-connection read timeout, a connection cap that reaps idle
connections and answers 503, searches that cannot starve the rest, error bodies that
stay valid JSON, and surviving malformed requests."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Env, Q, check, eq, free_port, run, wait_for  # noqa: E402

env = Env()
srv = env.start_dashboard("--read-timeout", "1")
ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "apps", "web", "assets")


def raw(data, read_timeout=5):
    """Sends raw bytes on a new connection; returns everything read until the server
    closes (or read_timeout passes)."""
    s = socket.create_connection((srv.host, srv.port), timeout=read_timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def status_of(response_bytes):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", response_bytes)
    return int(m.group(1)) if m else None


def test_security_headers_everywhere():
    for path in ["/", "/index.html", "/app.js", "/app.css", "/favicon.svg", "/openapi.json", "/api/status", "/api/nope"]:
        r = srv.request("GET", path)
        check(r.status in (200, 404), f"{path}: {r.status}")
        csp = r.headers.get("content-security-policy", "")
        check("default-src 'self'" in csp and "unsafe-inline" not in csp, f"{path}: CSP {csp!r}")
        eq(r.headers.get("x-content-type-options"), "nosniff", f"{path} nosniff")
        eq(r.headers.get("referrer-policy"), "no-referrer", f"{path} referrer policy")
    eq(srv.request("GET", "/").headers.get("content-type"), "text/html; charset=utf-8", "page content type")
    eq(srv.request("GET", "/app.js").headers.get("content-type"), "text/javascript; charset=utf-8", "script type")
    # HEAD answers like GET without a body.
    r = srv.request("HEAD", "/api/status")
    eq((r.status, r.body), (200, b""), "HEAD")


def test_page_has_no_inline_script_and_uses_text_content():
    page = srv.request("GET", "/").body.decode()
    for tag in re.findall(r"<script\b[^>]*>", page):
        check("src=" in tag, f"inline script tag {tag}")
    check(not re.search(r"<script\b[^>]*>(?!\s*</script>)", page), "script element with a body")
    check(not re.search(r"\son[a-z]+\s*=", page), "inline event handler attribute")
    check(not re.search(r"\sstyle\s*=", page), "inline style attribute")
    check(not re.search(r"https?://", page.replace("http://www.w3.org", "")), "external URL in the page")
    js = srv.request("GET", "/app.js").body.decode()
    eq(js, open(os.path.join(ASSETS, "app.js")).read(), "served app.js is the source file")
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"]:
        check(sink not in js, f"app.js uses {sink}")
    check("textContent" in js, "app.js writes text with textContent")
    check(not re.search(r"https?://(?!www\.w3\.org/2000/svg)", js), "no external URL in app.js")
    css = srv.request("GET", "/app.css").body.decode()
    check("@import" not in css and "url(" not in css, "no external CSS resources (fonts, imports)")


def test_cross_site_mutations_are_403():
    srv.call("POST", "/api/jobs", {"id": "victim", "command": "exit 1", "max_retries": 0}, expect=201)
    evil = {"Origin": "http://evil.example"}
    srv.expect_error("POST", "/api/jobs", 403, "queuectl.web.cross_site", body={"command": "true"}, headers=evil)
    srv.expect_error("POST", "/api/jobs/victim/cancel", 403, "queuectl.web.cross_site", headers=evil)
    srv.expect_error("DELETE", "/api/jobs/victim", 403, "queuectl.web.cross_site", headers=evil)
    srv.expect_error("PATCH", "/api/jobs/victim", 403, "queuectl.web.cross_site", body={"command": "evil"}, headers=evil)
    srv.expect_error("POST", "/api/config/max-retries", 403, "queuectl.web.cross_site", body={"value": 9}, headers=evil)
    srv.expect_error("POST", "/api/dlq/retry-all", 403, "queuectl.web.cross_site", headers={"Sec-Fetch-Site": "cross-site"})
    srv.expect_error("POST", "/api/dlq/retry-all", 403, "queuectl.web.cross_site", headers={"Origin": "null"})
    # Same port on another host name is another origin too.
    srv.expect_error("POST", "/api/dlq/retry-all", 403, headers={"Origin": f"http://localhost:{srv.port}"})
    eq(srv.call("GET", "/api/jobs/victim")["state"], "pending", "nothing happened")
    eq(env.cli("config", "get", "max-retries").stdout.strip(), "3", "config untouched")
    # The page's own requests (same origin) and non-browser clients (no Origin) work.
    same = {"Origin": f"http://{srv.host}:{srv.port}", "Sec-Fetch-Site": "same-origin"}
    eq(srv.call("POST", "/api/jobs/victim/cancel", headers=same)["state"], "canceled", "same-origin POST")
    srv.call("DELETE", "/api/jobs/victim")
    # Cross-site GETs are harmless (and unreadable without CORS): not refused.
    srv.call("GET", "/api/status", headers=evil)


def test_foreign_host_is_refused_before_routing():
    # The reproduction of the DNS-rebinding hole: a page on rebind.evil whose name now
    # resolves to 127.0.0.1 is "same origin" with itself.
    P = srv.port
    evil = {"Host": f"rebind.evil:{P}", "Origin": f"http://rebind.evil:{P}"}
    before = env.cli("list", "--json").stdout
    srv.expect_error("POST", "/api/jobs", 421, "queuectl.web.foreign_host", body={"command": "id > /tmp/pwned"}, headers=evil)
    srv.expect_error("POST", "/api/config/max-retries", 421, "queuectl.web.foreign_host", body={"value": 9}, headers=evil)
    for path in ["/api/jobs", "/api/status", "/", "/index.html", "/app.js", "/openapi.json", "/api/nope"]:
        srv.expect_error("GET", path, 421, "queuectl.web.foreign_host", headers={"Host": f"rebind.evil:{P}"})
    for host in [f"127.0.0.1.nip.io:{P}", "localhost.evil", "LOCALHOST.:1", "user@127.0.0.1", "127.0.0.1:80/x", "[::1",
                 "127.0.0.1:abc", "", "a b"]:
        r = srv.request("GET", "/api/status", headers={"Host": host})
        check(r.status in (400, 421), f"Host {host!r} answered {r.status}")
    eq(env.cli("list", "--json").stdout, before, "nothing stored")
    eq(env.cli("config", "get", "max-retries").stdout.strip(), "3", "config untouched")
    # No Host at all (HTTP/1.0): refused too.
    out = raw(b"GET /api/status HTTP/1.0\r\n\r\n")
    eq(status_of(out), 421, f"request without Host: {out[:120]!r}")
    # Normal use keeps working, whatever the port or case.
    for host in [f"127.0.0.1:{P}", f"localhost:{P}", "LocalHost", "127.0.0.1", f"[::1]:{P}"]:
        eq(srv.request("GET", "/api/status", headers={"Host": host}).status, 200, f"Host {host}")
    same = {"Host": f"localhost:{P}", "Origin": f"http://localhost:{P}"}
    srv.call("POST", "/api/jobs", {"id": "via-localhost", "command": "true"}, expect=201, headers=same)
    srv.call("DELETE", "/api/jobs/via-localhost", headers={"Host": f"localhost:{P}"})


def test_allowed_hosts_by_flag_and_environment():
    e = dict(env.env, QUEUECTL_ALLOWED_HOSTS="env.example, other.example")
    extra = env.start_dashboard("--allowed-host", "Proxy.Example", "--allowed-host", "10.1.2.3", env=e)
    try:
        for host in ["proxy.example", "PROXY.example:443", "10.1.2.3:8080", "env.example", "other.example:1"]:
            eq(extra.request("GET", "/api/status", headers={"Host": host}).status, 200, f"allowed Host {host}")
        extra.expect_error("GET", "/api/status", 421, headers={"Host": "rebind.evil"})
        extra.expect_error("GET", "/api/status", 421, headers={"Host": "sub.proxy.example"})
    finally:
        env.stop(extra)
    before = env.cli("list", "--json").stdout
    for args, e2 in [(["--allowed-host", "http://x.example"], None), (["--allowed-host", "x.example:80"], None),
                     (["--allowed-host", ""], None), ([], dict(env.env, QUEUECTL_ALLOWED_HOSTS="ok.example,bad/name"))]:
        r = subprocess.run([Q, "dashboard", "--bind", "127.0.0.1:0", *args], capture_output=True, text=True,
                           env=e2 or env.env, timeout=20)
        eq(r.returncode, 2, f"exit code for {args or 'QUEUECTL_ALLOWED_HOSTS'}: {r.stderr!r}")
        eq(len(r.stderr.strip().splitlines()), 1, f"one line: {r.stderr!r}")
    eq(env.cli("list", "--json").stdout, before, "nothing changed")


def test_error_bodies_are_valid_escaped_json():
    for path in ["/api/jobs/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/api/jobs/%ff%fe", "/api/jobs/%e2%80%ae%1b%5b31m",
                 "/api/nope/%3Cb%3E", "/api/jobs/%F0%9F%98%80x"]:
        r = srv.request("GET", path)
        check(400 <= r.status < 500, f"{path}: {r.status}")
        body = r.body
        check(all(b < 0x80 for b in body), f"{path}: non-ASCII bytes in the error body {body!r}")
        check(b"<" not in body and b">" not in body and b"\x1b" not in body, f"{path}: raw markup or escape in {body!r}")
        doc = json.loads(body.decode("ascii"))
        check(isinstance(doc["error"]["message"], str), f"{path}: {doc}")
    msg = srv.request("GET", "/api/jobs/%F0%9F%98%80x").json()["error"]["message"]
    check("\U0001F600x" in msg, f"valid UTF-8 survives escaping: {msg!r}")
    msg = srv.request("GET", "/api/jobs/%ff").json()["error"]["message"]
    check("\ufffd" in msg, f"invalid UTF-8 becomes U+FFFD: {msg!r}")


def test_connection_cap_reaps_idle_connections():
    # 512 idle connections (never send a request) used to lock everyone out. Beyond the
    # cap the server closes the longest-idle one, so a normal request still works.
    idle = []
    try:
        for _ in range(530):
            idle.append(socket.create_connection((srv.host, srv.port), timeout=10))
        time.sleep(0.2)
        for _ in range(5):
            eq(srv.request("GET", "/api/status", timeout=5).status, 200, "a request with 530 idle connections open")
        closed = 0
        for s in idle[:40]:  # the oldest ones were reaped
            s.settimeout(2)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except (ConnectionResetError, socket.timeout):
                closed += isinstance(sys.exc_info()[1], ConnectionResetError)
        check(closed >= 5, f"the oldest idle connections were closed ({closed} of 40)")
    finally:
        for s in idle:
            s.close()
    srv.call("GET", "/api/status")
    # When every connection is busy with a request (its header arrived, its body has
    # not), nothing can be reaped: the next client gets 503 with Retry-After, not a reset.
    full = env.start_dashboard()
    busy = []
    try:
        for _ in range(512):
            s = socket.create_connection((full.host, full.port), timeout=10)
            s.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n")
            busy.append(s)
        time.sleep(0.3)
        r = full.request("GET", "/api/status", timeout=5)
        eq((r.status, r.error_id(), r.headers.get("retry-after")), (503, "queuectl.web.busy", "1"), "answer at the cap")
    finally:
        for s in busy:
            s.close()
    wait_for(10, lambda: full.request("GET", "/api/status", timeout=5).status == 200, "serving again")
    env.stop(full)


def test_searches_cannot_starve_status():
    # 30,000 jobs; 8 parallel text searches over them while /api/status keeps answering.
    lines = "".join(json.dumps({"id": f"bulk-{i}", "command": f"echo {i}"}) + "\n" for i in range(30000))
    env.cli("enqueue", "--file", "-", input=lines)
    results, errors = [], []

    def search():
        try:
            r = srv.request("GET", "/api/jobs?q=no-such-text&limit=50", timeout=60)
            results.append((r.status, r.json() if r.status == 200 else r.error_id(), r.headers.get("retry-after")))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=search) for _ in range(8)]
    for t in threads:
        t.start()
    worst = 0.0
    while any(t.is_alive() for t in threads):
        t0 = time.monotonic()
        eq(srv.request("GET", "/api/status", timeout=30).status, 200, "status during searches")
        worst = max(worst, time.monotonic() - t0)
    for t in threads:
        t.join()
    eq(errors, [], "search errors")
    ran = [r for r in results if r[0] == 200]
    busy = [r for r in results if r[0] == 503]
    eq(len(ran) + len(busy), 8, f"every search answered 200 or 503: {results}")
    check(ran, "some searches ran")
    for _, body, _ in ran:
        # A bounded scan: no match in the first 20,000 rows, so a cursor to go on.
        eq(body["jobs"], [], "no match")
        check(body["next_cursor"], "a scan cut short by its budget returns a cursor")
    for _, error_id, retry in busy:
        eq((error_id, retry), ("queuectl.web.search_busy", "1"), "busy searches say so and when to retry")
    print(f"  (worst /api/status during 8 searches: {worst * 1000:.0f} ms; {len(busy)} searches told to retry)")
    # Following the cursors reaches the end of the table.
    cursor, pages = None, 0
    while True:
        q = "/api/jobs?q=no-such-text&limit=50" + (f"&cursor={cursor}" if cursor else "")
        body = srv.call("GET", q, timeout=60)
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
        check(pages < 10, "the cursors end")
    eq(pages, 2, "30,000 rows take two bounded scans")
    body = srv.call("GET", "/api/jobs?q=bulk-29999&limit=5")
    eq([j["id"] for j in body["jobs"]], ["bulk-29999"], "a search finds its match")
    env.cli("purge", "--all", check_rc=False)


def test_token_required_when_set():
    tok = env.start_dashboard(token="s3cret-token")
    try:
        r = tok.expect_error("GET", "/api/status", 401, "queuectl.web.unauthorized", token=None)
        check(r.headers.get("www-authenticate", "").startswith("Bearer"), "WWW-Authenticate")
        tok.expect_error("GET", "/api/status", 401, "queuectl.web.unauthorized", token="wrong")
        tok.expect_error("GET", "/api/status", 401, token="s3cret-tokenX")
        tok.expect_error("GET", "/api/status", 401, token=None, headers={"Authorization": "Basic czNjcmV0LXRva2Vu"})
        tok.expect_error("POST", "/api/jobs", 401, body={"command": "true"}, token=None)
        tok.expect_error("PATCH", "/api/jobs/x", 401, body={"command": "true"}, token=None)
        tok.expect_error("GET", "/api/nope", 401, token=None)  # no route probing without the token
        tok.call("GET", "/api/status")
        tok.call("GET", "/api/status", token=None, headers={"Authorization": "bearer s3cret-token"})
        tok.call("GET", "/api/status", token=None, headers={"Authorization": "BEARER s3cret-token"})
        tok.expect_error("GET", "/api/status", 401, token=None, headers={"Authorization": "Bearer S3CRET-TOKEN"})
        tok.expect_error("GET", "/api/status", 401, token=None, headers={"Authorization": "Bearer"})
        # The page itself loads without the token (it asks for it); so does the API description.
        for path in ["/", "/app.js", "/app.css", "/openapi.json"]:
            eq(tok.request("GET", path, token=None).status, 200, f"{path} without token")
    finally:
        env.stop(tok)
    # QUEUECTL_TOKEN works like --token.
    e = dict(env.env, QUEUECTL_TOKEN="from-env")
    tok = env.start_dashboard(env=e)
    try:
        tok.expect_error("GET", "/api/status", 401, token=None)
        tok.call("GET", "/api/status", token="from-env")
    finally:
        env.stop(tok)


def test_non_loopback_needs_a_token():
    before = env.cli("list", "--json").stdout
    for bind in [f"0.0.0.0:{free_port()}", f"[::]:{free_port()}"]:
        r = subprocess.run([Q, "dashboard", "--bind", bind], capture_output=True, text=True, env=env.env, timeout=20)
        eq(r.returncode, 2, f"exit code binding {bind} without a token")
        eq(len(r.stderr.strip().splitlines()), 1, f"one line: {r.stderr!r}")
        check("token" in r.stderr, f"the reason names the token: {r.stderr!r}")
    eq(env.cli("list", "--json").stdout, before, "nothing changed")
    # With a token it starts.
    tok = env.start_dashboard(token="t", bind="0.0.0.0:0")
    try:
        tok.call("GET", "/api/status")
    finally:
        env.stop(tok)
    # Bad addresses: exit 2; an address in use: exit 1.
    for bind in ["nonsense", "127.0.0.1:99999", "127.0.0.1:", ":8080", "127.0.0.1:http", "[::1]8080"]:
        r = subprocess.run([Q, "dashboard", "--bind", bind], capture_output=True, text=True, env=env.env, timeout=20)
        eq(r.returncode, 2, f"exit code for --bind {bind!r} ({r.stderr.strip()})")
    r = subprocess.run([Q, "dashboard", "--bind", f"127.0.0.1:{srv.port}"], capture_output=True, text=True, env=env.env, timeout=20)
    eq(r.returncode, 1, f"exit code for a port in use ({r.stderr.strip()})")


def test_body_limits():
    limit = (1 << 20) + (64 << 10)
    # Declared too large: refused at once (before the body is read), 413.
    r = srv.request("POST", "/api/jobs", b"x" * (limit + 1), headers={"Content-Type": "application/json"})
    eq(r.status, 413, "Content-Length over the limit")
    eq(r.error_id(), "queuectl.web.too_large", "error id")
    # Chunked, growing past the limit: 413 too.
    chunk = b"y" * 65536
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(20)) + b"0\r\n\r\n"
    out = raw(b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    eq(status_of(out), 413, f"chunked body over the limit: {out[:200]!r}")
    # Expect: 100-continue with a too-large length: 413 instead of 100.
    out = raw(b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
              b"Content-Length: 5000000\r\n\r\n", read_timeout=5)
    eq(status_of(out), 413, f"100-continue over the limit: {out[:200]!r}")
    # Expect: 100-continue within the limit: 100, then the answer.
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    body = b'{"command":"true","id":"continued"}'
    s.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    first = s.recv(4096)
    eq(status_of(first), 100, f"100 Continue: {first!r}")
    s.sendall(body)
    second = b""
    while b"\r\n\r\n" not in second:
        second += s.recv(4096)
    s.close()
    eq(status_of(second), 201, f"created after 100-continue: {second[:200]!r}")
    # Headers too large: 431.
    out = raw(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"z" * (64 << 10) + b"\r\n\r\n")
    eq(status_of(out), 431, f"huge header: {out[:200]!r}")


def test_survives_malformed_requests():
    cases = [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /api/status HTTP/9.9\r\n\r\n",
        b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
        b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /api/status HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
        b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
        b"GET /api/jobs/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /api/jobs?state=%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET " + b"/a" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ]
    for data in cases:
        out = raw(data)
        code = status_of(out)
        check(code is None or 400 <= code < 500, f"{data[:40]!r} answered {out[:120]!r}")
        check(srv.alive(), f"server died on {data[:40]!r}")
        srv.call("GET", "/api/status")
    # Half a request, then the client hangs up.
    s = socket.create_connection((srv.host, srv.port))
    s.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"com")
    s.close()
    srv.call("GET", "/api/status")
    # Keep-alive: several requests on one connection, pipelined.
    out = raw(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 3 + b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    eq(out.count(b"HTTP/1.1 200"), 4, "four pipelined answers")


def test_slow_clients_time_out_and_do_not_block_others():
    # Server started with --read-timeout 1: a client that never finishes its request is
    # dropped after about a second; meanwhile other clients are served.
    slow = []
    for _ in range(40):
        s = socket.create_connection((srv.host, srv.port))
        s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: never complete
        slow.append(s)
    t0 = time.monotonic()
    srv.call("GET", "/api/status")
    check(time.monotonic() - t0 < 8, "a normal request waited behind slow clients")
    closed = 0
    for s in slow:
        s.settimeout(10)
        try:
            if s.recv(1) == b"":
                closed += 1
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        s.close()
    eq(closed, len(slow), "slow connections closed by the server")
    # An idle keep-alive connection is closed too.
    s = socket.create_connection((srv.host, srv.port))
    s.settimeout(10)
    s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"}" not in data:
        data += s.recv(65536)
    t0 = time.monotonic()
    eq(s.recv(1), b"", "idle keep-alive connection closed")
    check(time.monotonic() - t0 < 8, "closed after about the read timeout, not never")
    s.close()


def test_still_serving_and_stops_cleanly():
    check(srv.alive(), "server alive")
    srv.call("GET", "/api/status")
    env.stop(srv)


try:
    run([test_security_headers_everywhere, test_page_has_no_inline_script_and_uses_text_content,
         test_foreign_host_is_refused_before_routing, test_allowed_hosts_by_flag_and_environment,
         test_error_bodies_are_valid_escaped_json, test_connection_cap_reaps_idle_connections,
         test_searches_cannot_starve_status, test_cross_site_mutations_are_403, test_token_required_when_set, test_non_loopback_needs_a_token, test_body_limits,
         test_survives_malformed_requests, test_slow_clients_time_out_and_do_not_block_others,
         test_still_serving_and_stops_cleanly])
finally:
    env.close()
