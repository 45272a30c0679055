#!/usr/bin/env bash
# The CLI commands without any worker running: enqueue (single, JSON Lines, overrides),
# list, show, logs, status, config, cancel, delete, purge, dlq, metrics, --help, --db.
source "$(dirname "$0")/cli_lib.sh"

# --- enqueue ------------------------------------------------------------------------------
run enqueue '{"id":"a1","command":"echo a1"}'
[ "$RC" = 0 ] && [ "$OUT" = a1 ] && [ -z "$ERR" ] || fail "enqueue prints only the id: rc=$RC out='$OUT' err='$ERR'"
run enqueue '{"command":"echo generated"}'
gen=$OUT
[ "$RC" = 0 ] && [ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] && [ -n "$gen" ] || fail "generated id: '$OUT'"
run show "$gen"
[ "$RC" = 0 ] || fail "show of the generated id $gen"
pass "enqueue prints the given or generated id, alone"

printf '%s\n' '{"id":"b1","command":"true"}' '' '{"id":"b2","command":"true","queue":"mail"}' '{"id":"b3","command":"false"}' >"$T/jobs.jsonl"
run enqueue --file "$T/jobs.jsonl"
expect_eq "enqueue --file ids" "$(echo $OUT)" "b1 b2 b3"
printf '%s\n' '{"id":"s1","command":"true"}' '{"id":"s2","command":"true"}' | "$Q" enqueue --file - >"$T/ids" || fail "enqueue --file -"
expect_eq "enqueue --file - ids" "$(echo $(cat "$T/ids"))" "s1 s2"
pass "enqueue --file F and --file - (JSON Lines, blank lines skipped)"

run enqueue --priority 7 --queue reports --timeout 12.5 --max-retries 2 '{"id":"o1","command":"true","priority":1}'
[ "$RC" = 0 ] || fail "enqueue with overrides: $ERR"
got=$(json_of show o1 --json -- '"%s %s %s %s" % (j["priority"], j["queue"], j["timeout"], j["max_retries"])')
expect_eq "overrides" "$got" "7 reports 12.5 2"
run enqueue --priority=-3 '{"id":"neg","command":"true"}'
expect_eq "negative priority" "$(json_of show neg --json -- 'j["priority"]')" "-3"
"$Q" enqueue '{"id":"t1","command":"sleep 9","timeout":3}' >/dev/null
expect_eq "per-job timeout stored" "$(json_of show t1 --json -- 'j["timeout"]')" "3"
pass "enqueue overrides: --priority, --queue, --timeout, --max-retries; per-job timeout stored"

now=$(date +%s)
"$Q" enqueue --delay 1h '{"id":"later","command":"true"}' >/dev/null || fail "enqueue --delay"
delta=$(json_of show later --json -- "__import__('datetime').datetime.strptime(j['run_at'],'%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=__import__('datetime').timezone.utc).timestamp() - $now")
python3 -c "import sys; sys.exit(0 if 3540 <= $delta <= 3660 else 1)" || fail "--delay 1h: run_at is now+$delta s"
"$Q" enqueue --run-at 2031-02-03T04:05:06+01:00 '{"id":"at","command":"true"}' >/dev/null || fail "enqueue --run-at"
expect_eq "--run-at" "$(json_of show at --json -- 'j["run_at"]')" "2031-02-03T03:05:06.000Z"
pass "enqueue --delay and --run-at set run_at"

# --- list -----------------------------------------------------------------------------------
run list
[ "$RC" = 0 ] || fail "list: $ERR"
head -1 "$T/out" | grep -Eq '^ID +STATE +ATTEMPTS +PRIORITY +QUEUE +RUN_AT +COMMAND$' || fail "list header: $(head -1 "$T/out")"
expect_eq "list ids (oldest first)" "$(awk 'NR>1 {print $1}' "$T/out" | tr '\n' ' ')" "a1 $gen b1 b2 b3 s1 s2 o1 neg t1 later at "
grep -E '^a1 +pending +0/3 +0 +default +[0-9T:.-]+Z +echo a1$' "$T/out" >/dev/null || fail "list row: $(grep '^a1' "$T/out")"
expect_eq "list --limit 2 --offset 1" "$("$Q" list --limit 2 --offset 1 | awk 'NR>1 {print $1}' | tr '\n' ' ')" "$gen b1 "
expect_eq "list --newest --limit 1" "$("$Q" list --newest --limit 1 | awk 'NR>1 {print $1}')" "at"
expect_eq "list --queue mail" "$("$Q" list --queue mail | awk 'NR>1 {print $1}')" "b2"
expect_eq "list --json count" "$(json_of list --json -- 'len(j)')" 12
expect_eq "list --state completed --json" "$("$Q" list --state completed --json)" "[]"
expect_eq "list --state completed (header only)" "$("$Q" list --state completed | wc -l)" 1
"$Q" list --json | grep -q '"id": "a1"' || fail "--json is pretty with a space after the colon"
pass "list: table, filters, paging, --json"

# --- show, logs -----------------------------------------------------------------------------
run show a1
for f in id state executor command queue priority attempts run_at timeout created_at updated_at exit_code last_error; do
  grep -Eq "^$f: " "$T/out" || fail "show lacks '$f:': $OUT"
done
grep -q "no attempts yet" "$T/out" || fail "show: history"
got=$(json_of show a1 --json -- '"%s %s %s %s" % (j["state"], j["attempts"], j["history"], j["created_at"][-1])')
expect_eq "show --json" "$got" "pending 0 [] Z"
run logs a1
[ "$RC" = 0 ] && [ -z "$OUT" ] || fail "logs of a job without attempts: rc=$RC out=$OUT"
expect_eq "logs --json" "$("$Q" logs a1 --json)" "[]"
pass "show and logs of a pending job"

