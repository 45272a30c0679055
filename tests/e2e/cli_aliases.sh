#!/usr/bin/env bash
# The spellings of other QueueCTL tools (docs/cli.md, "Coming from another QueueCTL"):
# single-word aliases (worker-start, dlq-list, config-set, ...) behave and print exactly as
# the canonical commands, list --status, config show, config set with several --KEY flags
# (all or nothing), QUEUECTL_DB_PATH (QUEUECTL_DB wins), 'no running workers', enqueue --json.
source "$(dirname "$0")/cli_lib.sh"
"$Q" config set poll-interval-ms 50 >/dev/null

# same_output WHAT "CANONICAL ARGS" "ALIAS ARGS": equal stdout and exit code.
same_output() {
  local what=$1 a b ra rb
  a=$(eval "\"\$Q\" $2" 2>&1); ra=$?
  b=$(eval "\"\$Q\" $3" 2>&1); rb=$?
  [ "$ra" = "$rb" ] && [ "$a" = "$b" ] || fail "$what: '$2' (exit $ra) and '$3' (exit $rb) differ: <$a> vs <$b>"
}

# --- 1. aliases ---------------------------------------------------------------------------
for pair in "worker-start:worker start" "worker-stop:worker stop" "dlq-list:dlq list" "dlq-retry:dlq retry" \
            "config-show:config show" "config-get:config get" "config-set:config set" "config-reset:config reset"; do
  alias=${pair%%:*} canonical=${pair#*:}
  run $alias --help
  [ "$RC" = 0 ] || fail "$alias --help: exit $RC: $ERR"
  grep -q "^Usage: queuectl $canonical" "$T/out" || fail "$alias --help does not show the canonical usage: $OUT"
  grep -q "Also spelled 'queuectl $alias'" "$T/out" || fail "$alias --help does not mention the alias: $OUT"
  alias_help=$OUT
  run $canonical --help
  expect_eq "$canonical --help = $alias --help" "$OUT" "$alias_help"
  run help $alias
  [ "$RC" = 0 ] && [ "$OUT" = "$alias_help" ] || fail "help $alias: exit $RC"
done
pass "every alias answers --help (exit 0) with the canonical command's help, which names the alias"

run --help
[ "$RC" = 0 ] || fail "--help: exit $RC"
[ "$(grep -c 'worker-start' "$T/out")" = 1 ] || fail "--help: the aliases are not on one line: $OUT"
line=$(grep 'worker-start' "$T/out")
for a in worker-start worker-stop dlq-list dlq-retry config-show config-get config-set config-reset; do
  case " $line " in *" $a "*) ;; *) fail "--help: alias line lacks $a: $line" ;; esac
done
grep -q '^  worker-start' "$T/out" && fail "--help lists worker-start in the command table"
pass "queuectl --help names every alias on one line, not in the command table"

same_output "config get" "config get" "config-get"
same_output "config get KEY" "config get max_retries" "config-get max-retries"
same_output "config get --json" "config get --json" "config-get --json"
same_output "config show" "config get" "config-show"
same_output "config show --json" "config get --json" "config-show --json"
same_output "config set" "config set max-retries 4" "config-set max-retries 4"
same_output "config set bad value" "config set max-retries x" "config-set max-retries x"
same_output "config reset" "config reset" "config-reset"
same_output "worker stop, none running" "worker stop" "worker-stop"
same_output "dlq list, empty" "dlq list" "dlq-list"
run config-set max-retries nope
[ "$RC" = 2 ] && stderr_is_one_line || fail "config-set bad value: exit $RC: $ERR"
run dlq-retry
[ "$RC" = 2 ] && stderr_is_one_line && grep -q "queuectl dlq retry --help" "$T/err" || fail "dlq-retry without ID: exit $RC: $ERR"
run worker-bogus
[ "$RC" = 2 ] || fail "worker-bogus: exit $RC"
pass "config-get/-show/-set/-reset, worker-stop, dlq-list print exactly what the canonical commands print"

# dlq-list / dlq-retry on real dead jobs (run by a draining host).
"$Q" config set poll-interval-ms 50 >/dev/null
for id in d1 d2 d3; do "$Q" enqueue "{\"id\":\"$id\",\"command\":\"exit 1\",\"max_retries\":0}" >/dev/null; done
timeout 60 "$H" --plugin shell --drain --quiet >"$T/drain.log" 2>&1 || fail "draining host: $(cat "$T/drain.log")"
expect_eq "three dead jobs" "$("$Q" list --state dead --json | json 'len(j)')" 3
same_output "dlq list" "dlq list" "dlq-list"
same_output "dlq list --json" "dlq list --json" "dlq-list --json"
expect_eq "dlq-retry ID" "$("$Q" dlq-retry d1)" "requeued d1"
expect_eq "after dlq-retry" "$(state_of d1)" pending
same_output "dlq retry of a job that is not dead" "dlq retry d1" "dlq-retry d1"
expect_eq "dlq-retry --all" "$("$Q" dlq-retry --all)" "requeued 2"
pass "dlq-list and dlq-retry (ID and --all) act like dlq list / dlq retry"

