#!/usr/bin/env bash
# The CLI with workers (`queuectl worker start`, the shared runtime + shell plugin):
# priority order, --delay, per-job timeout, logs, dlq list/retry, cancel of a running job,
# status active slots, worker stop, --daemon.
source "$(dirname "$0")/cli_lib.sh"
"$Q" config set poll-interval-ms 50 >/dev/null
"$Q" config set backoff-base 1 >/dev/null

# Priority: with one slot, the higher priority job runs first although enqueued last.
"$Q" enqueue '{"id":"low","command":"true","priority":1}' >/dev/null
"$Q" enqueue '{"id":"high","command":"true","priority":9}' >/dev/null
"$Q" enqueue --delay 3s '{"id":"delayed","command":"true"}' >/dev/null
delayed_at=$(date +%s%N)
start_worker w1 --count 1
W1=$LAST_PID
wait_for 15 is_state low completed || fail "low did not complete"
first=$("$Q" show high --json | json 'j["history"][0]["started_at"]')
second=$("$Q" show low --json | json 'j["history"][0]["started_at"]')
[[ "$first" < "$second" ]] || fail "priority: high started $first, low $second"
pass "higher priority runs first"

# --delay: not claimed before its time.
wait_for 15 is_state delayed completed || fail "delayed job never ran"
started=$("$Q" show delayed --json | json "int(__import__('datetime').datetime.strptime(j['history'][0]['started_at'],'%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=__import__('datetime').timezone.utc).timestamp()*1000)")
[ $(( started - delayed_at / 1000000 )) -ge 2900 ] || fail "delayed job started after $(( started - delayed_at / 1000000 )) ms"
pass "--delay 3s: not claimed before its time"

# logs and per-job timeout.
"$Q" enqueue '{"id":"out","command":"echo line-one; echo line-two >&2; exit 4","max_retries":0}' >/dev/null
"$Q" enqueue '{"id":"slow","command":"sleep 30","timeout":1,"max_retries":0}' >/dev/null
wait_for 15 is_state out dead || fail "out not dead: $(state_of out)"
run logs out
grep -q "attempt 1" "$T/out" && grep -q "exit_code=4" "$T/out" && grep -q line-one "$T/out" && grep -q line-two "$T/out" \
  || fail "logs: $OUT"
wait_for 15 is_state slow dead || fail "timed-out job not dead: $(state_of slow)"
expect_eq "timeout outcome" "$("$Q" logs slow --json | json 'j[0]["outcome"]')" timed_out
pass "logs show exit code and output; per-job timeout kills the attempt"

# dlq list / retry / retry --all.
expect_eq "dlq list --json" "$("$Q" dlq list --json | json '" ".join(sorted(x["id"] for x in j))')" "out slow"
"$Q" dlq list | awk 'NR>1 {print $1}' | sort | tr '\n' ' ' | grep -qx "out slow " || fail "dlq list table"
expect_eq "dlq retry" "$("$Q" dlq retry out)" "requeued out"
wait_for 15 is_state out dead || fail "retried job did not run again"
expect_eq "attempts after retry" "$("$Q" logs out --json | json 'len(j)')" 2
expect_eq "dlq retry --all" "$("$Q" dlq retry --all)" "requeued 2"
wait_for 15 bash -c '[ "$("$0" dlq list --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 2 ]' "$Q" \
  || fail "both back in the DLQ"
pass "dlq list, retry ID, retry --all"

# cancel a running job: its process is stopped.
# (a copy of sleep with a unique path: pgrep then matches the job's process and nothing else)
sleeper="$T/qctl-cancel-$$-$RANDOM"
cp "$(command -v sleep)" "$sleeper"
"$Q" enqueue "{\"id\":\"long\",\"command\":\"$sleeper 60\"}" >/dev/null
wait_for 15 is_state long processing || fail "long not processing"
sleeper_running() { pgrep -f "$sleeper" >/dev/null; }
sleeper_gone() { ! sleeper_running; }
wait_for 5 sleeper_running || fail "long's process not seen"
expect_eq "cancel running" "$("$Q" cancel long)" "canceled long"
expect_eq "state" "$(state_of long)" canceled
wait_for 40 sleeper_gone || fail "canceled job's process still running"
pass "cancel stops a running job"

# status counts slots of every live worker process; worker stop ends them all.
start_worker w2 --count 3
wait_for 10 bash -c '[ "$("$0" status | sed -n "s/^[[:space:]]*active:[[:space:]]*\([0-9]*\).*/\1/p")" = 4 ]' "$Q" \
  || fail "status active: $(active_slots), want 4"
expect_eq "status --json active" "$(json_of status --json -- 'j["workers"]["active"]')" 4
run worker stop
expect_eq "worker stop" "$OUT" "signalled 2 worker processes"
for p in $W1 $LAST_PID; do
  wait_for 15 bash -c '! kill -0 "$0" 2>/dev/null' "$p" || fail "worker $p still running"
  wait "$p"; rc=$?
  expect_eq "worker $p exit status" "$rc" 0
done
wait_for 10 bash -c '[ "$("$0" status | sed -n "s/^[[:space:]]*active:[[:space:]]*\([0-9]*\).*/\1/p")" = 0 ]' "$Q" \
  || fail "active after stop: $(active_slots)"
expect_eq "worker stop with none running" "$("$Q" worker stop)" "no running workers"
pass "status active: N over processes; worker stop ends them (exit 0)"

# --daemon: returns at once, keeps working, stopped by worker stop --wait.
"$Q" worker start --count 2 --daemon --log-file "$T/daemon.log" || fail "worker start --daemon"
wait_for 10 bash -c '[ "$("$0" status | sed -n "s/^[[:space:]]*active:[[:space:]]*\([0-9]*\).*/\1/p")" = 2 ]' "$Q" \
  || fail "daemon not active: $(active_slots)"
"$Q" enqueue '{"id":"bg","command":"true"}' >/dev/null
wait_for 15 is_state bg completed || fail "daemon did not run bg"
run worker stop --wait --timeout 20s
[ "$RC" = 0 ] && [ "$OUT" = "signalled 1 worker process" ] || fail "worker stop --wait: rc=$RC $OUT $ERR"
expect_eq "active after stop --wait" "$(active_slots)" 0
pass "worker start --daemon; worker stop --wait"

# metrics after real work.
got=$(json_of metrics --json -- '"%s %s" % (j["finished_attempts"] > 0, j["success_rate"] is not None)')
expect_eq "metrics" "$got" "True True"
pass "metrics count finished attempts"
