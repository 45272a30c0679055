#!/usr/bin/env bash
# Issue 10: the REST routes of the FastAPI QueueCTL tools, driven with curl against a real
# `queuectl dashboard` and a real `queuectl-host --http` (docs/dashboard.md, "Coming from
# another QueueCTL"). Each alias answers as its /api route does (status and JSON) and its
# effect is checked through the CLI; /worker/start runs slots inside the serving process
# (a job really runs, `queuectl status` counts them), /worker/stop stops them and the other
# workers of the host; a cross-site GET is refused and starts nothing; the token and the
# Host allow-list apply to every new route.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh installs it)"

# start_dashboard NAME ARGS...: `queuectl dashboard` on a free port; its base URL in $BASE.
start_dashboard() {
  local name=$1; shift
  "$Q" dashboard --bind 127.0.0.1:0 "$@" >"$T/$name.out" 2>>"$T/host.log" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  wait_for 20 grep -q 'serving http://' "$T/$name.out" || fail "$name did not start: $(cat "$T/$name.out")"
  BASE=$(sed -n 's|.*serving \(http://[^ ]*\)/ .*|\1|p' "$T/$name.out" | head -1)
}
# req METHOD PATH [CURL ARGS...]: the status in $CODE, the body in $T/body.
req() {
  local m=$1 p=$2; shift 2
  CODE=$(curl -sS -o "$T/body" -w '%{http_code}' -X "$m" "$@" "$BASE$p") || fail "curl $m $p failed"
}
body() { cat "$T/body"; }
expect() { [ "$CODE" = "$1" ] || fail "$2: HTTP $CODE, expected $1: $(body)"; }
# expect_error STATUS ID WHAT: the one-line JSON error of the API (ID '*': any id).
expect_error() {
  expect "$1" "$3"
  [ "$(wc -l <"$T/body")" -eq 0 ] || fail "$3: error body is not one line: $(body)"
  local id
  id=$(body | json 'j["error"]["id"] + " " + str(len(j["error"]["message"]) > 0)') || fail "$3: not an error body: $(body)"
  [ "$2" = '*' ] && [ "${id#* }" = True ] && return 0
  [ "$id" = "$2 True" ] || fail "$3: error id, expected $2: $(body)"
}
# exited PID: the process is gone (or a zombie not reaped yet).
exited() { ! kill -0 "$1" 2>/dev/null || grep -q ') Z' "/proc/$1/stat" 2>/dev/null; }
JSON=(-H 'Content-Type: application/json')
same_body() {  # same_body PATH1 PATH2 WHAT: both answer 200 with the same JSON
  req GET "$1"; expect 200 "$3"; cp "$T/body" "$T/a"
  req GET "$2"; expect 200 "$3"; cmp -s "$T/a" "$T/body" || fail "$3: $1 and $2 differ: $(cat "$T/a") vs $(body)"
}
job_count() { "$Q" list --json | json 'len(j)'; }

# ---- a dead job to retry, made by a host that drains the queue ----------------------------
"$Q" enqueue '{"id":"dead-1","command":"exit 3","max_retries":1}' >/dev/null
"$H" --plugin shell --workers 1 --drain >>"$T/host.log" 2>&1 || fail "drain host failed"
is_state dead-1 dead || fail "dead-1 is $(state_of dead-1), expected dead"

start_dashboard dash
DASH=$LAST_PID

# ---- POST /enqueue -------------------------------------------------------------------------
req POST /enqueue "${JSON[@]}" -d '{"id":"c1","command":"echo compat-ran"}'
expect 201 "POST /enqueue"
[ "$(body | json 'j["id"]')" = c1 ] || fail "POST /enqueue body: $(body)"
is_state c1 pending || fail "queuectl show c1: $(state_of c1), expected pending"
req POST /api/jobs "${JSON[@]}" -d '{"id":"c2","command":"echo via-api"}'
expect 201 "POST /api/jobs"
[ "$(body)" = '{"id":"c2"}' ] || fail "POST /api/jobs body: $(body)"
before=$(job_count)
req POST /enqueue "${JSON[@]}" -d '{"command": 5}'
expect_error 400 '*' "POST /enqueue with a bad spec"
req POST /enqueue -H 'Content-Type: text/plain' -d '{"command":"true"}'
expect_error 415 queuectl.web.content_type "POST /enqueue as text/plain"
req POST /enqueue "${JSON[@]}" -d '{"id":"c1","command":"true"}'
expect 409 "POST /enqueue of an existing id"
[ "$(job_count)" = "$before" ] || fail "refused enqueues stored something: $(job_count) jobs, expected $before"
pass "POST /enqueue: 201 and the job is in 'queuectl show'; bad specs 400/415/409 store nothing"

