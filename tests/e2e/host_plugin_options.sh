#!/usr/bin/env bash
# Issue 9 item 14: plugins are configured with --plugin-opt NAME.KEY=VALUE and
# --plugin-config FILE; each plugin gets only its own keys; a name no loaded plugin has,
# a key the plugin does not know and a malformed option are each exit 2 with one line.
# Also: --version prints the plugin ABI and toolchain tag.
source "$(dirname "$0")/lib.sh"
: "${BROKEN:?BROKEN must point at the directory of test plugins}"
plugin="$BROKEN/libqueuectl_test_good.so"
"$Q" enqueue '{"id":"keep","command":"true"}' >/dev/null || fail "enqueue"
dump() { sqlite3 "$QUEUECTL_DB" .dump | grep -v -i "workers"; }
before=$(dump)
output_of() { "$Q" show "$1" --json | json 'j["history"][-1]["output"]'; }
refused() {  # refused WHAT EXPECTED_TEXT HOST_ARGS...
  local what=$1 expected=$2
  shift 2
  timeout 20 "$H" "$@" >"$T/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || fail "$what: exit $rc, expected 2 ($(cat "$T/out"))"
  [ "$(wc -l <"$T/out")" -eq 1 ] || fail "$what: not one line: $(cat "$T/out")"
  grep -q -- "$expected" "$T/out" || fail "$what: '$expected' not in: $(cat "$T/out")"
  [ "$(dump)" = "$before" ] || fail "$what: the database changed"
  pass "$what: $(cat "$T/out")"
}

"$H" --version >"$T/version" || fail "--version failed"
grep -q "^queuectl-host " "$T/version" && grep -q "plugin ABI [0-9]*, toolchain [a-z]*-[0-9]*/" "$T/version" ||
  fail "--version: $(cat "$T/version")"
pass "--version: $(tr '\n' ' ' <"$T/version")"

refused "unknown plugin name" "no plugin named 'nosuch' is loaded (loaded: shell)" --plugin shell --plugin-opt nosuch.key=1
refused "prometheus option without prometheus" "no plugin named 'prometheus' is loaded" --plugin shell \
  --metrics-bind 127.0.0.1:1
refused "malformed option" "expected NAME.KEY=VALUE" --plugin shell --plugin-opt greeting
refused "option for a plugin that takes none" "plugin 'shell' takes no options (got 'colour')" --plugin shell \
  --plugin-opt shell.colour=red
refused "unknown key (isolated plugin)" "test: unknown option 'colour' (known: greeting)" --plugin shell \
  --plugin "$plugin" --plugin-opt test.colour=red
refused "unknown key (in-process plugin)" "test: unknown option 'colour' (known: greeting)" --plugin shell \
  --plugin "$plugin" --isolate none --plugin-opt test.colour=red
printf '[test]\ngreeting = from the file\nno equals sign here\n' >"$T/bad.conf"
refused "bad config line" "bad.conf:3: expected KEY = VALUE or \[NAME\]" --plugin shell --plugin "$plugin" \
  --plugin-config "$T/bad.conf"
mkfifo "$T/fifo.conf"
refused "config FIFO" "fifo.conf: not a regular file" --plugin shell --plugin-config "$T/fifo.conf"
if [ -f "$(dirname "$H")/../../plugins/libqueuectl_prometheus.so" ]; then
  refused "unknown prometheus key" "prometheus: unknown option 'colour' (known: bind, token, allowed-hosts)" --plugin shell \
    --plugin prometheus --plugin-opt prometheus.colour=red
fi

# Options reach the plugin, in a helper process and in-process; the command line wins over
# the file. --token is given: the executor would refuse it as an unknown key, so this also
# shows that a plugin gets only its own keys.
printf '# options\n[test]\ngreeting = from the file\n' >"$T/good.conf"
n=0
for args in "--plugin-opt test.greeting=howdy" "--isolate none --plugin-opt test.greeting=howdy" \
  "--plugin-config $T/good.conf" "--plugin-config $T/good.conf --plugin-opt test.greeting=howdy"; do
  n=$((n + 1))
  expected=howdy
  case "$args" in *good.conf) expected="from the file" ;; esac
  # shellcheck disable=SC2086
  start_host "h$n" --plugin shell --plugin "$plugin" --token s3cret $args
  pid=$LAST_PID
  "$Q" enqueue "{\"id\":\"g$n\",\"executor\":\"test\",\"command\":\"greeting\"}" >/dev/null
  wait_for 20 is_state "g$n" completed || fail "$args: g$n is $(state_of "g$n"): $(cat "$T/h$n.log")"
  [ "$(output_of "g$n")" = "$expected" ] || fail "$args: output '$(output_of "g$n")', expected '$expected'"
  kill -TERM "$pid"
  wait_for 15 bash -c "! kill -0 $pid 2>/dev/null" || fail "host h$n did not stop"
  pass "$args: the plugin says '$expected'"
done
