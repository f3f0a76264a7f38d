#!/usr/bin/env bash
# The lumberjack v2 (Beats protocol) test server of the Logstash output:
# test/servers/lumberjack/, a small Go program on go-lumber's server package
# (github.com/elastic/go-lumber from the Go module proxy).
#
#   scripts/lumberjack.sh build    build if the source changed; print the binary's path on stdout
#   scripts/lumberjack.sh start    build, then run one server in the background (for trying the output by hand)
#   scripts/lumberjack.sh stop     stop the server that start started
#   scripts/lumberjack.sh status   exit 0 when it runs
#
# The tests start their own servers from the built binary
# (test/helpers/lumberjack.mjs); `start` is for development.
#
# Cache: the binary and the Go module cache under /var/cache/spillway (root)
# or ~/.cache/spillway, SPILLWAY_CACHE to override; the binary is rebuilt when
# the sources' checksum changes. A fresh machine builds it here (Go module
# proxy; the first build takes well under a minute).
#
# Environment:
#   SPILLWAY_LJ_PORT   5044 (start)
#   SPILLWAY_LJ_OUT    <run dir>/events.ndjson (start: where received events go)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/test/servers/lumberjack"
if [[ $EUID -eq 0 ]]; then CACHE_BASE=/var/cache/spillway; else CACHE_BASE="${XDG_CACHE_HOME:-$HOME/.cache}/spillway"; fi
CACHE=${SPILLWAY_CACHE:-$CACHE_BASE}
bin="$CACHE/bin/lumberjack-server"
run_dir="$CACHE/lumberjack-run"
port=${SPILLWAY_LJ_PORT:-5044}
out=${SPILLWAY_LJ_OUT:-$run_dir/events.ndjson}
pid_file="$run_dir/server.pid"

log() { printf '[lumberjack.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

build() {
  local sum
  sum=$(cd "$src" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  if [[ -x "$bin" && "$(cat "$bin.src" 2>/dev/null)" == "$sum" ]]; then echo "$bin"; return; fi
  command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null || die "go is not installed"
  mkdir -p "$CACHE/bin" "$CACHE/gomod"
  log "building $bin (go-lumber from the Go module proxy, modules cached in $CACHE/gomod)"
  (cd "$src" && GOMODCACHE="$CACHE/gomod" GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -o "$bin.tmp" .) >&2
  mv "$bin.tmp" "$bin"
  echo "$sum" > "$bin.src"
  echo "$bin"
}

running() { [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

case "${1:-}" in
  build) build ;;
  start)
    build >/dev/null
    if running; then log "already running (pid $(cat "$pid_file"))"; exit 0; fi
    mkdir -p "$run_dir"
    nohup "$bin" -addr "127.0.0.1:$port" -out "$out" > "$run_dir/server.log" 2>&1 &
    echo $! > "$pid_file"
    for _ in $(seq 100); do
      grep -q '^listening ' "$run_dir/server.log" 2>/dev/null && { log "listening on 127.0.0.1:$port, events in $out"; exit 0; }
      running || { cat "$run_dir/server.log" >&2; die "the server exited"; }
      sleep 0.1
    done
    die "no 'listening' line after 10 s (see $run_dir/server.log)"
    ;;
  stop)
    if running; then kill "$(cat "$pid_file")"; log "stopped"; fi
    rm -f "$pid_file"
    ;;
  status) running ;;
  *) echo "usage: scripts/lumberjack.sh build|start|stop|status" >&2; exit 2 ;;
esac
