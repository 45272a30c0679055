#!/usr/bin/env bash
# The prometheus exporter: a host with --plugin shell --plugin prometheus processes jobs;
# /metrics passes `promtool check metrics` and its counters equal the attempts made.
# Binding a non-loopback address needs a token, and then every scrape needs it.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus; scripts/install-deps.sh installs it)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
scrape() { curl -sf --max-time 5 "$@"; }
metric() {  # metric NAME_WITH_LABELS: its value in $T/metrics.txt, or 0
  awk -v k="$1" '$1 == k { print $2; found=1 } END { if (!found) print 0 }' "$T/metrics.txt"
}

port=$(free_port)
start_host host --plugin shell --plugin prometheus --workers 2 --metrics-bind "127.0.0.1:$port"
host_pid=$LAST_PID
wait_for 10 scrape "http://127.0.0.1:$port/metrics" || fail "no /metrics on port $port"
for i in $(seq 1 10); do "$Q" enqueue "{\"id\":\"ok$i\",\"command\":\"true\"}" >/dev/null; done
for i in 1 2; do "$Q" enqueue "{\"id\":\"bad$i\",\"command\":\"exit 3\",\"max_retries\":2}" >/dev/null; done
"$Q" config set backoff-base 1 >/dev/null   # 1^n = 1 s between attempts keeps the test short
all_final() { [ "$("$Q" list --json | json 'sum(1 for x in j if x["state"] in ("completed","dead"))')" = 12 ]; }
wait_for 30 all_final || fail "jobs did not finish: $("$Q" status)"

scrape "http://127.0.0.1:$port/metrics" > "$T/metrics.txt" || fail "scrape failed"
promtool check metrics < "$T/metrics.txt" > "$T/promtool.txt" 2>&1 || fail "promtool: $(cat "$T/promtool.txt")"
pass "promtool check metrics accepts /metrics"

