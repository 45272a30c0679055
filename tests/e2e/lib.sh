# Shared helpers for the end-to-end tests: a private QUEUECTL_HOME, polling waits with
# deadlines, JSON field access, and cleanup of every process a test started.
# Usage: source lib.sh; needs Q (queuectl) and H (queuectl-host) in the environment.
set -u
: "${Q:?Q must point at queuectl}" "${H:?H must point at queuectl-host}"
T=$(mktemp -d)
export QUEUECTL_HOME="$T/home" QUEUECTL_DB="$T/home/queue.db"
mkdir -p "$QUEUECTL_HOME"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$T/host.log" ] && tail -20 "$T/host.log" >&2; exit 1; }
pass() { echo "ok: $*"; }

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds; false after SECONDS.
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s%N) + secs * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$end" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# jq-free JSON field reading: json_field 'expr' reads stdin, prints eval of expr on `j`.
json() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
state_of() { "$Q" show "$1" --json 2>/dev/null | json 'j["state"]'; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }

# start_worker NAME ARGS...: runs `queuectl worker start ARGS` in the background; PID in $LAST_PID.
start_worker() {
  local name=$1; shift
  "$Q" worker start "$@" >>"$T/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
start_host() {
  local name=$1; shift
  "$H" "$@" >>"$T/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
# active_slots: the number on status's `active: N` line.
active_slots() { "$Q" status | sed -n 's/^[[:space:]]*active:[[:space:]]*\([0-9]*\).*/\1/p'; }