# ---- GET /list, /status, /dlq/list: the /api answers ------------------------------------------
same_body "/list?state=pending" "/api/jobs?state=pending" "GET /list?state=pending"
body | json '[x["id"] for x in j["jobs"]]' | grep -q "'c1'" || fail "GET /list?state=pending lacks c1: $(body)"
same_body "/list" "/api/jobs" "GET /list"
req GET "/list?state=bogus"
expect_error 400 queuectl.web.bad_param "GET /list?state=bogus"
req GET "/list?nope=1"
expect_error 400 queuectl.web.bad_param "GET /list?nope=1"
req GET /status; expect 200 "GET /status"
[ "$(body | json 'j["counts"]["pending"]')" = "$("$Q" status --json | json 'j["counts"]["pending"]')" ] ||
  fail "GET /status counts differ from queuectl status: $(body)"
req GET "/status?x=1"
expect_error 400 queuectl.web.bad_param "GET /status?x=1"
same_body /dlq/list /api/dlq "GET /dlq/list"
[ "$(body | json '[x["id"] for x in j["jobs"]]')" = "['dead-1']" ] || fail "GET /dlq/list: $(body)"
pass "GET /list, /status, /dlq/list answer what /api/jobs, /api/status, /api/dlq answer"

# ---- POST /dlq/retry?job_id= ---------------------------------------------------------------------
req POST "/dlq/retry?job_id=no-such-job"
expect_error 404 '*' "POST /dlq/retry of an unknown id"
req POST /dlq/retry
expect_error 400 queuectl.web.bad_param "POST /dlq/retry without job_id"
req POST "/dlq/retry?job_id=c1"
expect 409 "POST /dlq/retry of a pending job"
is_state dead-1 dead || fail "dead-1 changed before its retry"
req POST "/dlq/retry?job_id=dead-1"
expect 200 "POST /dlq/retry?job_id=dead-1"
[ "$(body | json 'j["state"]')" = pending ] || fail "POST /dlq/retry body: $(body)"
is_state dead-1 pending || fail "queuectl show dead-1: $(state_of dead-1), expected pending"
pass "POST /dlq/retry: 200 and the job is pending again; unknown id 404, no id 400, not dead 409"

# ---- PUT /update -----------------------------------------------------------------------------------
req PUT /update "${JSON[@]}" -d '{"id":"c2","priority":7,"command":"echo edited"}'
expect 200 "PUT /update of c2"
[ "$(body | json 'j["priority"]')" = 7 ] || fail "PUT /update body: $(body)"
[ "$("$Q" show c2 --json | json 'j["command"] + " " + str(j["priority"])')" = "echo edited 7" ] ||
  fail "queuectl show c2 after PUT /update: $("$Q" show c2 --json)"
req PUT /update "${JSON[@]}" -d '{"id":"no-such-job","priority":1}'
expect_error 404 '*' "PUT /update of an unknown id"
req PUT /update "${JSON[@]}" -d '{"priority":1}'
expect_error 400 queuectl.update.bad_body "PUT /update without an id"
req PUT /update "${JSON[@]}" -d '{"id":"c2","priority":"high"}'
expect_error 400 '*' "PUT /update with a bad priority"
req PUT /update "${JSON[@]}" -d '{"id":"c2","nonsense":1}'
expect_error 400 '*' "PUT /update with an unknown field"
req PUT /update "${JSON[@]}" -d '{"id":"c2","state":"completed"}'
expect 400 "PUT /update to a state nobody may ask for"
req PUT /update -H "Origin: http://evil.example" "${JSON[@]}" -d '{"id":"c2","priority":1}'
expect_error 403 queuectl.web.cross_site "cross-site PUT /update"
[ "$("$Q" show c2 --json | json 'str(j["priority"]) + " " + j["state"]')" = "7 pending" ] ||
  fail "a refused PUT /update changed c2: $("$Q" show c2 --json)"
