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
  shift 3
  # bounded: a FIFO once hung the loader forever
  timeout 20 "$H" --plugin shell --plugin "$plugin" --workers 1 "$@" >"$T/out" 2>&1
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

# Files that are not plugins at all, found by name in a --plugin-dir and by path: the
# loader must neither crash (a truncated library raised SIGBUS in dlopen, exit 135) nor
# block (a FIFO hung the host and enqueue), and must say which it is.
bad="$T/bad"
mkdir -p "$bad"
head -c 3000 "$BROKEN/libqueuectl_test_good.so" >"$bad/libqueuectl_trunc.so"
mkfifo "$bad/libqueuectl_fifo.so"
mkdir "$bad/libqueuectl_dir.so"
ln -s "$bad/libqueuectl_loop.so" "$bad/libqueuectl_loop.so"
ln -s /dev/null "$bad/libqueuectl_dev.so"
check "truncated library" "truncated: .*past the file's end" trunc --plugin-dir "$bad"
check "truncated library by path" "truncated: .*past the file's end" "$bad/libqueuectl_trunc.so"
check "FIFO" "it is a FIFO, not a regular file" fifo --plugin-dir "$bad"
check "directory" "it is a directory, not a regular file" dir --plugin-dir "$bad"
check "symlink loop" "symbolic link loop" loop --plugin-dir "$bad"
check "device" "it is a character device, not a regular file" "$bad/libqueuectl_dev.so"

# `queuectl enqueue` loads the job's executor plugin to check the spec: same errors.
check_enqueue() {  # check_enqueue WHAT EXPECTED_TEXT EXECUTOR
  local what=$1 expected=$2 executor=$3
  QUEUECTL_PLUGIN_PATH="$bad" timeout 20 "$Q" enqueue "{\"executor\":\"$executor\",\"payload\":{}}" >"$T/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || fail "enqueue, $what: exit $rc, expected 2 ($(cat "$T/out"))"
  [ "$(wc -l < "$T/out")" -eq 1 ] || fail "enqueue, $what: not one line: $(cat "$T/out")"
  grep -q -- "$expected" "$T/out" || fail "enqueue, $what: '$expected' not in: $(cat "$T/out")"
  [ "$(dump)" = "$before" ] || fail "enqueue, $what: the database changed"
  pass "enqueue, $what: $(cat "$T/out")"
}
check_enqueue "truncated library" "truncated: .*past the file's end" trunc
check_enqueue "FIFO" "it is a FIFO, not a regular file" fifo
check_enqueue "directory" "it is a directory, not a regular file" dir
check_enqueue "symlink loop" "symbolic link loop" loop
check_enqueue "device" "it is a character device, not a regular file" dev
[ "$(state_of keep)" = pending ] || fail "the queued job was touched"
