#!/usr/bin/env bash
# The plugin kit works for a user outside this repository: install queuectl into a scratch
# prefix, build examples/plugins against it with find_package(queuectl) +
# queuectl_add_plugin(), and run a job through the INSTALLED queuectl-host with
# --plugin-dir pointing at the user's build directory.
# Usage: out_of_tree_plugin.sh BUILD_DIR WORK_DIR SOURCE_DIR
set -euo pipefail
build=$1 work=$2 src=$3
prefix=$work/prefix
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; [ -f "$work/host.log" ] && tail -20 "$work/host.log" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$src" -B "$work/greet" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/greet" -j2 >/dev/null
[ -f "$work/greet/libqueuectl_greet.so" ] || fail "plugin not built"
echo "ok: built libqueuectl_greet.so against the installed package"

Q=$prefix/bin/queuectl H=$prefix/bin/queuectl-host
export QUEUECTL_HOME=$work/home QUEUECTL_DB=$work/home/queue.db QUEUECTL_PLUGIN_PATH=$work/greet
mkdir -p "$QUEUECTL_HOME"
# The installed CLI finds the user's plugin through QUEUECTL_PLUGIN_PATH and lets it check.
if "$Q" enqueue '{"id":"g0","executor":"greet","payload":{}}' 2>"$work/err"; then fail "a job without a name was accepted"; fi
grep -q "payload.name" "$work/err" || fail "no reason: $(cat "$work/err")"
"$Q" enqueue '{"id":"g1","executor":"greet","payload":{"name":"Ada","times":2}}' >/dev/null
"$Q" enqueue '{"id":"g2","executor":"greet","payload":{"name":"nobody"}}' >/dev/null
"$Q" enqueue '{"id":"s1","command":"echo from-shell"}' >/dev/null
unset QUEUECTL_PLUGIN_PATH
# The installed host finds its bundled shell plugin under <prefix>/lib/queuectl/plugins
# and the user's via --plugin-dir.
timeout 60 "$H" --plugin-dir "$work/greet" --plugin shell --plugin greet --workers 2 --drain >"$work/host.log" 2>&1 \
  || fail "host exited $?"
state() { "$Q" show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
[ "$(state g1)" = completed ] || fail "g1 is $(state g1)"
[ "$("$Q" logs g1 | grep -c 'hello, Ada')" = 2 ] || fail "g1 output: $("$Q" logs g1)"
[ "$(state g2)" = dead ] || fail "g2 (permanent failure) is $(state g2)"
[ "$("$Q" show g2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["attempts"])')" = 1 ] || fail "g2 was retried"
[ "$(state s1)" = completed ] || fail "s1 is $(state s1)"
# An installed host knows its own plugins from a third party's (docs/plugins.md, "Isolation").
grep -q "plugin 'shell': executor, in-process (bundled, from $prefix/" "$work/host.log" || fail "shell not bundled: $(cat "$work/host.log")"
grep -q "plugin 'greet': executor, isolated in helper processes (third-party" "$work/host.log" || fail "greet not isolated"
echo "ok: the installed host ran the out-of-tree plugin's jobs (completed, permanent failure → dead after 1 attempt)"
