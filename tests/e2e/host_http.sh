#!/usr/bin/env bash
# The http executor through the real host: 2xx completes, 5xx is retried, 429's
# Retry-After replaces the backoff (window-checked), 404 is dead after one attempt with the
# reason recorded, and the request carries the job's method and body.
source "$(dirname "$0")/lib.sh"
python3 "$(dirname "$0")/http_fixture_server.py" "$T/port" "$T/requests.log" &
PIDS+=($!)
wait_for 10 test -s "$T/port" || fail "fixture server did not start"
base="http://127.0.0.1:$(cat "$T/port")"
"$Q" config set backoff-base 30 >/dev/null   # a backoff this long would fail the Retry-After window below
start_host host --plugin shell --plugin http --workers 2
host_pid=$LAST_PID

"$Q" enqueue "{\"id\":\"ok\",\"executor\":\"http\",\"payload\":{\"url\":\"$base/ok\"}}" >/dev/null
"$Q" enqueue "{\"id\":\"echo\",\"executor\":\"http\",\"payload\":{\"url\":\"$base/echo\",\"method\":\"PUT\",\"body\":\"hi there\"}}" >/dev/null
"$Q" enqueue "{\"id\":\"missing\",\"executor\":\"http\",\"payload\":{\"url\":\"$base/missing\"}}" >/dev/null
"$Q" enqueue "{\"id\":\"limited\",\"executor\":\"http\",\"payload\":{\"url\":\"$base/limited/a\"}}" >/dev/null

wait_for 15 is_state ok completed || fail "ok: $(state_of ok)"
"$Q" logs ok | grep -q "200" || fail "ok: no status line in the output: $("$Q" logs ok)"
wait_for 15 is_state echo completed || fail "echo: $(state_of echo)"
"$Q" logs echo | grep -q "PUT hi there" || fail "echo: method/body not sent: $("$Q" logs echo)"
pass "2xx completes; the output has the status line and body; method and body are sent"

wait_for 15 is_state missing dead || fail "missing: $(state_of missing)"
[ "$("$Q" show missing --json | json 'j["attempts"]')" = 1 ] || fail "404 was retried"
"$Q" show missing --json | json 'j["last_error"]' | grep -q "404" || fail "reason not recorded: $("$Q" show missing --json)"
pass "404 is dead after one attempt, reason recorded"

wait_for 15 is_state limited completed || fail "limited: $(state_of limited) (Retry-After ignored? backoff is 30 s)"
gap=$(grep " /limited/a" "$T/requests.log" | awk 'NR==1{a=$1} NR==2{printf "%.3f", $1-a}')
python3 -c "import sys; g=float('$gap'); sys.exit(0 if 0.8 <= g <= 4.0 else 1)" || fail "Retry-After gap $gap s, want ~1 s"
pass "429 with Retry-After: 1 retried after ${gap} s instead of the 30 s backoff"

kill -TERM "$host_pid"; wait "$host_pid"   # restart with a short backoff (hosts re-read config on their heartbeat)
"$Q" config set backoff-base 1 >/dev/null
start_host host2 --plugin shell --plugin http --workers 2
"$Q" enqueue "{\"id\":\"flaky\",\"executor\":\"http\",\"payload\":{\"url\":\"$base/flaky/b\"}}" >/dev/null
wait_for 20 is_state flaky completed || fail "flaky: $(state_of flaky)"
[ "$("$Q" show flaky --json | json 'j["attempts"]')" = 2 ] || fail "flaky: attempts != 2"
pass "503 then 200 completes on attempt 2"
