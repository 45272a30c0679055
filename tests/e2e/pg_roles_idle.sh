#!/usr/bin/env bash
# PostgreSQL hosts with the documented least-privilege role, and an idle host's load
# (run through tests/support/pg_server.sh, which provides QUEUECTL_TEST_PG_URL):
#  1. issue 9 item 17: `queuectl migrate` (owner role) creates the schema; a role with only
#     SELECT, INSERT, UPDATE, DELETE then runs the CLI and a host. Before, every open ran
#     DDL and that role got "permission denied for schema public".
#  2. weaker spot: an idle host with a live LISTEN connection polls only as a safety net.
#     Before, each worker slot claimed every second (4 slots: > 4 transactions/s); now
#     fewer than 2 transactions/s (pg_stat_database.xact_commit over 20 s).
source "$(dirname "$0")/lib.sh"
: "${QUEUECTL_TEST_PG_URL:?run through tests/support/pg_server.sh run}" "${PLUGINS:?}"
PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | tail -1)
[ -x "$PSQL" ] || fail "psql not found"
sql() { "$PSQL" -X -q -t -A -v ON_ERROR_STOP=1 "$QUEUECTL_TEST_PG_URL" -c "$1"; }
export QUEUECTL_DB=$QUEUECTL_TEST_PG_URL
mkdir -p "$T/plugins" && cp "$PLUGINS"/libqueuectl_shell.so "$PLUGINS"/queuectl-shell-supervisor "$T/plugins/"

# 1. Owner migrates; the least-privilege role works.
"$Q" migrate > "$T/migrate.out" || fail "migrate: $(cat "$T/migrate.out")"
grep -q "^schema up to date (version [0-9]*): " "$T/migrate.out" || fail "migrate said: $(cat "$T/migrate.out")"
"$Q" migrate > /dev/null || fail "second migrate"
[ "$(sql "SELECT COUNT(*) FROM schema_version")" = "$(sql "SELECT MAX(version) FROM schema_version")" ] ||
  fail "migrate twice wrote versions twice: $(sql "SELECT version FROM schema_version")"
pass "queuectl migrate creates the schema; running it again changes nothing"

sql "CREATE ROLE qctl_app LOGIN" || fail "create role"
sql "GRANT USAGE ON SCHEMA public TO qctl_app" || fail "grant usage"
sql "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO qctl_app" || fail "grant tables"
app_url=${QUEUECTL_TEST_PG_URL/:\/\/*@/://qctl_app@}
[ "$app_url" != "$QUEUECTL_TEST_PG_URL" ] || fail "could not build the role's URL from $QUEUECTL_TEST_PG_URL"
QUEUECTL_DB=$app_url "$Q" status > "$T/app-status.txt" 2>&1 || fail "status as qctl_app: $(cat "$T/app-status.txt")"
QUEUECTL_DB=$app_url "$Q" enqueue '{"id":"lp-1","command":"true"}' > "$T/app-enqueue.txt" 2>&1 ||
  fail "enqueue as qctl_app: $(cat "$T/app-enqueue.txt")"
QUEUECTL_DB=$app_url start_host app-host --plugin-dir "$T/plugins" --plugin "$T/plugins/libqueuectl_shell.so" --workers 1
app_pid=$LAST_PID
wait_for 20 is_state lp-1 completed || fail "lp-1 under qctl_app: $(state_of lp-1); $(cat "$T/app-host.log")"
! grep -qi "permission denied" "$T/app-host.log" || fail "host log: $(cat "$T/app-host.log")"
kill -TERM "$app_pid"
wait "$app_pid" || fail "app host exit: $(cat "$T/app-host.log")"
pass "a role with only SELECT, INSERT, UPDATE, DELETE runs status, enqueue and a host"

# 2. One idle host: count the database's transactions.
"$Q" config set lease-seconds 30 >/dev/null  # the default: heartbeats every 10 s
start_host idle-host --plugin-dir "$T/plugins" --plugin "$T/plugins/libqueuectl_shell.so" --workers 4
idle_pid=$LAST_PID
wait_for 20 grep -q "LISTEN/NOTIFY" "$T/idle-host.log" || fail "idle host: $(cat "$T/idle-host.log")"
# Start-up statements are not part of the idle load; the server counts a session's commits
# when it reports them (idle sessions: within about 10 s), so let those arrive first.
sleep 12
commits() { sql "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
before=$(commits)
sleep 20
after=$(commits)
rate=$(python3 -c "print(f'{($after - $before - 1) / 20:.2f}')")
echo "idle host (4 slots): $rate transactions/s"
python3 -c "import sys; sys.exit(0 if $rate < 2 else 1)" || fail "an idle host runs $rate transactions/s (want < 2)"
pass "an idle host with LISTEN/NOTIFY runs $rate transactions/s"

# A job enqueued now still starts at once (the wake-up), and a delayed one when it is due.
"$Q" enqueue '{"id":"wake-1","command":"true"}' >/dev/null
wait_for 5 is_state wake-1 completed || fail "wake-1 not run within 5 s: $(state_of wake-1)"
"$Q" enqueue --delay 3 '{"id":"later-1","command":"true"}' >/dev/null
t0=$(date +%s.%N)
wait_for 10 is_state later-1 completed || fail "later-1 not run within 10 s: $(state_of later-1)"
took=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")
python3 -c "import sys; sys.exit(0 if $took < 6 else 1)" || fail "a job due in 3 s ran after $took s"
pass "an idle host still runs a new job at once and a delayed one when it is due (${took} s for --delay 3)"
kill -TERM "$idle_pid"
wait "$idle_pid" || fail "idle host exit"
