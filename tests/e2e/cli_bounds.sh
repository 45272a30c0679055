#!/usr/bin/env bash
# Numbers out of bounds (docs/cli.md "Bounds"), enqueue flags that would bypass the spec's
# limits, JSON nested 100,000 levels deep, ids a URL would rewrite and terminal escapes in
# error lines: each exits 2 (3 for a missing id) with one line on stderr and stores nothing.
source "$(dirname "$0")/cli_lib.sh"

"$Q" enqueue '{"id":"c1","command":"echo one"}' >/dev/null || fail "setup: enqueue"
"$Q" config set lease-seconds 20 >/dev/null || fail "setup: config"
before=$(dump_db)
config_before=$("$Q" config get)

n=0
bad() {
  local want=$1; shift
  n=$((n + 1))
  if [ -n "${STDIN:-}" ]; then run --stdin "$STDIN" "$@"; else run "$@"; fi
  local what="case $n (queuectl $(printf '%q ' "$@" | cut -c1-120))"
  [ "$RC" = "$want" ] || fail "$what: exit $RC, want $want; stderr: $(head -c 300 "$T/err")"
  stderr_is_one_line || fail "$what: stderr is not exactly one line: $(head -c 300 "$T/err" | cat -A)"
  [ -z "$OUT" ] || fail "$what: printed on stdout: $OUT"
  [ "$(dump_db)" = "$before" ] || fail "$what: the database changed"
}

# Settings: the values of issue 9 and their neighbours.
for kv in "lease-seconds 1e300" "lease-seconds 1e-9" "lease-seconds inf" "lease-seconds nan" "lease-seconds 1e400" \
          "lease-seconds -0" "lease-seconds 86401" "job-timeout 1e300" "job-timeout 31536001" \
          "stop-timeout-seconds 1e300" "backoff-base 1e200" "backoff-max 1e308" "max-recoveries 1e9" \
          "max-recoveries 1.5" "max-retries 1001" "poll-interval-ms 0" "poll-interval-ms 1e10" "max-retries 0x10"; do
  # shellcheck disable=SC2086
  bad 2 config set $kv
done
[ "$("$Q" config get)" = "$config_before" ] || fail "config changed"

# Flags go through the field rules: each of these is refused as its JSON field would be.
bad 2 enqueue --timeout 1e10 '{"command":"sleep 1"}'
bad 2 enqueue --timeout nan '{"command":"true"}'
bad 2 enqueue --timeout 0x10 '{"command":"true"}'
bad 2 enqueue --priority 1e10 '{"command":"true"}'
bad 2 enqueue --priority 1.5 '{"command":"true"}'
bad 2 enqueue --priority 2147483648 '{"command":"true"}'
bad 2 enqueue --max-retries 1e9 '{"command":"true"}'
bad 2 enqueue --max-retries 1001 '{"command":"true"}'
bad 2 enqueue --delay 11000d '{"command":"true"}'
bad 2 enqueue --delay 99999999999999999999w '{"command":"true"}'
bad 2 enqueue --run-at 3001-01-01T00:00:00Z '{"command":"true"}'
bad 2 enqueue --queue .. '{"command":"true"}'
bad 2 enqueue --queue 'a:b' '{"command":"true"}'                  # the field's rule: no ':'
printf '%s\n' '{"command":"true"}' '{"command":"true"}' >"$T/two.jsonl"
bad 2 enqueue --timeout 1e10 --file "$T/two.jsonl"
run enqueue --timeout 1e10 '{"command":"sleep 1"}'
case "$ERR" in *"--timeout"*) ;; *) fail "the error does not name the flag: $ERR" ;; esac
# The same numbers as JSON fields.
bad 2 enqueue '{"command":"true","timeout":1e10}'
bad 2 enqueue '{"command":"true","priority":2e9}'
bad 2 enqueue '{"command":"true","max_retries":1e300}'
bad 2 enqueue '{"command":"true","run_at":1e300}'
pass "settings, flags and fields out of bounds: exit 2, nothing stored"

# JSON nested 100,000 levels deep: through --file - and as the argument (unclosed, so it
# fits one argv string), a one-line reason instead of SIGSEGV.
python3 -c 'print("{\"command\":\"true\",\"payload\":" + "[" * 100000 + "]" * 100000 + "}")' >"$T/deep.jsonl"
STDIN="$T/deep.jsonl" bad 2 enqueue --file -
case "$ERR" in *"nested deeper than"*) ;; *) fail "deep JSON: unexpected reason: $ERR" ;; esac
bad 2 enqueue --file "$T/deep.jsonl"
bad 2 enqueue "{\"command\":\"true\",\"payload\":$(printf '%*s' 100000 '' | tr ' ' '[')"
bad 2 enqueue "$(printf '%*s' 100000 '' | tr ' ' '{')"
pass "100,000-level JSON: exit 2, one line, nothing stored"

# Ids a URL path would rewrite, and control characters echoed in errors.
bad 2 enqueue '{"id":".","command":"true"}'
bad 2 enqueue '{"id":"..","command":"true"}'
bad 2 enqueue '{"id":"a/b","command":"true"}'
bad 3 show $'evil\e]0;pwned\a\e[2J'
grep -q $'\e' "$T/err" && fail "an escape character reached stderr: $(cat -A "$T/err")"
grep -qF 'evil\x1b]0;pwned\x07\x1b[2J' "$T/err" || fail "the id is not shown escaped: $(cat -A "$T/err")"
bad 2 config set lease-seconds $'5\e[31m'
grep -q $'\e' "$T/err" && fail "config value: an escape character reached stderr"
pass "ids '.', '..', 'a/b' refused; control characters escaped in error lines"

# The largest values are accepted, and work.
"$Q" config set lease-seconds 86400 >/dev/null || fail "lease-seconds 86400 refused"
"$Q" config set lease-seconds 0.05 >/dev/null || fail "lease-seconds 0.05 refused"
"$Q" config set backoff-base 1000 >/dev/null || fail "backoff-base 1000 refused"
id=$("$Q" enqueue --timeout 31536000 --priority -1000000000 --max-retries 1000 --delay 3650d '{"command":"true"}') \
  || fail "largest flag values refused"
expect_eq "timeout" "$("$Q" show "$id" --json | json 'j["timeout"]')" 31536000
expect_eq "priority" "$("$Q" show "$id" --json | json 'j["priority"]')" -1000000000
pass "bounds are inclusive and the largest values are stored as given"
