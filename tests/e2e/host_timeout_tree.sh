#!/usr/bin/env bash
# Acceptance 8: a timed-out job's whole process tree is gone:
# `sh -c 'sleep 100 & sleep 100'` leaves no process behind.
source "$(dirname "$0")/lib.sh"
tag="qctl-timeout-$$-$RANDOM"
# a copy of sleep with a unique name, so pgrep finds exactly this job's processes
cp "$(command -v sleep)" "$T/$tag"
"$Q" enqueue "{\"id\":\"tree\",\"command\":\"sh -c '$T/$tag 100 & $T/$tag 100'\",\"timeout\":1,\"max_retries\":1}" >/dev/null
start_host host --plugin shell
wait_for 20 is_state tree dead || fail "timed-out job not dead (state $(state_of tree))"
gone() { ! pgrep -f "$tag" >/dev/null; }
wait_for 5 gone || fail "processes left behind: $(pgrep -af "$tag")"
"$Q" show tree --json | grep -qi "timed out" || fail "timeout not recorded as the reason"
pass "timeout killed the whole process tree"