pass "PUT /update: 200 and the job changed; unknown id 404, no id or bad fields 400, cross-site 403, nothing changed on errors"

# ---- POST /config/set, GET /config/get -------------------------------------------------------
req POST /config/set "${JSON[@]}" -d '{"key":"max-retries","value":7}'
expect 200 "POST /config/set"
[ "$(body | json 'j["value"]')" = 7 ] || fail "POST /config/set body: $(body)"
[ "$("$Q" config get max-retries)" = 7 ] || fail "queuectl config get max-retries: $("$Q" config get max-retries)"
req POST /config/set "${JSON[@]}" -d '{"key":"max-retries","value":-1}'
expect 400 "POST /config/set with a bad value"
req POST /config/set "${JSON[@]}" -d '{"key":"max-retries"}'
expect_error 400 queuectl.config.bad_body "POST /config/set without a value"
req POST /config/set "${JSON[@]}" -d '{"key":"no-such-key","value":1}'
expect 404 "POST /config/set of an unknown key"
req POST /config/set -H 'Content-Type: text/plain' -d '{"key":"max-retries","value":1}'
expect_error 415 queuectl.web.content_type "POST /config/set as text/plain"
[ "$("$Q" config get max-retries)" = 7 ] || fail "a refused /config/set changed max-retries"
same_body "/config/get?key=max-retries" /api/config/max-retries "GET /config/get?key=max-retries"
[ "$(body | json 'j["value"]')" = 7 ] || fail "GET /config/get?key=max-retries: $(body)"
same_body /config/get /api/config "GET /config/get"
req GET "/config/get?key=no-such-key"
expect 404 "GET /config/get of an unknown key"
pass "POST /config/set stores (queuectl config get sees it), bad values 400 and unknown keys 404; GET /config/get as /api/config"

# ---- /worker/start, /worker/stop on the dashboard ---------------------------------------------
[ "$(active_slots)" = 0 ] || fail "workers before any start: $(active_slots)"
for bad in 0 -1 1025 abc 2.5 ''; do
  req POST "/worker/start?num_workers=$bad"
  expect_error 400 queuectl.web.bad_param "POST /worker/start?num_workers=$bad"
done
req POST "/worker/start?workers=2"
expect_error 400 queuectl.web.bad_param "POST /worker/start?workers=2"
# A GET that acts, sent by another site's page: refused before anything starts.
req GET "/worker/start?num_workers=2" -H 'Sec-Fetch-Site: cross-site'
expect_error 403 queuectl.web.cross_site "cross-site GET /worker/start"
req GET "/worker/start?num_workers=2" -H 'Sec-Fetch-Site: same-site'
expect_error 403 queuectl.web.cross_site "same-site GET /worker/start"
req GET "/worker/start?num_workers=2" -H 'Origin: http://evil.example'
expect_error 403 queuectl.web.cross_site "GET /worker/start with a foreign Origin"
req POST "/worker/start?num_workers=2" -H 'Origin: http://evil.example'
expect_error 403 queuectl.web.cross_site "POST /worker/start with a foreign Origin"
req GET "/worker/start?num_workers=2" -H 'Host: evil.example'
expect_error 421 queuectl.web.foreign_host "GET /worker/start for a foreign Host"
for p in /enqueue /list /status /dlq/list /config/get /worker/stop; do
  req GET "$p" -H 'Host: evil.example'
  expect_error 421 queuectl.web.foreign_host "GET $p for a foreign Host"
