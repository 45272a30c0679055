#!/usr/bin/env bash
# Runs bench/pg_bench against throw-away PostgreSQL servers (tests/support/pg_server.sh):
# once with the server defaults (synchronous_commit=on: each commit waits for its WAL
# flush) and once with synchronous_commit=off (commits do not wait: the client-side
# overhead shows most). Both sides of each comparison run against the same server.
#   bench/pg_bench.sh [BUILD_DIR=build] [jobs=3000] [rounds=3]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
jobs=${2:-3000}
rounds=${3:-3}
bin=$build/bench/pg_bench
[ -x "$bin" ] || { echo "pg_bench.sh: $bin not built (cmake --build $build --target pg_bench)" >&2; exit 1; }
for sync in on off; do
  echo "=== synchronous_commit=$sync"
  QUEUECTL_PG_SETTINGS="-c synchronous_commit=$sync" \
    bash "$here/../tests/support/pg_server.sh" run -- "$bin" "" "$jobs" "$rounds" 2>&1 | grep -v '^pg_server: postgresql://'
done
