#!/usr/bin/env bash
# Issue 9 item 12: with max-recoveries 2, the second host death under a job is its last
# (it was the third); its last_error says where it ran and which job ran beside it; show,
# list and logs agree about the attempts (lost ones are shown, and marked not counted).
source "$(dirname "$0")/lib.sh"
"$Q" config set max-recoveries 2 >/dev/null || fail "config set max-recoveries"
"$Q" config set lease-seconds 1 >/dev/null || fail "config set lease-seconds"
for id in a b; do "$Q" enqueue "{\"id\":\"$id\",\"command\":\"sleep 4\"}" >/dev/null || fail "enqueue $id"; done
owner_of() { "$Q" show "$1" --json | json 'j["lease_owner"] or ""'; }
# both_processing PID: a and b are running on the host with that pid
both_processing() { case "$(owner_of a) $(owner_of b)" in *":$1:"*" "*":$1:"*) return 0 ;; esac; return 1; }
owners=()
for round in 1 2; do
  start_host "h$round" --plugin shell --workers 2
  pid=$LAST_PID
  wait_for 20 both_processing "$pid" || fail "round $round: a is $(state_of a), b is $(state_of b)"
  owners+=("$(owner_of a)")
  kill -KILL "$pid"
done
# A third host reclaims them (the lapse is the second for both): dead, not requeued.
start_host h3 --plugin shell --workers 2
wait_for 20 is_state a dead ||
  fail "a is $(state_of a) after two host deaths with max-recoveries 2"
wait_for 20 is_state b dead || fail "b is $(state_of b)"
err=$("$Q" show a --json | json 'j["last_error"]')
case "$err" in
  "its host died or stalled while running it 2 times (max-recoveries 2), the last time on worker ${owners[1]}; also running in that host process: b on "*) ;;
  *) fail "a: last_error '$err' (last owner ${owners[1]})" ;;
esac
pass "dead after the second host death: $err"
[ "$("$Q" show a --json | json 'j["recoveries"]')" = 2 ] || fail "recoveries is not 2"
[ "$("$Q" show a --json | json 'j["attempts"]')" = 0 ] || fail "lost attempts were counted"

# The three views agree: 0 counted attempts, 2 lost ones.
"$Q" show a | grep -E '^ *attempts: +0 of 3 \(max_retries 3\), \+2 lost when a host died under it \(not counted' >/dev/null ||
  fail "show: $("$Q" show a | grep attempts)"
"$Q" list | grep -E '^a +dead +0/3 \+2 lost ' >/dev/null || fail "list: $("$Q" list | grep '^a ')"
[ "$("$Q" logs a | grep -c '^=== attempt [12] .*outcome=lost (not counted)')" = 2 ] || fail "logs: $("$Q" logs a | grep '^===')"
"$Q" logs a | grep -q -- "--- error: lease lapsed: worker ${owners[0]} died or stalled; also running in that host process: b on" ||
  fail "logs: the lost attempt does not say where it ran: $("$Q" logs a)"
pass "show, list and logs agree: 0 of 3 counted, 2 lost (not counted)"
