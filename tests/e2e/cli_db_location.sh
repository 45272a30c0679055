#!/usr/bin/env bash
# --db values that are not a database file: devices and FIFOs are refused (nothing left
# beside them), libpq keyword strings are PostgreSQL (no file named after them, the password
# never printed), other implausible values exit 2; an unreachable PostgreSQL gives up within
# its connect_timeout; read-only commands work on a database this user cannot write; a
# corrupt database ends the host with exit 1 instead of retrying for ever.
source "$(dirname "$0")/cli_lib.sh"

W="$T/work"
mkdir -p "$W"
cd "$W" || fail "cd"

# nothing_created: the work directory is still empty (no file named after a --db value).
nothing_created() { [ -z "$(ls -A "$W")" ] || fail "$1: files were created: $(ls -A "$W")"; }
no_secret() { ! grep -q secret "$T/out" "$T/err" || fail "$1: the password was printed: $(cat "$T/out" "$T/err")"; }

# Devices and FIFOs.
had_journal=no; [ -e /dev/null-journal ] && had_journal=yes
run --db /dev/null list
[ "$RC" = 2 ] && stderr_is_one_line || fail "/dev/null: exit $RC: $ERR"
[ "$had_journal" = yes ] || [ ! -e /dev/null-journal ] || fail "/dev/null-journal was created"
mkfifo "$T/fifo"
start=$(date +%s)
timeout 10 "$Q" --db "$T/fifo" enqueue '{"command":"true"}' >"$T/out" 2>"$T/err"
RC=$?
[ "$RC" = 2 ] || fail "FIFO: exit $RC (124: it blocked): $(cat "$T/err")"
[ -z "$(ls "$T" | grep fifo-)" ] || fail "files beside the FIFO: $(ls "$T")"
pass "/dev/null and a FIFO refused (exit 2), nothing created beside them"

# libpq keyword form and URLs with passwords: PostgreSQL, never a file, never logged.
kw="host=127.0.0.1 port=1 dbname=q user=u password=secret connect_timeout=2"
start=$(date +%s)
run --db "$kw" enqueue '{"command":"true"}'
elapsed=$(( $(date +%s) - start ))
[ "$RC" != 0 ] || fail "keyword form: exit 0 (stored somewhere?)"
stderr_is_one_line || fail "keyword form: not one line: $ERR"
no_secret "keyword form"
nothing_created "keyword form"
[ "$elapsed" -le 8 ] || fail "keyword form with connect_timeout=2 took ${elapsed}s"
run --db "postgresql://u:secret@127.0.0.1:1/q?password=secret&connect_timeout=2" status
[ "$RC" != 0 ] || fail "URL: exit 0"
no_secret "URL"
nothing_created "URL"
QUEUECTL_DB="postgresql://u:secret@127.0.0.1:1/q?password=secret&connect_timeout=1" \
  timeout 30 "$H" --plugin shell >"$T/out" 2>"$T/err"
RC=$?
[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "host on an unreachable PostgreSQL: exit $RC"
no_secret "host log"
pass "keyword form and URLs are PostgreSQL: no file, no password in any output, connect_timeout honoured"

for v in "x=1 y=2" "mysql://u:secret@h/q" "file:q.db" "$W" "$W/" $'q\e[2J.db'; do
  run --db "$v" list
  [ "$RC" = 2 ] && stderr_is_one_line || fail "--db '$v': exit $RC: $ERR"
  no_secret "--db '$v'"
  grep -q $'\e' "$T/err" && fail "--db '$v': an escape character reached stderr"
done
nothing_created "implausible values"
pass "implausible --db values refused (exit 2), nothing created"

# Read-only commands on a database this user cannot write (as an unprivileged user: root
# may write anything).
RO="$T/ro"
mkdir -p "$RO"
"$Q" --db "$RO/q.db" enqueue '{"id":"r1","command":"echo ro"}' >/dev/null || fail "setup: enqueue"
chmod 0444 "$RO/q.db"
chmod 0555 "$RO"
as_reader=()
if [ "$(id -u)" = 0 ]; then
  command -v runuser >/dev/null || fail "runuser missing (needed to test as an unprivileged user)"
  chmod o+x "$T"  # let 'nobody' reach the database; the binary must be reachable too
  as_reader=(runuser -u nobody --)
fi
QR=$Q
if [ ${#as_reader[@]} -gt 0 ] && ! "${as_reader[@]}" test -x "$Q"; then
  # The build tree may sit where 'nobody' cannot reach (a clone under /root): use a copy.
  cp "$Q" "$T/queuectl-reader" && chmod 755 "$T/queuectl-reader"
  QR=$T/queuectl-reader
fi
for cmd in "list" "show r1" "logs r1" "status" "metrics" "dlq list" "config get" "list --json"; do
  # shellcheck disable=SC2086
  "${as_reader[@]}" "$QR" --db "$RO/q.db" $cmd >"$T/out" 2>"$T/err" || fail "read-only '$cmd': $(cat "$T/err")"
done
grep -q r1 <("${as_reader[@]}" "$QR" --db "$RO/q.db" list) || fail "read-only list does not show the job"
"${as_reader[@]}" "$QR" --db "$RO/q.db" enqueue '{"command":"true"}' >/dev/null 2>&1 && fail "a write succeeded on a read-only database"
[ "$(ls "$RO")" = q.db ] || fail "files were created beside the read-only database: $(ls "$RO")"
chmod 0755 "$RO"
pass "list, show, logs, status, metrics, dlq list, config get work on a read-only database"

# A corrupt database: the host gives up with exit 1 and says so (within a bound).
C="$T/corrupt"
mkdir -p "$C"
"$Q" --db "$C/q.db" enqueue '{"command":"true"}' >/dev/null || fail "setup: corrupt db"
python3 -c "
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(4096); f.write(b'\xa5' * 40960)" "$C/q.db"
start=$(date +%s)
timeout 60 "$H" --plugin shell --db "$C/q.db" >"$T/host.out" 2>&1
RC=$?
[ "$RC" = 1 ] || fail "host on a corrupt database: exit $RC, want 1: $(tail -3 "$T/host.out")"
grep -q 'corrupt' "$T/host.out" || fail "no clear message: $(tail -3 "$T/host.out")"
head -c 2000000 /dev/urandom >"$C/garbage.db"
timeout 60 "$H" --plugin shell --db "$C/garbage.db" >"$T/host.out" 2>&1
RC=$?
[ "$RC" = 1 ] || fail "host on a non-database file: exit $RC, want 1: $(tail -3 "$T/host.out")"
grep -q 'not a usable queuectl database' "$T/host.out" || fail "no clear message: $(tail -3 "$T/host.out")"
pass "a corrupt database ends the host with exit 1 and a clear message in $(( $(date +%s) - start ))s"
