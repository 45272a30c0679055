#!/usr/bin/env bash
# Acceptance 5: jobs and config survive stopping and restarting everything.
source "$(dirname "$0")/lib.sh"
"$Q" config set max-retries 7 >/dev/null
"$Q" config set backoff-base 1.5 >/dev/null
"$Q" enqueue '{"id":"done-before","command":"true"}' >/dev/null
start_host host --plugin shell
wait_for 15 is_state done-before completed || fail "first job did not complete"
kill -TERM "$LAST_PID"; wait "$LAST_PID" || fail "host exit code $?"
"$Q" enqueue '{"id":"waiting","command":"true"}' >/dev/null
# everything is stopped: the data is only in the file
[ "$("$Q" config get max-retries)" != "" ] && "$Q" config get max_retries | grep -qw 7 || fail "max-retries lost"
"$Q" config get backoff-base | grep -qw 1.5 || fail "backoff-base lost"
[ "$(state_of done-before)" = completed ] || fail "completed job lost"
[ "$("$Q" show waiting --json | json 'j["max_retries"]')" = 7 ] || fail "new job did not take max-retries 7"
start_host host2 --plugin shell
wait_for 15 is_state waiting completed || fail "job enqueued while stopped did not run after restart"
pass "jobs and config survive a restart"
