#!/usr/bin/env bash
# Issue 10: `queuectl reset` deletes every job and attempt, keeps the settings. Without a
# terminal it needs --yes; on one it asks (driven through tmux); while a worker runs a job
# it refuses unless --force.
source "$(dirname "$0")/cli_lib.sh"

count() { json_of status --json -- 'j["total"]'; }

"$Q" config set max-retries 6 >/dev/null
for i in 1 2 3; do "$Q" enqueue "{\"id\":\"r$i\",\"command\":\"true\"}" >/dev/null; done
before=$(dump_db)
run reset </dev/null
[ "$RC" = 2 ] && stderr_is_one_line || fail "reset without a terminal or --yes: exit $RC ($ERR), want 2"
case "$ERR" in *--yes*) ;; *) fail "the refusal names --yes: $ERR" ;; esac
[ "$(dump_db)" = "$before" ] || fail "a refused reset changed the database"
pass "reset without a terminal and without --yes exits 2, one line, nothing deleted"

start_worker w1 --count 1
worker=$LAST_PID
wait_for 15 is_state r3 completed || fail "r3 is $(state_of r3)"
"$Q" logs r1 | grep -q "attempt 1" || fail "r1 has an attempt"
run reset --yes
[ "$RC" = 0 ] && [ "$OUT" = "deleted 3 jobs" ] || fail "reset --yes: rc=$RC out='$OUT' err='$ERR'"
expect_eq "jobs after reset" "$(count)" 0
run logs r1
[ "$RC" = 3 ] || fail "r1's attempts are gone too (logs exit $RC)"
expect_eq "settings kept" "$("$Q" config get max-retries)" 6
"$Q" enqueue '{"id":"r1","command":"true"}' >/dev/null || fail "the ids are free again"
wait_for 15 is_state r1 completed || fail "the queue works after a reset: r1 is $(state_of r1)"
pass "reset --yes deletes every job and attempt ('deleted 3 jobs'), keeps config; the queue works after"

# A running job: refused, naming how many, unless --force.
"$Q" enqueue '{"id":"slow","command":"sleep 30"}' >/dev/null
wait_for 15 is_state slow processing || fail "slow is $(state_of slow)"
before=$(json_of list --json -- 'sorted(x["id"] for x in j)')
run reset --yes
[ "$RC" = 2 ] && stderr_is_one_line || fail "reset with a running job: exit $RC ($ERR), want 2"
case "$ERR" in *"1 job is running"*) ;; *) fail "the refusal says how many run: $ERR" ;; esac
expect_eq "nothing deleted" "$(json_of list --json -- 'sorted(x["id"] for x in j)')" "$before"
run reset --yes --force
[ "$RC" = 0 ] && [ "$OUT" = "deleted 2 jobs" ] || fail "reset --force: rc=$RC out='$OUT' err='$ERR'"
expect_eq "jobs after --force" "$(count)" 0
# The worker notices at its next lease renewal and stops the job; it keeps serving.
"$Q" enqueue '{"id":"after","command":"true"}' >/dev/null
wait_for 30 is_state after completed || fail "the worker keeps working after a forced reset: $(state_of after)"
kill -TERM "$worker"; wait "$worker" || fail "worker exit after a forced reset: $(tail -5 "$T/w1.log")"
pass "reset refuses while a job runs ('1 job is running', exit 2) and deletes it too with --force"

# On a terminal it asks: 'n' keeps everything, 'y' deletes.
"$Q" enqueue '{"id":"t1","command":"true"}' >/dev/null
"$Q" enqueue '{"id":"t2","command":"true"}' >/dev/null
sock="$T/tmux.sock"
ask() {  # ask ANSWER: runs reset in a tmux pane, answers the prompt, leaves rc and output in $T
  rm -f "$T/tty.rc"
  tmux -S "$sock" new-session -d -x 160 -y 20 \
    "env QUEUECTL_DB='$QUEUECTL_DB' QUEUECTL_HOME='$QUEUECTL_HOME' '$Q' reset >'$T/tty.out'; echo \$? >'$T/tty.rc'; sleep 30" ||
    fail "tmux new-session"
  prompt_shown() { tmux -S "$sock" capture-pane -p | grep -q 'Delete all 3 jobs and their attempts? \[y/N\]'; }
  wait_for 10 prompt_shown || fail "no prompt on the terminal: $(tmux -S "$sock" capture-pane -p)"
  tmux -S "$sock" send-keys "$1" Enter
  wait_for 10 test -s "$T/tty.rc" || fail "reset did not finish after answering '$1'"
  tmux -S "$sock" kill-server 2>/dev/null
}
ask n
expect_eq "answer n: exit" "$(cat "$T/tty.rc")" 1
expect_eq "answer n: nothing deleted" "$(count)" 3
ask y
expect_eq "answer y: exit" "$(cat "$T/tty.rc")" 0
expect_eq "answer y: output" "$(cat "$T/tty.out")" "deleted 3 jobs"
expect_eq "answer y: deleted" "$(count)" 0
pass "reset on a terminal asks 'Delete all 3 jobs and their attempts? [y/N]': n keeps them (exit 1), y deletes"
