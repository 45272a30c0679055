#!/usr/bin/env bash
# Acceptance 2: `exit 7` with max_retries 3 and backoff-base 2 is retried after ~2 s and
# ~4 s (each gap checked in a window), lands in dead, shows in `dlq list`, and `dlq retry`
# makes it pending with attempts reset.
source "$(dirname "$0")/lib.sh"
"$Q" config set backoff-base 2 >/dev/null
"$Q" config set poll-interval-ms 50 >/dev/null
start_host host --plugin shell --workers 1
"$Q" enqueue '{"id":"flaky","command":"exit 7","max_retries":3}' >/dev/null
wait_for 30 is_state flaky dead || fail "not dead in time (state $(state_of flaky))"
gaps=$("$Q" show flaky --json | python3 -c '
import json,sys
from datetime import datetime
j=json.load(sys.stdin)
a=j["history"]
assert len(a)==3, len(a)
t=lambda s: datetime.strptime(s.replace("Z",""), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
print(" ".join("%.3f" % (t(a[i+1]["started_at"]) - t(a[i]["finished_at"])) for i in range(2)))')
[ -n "$gaps" ] || fail "could not read attempts"
read -r g1 g2 <<<"$gaps"
python3 -c "import sys; g1,g2=$g1,$g2; sys.exit(0 if 1.9<=g1<=3.0 and 3.9<=g2<=5.0 else 1)" \
  || fail "retry gaps $g1 s and $g2 s not ~2 s and ~4 s"
pass "retried after $g1 s and $g2 s, then dead"
"$Q" logs flaky | grep -c "exit_code=7" | grep -qx 3 || fail "three attempts with exit_code=7 expected"
"$Q" dlq list --json | json '[x["id"] for x in j]' | grep -q flaky || fail "dlq list lacks flaky"
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"
"$Q" dlq retry flaky >/dev/null || fail "dlq retry failed"
[ "$(state_of flaky)" = pending ] || fail "not pending after dlq retry"
[ "$("$Q" show flaky --json | json 'j["attempts"]')" = 0 ] || fail "attempts not reset"
pass "dlq retry resets the job to pending"
