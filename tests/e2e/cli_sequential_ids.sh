#!/usr/bin/env bash
# Issue 10: `config set job-ids sequential` makes generated ids job1, job2, … from a counter
# in the database: two enqueue processes at once never get the same id, ids given by hand
# are skipped, deleting jobs never hands a number out again; the default stays random.
source "$(dirname "$0")/cli_lib.sh"

run config get job-ids
[ "$RC" = 0 ] && [ "$OUT" = random ] || fail "default job-ids: rc=$RC '$OUT' ($ERR)"
gen=$("$Q" enqueue '{"command":"true"}')
case "$gen" in job[0-9]*) fail "the default is not sequential: $gen" ;; esac
pass "job-ids defaults to random"

run config set job-ids counting
[ "$RC" = 2 ] && stderr_is_one_line || fail "config set job-ids counting: exit $RC ($ERR)"
case "$ERR" in *"random or sequential"*) ;; *) fail "the refusal names the choices: $ERR" ;; esac
run config set job_ids sequential
[ "$RC" = 0 ] && [ "$OUT" = "job-ids = sequential" ] || fail "config set job_ids sequential: rc=$RC '$OUT' ($ERR)"
expect_eq "config get --json shows it as a string" "$(json_of config get --json -- 'j["job-ids"]')" sequential
pass "config set job-ids: sequential accepted (either spelling), anything else exit 2"

expect_eq "first" "$("$Q" enqueue '{"command":"true"}')" job1
expect_eq "second" "$("$Q" enqueue '{"command":"true"}')" job2
"$Q" enqueue '{"id":"job3","command":"true"}' >/dev/null   # by hand
"$Q" enqueue '{"id":"job4","command":"true"}' >/dev/null
printf '%s\n' '{"command":"true"}' '{"id":"mine","command":"true"}' '{"command":"true"}' >"$T/batch.jsonl"
expect_eq "a batch skips the ids given by hand" "$("$Q" enqueue --file "$T/batch.jsonl" | tr '\n' ' ')" "job5 mine job6 "
"$Q" delete job6 >/dev/null
expect_eq "not a count of rows: a deleted job's number is not reused" "$("$Q" enqueue '{"command":"true"}')" job7
pass "sequential ids: job1, job2, skipping job3/job4 given by hand, not reusing deleted numbers"

# Two processes enqueueing at once: no id twice, every job stored.
for p in a b; do
  ( for i in $(seq 40); do "$Q" enqueue '{"command":"true"}' || echo FAILED; done >"$T/ids.$p" 2>"$T/err.$p" ) &
  PIDS+=($!)
done
wait "${PIDS[-1]}" "${PIDS[-2]}"
! grep -q FAILED "$T/ids.a" "$T/ids.b" || fail "an enqueue failed: $(cat "$T/err.a" "$T/err.b")"
cat "$T/ids.a" "$T/ids.b" | sort >"$T/all"
expect_eq "ids from two processes" "$(wc -l <"$T/all")" 80
expect_eq "distinct ids" "$(sort -u "$T/all" | wc -l)" 80
! grep -qv '^job[0-9][0-9]*$' "$T/all" || fail "not sequential ids: $(grep -v '^job[0-9]*$' "$T/all" | head -3)"
expect_eq "stored" "$(json_of list --limit 0 --json -- 'len(j)')" $((80 + 8))
pass "two concurrent enqueue processes: 80 ids, all distinct, all stored"

"$Q" config set job-ids random >/dev/null
gen=$("$Q" enqueue '{"command":"true"}')
case "$gen" in job[0-9]*) fail "back to random, still sequential: $gen" ;; esac
pass "config set job-ids random goes back to random ids"
