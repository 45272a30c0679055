#!/usr/bin/env bash
# Foreground workers say what they do (docs/cli.md, "Worker log lines"): one stderr line per
# attempt start and end (time, slot, job, attempt n of m; duration, outcome, exit code) for
# `queuectl worker start` and `queuectl-host`; --echo-output relays each output line
# prefixed with the job id; --quiet prints none; --log-format json prints one JSON object
# per line; with --daemon the lines go to the --log-file; bad options exit 2.
source "$(dirname "$0")/cli_lib.sh"
"$Q" config set poll-interval-ms 50 >/dev/null
"$Q" config set backoff-base 1 >/dev/null

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
PFX="^$TS queuectl-host\[[0-9]+\]: "
DUR='[0-9.]+(ms|s)'
has_line() { grep -Eq "$2" "$1" || fail "$1 lacks a line matching /$2/: $(cat "$1")"; }
lacks_line() { ! grep -Eq "$2" "$1" || fail "$1 has a line matching /$2/: $(grep -E "$2" "$1")"; }
stop_and_wait() {  # PID: SIGTERM, then it exits 0 within 20 s
  kill -TERM "$1"
  wait_for 20 bash -c "! kill -0 $1" || fail "worker $1 did not stop"
  wait "$1"; local rc=$?; [ "$rc" = 0 ] || fail "worker $1 exited $rc"
}

# --- text, worker start ---------------------------------------------------------------------
"$Q" enqueue '{"id":"ok","command":"echo out-one; echo out-two >&2","max_retries":3}' >/dev/null
"$Q" enqueue '{"id":"bad","command":"echo bad-out; exit 3","max_retries":1}' >/dev/null
"$Q" enqueue '{"id":"twice","command":"test -e '"$T"'/flag || { touch '"$T"'/flag; exit 5; }","max_retries":2}' >/dev/null
start_worker text --count 2
W=$LAST_PID
wait_for 20 is_state ok completed && wait_for 20 is_state bad dead && wait_for 20 is_state twice completed ||
  fail "jobs did not finish: ok=$(state_of ok) bad=$(state_of bad) twice=$(state_of twice)"
stop_and_wait "$W"
L="$T/text.log"
has_line "$L" "${PFX}slot [01]: job ok attempt 1 of 3 started$"
has_line "$L" "${PFX}slot [01]: job ok attempt 1 of 3 succeeded after $DUR, exit code 0$"
has_line "$L" "${PFX}slot [01]: job bad attempt 1 of 1 started$"
has_line "$L" "${PFX}slot [01]: job bad attempt 1 of 1 failed after $DUR, exit code 3$"
has_line "$L" "${PFX}slot [01]: job twice attempt 1 of 2 failed after $DUR, exit code 5$"
has_line "$L" "${PFX}slot [01]: job twice attempt 2 of 2 succeeded after $DUR, exit code 0$"
has_line "$L" "${PFX}started 2 worker\(s\)"
has_line "$L" "${PFX}stopped$"
lacks_line "$L" "out-one|bad-out"
[ "$(grep -Ec ' attempt [0-9]+ of [0-9]+ started$' "$L")" = 4 ] || fail "not 4 start lines: $(cat "$L")"
[ "$(grep -Ec ' attempt [0-9]+ of [0-9]+ (succeeded|failed) after ' "$L")" = 4 ] || fail "not 4 end lines: $(cat "$L")"
# Each attempt's start comes before its end.
s=$(grep -n 'job ok attempt 1 of 3 started' "$L" | cut -d: -f1); e=$(grep -n 'job ok attempt 1 of 3 succeeded' "$L" | cut -d: -f1)
[ "$s" -lt "$e" ] || fail "end line before start line"
pass "worker start: one line per attempt start and end (time, slot, job, attempt n of m, outcome, duration, exit code)"

