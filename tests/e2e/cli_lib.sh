# Helpers for the CLI end-to-end tests (on top of lib.sh): run one queuectl command with
# its output captured, and dump the database content to compare before/after.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# run [--stdin FILE] ARGS...: runs "$Q" ARGS; sets RC, OUT and ERR (also in $T/out, $T/err).
run() {
  local in=/dev/null
  if [ "${1:-}" = "--stdin" ]; then in=$2; shift 2; fi
  "$Q" "$@" <"$in" >"$T/out" 2>"$T/err"
  RC=$?
  OUT=$(cat "$T/out")
  ERR=$(cat "$T/err")
}

# stderr_is_one_line: exactly one non-empty line, newline-terminated.
stderr_is_one_line() {
  [ -s "$T/err" ] && [ "$(wc -l <"$T/err")" = 1 ] && [ -z "$(tail -c1 "$T/err" | tr -d '\n')" ] \
    && [ -n "$(tr -d '[:space:]' <"$T/err")" ]
}

# dump_db: the whole database content, byte-comparable. Prefers `sqlite3 .dump`; without
# the sqlite3 tool, falls back to what the CLI shows (every job with its attempts, config).
dump_db() {
  if command -v sqlite3 >/dev/null; then
    sqlite3 "$QUEUECTL_DB" .dump
  else
    "$Q" list --limit 0 --json
    "$Q" config get --json
    for id in $("$Q" list --limit 0 --json | json '"\n".join(x["id"] for x in j)'); do "$Q" show "$id" --json; done
  fi
}

# json_of ARGS... -- EXPR: runs "$Q" ARGS, evaluates EXPR on the parsed JSON output `j`.
json_of() {
  local args=()
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  "$Q" "${args[@]}" | json "$1"
}

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
