#!/usr/bin/env bash
# Issue 9 item 10: a cancel reaches the running attempt at once, not at the next heartbeat
# (lease-seconds 30: every 10 s). `sleep 30` canceled after ~1.5 s: its process is gone
# within 1 s, the slot is free, the attempt is recorded `canceled` with a duration close
# to the real run, and the exporter (prometheus) counts it as canceled, not failed.
# Through tests/support/pg_server.sh (host_cancel_prompt_postgresql) the same runs on
# PostgreSQL, where the wake-up is LISTEN/NOTIFY.
source "$(dirname "$0")/lib.sh"
[ -n "${QUEUECTL_TEST_PG_URL:-}" ] && export QUEUECTL_DB=$QUEUECTL_TEST_PG_URL
tag="qctl-cancel-$$-$RANDOM"
cp "$(command -v sleep)" "$T/$tag"
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
with_prometheus=()
if [ -n "${PROMETHEUS_PLUGIN:-}" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  with_prometheus=(--plugin prometheus --metrics-bind "127.0.0.1:$port")
fi
start_host host --plugin shell --workers 1 "${with_prometheus[@]}"
"$Q" enqueue "{\"id\":\"c\",\"command\":\"$T/$tag 30\"}" >/dev/null
wait_for 15 pgrep -f "$tag" || fail "job never started"
started=$(ms_now)
sleep 1.5
t0=$(ms_now)
"$Q" cancel c >/dev/null || fail "cancel failed"
gone() { ! pgrep -f "$tag" >/dev/null; }
wait_for 5 gone || fail "job still running 5 s after cancel: $(pgrep -af "$tag")"
t1=$(ms_now)
[ $((t1 - t0)) -le 1000 ] || fail "job process took $((t1 - t0)) ms to go after the cancel (> 1 s)"
"$Q" enqueue '{"id":"next","command":"echo next"}' >/dev/null   # the only slot is free again
wait_for 2 is_state next completed || fail "slot still busy after the cancel: next is $(state_of next)"

[ "$(state_of c)" = canceled ] || fail "state $(state_of c)"
"$Q" show c --json > "$T/show.json"
outcome=$(json 'j["history"][-1]["outcome"]' < "$T/show.json")
[ "$outcome" = canceled ] || fail "attempt outcome $outcome, not canceled"
duration=$(json 'j["history"][-1]["duration_ms"]' < "$T/show.json")
real=$((t1 - started))
[ "$duration" -ge 1400 ] && [ "$duration" -le $((real + 300)) ] ||
  fail "recorded duration ${duration} ms, but the job ran about ${real} ms"
"$Q" logs c | grep -q "outcome=canceled" || fail "logs: $("$Q" logs c)"

if [ -n "${PROMETHEUS_PLUGIN:-}" ]; then
  curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" > "$T/metrics.txt" || fail "scrape failed"
  grep -q '^queuectl_attempts_total{queue="default",executor="shell",outcome="canceled"} 1$' "$T/metrics.txt" ||
    fail "exporter did not count a canceled attempt: $(grep attempts_total "$T/metrics.txt")"
  ! grep -q 'outcome="failed"' "$T/metrics.txt" || fail "exporter counted the cancel as failed"
  pass "exporter counted the attempt as canceled"
fi
pass "cancel stopped the job in $((t1 - t0)) ms; recorded canceled, ${duration} ms of ~${real} ms"
