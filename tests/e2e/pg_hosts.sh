#!/usr/bin/env bash
# Many hosts on one PostgreSQL (run through tests/support/pg_server.sh, which provides
# QUEUECTL_TEST_PG_URL and QUEUECTL_TEST_PG_CTL):
#  1. three queuectl-host processes × 2 workers, each with its own --plugin-dir copy as if
#     on three machines, drain 3,000 jobs that append their id to a file: each id once;
#  2. SIGKILL one host mid-run: the others finish its jobs after the lease lapses, nothing
#     stays processing, no id is missing;
#  3. PostgreSQL stops and restarts while hosts run: they log the outage, keep running,
#     resume, and no job is lost.
source "$(dirname "$0")/lib.sh"
: "${QUEUECTL_TEST_PG_URL:?run through tests/support/pg_server.sh run}" "${QUEUECTL_TEST_PG_CTL:?}" "${PLUGINS:?}"
export QUEUECTL_DB=$QUEUECTL_TEST_PG_URL
count() { "$Q" status --json 2>/dev/null | json "j['counts']['$1']"; }
completed_is() { [ "$(count completed)" = "$1" ]; }
completed_at_least() { [ "$(count completed)" -ge "$1" ]; }
jobs_file() {  # jobs_file PREFIX N COMMAND_SUFFIX: JSON Lines of N jobs appending their id to $T/out
  python3 -c "import json,sys
for i in range($2): print(json.dumps({'id': f'$1{i}', 'command': f'$3 echo $1{i} >> $T/out'}))"
}
ids_once() {  # ids_once PREFIX N: every id PREFIX0..N-1 exactly once in $T/out
  python3 -c "import collections,sys
c=collections.Counter(l.strip() for l in open('$T/out') if l.startswith('$1'))
want={f'$1{i}' for i in range($2)}
missing=want-set(c); dup=[k for k,v in c.items() if v>1]
print(f'missing={len(missing)} duplicated={len(dup)}')
sys.exit(1 if missing or ($3 and dup) else 0)"
}
for h in 1 2 3; do mkdir -p "$T/machine$h"; cp "$PLUGINS"/libqueuectl_shell.so "$PLUGINS"/queuectl-shell-supervisor "$T/machine$h/"; done
"$Q" config set lease-seconds 6 >/dev/null || fail "config on PostgreSQL"
: > "$T/out"

# 1. Three hosts drain 3,000 jobs, each exactly once.
jobs_file a 3000 "" | "$Q" enqueue --file - >/dev/null || fail "enqueue 3000"
[ "$(count pending)" = 3000 ] || fail "pending: $(count pending)"
for h in 1 2 3; do
  start_host "host$h" --plugin-dir "$T/machine$h" --plugin "$T/machine$h/libqueuectl_shell.so" --workers 2
  eval "host${h}_pid=$LAST_PID"
done
wait_for 20 grep -q "LISTEN/NOTIFY" "$T/host1.log" || fail "host1 not started with LISTEN: $(cat "$T/host1.log")"
wait_for 240 completed_is 3000 || fail "drain: $("$Q" status)"
ids_once a 3000 1 || fail "phase 1: not exactly once"
for h in 1 2 3; do grep -q "started 2 worker" "$T/host$h.log" || fail "host$h"; done
pass "3 hosts × 2 workers drained 3,000 jobs on PostgreSQL, each id exactly once"

# 2. SIGKILL one host mid-run.
jobs_file b 600 "sleep 0.05;" | "$Q" enqueue --file - >/dev/null || fail "enqueue 600"
wait_for 60 completed_at_least 3100 || fail "phase 2 did not start"
kill -9 "$host1_pid"
wait_for 120 completed_is 3600 || fail "after SIGKILL: $("$Q" status)"
[ "$("$Q" list --state processing --json | json 'len(j)')" = 0 ] || fail "jobs left processing"
ids_once b 600 0 || fail "phase 2: ids missing"
pass "SIGKILL of a host: the others completed its jobs after the lease lapsed; none missing, none processing"

# 3. The database restarts under running hosts.
jobs_file c 300 "sleep 0.02;" | "$Q" enqueue --file - >/dev/null || fail "enqueue 300"
wait_for 60 completed_at_least 3650 || fail "phase 3 did not start"
$QUEUECTL_TEST_PG_CTL stop >/dev/null || fail "pg stop"
sleep 3   # the outage itself: hosts must notice and survive it
$QUEUECTL_TEST_PG_CTL start >/dev/null || fail "pg start"
wait_for 180 completed_is 3900 || fail "after restart: $("$Q" status)"
for h in 2 3; do
  kill -0 "$(eval echo \$host${h}_pid)" || fail "host$h died in the outage"
  grep -q "database" "$T/host$h.log" || fail "host$h did not log the outage: $(tail -5 "$T/host$h.log")"
done
ids_once c 300 0 || fail "phase 3: ids missing"
pass "PostgreSQL restart: hosts logged it, stayed up, resumed; no job lost"
kill -TERM "$host2_pid" "$host3_pid"
wait "$host2_pid" || fail "host2 exit"
wait "$host3_pid" || fail "host3 exit"
pass "hosts stop cleanly"