labels='queue="default",executor="shell"'
[ "$(metric "queuectl_attempts_total{$labels,outcome=\"succeeded\"}")" = 10 ] || fail "succeeded counter: $(grep attempts_total "$T/metrics.txt")"
[ "$(metric "queuectl_attempts_total{$labels,outcome=\"failed\"}")" = 4 ] || fail "failed counter: $(grep attempts_total "$T/metrics.txt")"
[ "$(metric "queuectl_attempts_started_total{$labels}")" = 14 ] || fail "started counter"
[ "$(metric "queuectl_attempt_duration_seconds_count{$labels}")" = 14 ] || fail "duration histogram count"
[ "$(metric 'queuectl_queue_wait_seconds_count{queue="default"}')" = 14 ] || fail "wait histogram count"
[ "$(metric queuectl_worker_slots)" = 2 ] || fail "slots"
[ "$(metric queuectl_worker_slots_busy)" = 0 ] || fail "busy slots"
[ "$(metric queuectl_up)" = 1 ] || fail "up"
pass "counters equal the attempts processed (10 succeeded, 4 failed, 14 started)"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
[ "$code" = 404 ] || fail "unknown path gave $code"

# DNS rebinding: a page whose name resolves to 127.0.0.1 sends its own name as Host.
code=$(curl -s -o "$T/rebind.txt" -w '%{http_code}' -H "Host: rebind.evil:$port" "http://127.0.0.1:$port/metrics")
[ "$code" = 421 ] || fail "foreign Host gave $code"
grep -q queuectl_ "$T/rebind.txt" && fail "metrics served to a foreign Host"
code=$(curl -s -o /dev/null -w '%{http_code}' -0 -H "Host:" "http://127.0.0.1:$port/metrics")
[ "$code" = 421 ] || fail "request without Host gave $code"
for h in "localhost:$port" "127.0.0.1:$port" "LOCALHOST"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $h" "http://127.0.0.1:$port/metrics")
  [ "$code" = 200 ] || fail "Host $h gave $code"
done
pass "foreign Host 421 (no Host too); localhost and 127.0.0.1 served"

# 20 clients trickling a byte a second must not delay a normal scrape (served concurrently).
python3 - "$port" > "$T/slow.txt" 2>&1 <<'PY' || fail "slow clients: $(cat "$T/slow.txt")"
import socket, sys, threading, time, urllib.request
port = int(sys.argv[1])
stop = time.monotonic() + 6
def trickle():
    s = socket.create_connection(("127.0.0.1", port))
    req = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 100
    try:
        for b in req:
            if time.monotonic() > stop: break
            s.send(bytes([b])); time.sleep(1)
    except OSError:
        pass
    s.close()
threads = [threading.Thread(target=trickle) for _ in range(20)]
for t in threads: t.start()
time.sleep(1.5)
worst = 0
for _ in range(5):
    t0 = time.monotonic()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    worst = max(worst, time.monotonic() - t0)
    assert b"queuectl_up 1" in body
    time.sleep(0.3)
for t in threads: t.join()
print(f"worst scrape under 20 slow clients: {worst * 1000:.0f} ms")
sys.exit(0 if worst < 1.0 else 1)
PY
pass "20 slow clients: $(cat "$T/slow.txt")"
kill -TERM "$host_pid"
wait "$host_pid"; [ $? -eq 0 ] || fail "host did not exit 0"
pass "unknown path 404; host stops cleanly"

# Non-loopback bind: refused without a token, before anything is stored.
before=$("$Q" list --json | md5sum)
"$H" --plugin shell --plugin prometheus --metrics-bind "0.0.0.0:$(free_port)" >"$T/refuse.log" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "non-loopback bind without token exited $rc"
grep -q "token" "$T/refuse.log" || fail "no reason naming the token: $(cat "$T/refuse.log")"
[ "$(wc -l < "$T/refuse.log")" -eq 1 ] || fail "not one line: $(cat "$T/refuse.log")"
[ "$("$Q" list --json | md5sum)" = "$before" ] || fail "refused host changed the queue"
pass "non-loopback bind without a token: exit 2, one line"

port=$(free_port)
QUEUECTL_TOKEN=s3cret QUEUECTL_ALLOWED_HOSTS=env.example start_host tokhost --plugin shell --plugin prometheus \
  --metrics-bind "0.0.0.0:$port" --allowed-host metrics.example
wait_for 10 scrape -H "Authorization: Bearer s3cret" "http://127.0.0.1:$port/metrics" || fail "scrape with token failed"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
[ "$code" = 401 ] || fail "scrape without token gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "http://127.0.0.1:$port/metrics")
[ "$code" = 401 ] || fail "scrape with a wrong token gave $code"
# One Bearer rule with the dashboard: the scheme is case-insensitive, the token is not.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: bearer s3cret" "http://127.0.0.1:$port/metrics")
[ "$code" = 200 ] || fail "lower-case bearer scheme gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer S3CRET" "http://127.0.0.1:$port/metrics")
[ "$code" = 401 ] || fail "token compared case-insensitively ($code)"
pass "with a token: 401 without it, 200 with it; scheme case-insensitive"
for h in "metrics.example:$port" "env.example" "0.0.0.0:$port"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $h" -H "Authorization: Bearer s3cret" "http://127.0.0.1:$port/metrics")
  [ "$code" = 200 ] || fail "allowed Host $h gave $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: other.example" -H "Authorization: Bearer s3cret" "http://127.0.0.1:$port/metrics")
[ "$code" = 421 ] || fail "Host other.example gave $code"
"$H" --plugin shell --allowed-host "http://bad" >"$T/badhost.log" 2>&1
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < "$T/badhost.log")" -eq 1 ] || fail "bad --allowed-host: exit $rc, $(cat "$T/badhost.log")"
pass "--allowed-host and QUEUECTL_ALLOWED_HOSTS reach the metrics listener; a bad name exits 2"
