#!/usr/bin/env bash
# Claims are executor-aware (issue 9 item 2): a host claims only jobs whose executor
# plugin it loaded. Before, a shell-only host claimed http jobs and killed them ("no
# executor plugin 'http' is loaded on this host") and a prometheus-only host killed every
# shell job. Now those jobs stay pending, and `status` (text and --json) names the
# executor they wait for.
source "$(dirname "$0")/lib.sh"
missing_json() { "$Q" status --json | json "j['missing_executors']"; }
attempts_of() { "$Q" show "$1" --json | json 'j["attempts"]'; }
dead_count() { "$Q" status --json | json "j['counts']['dead']"; }
shell_job() { "$Q" enqueue "{\"id\":\"$1\",\"command\":\"true\"}" >/dev/null || fail "enqueue $1"; }
http_job() {  # the URL is never fetched: no host here has the http plugin
  "$Q" enqueue "{\"id\":\"$1\",\"executor\":\"http\",\"payload\":{\"url\":\"http://127.0.0.1:9/x\"}}" >/dev/null ||
    fail "enqueue $1"
}

# 1. A shell-only host runs the shell jobs and leaves the http jobs alone.
http_job web-1
http_job web-2
shell_job sh-1
shell_job sh-2
start_host shell-host --plugin shell --workers 2
shell_pid=$LAST_PID
wait_for 15 is_state sh-1 completed || fail "sh-1: $(state_of sh-1)"
wait_for 15 is_state sh-2 completed || fail "sh-2: $(state_of sh-2)"
sleep 2.5   # several poll intervals: the host had every chance to claim the http jobs
for id in web-1 web-2; do
  [ "$(state_of $id)" = pending ] || fail "$id is $(state_of $id), want pending: $("$Q" show $id)"
  [ "$(attempts_of $id)" = 0 ] || fail "$id was attempted: $("$Q" show $id)"
done
[ "$(dead_count)" = 0 ] || fail "dead jobs: $("$Q" list --state dead)"
pass "a shell-only host ran the shell jobs; the http jobs stayed pending, never attempted"

"$Q" status > "$T/status.txt"
grep -q "^waiting for an executor no live host has:" "$T/status.txt" || fail "status: $(cat "$T/status.txt")"
grep -q "^  http: 2 jobs$" "$T/status.txt" || fail "status does not name http: $(cat "$T/status.txt")"
[ "$(missing_json)" = "{'http': 2}" ] || fail "status --json missing_executors: $(missing_json)"
[ "$("$Q" status --json | json "j['workers']['processes'][0]['executors']")" = "['shell']" ] ||
  fail "worker row executors: $("$Q" status --json)"
pass "status (text and --json) says 2 jobs wait for the http executor; the worker row lists its executors"

kill -TERM "$shell_pid"
wait "$shell_pid" || fail "shell host exit"

# 2. A host with only an exporter plugin claims nothing at all.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_host metrics-host --plugin prometheus --workers 2 --metrics-bind "127.0.0.1:$port"
metrics_pid=$LAST_PID
wait_for 10 grep -q "started 2 worker" "$T/metrics-host.log" || fail "metrics host: $(cat "$T/metrics-host.log")"
shell_job sh-3
shell_job sh-4
sleep 2.5
for id in sh-3 sh-4; do
  [ "$(state_of $id)" = pending ] || fail "$id is $(state_of $id) under a prometheus-only host: $("$Q" show $id)"
  [ "$(attempts_of $id)" = 0 ] || fail "$id was attempted: $("$Q" show $id)"
done
[ "$(dead_count)" = 0 ] || fail "dead jobs: $("$Q" list --state dead)"
[ "$(missing_json)" = "{'http': 2, 'shell': 2}" ] || fail "missing_executors: $(missing_json)"
"$Q" status | grep -q "^  shell: 2 jobs$" || fail "status does not name shell: $("$Q" status)"
pass "a prometheus-only host claims nothing: shell jobs stay pending, status names shell and http"

# 3. A shell host joins: it takes the shell jobs; only http is still missing.
start_host shell-host-2 --plugin shell --workers 1
shell2_pid=$LAST_PID
wait_for 15 is_state sh-3 completed || fail "sh-3: $(state_of sh-3)"
wait_for 15 is_state sh-4 completed || fail "sh-4: $(state_of sh-4)"
[ "$(missing_json)" = "{'http': 2}" ] || fail "missing_executors after the shell host joined: $(missing_json)"
pass "once a shell host is live the shell jobs run; only http is reported missing"

kill -TERM "$metrics_pid" "$shell2_pid"
wait "$metrics_pid" || fail "metrics host exit"
wait "$shell2_pid" || fail "shell host 2 exit"
pass "hosts stop cleanly"
