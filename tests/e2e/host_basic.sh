#!/usr/bin/env bash
# Acceptance 1 and 4: a basic job completes and `logs` shows its output and exit_code=0;
# a command that does not exist fails gracefully, goes to dead, and later jobs still run.
source "$(dirname "$0")/lib.sh"
start_host host --plugin shell --workers 2
"$Q" enqueue '{"id":"hello","command":"echo hello-from-job; echo to-stderr >&2"}' >/dev/null || fail "enqueue"
wait_for 15 is_state hello completed || fail "hello did not complete"
out=$("$Q" logs hello)
echo "$out" | grep -q "attempt 1" || fail "no attempt header: $out"
echo "$out" | grep -q "exit_code=0" || fail "no exit_code=0: $out"
echo "$out" | grep -q "hello-from-job" || fail "stdout missing: $out"
echo "$out" | grep -q "to-stderr" || fail "stderr missing: $out"
pass "basic job completes with output"

"$Q" enqueue '{"id":"nocmd","command":"this-command-does-not-exist-42","max_retries":1}' >/dev/null
"$Q" enqueue '{"id":"after","command":"true"}' >/dev/null
wait_for 15 is_state nocmd dead || fail "missing command did not go to dead (state $(state_of nocmd))"
wait_for 15 is_state after completed || fail "job after the bad one did not run"
"$Q" logs nocmd | grep -q "exit_code=127" || fail "exit_code=127 not recorded: $("$Q" logs nocmd)"
pass "missing command goes to dead, the next job runs"
