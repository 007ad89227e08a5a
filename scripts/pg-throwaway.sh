#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster from the local PostgreSQL binaries, with
# trust authentication on 127.0.0.1, for machines that have the server packages but no running
# server. Usage: scripts/pg-throwaway.sh start|stop [PORT]   (default port 5432)
# Needs the PostgreSQL server binaries (Debian: apt-get install postgresql).
set -euo pipefail
action=${1:-start}
port=${2:-${PGPORT:-5432}}
dir=${PG_THROWAWAY_DIR:-/tmp/synthlab-pg-$port}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb || echo /nonexistent/initdb)")
if [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found: install them (Debian/Ubuntu: apt-get install postgresql)" >&2
  exit 1
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    if pg_isready -q -h 127.0.0.1 -p "$port"; then echo "PostgreSQL already answers on 127.0.0.1:$port"; exit 0; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
    echo "PostgreSQL running on 127.0.0.1:$port (data in $dir)"
    echo "  export PARITY_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -f "$dir/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$dir" -m fast stop || true
    ;;
  *) echo "usage: $0 start|stop [PORT]" >&2; exit 2 ;;
esac
