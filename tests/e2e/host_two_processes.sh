#!/usr/bin/env bash
# Acceptance 3: 200 jobs that append their id to a file, run by two separate
# `worker start --count 2` processes: every id exactly once; status shows active: 4.
source "$(dirname "$0")/lib.sh"
out="$T/ran.txt"
for i in $(seq 1 200); do
  printf '{"id":"j%03d","command":"echo j%03d >> %s"}\n' "$i" "$i" "$out"
done >"$T/jobs.jsonl"
"$Q" enqueue --file "$T/jobs.jsonl" >/dev/null || fail "bulk enqueue"
start_worker w1 --count 2
start_worker w2 --count 2
four_active() { [ "$(active_slots)" = 4 ]; }
wait_for 20 four_active || fail "status says active: $(active_slots), expected 4"
pass "status shows active: 4"
completed() { [ "$("$Q" list --state completed --limit 0 --json | json 'len(j)')" = 200 ]; }
wait_for 60 completed || fail "not all 200 completed: $("$Q" status)"
[ "$(wc -l <"$out")" = 200 ] || fail "$(wc -l <"$out") lines for 200 jobs"
[ "$(sort -u "$out" | wc -l)" = 200 ] || fail "some job ran twice: $(sort "$out" | uniq -d | head)"
pass "200 jobs, 2 processes x 2 workers: each ran exactly once"
"$Q" worker stop >/dev/null
wait_for 15 bash -c "! kill -0 ${PIDS[0]} 2>/dev/null && ! kill -0 ${PIDS[1]} 2>/dev/null" || fail "workers did not stop"
pass "worker stop ends both processes"