# --- --echo-output ---------------------------------------------------------------------------
"$Q" enqueue '{"id":"echo","command":"echo first-line; printf \"tab\\there\\n\"; echo last-line >&2"}' >/dev/null
start_worker echo --echo-output
W=$LAST_PID
wait_for 20 is_state echo completed || fail "echo job: $(state_of echo)"
stop_and_wait "$W"
L="$T/echo.log"
has_line "$L" "${PFX}\[echo\] first-line$"
has_line "$L" "${PFX}\[echo\] tab\\\\x09here$"
has_line "$L" "${PFX}\[echo\] last-line$"
o=$(grep -n '\[echo\] first-line' "$L" | cut -d: -f1); e=$(grep -n 'job echo attempt 1 of 3 succeeded' "$L" | cut -d: -f1)
[ -n "$e" ] && [ "$o" -lt "$e" ] || fail "output lines do not come before the end line: $(cat "$L")"
pass "--echo-output: each output line, prefixed with the job id, control characters escaped"

# --- --quiet ---------------------------------------------------------------------------------
"$Q" enqueue '{"id":"hush","command":"echo hush-out"}' >/dev/null
start_worker quiet --quiet
W=$LAST_PID
wait_for 20 is_state hush completed || fail "quiet worker did not run hush"
stop_and_wait "$W"
L="$T/quiet.log"
lacks_line "$L" "attempt|hush"
has_line "$L" "${PFX}started 1 worker\(s\)"
pass "--quiet: no attempt lines (the start and stop lines remain)"

# --- --log-format json -----------------------------------------------------------------------
"$Q" enqueue '{"id":"js","command":"echo json-out; echo \"q\\\"uote\"","max_retries":2}' >/dev/null
"$Q" enqueue '{"id":"jf","command":"exit 9","max_retries":0}' >/dev/null
start_worker json --count 2 --log-format json --echo-output
W=$LAST_PID
wait_for 20 is_state js completed && wait_for 20 is_state jf dead || fail "json jobs: js=$(state_of js) jf=$(state_of jf)"
stop_and_wait "$W"
python3 - "$T/json.log" <<'EOF' || fail "json log lines: $(cat "$T/json.log")"
import json, re, sys
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
lines = open(sys.argv[1]).read().splitlines()
ev = [json.loads(l) for l in lines]          # every line is one JSON object
assert ev and all(isinstance(e, dict) and ts.match(e["ts"]) and isinstance(e["pid"], int) for e in ev), ev
def one(event, job):
    found = [e for e in ev if e["event"] == event and e.get("job") == job]
    assert len(found) == 1, (event, job, found)
    return found[0]
for job, attempts, outcome, code in (("js", 2, "succeeded", 0), ("jf", 1, "failed", 9)):
    s, e = one("start", job), one("end", job)
    assert s["attempt"] == 1 and s["max_attempts"] == attempts and s["slot"] in (0, 1), s
    assert e["attempt"] == 1 and e["max_attempts"] == attempts and e["slot"] == s["slot"], e
    assert e["outcome"] == outcome and e["exit_code"] == code, e
    assert isinstance(e["duration_ms"], int) and e["duration_ms"] >= 0, e
    assert ev.index(s) < ev.index(e)
out = [e["line"] for e in ev if e["event"] == "output" and e["job"] == "js"]
assert out == ["json-out", 'q"uote'], out
o = [e for e in ev if e["event"] == "output"][0]
assert o["slot"] in (0, 1) and o["attempt"] == 1, o
assert any(e["event"] == "log" and e["message"].startswith("started 2 worker(s)") for e in ev), ev
assert any(e["event"] == "log" and e["message"] == "stopped" for e in ev), ev
EOF
pass "--log-format json: one JSON object per line (start, output, end with slot, job, attempt, max_attempts, duration_ms, outcome, exit_code; log)"

