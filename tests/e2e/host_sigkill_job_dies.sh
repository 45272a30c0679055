#!/usr/bin/env bash
# Issue 9 item 6: a job's processes never outlive the host that started them. SIGKILL the
# host mid-job: the job's whole tree (its shell, a background child, the foreground sleep)
# is gone within about a second, and the retry on a second host never overlaps it: only
# the retry writes "end".
source "$(dirname "$0")/lib.sh"
tag="qctl-orphan-$$-$RANDOM"
cp "$(command -v sleep)" "$T/$tag"   # a uniquely named sleep, so pgrep finds this job only
log="$T/job.log"
"$Q" config set lease-seconds 2 >/dev/null
"$Q" enqueue "{\"id\":\"long\",\"command\":\"echo start-\$\$ >> $log; $T/$tag 30 & $T/$tag 6; echo end-\$\$ >> $log\"}" >/dev/null
start_host h1 --plugin shell
victim=$LAST_PID
wait_for 15 grep -q start "$log" || fail "job never started"
wait_for 5 pgrep -f "$tag" || fail "job processes not found"
kill -KILL "$victim"
wait "$victim" 2>/dev/null
t0=$(date +%s%N)
gone() { ! pgrep -f "$tag" >/dev/null; }
wait_for 5 gone || fail "job processes outlived the SIGKILLed host: $(pgrep -af "$tag")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 1000 ] || fail "job processes took ${ms} ms to go after the host died (> 1 s)"

start_host h2 --plugin shell
wait_for 40 is_state long completed || fail "retry did not complete (state $(state_of long))"
sleep 0.5   # an orphan of the first attempt, if any, would still be writing
first=$(sed -n 1p "$log"); second=$(sed -n 2p "$log"); third=$(sed -n 3p "$log")
[ "$(wc -l < "$log")" = 3 ] || fail "job log is not start, start, end: $(tr '\n' ' ' < "$log")"
[ "${first%%-*}" = start ] && [ "${second%%-*}" = start ] || fail "unexpected log: $(tr '\n' ' ' < "$log")"
[ "$third" = "end-${second#start-}" ] || fail "the end was not written by the retry: $(tr '\n' ' ' < "$log")"
gone || fail "processes left after the retry: $(pgrep -af "$tag")"
pass "job tree gone ${ms} ms after the host's SIGKILL; retry ran alone"