# worker-start / worker-stop drive a real worker.
"$Q" enqueue '{"id":"ws","command":"true"}' >/dev/null
"$Q" worker-start --count 2 --quiet >>"$T/ws.log" 2>&1 &
WS=$!
PIDS+=("$WS")
wait_for 15 is_state ws completed || fail "worker-start did not run ws"
two_active() { [ "$(active_slots)" = 2 ]; }
wait_for 10 two_active || fail "worker-start --count 2: active $(active_slots)"
expect_eq "worker-stop" "$("$Q" worker-stop)" "signalled 1 worker process"
wait_for 10 bash -c "! kill -0 $WS" || fail "worker-stop did not end worker-start"
wait "$WS"; [ $? = 0 ] || fail "worker-start did not exit 0 after worker-stop"
pass "worker-start --count 2 runs jobs; worker-stop stops it (exit 0)"

# --- 6. worker stop when nothing runs -----------------------------------------------------
run worker stop
[ "$RC" = 0 ] && [ "$OUT" = "no running workers" ] || fail "worker stop, none running: exit $RC: $OUT"
run worker stop --wait
[ "$RC" = 0 ] && [ "$OUT" = "no running workers" ] || fail "worker stop --wait, none running: exit $RC: $OUT"
pass "worker stop with nothing running prints 'no running workers', exit 0"

# --- 2. list --status ----------------------------------------------------------------------
ids() { "$Q" list --limit 0 "$@" --json | json '" ".join(sorted(x["id"] for x in j))'; }
for id in p1 p2; do "$Q" enqueue "{\"id\":\"$id\",\"command\":\"true\"}" >/dev/null; done
expect_eq "list --status completed" "$(ids --status completed)" "ws"
expect_eq "list --status dead" "$(ids --status dead)" "d1 d2 d3"
expect_eq "list --status pending" "$(ids --status pending)" "p1 p2"
expect_eq "list --status = --state, text" "$("$Q" list --status pending)" "$("$Q" list --state pending)"
expect_eq "list --state S --status S" "$(ids --state pending --status pending)" "p1 p2"
run list --state pending --status dead
[ "$RC" = 2 ] && stderr_is_one_line || fail "list --state pending --status dead: exit $RC: $ERR"
run list --status bogus
[ "$RC" = 2 ] && stderr_is_one_line || fail "list --status bogus: exit $RC: $ERR"
run list --status pending --status dead
[ "$RC" = 2 ] || fail "list --status twice: exit $RC"
pass "list --status S filters like --state S; conflicting values exit 2"

# --- 3 / 4. config show, config set with flags --------------------------------------------
"$Q" config reset >/dev/null
run config show
[ "$RC" = 0 ] && grep -q '^max-retries  *3  *(default)' "$T/out" || fail "config show: $OUT"
expect_eq "config show --json" "$("$Q" config show --json | json 'j["max-retries"]')" 3
run config show max-retries
[ "$RC" = 2 ] || fail "config show KEY: exit $RC (show takes no key)"

run config set --max-retries 1 --backoff-base 3 --job-lease-ms 10000
[ "$RC" = 0 ] || fail "config set with flags: exit $RC: $ERR"
expect_eq "config set flags output" "$OUT" "$(printf 'max-retries = 1\nbackoff-base = 3\nlease-seconds = 10')"
expect_eq "stored" "$("$Q" config show --json | json '(j["max-retries"], j["backoff-base"], j["lease-seconds"])')" "(1, 3, 10)"
run config set --poll_interval_ms 75 --stop-timeout-seconds 4.5 --job_lease_ms 1500
[ "$RC" = 0 ] || fail "underscore flags: exit $RC: $ERR"
expect_eq "underscore flags output" "$OUT" "$(printf 'lease-seconds = 1.5\npoll-interval-ms = 75\nstop-timeout-seconds = 4.5')"
for k in max-retries backoff-base backoff-max job-timeout lease-seconds poll-interval-ms stop-timeout-seconds max-recoveries; do
  "$Q" config set --help | grep -q -- "--$k " || fail "config set --help lacks --$k"
done
pass "config show; config set --KEY VALUE... stores each (either spelling, --job-lease-ms in ms), one line per setting"

before=$("$Q" config get --json)
before_db=$(dump_db)
nothing_changed() {
  expect_eq "$1: config" "$("$Q" config get --json)" "$before"
  [ "$(dump_db)" = "$before_db" ] || fail "$1: the database changed"
}
for bad in "--max-retries 7 --backoff-base 0" "--backoff-base 9 --max-retries 1001" "--max-retries 7 --job-lease-ms 10" \
           "--max-retries 7 --job-lease-ms 1500.5" "--max-recoveries 2 --max-retries -1" "--max-retries 7 --lease-seconds 2 --job-lease-ms 2000" \
           "--max-retries 7 --max_retries 8" "max-retries 7 --backoff-base 2" "--backoff-base 2 max-retries 7" \
           "--max-retries 7 --poll-interval-ms" "--max-retries 7 --bogus 1"; do
  run config set $bad
  [ "$RC" = 2 ] && stderr_is_one_line || fail "config set $bad: exit $RC: $OUT $ERR"
  nothing_changed "config set $bad"
