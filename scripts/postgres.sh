#!/usr/bin/env bash
# A throwaway PostgreSQL server for carepath's tests and benchmarks.
#
#   scripts/postgres.sh start [DIR]   install PostgreSQL from Debian's packages if it is
#                                     missing, start a cluster in DIR listening on
#                                     127.0.0.1 on a free port, and print its URL
#   scripts/postgres.sh url [DIR]     print the URL of the cluster running in DIR
#   scripts/postgres.sh stop [DIR]    stop the cluster and delete DIR
#
# DIR defaults to $CAREPATH_PG_DIR, else $TMPDIR/carepath-postgres. The cluster trusts
# every local connection (user "carepath", database "carepath"): it is for tests only.
# PostgreSQL refuses to run as root, so as root the cluster runs as the "postgres" system
# user (created if missing).
set -euo pipefail

cmd=${1:-}
dir=${2:-${CAREPATH_PG_DIR:-${TMPDIR:-/tmp}/carepath-postgres}}

log() { echo "postgres.sh: $*" >&2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_postgres() {
  local bin
  bin=$(pg_bin)
  if [ -n "$bin" ] && [ -x "$bin/pg_ctl" ]; then return 0; fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      log "PostgreSQL is not installed, and installing it needs root or sudo"
      return 1
    fi
    sudo=sudo
  fi
  log "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

running() {
  [ -f "$dir/url" ] && [ -d "$dir/data" ] && as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start() {
  if running; then cat "$dir/url"; return 0; fi
  install_postgres
  local bin port url
  bin=$(pg_bin)
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/initdb" -D "$dir/data" -U carepath -A trust -E UTF8 --no-instructions >/dev/null
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir'" start >/dev/null
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U carepath carepath
  url="postgresql+psycopg://carepath@127.0.0.1:$port/carepath"
  echo "$url" >"$dir/url"
  echo "$url"
}

stop() {
  if [ ! -d "$dir" ]; then return 0; fi
  if [ ! -f "$dir/url" ] && [ ! -f "$dir/data/PG_VERSION" ]; then
    log "$dir does not hold a cluster started by this script; not touching it"
    return 1
  fi
  if [ -d "$dir/data" ]; then
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  url) if running; then cat "$dir/url"; else log "no cluster running in $dir"; exit 1; fi ;;
  *) echo "usage: $0 start|url|stop [DIR]" >&2; exit 2 ;;
esac
