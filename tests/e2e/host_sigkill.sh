#!/usr/bin/env bash
# Acceptance 6: SIGKILL of a worker process mid-job; after a new worker starts the job
# completes within 60 s at default settings, and nothing is left in processing.
source "$(dirname "$0")/lib.sh"
marker="$T/started"
"$Q" enqueue "{\"id\":\"long\",\"command\":\"touch $marker; sleep 2; echo finished\"}" >/dev/null
start_worker w1 --count 1
victim=$LAST_PID
wait_for 15 test -f "$marker" || fail "job never started"
[ "$(state_of long)" = processing ] || fail "expected processing, got $(state_of long)"
kill -KILL "$victim"
killed_at=$(date +%s)
start_worker w2 --count 1
wait_for 75 is_state long completed || fail "job not completed after the worker was killed (state $(state_of long))"
took=$(( $(date +%s) - killed_at ))
[ "$took" -le 60 ] || fail "recovery took ${took}s (> 60 s)"
[ "$("$Q" list --state processing --json | tr -d '[:space:]')" = "[]" ] || fail "something left in processing"
"$Q" logs long | grep -q finished || fail "no output from the recovered attempt"
pass "killed worker's job recovered and completed in ${took}s"
