#!/usr/bin/env bash
# Issue 9 item 11: the host enforces `timeout` whatever the executor does. The test
# plugin's `ignore-stop 8000` sleeps 8 s heeding neither ctx.timeout nor ctx.stop; on a
# `timeout: 1` job the worker stops it at 1 s and abandons it after the grace (3 s): the
# attempt is recorded timed out (never succeeded), the slot runs the next job while the
# stuck call still sleeps, and the host still stops promptly.
source "$(dirname "$0")/lib.sh"
: "${BROKEN:?BROKEN must point at the directory of the test plugins}"
"$Q" enqueue '{"id":"stubborn","executor":"test","command":"ignore-stop 8000","timeout":1,"max_retries":1}' >/dev/null
start_host host --plugin shell --plugin "$BROKEN/libqueuectl_test_good.so" --workers 1
host_pid=$LAST_PID
wait_for 15 is_state stubborn processing || fail "job never started (state $(state_of stubborn))"
t0=$(date +%s%N)
wait_for 10 is_state stubborn dead || fail "job not ended (state $(state_of stubborn))"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 5500 ] || fail "timeout took ${ms} ms to be enforced (1 s + 3 s grace expected)"
"$Q" show stubborn --json > "$T/show.json"
[ "$(json 'j["history"][-1]["outcome"]' < "$T/show.json")" = timed_out ] || fail "outcome: $(cat "$T/show.json")"
json 'j["last_error"]' < "$T/show.json" | grep -q "timed out after 1s" || fail "last_error: $(json 'j["last_error"]' < "$T/show.json")"
"$Q" enqueue '{"id":"next","command":"echo next"}' >/dev/null
wait_for 3 is_state next completed || fail "the slot was not freed: next is $(state_of next)"
sleep 4   # the abandoned call returns now (8 s): its success must be discarded
[ "$(state_of stubborn)" = dead ] || fail "the late result changed the job: $(state_of stubborn)"
[ "$(json 'len(j["history"])' < <("$Q" show stubborn --json))" = 1 ] || fail "more than one attempt recorded"
grep -q "did not return after being stopped; attempt abandoned" "$T/host.log" || fail "no log line for the abandoned call"
kill -TERM "$host_pid"
t1=$(date +%s)
wait "$host_pid"; rc=$?
[ "$rc" = 0 ] || fail "host exited $rc"
[ $(( $(date +%s) - t1 )) -le 5 ] || fail "host took too long to stop"
pass "timeout enforced in ${ms} ms on an executor that ignores it; slot freed; late result discarded"