done
CODE=$(curl -sS -o /dev/null -w '%{http_code}' -I "$BASE/worker/start?num_workers=2")
[ "$CODE" = 405 ] || fail "HEAD /worker/start: HTTP $CODE, expected 405"
sleep 0.5
[ "$(active_slots)" = 0 ] || fail "refused starts started workers: $(active_slots)"
is_state c1 pending || fail "c1 ran although no start was accepted"
pass "/worker/start: bad num_workers 400; cross-site and same-site GET 403, foreign Host 421, HEAD 405; nothing started"

req GET "/worker/start?num_workers=2" -H 'Sec-Fetch-Site: same-origin'
expect 200 "GET /worker/start?num_workers=2"
[ "$(body | json 'j["slots"]')" = 2 ] || fail "GET /worker/start body: $(body)"
slots_are() { [ "$(active_slots)" = "$1" ]; }
wait_for 10 slots_are 2 || fail "queuectl status after /worker/start?num_workers=2: $("$Q" status)"
wait_for 20 is_state c1 completed || fail "c1 did not run: $(state_of c1)"
"$Q" show c1 | grep -q compat-ran || fail "c1's output: $("$Q" show c1)"
wait_for 20 is_state dead-1 dead || fail "the retried dead-1 did not run again: $(state_of dead-1)"
"$Q" status --json | json '[p["pid"] for p in j["workers"]["processes"]]' | grep -q "$DASH" ||
  fail "the dashboard process is not the registered worker: $("$Q" status)"
pass "GET /worker/start?num_workers=2: the dashboard runs 2 slots (queuectl status), the jobs ran"

req POST "/worker/start?num_workers=3"
expect 200 "POST /worker/start?num_workers=3 (resize)"
wait_for 10 slots_are 3 || fail "after the resize to 3: $("$Q" status)"
req POST "/worker/start?num_workers=1"
expect 200 "POST /worker/start?num_workers=1 (resize)"
wait_for 10 slots_are 1 || fail "after the resize to 1: $("$Q" status)"
req GET /worker/stop -H 'Sec-Fetch-Site: cross-site'
expect_error 403 queuectl.web.cross_site "cross-site GET /worker/stop"
req GET /worker/stop -H 'Origin: null'
expect_error 403 queuectl.web.cross_site "GET /worker/stop with Origin: null"
sleep 0.3
slots_are 1 || fail "a refused stop stopped workers: $("$Q" status)"
pass "resize 2 -> 3 -> 1; cross-site GET /worker/stop 403 and the slots run on"

# /worker/stop: this process's slots and the other workers of this host.
start_worker other --count 2
OTHER=$LAST_PID
wait_for 15 slots_are 3 || fail "queuectl worker start did not register: $("$Q" status)"
req GET /worker/stop
expect 200 "GET /worker/stop"
[ "$(body | json 'j["stopped_slots"], j["signalled"]')" = "1 1" ] || fail "GET /worker/stop body: $(body)"
wait_for 15 exited "$OTHER" || fail "the other worker process did not stop"
wait_for 10 slots_are 0 || fail "after /worker/stop: $("$Q" status)"
kill -0 "$DASH" || fail "the dashboard exited on /worker/stop"
"$Q" enqueue '{"id":"after-stop","command":"true"}' >/dev/null
sleep 1
is_state after-stop pending || fail "a job ran after /worker/stop: $(state_of after-stop)"
req POST /worker/stop
expect 200 "POST /worker/stop with nothing running"
[ "$(body | json 'j["stopped_slots"], j["signalled"]')" = "0 0" ] || fail "second /worker/stop body: $(body)"
pass "/worker/stop stopped the dashboard's slots and signalled the other worker (gone from status); nothing runs after it"

kill -TERM "$DASH"
wait "$DASH" || fail "dashboard exited $? on SIGTERM"

# ---- with a token -------------------------------------------------------------------------------
start_dashboard tokened --token s3cret
TOK=$LAST_PID
AUTH=(-H 'Authorization: Bearer s3cret')
for p in /list /status /dlq/list /config/get /worker/start /worker/stop; do
  req GET "$p"
  expect_error 401 queuectl.web.unauthorized "GET $p without the token"
