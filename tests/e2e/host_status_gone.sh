#!/usr/bin/env bash
# Issue 9 item 13: a host that died on this machine is "gone" in `status` at once, not
# alive until its heartbeat ages (~40 s); one whose heartbeat is old but whose process
# runs (or that lives on another machine) is "stale".
source "$(dirname "$0")/lib.sh"
start_host host --plugin shell --workers 2
victim=$LAST_PID
alive() { "$Q" status | grep -E "^ +[^ ]+:$victim:" | grep -q " yes$"; }
wait_for 15 alive || fail "host never shown alive: $("$Q" status)"
[ "$(active_slots)" = 2 ] || fail "active $(active_slots), expected 2"
kill -KILL "$victim"
t0=$(date +%s%N)
gone() { "$Q" status | grep -E "^ +[^ ]+:$victim:" | grep -q "no (gone)$"; }
wait_for 5 gone || fail "killed host not shown gone: $("$Q" status)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 1000 ] || fail "took ${ms} ms to show the host gone"
[ "$(active_slots)" = 0 ] || fail "a gone host's slots still count as active: $(active_slots)"
"$Q" status --json | json '[p["liveness"] for p in j["workers"]["processes"] if p["pid"] == '"$victim"'][0]' | grep -qx gone ||
  fail "status --json: $("$Q" status --json)"

# Stale: a host elsewhere with an old heartbeat; and a running process of this machine
# whose heartbeat is old (a hung host): pid 1, when it has run for long enough to have
# started before that heartbeat.
old=$(( ($(date +%s) - 3600) * 1000 ))
sqlite3 "$QUEUECTL_DB" "INSERT INTO workers(id, hostname, pid, slots, started_at, heartbeat_at) VALUES
  ('elsewhere:1:test', 'elsewhere.invalid', 1, 1, $old, $old)"
me=$(hostname)
pid1_age=$(ps -o etimes= -p 1 | tr -d ' ')
if [ "${pid1_age:-0}" -ge 130 ]; then
  beat=$(( ($(date +%s) - 120) * 1000 ))   # older than max(3 x lease-seconds 30, 10 s)
  sqlite3 "$QUEUECTL_DB" "INSERT INTO workers(id, hostname, pid, slots, started_at, heartbeat_at) VALUES
    ('$me:1:test', '$me', 1, 1, $beat, $beat)"
fi
"$Q" status > "$T/status.txt"
grep -E "^ +elsewhere:1:test " "$T/status.txt" | grep -q "no (stale)$" || fail "remote host: $(cat "$T/status.txt")"
if [ "${pid1_age:-0}" -ge 130 ]; then
  grep -E "^ +$me:1:test " "$T/status.txt" | grep -q "no (stale)$" || fail "running local process with an old heartbeat: $(cat "$T/status.txt")"
fi
pass "SIGKILLed host shown gone after ${ms} ms; old heartbeats shown stale"
