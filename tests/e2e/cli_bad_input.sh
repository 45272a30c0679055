#!/usr/bin/env bash
# Bad input is rejected cleanly: every malformed command or job spec below exits 2 (3 for
# an id that does not exist) with exactly one line on stderr, nothing on stdout, and the
# database content unchanged byte for byte.
source "$(dirname "$0")/cli_lib.sh"

# A database with some content: jobs in several states, a stored setting.
"$Q" enqueue '{"id":"c1","command":"echo one"}' >/dev/null || fail "setup: enqueue c1"
"$Q" enqueue '{"id":"c2","command":"echo two","queue":"mail","priority":3}' >/dev/null || fail "setup: enqueue c2"
"$Q" enqueue '{"id":"gone","command":"true"}' >/dev/null && "$Q" cancel gone >/dev/null || fail "setup: cancel"
"$Q" config set max-retries 5 >/dev/null || fail "setup: config"
before=$(dump_db)
[ -n "$before" ] || fail "setup: empty dump"

# Input files for --file.
printf '%s\n' '{"id":"ok1","command":"true"}' '{"id":"ok2","command":' '{"id":"ok3","command":"true"}' >"$T/one_bad.jsonl"
printf '%s\n' '{"id":"d1","command":"true"}' '{"id":"d1","command":"true"}' >"$T/dup_in_batch.jsonl"
printf '%s\n' '{"id":"new1","command":"true"}' '{"id":"c1","command":"true"}' >"$T/dup_existing.jsonl"
printf '{"id":"bad8","command":"echo \xff\xfe"}\n' >"$T/bad_utf8.jsonl"
python3 -c 'import json; print(json.dumps({"id":"big","command":"true","payload":{"blob":"x"*(1100*1024)}}))' >"$T/big.jsonl"
printf '%s\n' '{"id":"ok4","command":"true"}' '[1,2,3]' >"$T/not_object.jsonl"

n=0
# bad WANT_RC ARGS...: runs queuectl ARGS (stdin from $STDIN if set) and checks everything.
bad() {
  local want=$1; shift
  n=$((n + 1))
  if [ -n "${STDIN:-}" ]; then run --stdin "$STDIN" "$@"; else run "$@"; fi
  local what="case $n (queuectl $(printf '%q ' "$@" | cut -c1-120))"
  [ "$RC" = "$want" ] || fail "$what: exit $RC, want $want; stderr: $ERR"
  stderr_is_one_line || fail "$what: stderr is not exactly one line: $(cat -A "$T/err" | head -5)"
  [ -z "$OUT" ] || fail "$what: printed on stdout: $OUT"
  [ "$(dump_db)" = "$before" ] || fail "$what: the database changed"
}

