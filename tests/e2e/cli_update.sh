#!/usr/bin/env bash
# Issue 10: `queuectl update '<json>'` changes a job that is not running: each field, each
# allowed state move and each refused one (exit 2, nothing changed), a running job refused,
# an unknown id exit 3, bad JSON exit 2; the output is `show`'s (and `show --json`'s).
source "$(dirname "$0")/cli_lib.sh"

field() { json_of show "$1" --json -- "$2"; }

# --- every editable field ---------------------------------------------------------------------
"$Q" enqueue '{"id":"e1","command":"echo before"}' >/dev/null || fail "enqueue e1"
run update '{"id":"e1","command":"echo after"}'
[ "$RC" = 0 ] && [ -z "$ERR" ] || fail "update command: rc=$RC err=$ERR"
"$Q" show e1 >"$T/show.txt"
[ "$OUT" = "$(cat "$T/show.txt")" ] || fail "update prints what show prints: $OUT"
expect_eq "command" "$(field e1 'j["command"]')" "echo after"
run update '{"id":"e1","priority":7,"max_retries":5,"timeout":2.5,"queue":"mail","cwd":"/tmp",
             "env":{"A":"1","B":"two words"},"run_at":"2031-02-03T04:05:06Z","payload":{"k":[1,2]}}'
[ "$RC" = 0 ] || fail "update several fields: $ERR"
expect_eq "fields" "$(field e1 '"%s %s %s %s %s %s %s %s" % (j["priority"], j["max_retries"], j["timeout"], j["queue"], j["cwd"], json.dumps(j["env"], sort_keys=True), j["run_at"], json.dumps(j["payload"]))')" \
  '7 5 2.5 mail /tmp {"A": "1", "B": "two words"} 2031-02-03T04:05:06.000Z {"k": [1, 2]}'
run update '{"id":"e1","run_at":1900000000}' --json
[ "$RC" = 0 ] || fail "update --json: $ERR"
"$Q" show e1 --json >"$T/show.json"
[ "$OUT" = "$(cat "$T/show.json")" ] || fail "update --json prints what show --json prints"
expect_eq "run_at as epoch seconds" "$(field e1 'j["run_at"]')" "2030-03-17T17:46:40.000Z"
"$Q" enqueue '{"id":"h1","executor":"http","payload":{"url":"http://127.0.0.1:9/"}}' >/dev/null || fail "enqueue h1"
run update '{"id":"h1","executor":"shell","command":"echo now shell"}'
[ "$RC" = 0 ] || fail "update executor: $ERR"
expect_eq "executor" "$(field h1 'j["executor"] + "|" + j["command"]')" "shell|echo now shell"
expect_eq "state untouched by a field edit" "$(state_of e1)" pending
pass "update: command, priority, max_retries, timeout, queue, cwd, env, run_at, payload, executor; output as show / show --json"

# --- bad input: exit 2, one line naming the problem, nothing changed ----------------------------
before=$(dump_db)
bad() {  # bad WANT_IN_ERR JSON
  run update "$2"
  [ "$RC" = 2 ] || fail "update $2: exit $RC, want 2 ($ERR)"
  stderr_is_one_line || fail "update $2: stderr not one line: $ERR"
  case "$ERR" in *"$1"*) ;; *) fail "update $2: error '$ERR' does not name '$1'" ;; esac
}
bad "parse" '{"id":"e1",'
bad "colour: unknown field" '{"id":"e1","colour":"red"}'
bad "attempts: unknown field" '{"id":"e1","attempts":0}'
bad "id: required" '{"command":"true"}'
bad "priority" '{"id":"e1","priority":"high"}'
bad "priority" '{"id":"e1","priority":1e12}'
bad "max_retries" '{"id":"e1","max_retries":-1}'
bad "timeout" '{"id":"e1","timeout":1e300}'
bad "run_at" '{"id":"e1","run_at":"tomorrow"}'
bad "env" '{"id":"e1","env":{"1BAD":"x"}}'
bad "payload" '{"id":"e1","payload":[1]}'
bad "queue" '{"id":"e1","queue":""}'
bad "command" '{"id":"e1","command":""}'
bad "executor" '{"id":"e1","executor":"Bad Name"}'
bad "state" '{"id":"e1","state":"sleeping"}'
bad "given twice" '{"id":"e1","priority":1,"priority":2}'
bad "must be a JSON object" '[1]'
[ "$(dump_db)" = "$before" ] || fail "a refused update changed the database"
pass "update: bad JSON, unknown fields, out-of-bounds values exit 2 with one line naming the field; nothing changed"

