#!/usr/bin/env bash
# A plugin that cannot be used stops the host before it touches the queue: each kind of
# breakage is its own one-line error, the exit code is 2, and the database is unchanged.
source "$(dirname "$0")/lib.sh"
: "${BROKEN:?BROKEN must point at the directory of broken test plugins}"
"$Q" enqueue '{"id":"keep","command":"true"}' >/dev/null || fail "enqueue"
dump() { sqlite3 "$QUEUECTL_DB" .dump | grep -v -i "workers"; }
before=$(dump)
check() {  # check WHAT EXPECTED_TEXT PLUGIN
  local what=$1 expected=$2 plugin=$3
  "$H" --plugin shell --plugin "$plugin" --workers 1 >"$T/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || fail "$what: exit $rc, expected 2 ($(cat "$T/out"))"
  [ "$(wc -l < "$T/out")" -eq 1 ] || fail "$what: not one line: $(cat "$T/out")"
  grep -q -- "$expected" "$T/out" || fail "$what: '$expected' not in: $(cat "$T/out")"
  [ "$(dump)" = "$before" ] || fail "$what: the database changed"
  pass "$what: $(cat "$T/out")"
}
check "missing plugin" "not found" no-such-plugin
check "missing file" "does not exist" "$T/nothing/libqueuectl_x.so"
check "not an ELF file" "cannot load plugin" "$BROKEN/libqueuectl_text.so"
check "not a queuectl plugin" "is not a queuectl plugin" "$BROKEN/libqueuectl_test_not_a_plugin.so"
check "wrong ABI version" "plugin ABI version" "$BROKEN/libqueuectl_test_wrong_abi.so"
check "no factory" "exports neither an executor factory" "$BROKEN/libqueuectl_test_no_factory.so"
check "factory returns nothing" "factory returned no object" "$BROKEN/libqueuectl_test_factory_null.so"
check "factory throws" "factory threw: cannot open config" "$BROKEN/libqueuectl_test_factory_throws.so"
[ "$(state_of keep)" = pending ] || fail "the queued job was touched"