# Job specs.
bad 2 enqueue '{oops'
bad 2 enqueue ''
bad 2 enqueue '{"id":"x"}'                                     # no command
bad 2 enqueue '{"command":5}'                                  # wrong type
bad 2 enqueue '{"command":"true","max_retries":-1}'            # negative retries
bad 2 enqueue '{"command":"true","max_retries":"3"}'
bad 2 enqueue '{"command":"true","priority":"high"}'
bad 2 enqueue '{"command":"true","run_at":"yesterday"}'
bad 2 enqueue '{"command":"true","timeout":-3}'
bad 2 enqueue '{"command":"true","env":{"A":1}}'
bad 2 enqueue '{"command":"true","payload":"not an object"}'
bad 2 enqueue '[1,2]'                                          # not an object
bad 2 enqueue '{"command":"true"} trailing'
bad 2 enqueue '{"command":"true"}{"command":"true"}'
bad 2 enqueue $'{"command":"echo \xff\xfe"}'                   # invalid UTF-8
bad 2 enqueue '{"id":"has space","command":"true"}'            # id format
bad 2 enqueue '{"id":"c1","command":"true"}'                   # duplicate id
bad 2 enqueue '{"id":"gone","command":"true"}'                 # duplicate of a canceled job
bad 2 enqueue '{"command":"true","executor":"../evil"}'        # executor name format
# Executor payloads are checked by the executor's plugin at enqueue time (http).
bad 2 enqueue '{"executor":"http","payload":{}}'                                   # no url
bad 2 enqueue '{"executor":"http","payload":{"url":"ftp://example.org/"}}'         # scheme
bad 2 enqueue '{"executor":"http","payload":{"url":"http://x/","method":"BREW"}}'  # method
bad 2 enqueue '{"executor":"http","payload":{"url":"http://x/","timeout":-1}}'     # timeout
# JSON Lines: one bad line among good ones stores none of them.
bad 2 enqueue --file "$T/one_bad.jsonl"
bad 2 enqueue --file "$T/dup_in_batch.jsonl"
bad 2 enqueue --file "$T/dup_existing.jsonl"
bad 2 enqueue --file "$T/bad_utf8.jsonl"
bad 2 enqueue --file "$T/big.jsonl"                            # > 1 MiB
bad 2 enqueue --file "$T/not_object.jsonl"
bad 2 enqueue --file "$T/no-such-file.jsonl"
STDIN="$T/one_bad.jsonl" bad 2 enqueue --file -
# enqueue options.
bad 2 enqueue
bad 2 enqueue '{"command":"true"}' --file "$T/one_bad.jsonl"
bad 2 enqueue --delay 5x '{"command":"true"}'
bad 2 enqueue --delay -5s '{"command":"true"}'
bad 2 enqueue --delay '' '{"command":"true"}'
bad 2 enqueue --run-at 'next tuesday' '{"command":"true"}'
bad 2 enqueue --run-at 2030-01-01T00:00:00Z --delay 1m '{"command":"true"}'
bad 2 enqueue --max-retries -1 '{"command":"true"}'
bad 2 enqueue --priority high '{"command":"true"}'
bad 2 enqueue --timeout -1 '{"command":"true"}'
bad 2 enqueue --queue 'no spaces' '{"command":"true"}'
bad 2 enqueue --delay '{"command":"true"}'                     # option without its value
bad 2 enqueue '{"command":"true"}' '{"command":"true"}'        # two specs
# Commands and options.
bad 2
bad 2 bogus
bad 2 dashboard --bind 0.0.0.0:1                                 # non-loopback without a token
bad 2 --bogus list
bad 2 --db
bad 2 list --bogus
bad 2 list --lim 3                                             # no abbreviations
bad 2 list --state bogus
bad 2 list --limit -1
bad 2 list --limit many
bad 2 list extra
bad 2 list --queue ''
bad 2 status extra
bad 2 show
bad 3 show nope
bad 2 show c1 c2
bad 3 logs nope
bad 2 logs c1 --attempt 0
bad 3 logs c1 --attempt 1                                      # no such attempt
bad 3 cancel nope
bad 2 cancel gone                                              # already canceled
bad 3 delete nope
bad 2 dlq
bad 2 dlq bogus
bad 2 dlq retry
bad 2 dlq retry c1 --all
bad 3 dlq retry nope
bad 2 dlq retry c1                                             # pending, not dead
bad 2 config
bad 2 config bogus
bad 2 config get bogus-key
bad 2 config set bogus-key 1
bad 2 config set max-retries
bad 2 config set max-retries abc
bad 2 config set max-retries -1
bad 2 config set max_retries 1.5
bad 2 config set backoff-base 0.5
bad 2 config set lease-seconds 0
bad 2 config set poll-interval-ms ''
bad 2 config reset extra
bad 2 purge --state pending
bad 2 purge --state bogus
bad 2 purge --older-than 7x
bad 2 metrics --since abc
bad 2 metrics --since 0s
bad 2 worker
bad 2 worker bogus
bad 2 worker start --count 0
bad 2 worker start --count two
bad 2 worker start --log-file "$T/w.log"                      # --log-file without --daemon
bad 2 worker stop --timeout 5x
pass "$n malformed commands and specs: exit 2/3, one line on stderr, nothing stored"
