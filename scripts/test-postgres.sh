#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL cluster for the tests: its own data folder, loopback only, its own
# port, password authentication (SCRAM). Prints the URL the tests use. `stop` stops it.
#   scripts/test-postgres.sh start|stop|url
set -euo pipefail

PORT="${OMNIFIN_TEST_PG_PORT:-55432}"
DIR="${OMNIFIN_TEST_PG_DIR:-/tmp/omnifin-test-pg-$PORT}"
USER_NAME=omnifin
PASSWORD=omnifin-test
DATABASE=omnifin_test
URL="postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DATABASE?sslmode=disable"

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql; run 'make deps'" >&2
  exit 1
fi

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  url) echo "$URL" ;;
  stop)
    if [ -f "$DIR/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$DIR" -m fast stop >/dev/null; fi
    ;;
  start)
    if [ ! -f "$DIR/PG_VERSION" ]; then
      rm -rf "$DIR"; mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
      pwfile="$(mktemp)"; echo "$PASSWORD" > "$pwfile"; chmod 644 "$pwfile"
      as_pg "$BIN/initdb" -D "$DIR" -U "$USER_NAME" --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$pwfile"
    fi
    if ! as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
      # fsync off: a throwaway test cluster trades durability for speed; the crash tests kill Omnifin, not PostgreSQL.
      as_pg "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" start >/dev/null
    fi
    export PGPASSWORD="$PASSWORD"
    if ! psql -h 127.0.0.1 -p "$PORT" -U "$USER_NAME" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$PORT" -U "$USER_NAME" -d postgres -qc "CREATE DATABASE $DATABASE" >/dev/null
    fi
    echo "$URL"
    ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