# --- status ---------------------------------------------------------------------------------
run status
[ "$RC" = 0 ] || fail "status: $ERR"
for s in processing completed failed dead; do
  grep -Eq "^\s*$s:\s*0\s*$" "$T/out" || fail "status: no '$s: 0' line: $OUT"
done
grep -Eq '^\s*pending:\s*12\s*$' "$T/out" || fail "status: pending 12: $OUT"
grep -Eq '^\s*active:\s*0\s*$' "$T/out" || fail "status: active 0: $OUT"
expect_eq "status --json" "$(json_of status --json -- '"%s %s %s" % (j["counts"]["pending"], j["total"], j["workers"]["active"])')" "12 12 0"
pass "status: six state lines, active: 0, --json"

# --- config ---------------------------------------------------------------------------------
run config set max_retries 6
[ "$RC" = 0 ] || fail "config set: $ERR"
expect_eq "config get max-retries" "$("$Q" config get max-retries)" 6
expect_eq "config get max_retries" "$("$Q" config get max_retries)" 6
"$Q" config set backoff-base 1.5 >/dev/null
expect_eq "config get --json" "$(json_of config get --json -- '"%s %s %s" % (j["max-retries"], j["backoff-base"], len(j))')" "6 1.5 9"
expect_eq "config get KEY --json" "$(json_of config get backoff_base --json -- 'j')" "{'backoff-base': 1.5}"
"$Q" config get | grep -Eq '^max-retries +6$' || fail "config get (all): $("$Q" config get)"
"$Q" config get | grep -Eq '^job-timeout +0 +\(default\)$' || fail "config get marks defaults"
"$Q" enqueue '{"id":"cfg","command":"true"}' >/dev/null
expect_eq "max-retries default applies to new jobs" "$(json_of show cfg --json -- 'j["max_retries"]')" 6
"$Q" config reset >/dev/null || fail "config reset"
expect_eq "after reset" "$("$Q" config get max-retries) $("$Q" config get backoff-base)" "3 2"
pass "config set/get (both spellings), --json, reset"

# --- cancel, delete, purge ------------------------------------------------------------------
expect_eq "cancel" "$("$Q" cancel b3)" "canceled b3"
expect_eq "state after cancel" "$(state_of b3)" canceled
"$Q" cancel s1 >/dev/null && "$Q" cancel s2 >/dev/null
expect_eq "delete" "$("$Q" delete cfg)" "deleted cfg"
run show cfg
expect_eq "show after delete" "$RC" 3
expect_eq "purge --older-than 1h (too young)" "$("$Q" purge --older-than 1h)" "purged 0"
expect_eq "purge --state completed" "$("$Q" purge --state completed)" "purged 0"
expect_eq "purge --state canceled" "$("$Q" purge --state canceled)" "purged 3"
run show b3
expect_eq "show after purge" "$RC" 3
expect_eq "pending after purge" "$("$Q" list --state pending --json | json 'len(j)')" 9
pass "cancel, delete, purge"

# --- dlq ------------------------------------------------------------------------------------
run dlq list
[ "$RC" = 0 ] && [ "$(wc -l <"$T/out")" = 1 ] || fail "dlq list on an empty DLQ: header only: $OUT"
expect_eq "dlq list --json" "$("$Q" dlq list --json)" "[]"
expect_eq "dlq retry --all (none)" "$("$Q" dlq retry --all)" "requeued 0"
pass "dlq list / retry --all with no dead job"

# --- metrics --------------------------------------------------------------------------------
run metrics
[ "$RC" = 0 ] || fail "metrics: $ERR"
for f in throughput "success rate" duration pending: queues:; do grep -q "$f" "$T/out" || fail "metrics lacks $f: $OUT"; done
got=$(json_of metrics --since 1h --json -- '"%s %s %s %s" % (j["finished_attempts"], j["counts"]["pending"], j["queues"]["mail"]["pending"], j["queues"]["reports"]["pending"])')
expect_eq "metrics --json" "$got" "0 9 1 1"
pass "metrics (text and --json, per queue)"

# --- help, --db, version --------------------------------------------------------------------
for c in enqueue status list show logs cancel purge delete metrics "worker start" "worker stop" "dlq list" "dlq retry" \
         "config get" "config set" "config reset"; do
  run $c --help
  [ "$RC" = 0 ] && grep -q "^Usage: queuectl $c" "$T/out" || fail "$c --help: rc=$RC $(head -1 "$T/out")"
done
for g in worker dlq config; do
  run $g --help
  [ "$RC" = 0 ] && grep -q "^Usage: queuectl $g COMMAND" "$T/out" || fail "$g --help"
done
run --help
[ "$RC" = 0 ] && grep -q "^Usage: queuectl" "$T/out" || fail "--help"
"$Q" --version | grep -Eq '^queuectl [0-9]' || fail "--version"
pass "--help on every command"

other="$T/other/q.db"
"$Q" --db "$other" enqueue '{"id":"elsewhere","command":"true"}' >/dev/null || fail "--db before the command"
expect_eq "--db after the command" "$("$Q" list --db "$other" --json | json '[x["id"] for x in j]')" "['elsewhere']"
run show elsewhere
expect_eq "default db does not have it" "$RC" 3
expect_eq "QUEUECTL_DB" "$(QUEUECTL_DB="$other" "$Q" list --json | json 'len(j)')" 1
pass "--db (before or after the command) and QUEUECTL_DB"