# --- queuectl-host ---------------------------------------------------------------------------
"$Q" enqueue '{"id":"h1","command":"echo host-out"}' >/dev/null
timeout 60 "$H" --plugin shell --drain >"$T/host_text.log" 2>&1 || fail "host --drain: $(cat "$T/host_text.log")"
has_line "$T/host_text.log" "${PFX}slot 0: job h1 attempt 1 of 3 started$"
has_line "$T/host_text.log" "${PFX}slot 0: job h1 attempt 1 of 3 succeeded after $DUR, exit code 0$"
lacks_line "$T/host_text.log" "host-out"
"$Q" enqueue '{"id":"h2","command":"echo host-json-out"}' >/dev/null
timeout 60 "$H" --plugin shell --drain --log-format json --echo-output >/dev/null 2>"$T/host_json.log" ||
  fail "host --log-format json: $(cat "$T/host_json.log")"
python3 - "$T/host_json.log" <<'EOF' || fail "host json lines: $(cat "$T/host_json.log")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
kinds = [(e["event"], e.get("job"), e.get("line")) for e in ev if e["event"] != "log"]
assert kinds == [("start", "h2", None), ("output", "h2", "host-json-out"), ("end", "h2", None)], kinds
end = ev[[e["event"] for e in ev].index("end")]
assert end["outcome"] == "succeeded" and end["exit_code"] == 0 and end["slot"] == 0, end
EOF
"$Q" enqueue '{"id":"h3","command":"true"}' >/dev/null
timeout 60 "$H" --plugin shell --drain --quiet >"$T/host_quiet.log" 2>&1 || fail "host --quiet: $(cat "$T/host_quiet.log")"
expect_eq "h3 ran" "$(state_of h3)" completed
lacks_line "$T/host_quiet.log" "attempt"
for bad in "--log-format xml" "--quiet --echo-output"; do
  timeout 30 "$H" --plugin shell --drain $bad >"$T/out" 2>&1
  rc=$?
  [ "$rc" = 2 ] && [ "$(wc -l <"$T/out")" = 1 ] || fail "host $bad: exit $rc: $(cat "$T/out")"
  run worker start $bad
  [ "$RC" = 2 ] && stderr_is_one_line || fail "worker start $bad: exit $RC: $ERR"
done
"$H" --help | grep -q -- "--log-format" && "$H" --help | grep -q -- "--echo-output" && "$H" --help | grep -q -- "--quiet" ||
  fail "queuectl-host --help lacks the log options"
pass "queuectl-host: the same lines, --log-format json, --echo-output, --quiet; bad log options exit 2 (host and worker start)"

# A stderr nobody reads any more (`| head -1`) does not kill the host between attempts.
for i in 1 2 3 4 5 6; do "$Q" enqueue "{\"id\":\"pipe$i\",\"command\":\"echo $i\"}" >/dev/null; done
timeout 60 "$H" --plugin shell --drain --echo-output 2>&1 | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "host with a closed stderr: exit $rc"
for i in 1 2 3 4 5 6; do expect_eq "pipe$i after a closed stderr" "$(state_of pipe$i)" completed; done
pass "a closed stderr: the host runs every job and exits 0"

# --- --daemon: the lines go to the log file --------------------------------------------------
"$Q" enqueue '{"id":"dm","command":"echo daemon-out"}' >/dev/null
run worker start --daemon --log-file "$T/daemon.log" --echo-output
[ "$RC" = 0 ] || fail "worker start --daemon: exit $RC: $ERR"
wait_for 20 is_state dm completed || fail "daemon did not run dm"
PIDS+=("$("$Q" status --json | json 'j["workers"]["processes"][0]["pid"]')")  # killed if the test fails
wait_for 10 grep -q "job dm attempt 1 of 3 succeeded" "$T/daemon.log" || fail "daemon log: $(cat "$T/daemon.log")"
has_line "$T/daemon.log" "${PFX}\[dm\] daemon-out$"
has_line "$T/daemon.log" "${PFX}slot 0: job dm attempt 1 of 3 started$"
run worker stop --wait --timeout 20s
[ "$RC" = 0 ] && [ "$OUT" = "signalled 1 worker process" ] || fail "worker stop --wait: $RC $OUT $ERR"
has_line "$T/daemon.log" "${PFX}stopped$"
pass "--daemon --log-file: the attempt and output lines go to the log file"
