#!/usr/bin/env bash
# A throw-away PostgreSQL server for tests and benchmarks: initdb into a temp dir, start it
# on a free 127.0.0.1 port (unix socket inside the temp dir), create a database, and remove
# everything afterwards. PostgreSQL refuses to run as root, so as root the server runs as
# the system user `queuectl-test` (created if missing; `nobody` if that fails).
#
#   pg_server.sh run [--] CMD [ARGS...]   start a server, run CMD with QUEUECTL_TEST_PG_URL
#                                         and QUEUECTL_TEST_PG_CTL set, stop and delete the
#                                         server, exit with CMD's status
#   pg_server.sh start                    start a server; print its URL, then its dir
#   pg_server.sh ctl DIR restart|stop|start|status
#   pg_server.sh stop DIR                 stop it and delete DIR
#
# QUEUECTL_TEST_PG_CTL is "pg_server.sh ctl DIR": a test appends restart/stop/start.
# Environment: QUEUECTL_PG_BINDIR (where initdb and pg_ctl are; default: the newest
# /usr/lib/postgresql/*/bin), QUEUECTL_PG_SETTINGS (extra server settings,
# e.g. "-c synchronous_commit=off").
set -euo pipefail
shopt -s inherit_errexit

self=$(readlink -f "${BASH_SOURCE[0]}")
DB_NAME=queuectl_test
DB_USER=queuectl

die() {
  echo "pg_server: $*" >&2
  exit 1
}

find_bindir() {
  if [ -n "${QUEUECTL_PG_BINDIR:-}" ]; then
    [ -x "$QUEUECTL_PG_BINDIR/initdb" ] && [ -x "$QUEUECTL_PG_BINDIR/pg_ctl" ] ||
      die "QUEUECTL_PG_BINDIR=$QUEUECTL_PG_BINDIR has no initdb/pg_ctl"
    echo "$QUEUECTL_PG_BINDIR"
    return
  fi
  local d best=""
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && best=$d
  done
  if [ -z "$best" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    best=$(dirname "$(command -v initdb)")
  fi
  [ -n "$best" ] || die "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin:
  install them with scripts/install-deps.sh (Debian package 'postgresql'), or set QUEUECTL_PG_BINDIR"
  echo "$best"
}

# The unprivileged user the server runs as ('' = the current user).
server_user() {
  [ "$(id -u)" -eq 0 ] || { echo ""; return; }
  if ! id -u queuectl-test >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin queuectl-test \
      >/dev/null 2>&1 || true
  fi
  if id -u queuectl-test >/dev/null 2>&1; then echo queuectl-test; else echo nobody; fi
}

as_user() {  # as_user USER CMD...
  local u=$1
  shift
  if [ -n "$u" ]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_ctl_as() {  # pg_ctl_as DIR ARGS...: pg_ctl as the owner of DIR's data directory
  local dir=$1
  shift
  as_user "$(cat "$dir/user")" "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -l "$dir/server.log" "$@"
}

cmd_start() {
  local bindir user dir port tries=0
  bindir=$(find_bindir) || exit 1
  user=$(server_user)
  dir=$(mktemp -d /tmp/queuectl-pg.XXXXXX)
  chmod 755 "$dir"
  echo "$bindir" >"$dir/bindir"
  echo "$user" >"$dir/user"
  mkdir -p "$dir/data" "$dir/sock"
  touch "$dir/server.log"
  [ -z "$user" ] || chown "$user" "$dir/data" "$dir/sock" "$dir/server.log"
  chmod 700 "$dir/data"
  if ! as_user "$user" "$bindir/initdb" -D "$dir/data" -U "$DB_USER" --auth=trust -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed"
  fi
  while true; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c max_connections=200 ${QUEUECTL_PG_SETTINGS:-}" \
      >"$dir/options"
    if pg_ctl_as "$dir" -w -t 60 -o "$(cat "$dir/options")" start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ $tries -ge 10 ] || ! grep -q "could not bind\|already in use" "$dir/server.log"; then
      cat "$dir/server.log" >&2
      rm -rf "$dir"
      die "the server did not start"
    fi
  done
  echo "$port" >"$dir/port"
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" ||
    { cmd_stop "$dir"; die "createdb failed"; }
  echo "postgresql://$DB_USER@127.0.0.1:$port/$DB_NAME" >"$dir/url"
  cat "$dir/url"
  echo "$dir"
}

cmd_stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  [ -f "$dir/data/postmaster.pid" ] && pg_ctl_as "$dir" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

cmd_ctl() {
  local dir=$1 what=$2
  [ -f "$dir/bindir" ] || die "$dir is not a pg_server dir"
  case "$what" in
    restart) pg_ctl_as "$dir" -w -t 60 -m fast restart >/dev/null ;;
    stop) pg_ctl_as "$dir" -w -t 60 -m fast stop >/dev/null ;;
    start) pg_ctl_as "$dir" -w -t 60 -o "$(cat "$dir/options")" start >/dev/null ;;
    status) pg_ctl_as "$dir" status ;;
    *) die "ctl: unknown action '$what'" ;;
  esac
}

cmd_run() {
  [ "${1:-}" != "--" ] || shift
  [ $# -gt 0 ] || die "run: no command"
  local out dir url rc watchdog
  out=$(cmd_start) || exit 1
  url=$(sed -n 1p <<<"$out")
  dir=$(sed -n 2p <<<"$out")
  # Stop the server even if this script is killed without a chance to run its trap.
  (
    parent=$$
    while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
    cmd_stop "$dir"
  ) </dev/null >/dev/null 2>&1 &
  watchdog=$!
  trap 'cmd_stop "$dir"; kill $watchdog 2>/dev/null || true' EXIT
  trap 'exit 130' INT TERM
  echo "pg_server: $url (PostgreSQL in $dir)" >&2
  set +e
  QUEUECTL_TEST_PG_URL=$url QUEUECTL_TEST_PG_CTL="$self ctl $dir" "$@"
  rc=$?
  set -e
  [ $rc -eq 0 ] || { echo "pg_server: server log (last lines):" >&2; tail -n 20 "$dir/server.log" >&2 || true; }
  exit $rc
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  start) cmd_start ;;
  stop) cmd_stop "${2:?usage: pg_server.sh stop DIR}" ;;
  ctl) cmd_ctl "${2:?usage: pg_server.sh ctl DIR ACTION}" "${3:?usage: pg_server.sh ctl DIR ACTION}" ;;
  *) sed -n '2,17p' "$self" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
