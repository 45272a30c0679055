#!/usr/bin/env bash
# Issue 9 item 9: a third-party executor plugin runs in helper processes (--isolate
# third-party, the default). A segfault in it fails that attempt with a clear last_error;
# the host (same pid) and the shell jobs beside it carry on, and the next job of the same
# plugin runs in a new helper. Before: the segfault killed the host (exit 139).
source "$(dirname "$0")/lib.sh"
: "${BROKEN:?BROKEN must point at the directory of test plugins}"
plugin="$BROKEN/libqueuectl_test_good.so"
output_of() { "$Q" show "$1" --json | json 'j["history"][-1]["output"]'; }

# Bad --isolate values are refused like any bad option.
"$H" --plugin shell --isolate sometimes >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/out")" -eq 1 ] && grep -q "isolate must be none, third-party or all" "$T/out" ||
  fail "--isolate sometimes: exit $rc: $(cat "$T/out")"
pass "--isolate sometimes: $(cat "$T/out")"

start_host host --plugin shell --plugin "$plugin" --workers 3
host_pid=$LAST_PID
wait_for 15 grep -q "worker(s) on" "$T/host.log" || fail "host did not start"
grep -q "plugin 'test': executor, isolated in helper processes (third-party, from $plugin)" "$T/host.log" ||
  fail "the host did not log the isolated plugin: $(cat "$T/host.log")"
grep -q "plugin 'shell': executor, in-process (bundled, from " "$T/host.log" || fail "shell not logged as bundled"
pass "host logs which plugins it loaded, from where, isolated or not"

"$Q" enqueue '{"id":"before","executor":"test","command":"pid"}' >/dev/null || fail "enqueue before"
wait_for 20 is_state before completed || fail "before: $(state_of before)"
helper1=$(output_of before)
[ -n "$helper1" ] && [ "$helper1" != "$host_pid" ] || fail "the plugin ran in the host (pid $helper1)"
pass "the plugin runs in helper process $helper1, not in the host ($host_pid)"

# A crash beside a long shell job and a batch of short ones.
"$Q" enqueue '{"id":"long","command":"sleep 1.5; echo long-done"}' >/dev/null
sleep 0.3
"$Q" enqueue '{"id":"crash","executor":"test","command":"segv","max_retries":1}' >/dev/null || fail "enqueue crash"
for i in 1 2 3 4 5 6; do "$Q" enqueue "{\"id\":\"sh$i\",\"command\":\"echo $i\"}" >/dev/null; done
wait_for 20 is_state crash dead || fail "crash: $(state_of crash)"
err=$("$Q" show crash --json | json 'j["last_error"]')
[ "$err" = "plugin 'test' crashed: signal 11 (SIGSEGV)" ] || fail "crash: last_error '$err'"
pass "the crashing attempt fails with: $err"
for i in 1 2 3 4 5 6; do wait_for 20 is_state "sh$i" completed || fail "sh$i: $(state_of "sh$i")"; done
wait_for 20 is_state long completed || fail "long: $(state_of long)"
"$Q" logs long | grep -q long-done || fail "long job output lost"
kill -0 "$host_pid" 2>/dev/null || fail "the host died"
[ "$("$Q" show long --json | json 'j["attempts"]')" = 1 ] || fail "the shell job beside the crash was retried"
pass "host $host_pid alive; the shell jobs beside the crash completed in one attempt"

"$Q" enqueue '{"id":"after","executor":"test","command":"pid"}' >/dev/null
wait_for 20 is_state after completed || fail "after: $(state_of after)"
helper2=$(output_of after)
[ -n "$helper2" ] && [ "$helper2" != "$helper1" ] && [ "$helper2" != "$host_pid" ] ||
  fail "no new helper: before $helper1, after $helper2, host $host_pid"
grep -q "helper process $helper1 ended (signal 11 (SIGSEGV))" "$T/host.log" || fail "the crash is not in the host log"
pass "a new helper ($helper2) runs the plugin's next job; the crash is logged"

kill -TERM "$host_pid"
wait_for 15 bash -c "! kill -0 $host_pid 2>/dev/null" || fail "host did not stop"
wait_for 5 bash -c "! kill -0 $helper2 2>/dev/null" || fail "helper $helper2 outlived its host"
pass "host stops cleanly, its helpers with it"

# SIGKILL: the helpers see their socket close and exit too.
start_host host3 --plugin shell --plugin "$plugin"
pid3=$LAST_PID
"$Q" enqueue '{"id":"k","executor":"test","command":"pid"}' >/dev/null
wait_for 20 is_state k completed || fail "k: $(state_of k)"
helper3=$(output_of k)
kill -KILL "$pid3"
wait_for 5 bash -c "! kill -0 $helper3 2>/dev/null" || fail "helper $helper3 outlived its SIGKILLed host"
pass "helpers end with a SIGKILLed host"

# --isolate none: the plugin runs inside the host again.
start_host host2 --plugin shell --plugin "$plugin" --isolate none
pid2=$LAST_PID
"$Q" enqueue '{"id":"inproc","executor":"test","command":"pid"}' >/dev/null
wait_for 20 is_state inproc completed || fail "inproc: $(state_of inproc)"
[ "$(output_of inproc)" = "$pid2" ] || fail "--isolate none: ran in $(output_of inproc), host is $pid2"
grep -q "plugin 'test': executor, in-process (third-party" "$T/host2.log" || fail "in-process not logged"
pass "--isolate none runs it in the host"