done
pass "config set with one bad flag (or mixed with KEY VALUE, or a key twice) exits 2 and changes nothing"
run config set max-retries 6
[ "$RC" = 0 ] && [ "$OUT" = "max-retries = 6" ] || fail "config set KEY VALUE: $RC $OUT"
run config set
[ "$RC" = 2 ] && grep -q "missing key" "$T/err" || fail "config set without arguments: $RC $ERR"
pass "config set KEY VALUE unchanged"

# --- 5. QUEUECTL_DB_PATH ------------------------------------------------------------------
P="$T/other/path.db"
env -u QUEUECTL_DB QUEUECTL_DB_PATH="$P" "$Q" enqueue '{"id":"via-path","command":"echo via-path"}' >/dev/null ||
  fail "enqueue with QUEUECTL_DB_PATH"
[ -f "$P" ] || fail "QUEUECTL_DB_PATH: $P not created"
expect_eq "job stored in QUEUECTL_DB_PATH" "$(env -u QUEUECTL_DB QUEUECTL_DB_PATH="$P" "$Q" list --json | json '[x["id"] for x in j]')" "['via-path']"
"$Q" show via-path >/dev/null 2>&1 && fail "via-path landed in QUEUECTL_DB too"
expect_eq "--db wins over QUEUECTL_DB_PATH" "$(env -u QUEUECTL_DB QUEUECTL_DB_PATH="$P" "$Q" --db "$QUEUECTL_DB" list --json | json '"via-path" in [x["id"] for x in j]')" False
QUEUECTL_DB_PATH="$P" "$Q" enqueue '{"id":"both-set","command":"true"}' >/dev/null
"$Q" show both-set >/dev/null || fail "QUEUECTL_DB and QUEUECTL_DB_PATH both set: QUEUECTL_DB did not win"
env -u QUEUECTL_DB "$Q" --db "$P" show both-set >/dev/null 2>&1 && fail "both-set landed in QUEUECTL_DB_PATH"
env -u QUEUECTL_DB QUEUECTL_DB_PATH="$P" timeout 60 "$H" --plugin shell --drain --quiet >"$T/hp.log" 2>&1 ||
  fail "host with QUEUECTL_DB_PATH: $(cat "$T/hp.log")"
expect_eq "host ran the QUEUECTL_DB_PATH job" "$(env -u QUEUECTL_DB "$Q" --db "$P" show via-path --json | json 'j["state"]')" completed
"$Q" --help | grep -q QUEUECTL_DB_PATH || fail "queuectl --help does not mention QUEUECTL_DB_PATH"
"$H" --help | grep -q QUEUECTL_DB_PATH || fail "queuectl-host --help does not mention QUEUECTL_DB_PATH"
pass "QUEUECTL_DB_PATH names the database for queuectl and queuectl-host; QUEUECTL_DB and --db win"

# --- 8. enqueue --json ----------------------------------------------------------------------
run enqueue --json '{"id":"j1","command":"echo j1","priority":3}'
[ "$RC" = 0 ] || fail "enqueue --json: exit $RC: $ERR"
expect_eq "enqueue --json = show --json" "$OUT" "$("$Q" show j1 --json)"
expect_eq "enqueue --json fields" "$(json '(j["id"], j["state"], j["priority"], j["history"])' <"$T/out")" "('j1', 'pending', 3, [])"
printf '{"id":"f1","command":"true"}\n{"command":"true","queue":"q2"}\n' >"$T/jobs.jsonl"
run enqueue --json --file "$T/jobs.jsonl"
[ "$RC" = 0 ] || fail "enqueue --json --file: exit $RC: $ERR"
expect_eq "--file --json: an array of both" "$(json '(len(j), j[0]["id"], j[1]["queue"])' <"$T/out")" "(2, 'f1', 'q2')"
gen=$(json 'j[1]["id"]' <"$T/out")
expect_eq "--file --json objects = list --json objects" \
  "$(json 'sorted(j, key=lambda x: x["id"])' <"$T/out")" \
  "$("$Q" list --limit 0 --json | json "sorted([x for x in j if x['id'] in ('f1', '$gen')], key=lambda x: x['id'])")"
run --stdin /dev/null enqueue --json --file -
[ "$RC" = 0 ] && [ "$OUT" = "[]" ] || fail "empty --file --json: exit $RC: $OUT"
printf '{"id":"k1","command":"true"}\n{"id":"k2"}\n' >"$T/bad.jsonl"
before_db=$(dump_db)
run enqueue --json --file "$T/bad.jsonl"
[ "$RC" = 2 ] && [ -z "$OUT" ] && stderr_is_one_line || fail "bad --file --json: exit $RC: $OUT $ERR"
[ "$(dump_db)" = "$before_db" ] || fail "bad --file --json stored something"
expect_eq "enqueue without --json still prints the id" "$("$Q" enqueue '{"id":"plain","command":"true"}')" plain
pass "enqueue --json prints the job as show --json does; --file: an array; bad input exits 2, nothing stored"
