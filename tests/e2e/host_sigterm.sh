#!/usr/bin/env bash
# Acceptance 7: SIGTERM mid-job: the running job finishes and is completed; the process
# exits 0. A second, pending job is not started.
source "$(dirname "$0")/lib.sh"
marker="$T/started"
"$Q" enqueue "{\"id\":\"running\",\"command\":\"touch $marker; sleep 1.5; echo done\"}" >/dev/null
start_worker w1 --count 1
wait_for 15 test -f "$marker" || fail "job never started"
"$Q" enqueue '{"id":"queued","command":"true"}' >/dev/null
kill -TERM "$LAST_PID"
wait "$LAST_PID"; rc=$?
[ "$rc" = 0 ] || fail "worker exited $rc after SIGTERM"
[ "$(state_of running)" = completed ] || fail "running job is $(state_of running), not completed"
[ "$(state_of queued)" = pending ] || fail "a new job was claimed during the stop"
pass "SIGTERM lets the running job finish; exit 0"