run update '{"id":"nope","priority":1}'
[ "$RC" = 3 ] && stderr_is_one_line || fail "update of an unknown id: exit $RC ($ERR), want 3"
pass "update of an unknown id exits 3"

# --- state moves --------------------------------------------------------------------------------
# move ID FROM TO RC: sets up nothing, just checks the answer and the state after.
move() {
  run update "{\"id\":\"$1\",\"state\":\"$3\"}"
  [ "$RC" = "$4" ] || fail "update $1 ($2) to $3: exit $RC, want $4 ($ERR)"
  if [ "$4" = 0 ]; then expect_eq "$1 after $2 -> $3" "$(state_of "$1")" "$3"
  else stderr_is_one_line && expect_eq "$1 stays $2" "$(state_of "$1")" "$2"; fi
}
"$Q" config set backoff-base 1000 >/dev/null  # a failed job waits 1000 s: the worker leaves it alone
"$Q" enqueue '{"id":"ok","command":"true"}' >/dev/null
"$Q" enqueue '{"id":"dies","command":"exit 4","max_retries":1}' >/dev/null
"$Q" enqueue '{"id":"fails","command":"exit 5","max_retries":5}' >/dev/null
"$Q" enqueue '{"id":"p1","command":"true","run_at":"2099-01-01T00:00:00Z"}' >/dev/null
"$Q" update '{"id":"e1","run_at":"2099-01-01T00:00:00Z"}' >/dev/null
"$Q" update '{"id":"h1","run_at":"2099-01-01T00:00:00Z"}' >/dev/null
start_worker w1 --count 1
worker=$LAST_PID
wait_for 15 is_state ok completed || fail "ok did not complete: $(state_of ok)"
wait_for 15 is_state dies dead || fail "dies is $(state_of dies)"
wait_for 15 is_state fails failed || fail "fails is $(state_of fails)"
kill -TERM "$worker"; wait "$worker"

expect_eq "dies has attempts" "$(field dies 'j["attempts"]')" 1
move dies dead canceled 2
move dies dead pending 0
expect_eq "dead -> pending resets attempts" "$(field dies '"%s %s" % (j["attempts"], j["exit_code"])')" "0 None"
move ok completed canceled 2
move ok completed pending 0
expect_eq "completed -> pending resets attempts" "$(field ok 'j["attempts"]')" 0
move fails failed pending 0
expect_eq "failed -> pending resets attempts" "$(field fails 'j["attempts"]')" 0
move p1 pending canceled 0
move p1 canceled canceled 0  # already there: nothing to do
move p1 canceled pending 0
move p1 pending pending 0
for to in processing completed failed dead; do move p1 pending "$to" 2; done
grep -q "pending or canceled" "$T/err" || fail "the refusal says where a job can go: $ERR"
# failed -> canceled: let it fail once more (it is pending and due now).
start_worker w2 --count 1
worker=$LAST_PID
wait_for 15 is_state fails failed || fail "fails did not fail again: $(state_of fails)"
kill -TERM "$worker"; wait "$worker"
move fails failed canceled 0
pass "update state moves: dead/completed/failed/canceled -> pending (attempts 0), pending/failed -> canceled; others exit 2"

# --- a running job is refused --------------------------------------------------------------------
"$Q" enqueue '{"id":"slow","command":"sleep 30"}' >/dev/null
start_worker w3 --count 1
worker=$LAST_PID
wait_for 15 is_state slow processing || fail "slow is $(state_of slow)"
before=$(field slow 'j["command"]')
run update '{"id":"slow","command":"echo never"}'
[ "$RC" = 2 ] && stderr_is_one_line || fail "update of a running job: exit $RC ($ERR), want 2"
case "$ERR" in *running*) ;; *) fail "the refusal says it is running: $ERR" ;; esac
run update '{"id":"slow","state":"pending"}'
[ "$RC" = 2 ] || fail "moving a running job: exit $RC"
expect_eq "running job unchanged" "$(field slow '"%s %s" % (j["state"], j["command"])')" "processing $before"
"$Q" cancel slow >/dev/null
kill -TERM "$worker"; wait "$worker"
pass "update of a running job exits 2 naming it running; the job is untouched"
