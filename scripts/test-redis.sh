#!/usr/bin/env bash
# Starts (or reuses) a throwaway Redis for the tests: loopback only, its own port and folder, a password, no
# persistence. Prints the URL the tests use. `stop` stops it.
#   scripts/test-redis.sh start|stop|url
set -euo pipefail

PORT="${OMNIFIN_TEST_REDIS_PORT:-56379}"
DIR="${OMNIFIN_TEST_REDIS_DIR:-/tmp/omnifin-test-redis-$PORT}"
PASSWORD=omnifin-test
URL="redis://:$PASSWORD@127.0.0.1:$PORT/0"

if ! command -v redis-server >/dev/null; then
  echo "redis-server not found; run 'make deps'" >&2
  exit 1
fi

case "${1:-start}" in
  url) echo "$URL" ;;
  stop)
    if [ -f "$DIR/redis.pid" ]; then
      pid="$(cat "$DIR/redis.pid")"
      if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
    ;;
  start)
    mkdir -p "$DIR"
    if ! { [ -f "$DIR/redis.pid" ] && kill -0 "$(cat "$DIR/redis.pid")" 2>/dev/null; }; then
      redis-server --port "$PORT" --bind 127.0.0.1 --requirepass "$PASSWORD" --dir "$DIR" --save "" --appendonly no \
        --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
      for _ in $(seq 1 50); do
        redis-cli -p "$PORT" -a "$PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG && break
        sleep 0.1
      done
    fi
    echo "$URL"
    ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
