#!/usr/bin/env bash
# scripts/redis.sh — a real, local Redis (Debian's redis-server) for
# development, tests, the bench and CI; the Redis output's tests write to it.
#
#   scripts/redis.sh start    install redis-server with apt-get if it is missing,
#                             start it as a daemon on 127.0.0.1:PORT, wait for PONG;
#                             succeeds at once if our instance already answers
#   scripts/redis.sh stop     SHUTDOWN (saving nothing), wait, then SIGKILL; succeeds if nothing runs
#   scripts/redis.sh status   exit 0 and print INFO server's version if up, exit 3 if not
#   scripts/redis.sh kill     SIGKILL: a crash
#   scripts/redis.sh pid      print the server's pid (exit 3 if none runs)
#
# The instance is durable the way a Redis output's server should be: an
# append-only file synced before each reply (appendonly yes, appendfsync
# always), so a write Redis acknowledged survives a restart of Redis, and the
# tests can hold Spillway to "nothing acknowledged lost" across one.
# No RDB snapshots (they only slow the tests). Tests that need a password,
# ACL users or TLS start an instance of their own (test/helpers/redis.mjs).
#
# Environment overrides (all optional):
#   SPILLWAY_REDIS_PORT      port on 127.0.0.1                 (6390: not Redis's 6379)
#   SPILLWAY_REDIS_DIR       data dir, pid file and log        (/var/tmp/spillway-redis/<port>)
#   SPILLWAY_REDIS_PASSWORD  requirepass for the default user  (none)
#   SPILLWAY_REDIS_FRESH=1   wipe the data dir before starting
set -euo pipefail

PORT="${SPILLWAY_REDIS_PORT:-6390}"
HOST=127.0.0.1
DIR="${SPILLWAY_REDIS_DIR:-/var/tmp/spillway-redis/$PORT}"
PID_FILE="$DIR/redis.pid"
LOG_FILE="$DIR/redis.log"

log() { printf '[redis.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cli() {
  local auth=()
  [[ -n ${SPILLWAY_REDIS_PASSWORD:-} ]] && auth=(--no-auth-warning -a "$SPILLWAY_REDIS_PASSWORD")
  redis-cli -h "$HOST" -p "$PORT" "${auth[@]}" "$@"
}

running_pid() {
  local pid cmdline
  [[ -s $PID_FILE ]] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ $cmdline == *redis-server* ]] || return 1
  printf '%s\n' "$pid"
}

ensure_installed() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
  [[ $EUID -eq 0 ]] || die "redis-server is not installed (apt-get install redis-server, as root)"
  log "installing redis-server (apt-get)"
  if ! apt-get install -y -qq redis-server >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  fi
  command -v redis-server >/dev/null || die "apt-get did not install redis-server"
}

start() {
  ensure_installed
  if running_pid >/dev/null && [[ $(cli ping 2>/dev/null) == PONG ]]; then
    log "already running on $HOST:$PORT (pid $(running_pid))"
    return 0
  fi
  if [[ $(redis-cli -h "$HOST" -p "$PORT" ping 2>&1) == *PONG* || $(redis-cli -h "$HOST" -p "$PORT" ping 2>&1) == *NOAUTH* ]]; then
    die "another server answers on $HOST:$PORT and is not ours ($PID_FILE); refusing to start a second"
  fi
  [[ ${SPILLWAY_REDIS_FRESH:-} == 1 ]] && rm -rf "$DIR"
  mkdir -p "$DIR"
  local args=(
    --bind "$HOST" --port "$PORT" --protected-mode yes
    --daemonize yes --pidfile "$PID_FILE" --logfile "$LOG_FILE" --dir "$DIR"
    --appendonly yes --appendfsync always --save ''
    --maxmemory 0 --io-threads 1
  )
  [[ -n ${SPILLWAY_REDIS_PASSWORD:-} ]] && args+=(--requirepass "$SPILLWAY_REDIS_PASSWORD")
  redis-server "${args[@]}" || die "redis-server did not start (see $LOG_FILE)"
  local until=$((SECONDS + 30))
  while ((SECONDS < until)); do
    if [[ $(cli ping 2>/dev/null) == PONG ]]; then
      log "redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') up on $HOST:$PORT (pid $(running_pid || echo '?'), data $DIR)"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$LOG_FILE" >&2 || true
  die "redis-server did not answer PING on $HOST:$PORT within 30 s"
}

stop() {
  local pid
  pid="$(running_pid)" || { log "not running on $HOST:$PORT"; return 0; }
  cli shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  local until=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < until)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    running_pid >/dev/null || exit 3
    cli info server | grep -E '^(redis_version|tcp_port|uptime_in_seconds)' || exit 3
    ;;
  kill)
    pid="$(running_pid)" || exit 0
    kill -9 "$pid"
    ;;
  pid) running_pid || exit 3 ;;
  *) echo "usage: $0 start|stop|status|kill|pid" >&2; exit 64 ;;
esac