done
for p in /enqueue /dlq/retry /config/set /worker/start /worker/stop; do
  req POST "$p" "${JSON[@]}" -d '{}' -H 'Authorization: Bearer wrong'
  expect_error 401 queuectl.web.unauthorized "POST $p with a wrong token"
done
sleep 0.3
slots_are 0 || fail "an unauthorized start started workers: $("$Q" status)"
req GET /status "${AUTH[@]}"; expect 200 "GET /status with the token"
req GET /docs; expect 200 "GET /docs (a page: no token)"
req GET "/worker/start?num_workers=1" "${AUTH[@]}"
expect 200 "GET /worker/start with the token"
wait_for 20 is_state after-stop completed || fail "after-stop did not run: $(state_of after-stop)"
req POST /worker/stop "${AUTH[@]}"; expect 200 "POST /worker/stop with the token"
wait_for 10 slots_are 0 || fail "after the tokened stop: $("$Q" status)"
kill -TERM "$TOK"
wait "$TOK" || fail "tokened dashboard exited $? on SIGTERM"
pass "with --token every new route needs it (401 and nothing started without); /docs does not"

# ---- queuectl-host --http: /worker/start resizes its pool ------------------------------------
start_host host --plugin shell --workers 1 --http 127.0.0.1:0
HOST=$LAST_PID
wait_for 20 grep -q 'REST API on http://' "$T/host.log" || fail "host --http did not start"
BASE=$(sed -n 's|.*REST API on \(http://[^ ]*\)/.*|\1|p' "$T/host.log" | tail -1)
wait_for 10 slots_are 1 || fail "host not registered: $("$Q" status)"
req GET "/worker/start?num_workers=2"
expect 200 "host: GET /worker/start?num_workers=2"
[ "$(body | json 'j["slots"]')" = 2 ] || fail "host: /worker/start body: $(body)"
wait_for 10 slots_are 2 || fail "host after the resize to 2: $("$Q" status)"
[ "$("$Q" status --json | json 'len(j["workers"]["processes"])')" = 1 ] || fail "host: the resize registered a second process"
req POST /enqueue "${JSON[@]}" -d '{"id":"h1","command":"sleep 0.2; echo host-ran"}'
expect 201 "host: POST /enqueue"
req POST /enqueue "${JSON[@]}" -d '{"id":"h2","command":"sleep 0.2"}'
wait_for 20 is_state h1 completed || fail "h1 did not run on the host"
wait_for 20 is_state h2 completed || fail "h2 did not run on the host"
req GET "/worker/start?num_workers=2" -H 'Sec-Fetch-Site: cross-site'
expect_error 403 queuectl.web.cross_site "host: cross-site GET /worker/start"
req GET /worker/stop -H 'Host: evil.example'
expect_error 421 queuectl.web.foreign_host "host: GET /worker/stop for a foreign Host"
req POST /worker/stop
expect 200 "host: POST /worker/stop"
[ "$(body | json 'j["stopped_slots"]')" = 2 ] || fail "host: /worker/stop body: $(body)"
wait_for 10 slots_are 0 || fail "host after /worker/stop: $("$Q" status)"
kill -0 "$HOST" || fail "the host exited on /worker/stop"
req GET /status; expect 200 "host: GET /status after /worker/stop (still serving)"
"$Q" enqueue '{"id":"h3","command":"true"}' >/dev/null
sleep 1
is_state h3 pending || fail "host: a job ran after /worker/stop"
req POST "/worker/start?num_workers=1"
expect 200 "host: POST /worker/start after a stop"
wait_for 20 is_state h3 completed || fail "host: h3 did not run after the restart"
wait_for 10 slots_are 1 || fail "host after the restart: $("$Q" status)"
kill -TERM "$HOST"
wait "$HOST"
rc=$?
[ "$rc" = 0 ] || fail "host exited $rc on SIGTERM"
[ "$(active_slots)" = 0 ] || fail "host still registered after exiting: $("$Q" status)"
pass "host --http: /worker/start resized the pool to 2 (one process), /worker/stop stopped it, the host served on and started again; clean exit"
