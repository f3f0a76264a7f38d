#!/usr/bin/env bash
# scripts/toxiproxy.sh — Shopify's Toxiproxy (a TCP proxy that injects
# latency, bandwidth limits, resets and partitions through an HTTP API), for
# the edge → stage link tests in test/link/ (test/helpers/toxiproxy.mjs
# starts one server per test on free ports).
#
#   scripts/toxiproxy.sh build   go install the pinned version from the Go module
#                                proxy unless the binary is cached; print its path
#   scripts/toxiproxy.sh path    print the cached binary's path (exit 3 if absent)
#
# The server command of toxiproxy v2 is the module's cmd/server (there is no
# cmd/toxiproxy-server); the binary is cached as
# $SPILLWAY_CACHE/bin/toxiproxy-server-$VERSION, and the Go modules it needs
# under $SPILLWAY_CACHE/gomod, so a warm run builds nothing.
set -euo pipefail

VERSION="${SPILLWAY_TOXIPROXY_VERSION:-v2.5.0}"
CACHE="${SPILLWAY_CACHE:-/var/cache/spillway}"
BIN="$CACHE/bin/toxiproxy-server-$VERSION"

log() { printf '[toxiproxy.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

build() {
  if [[ -x $BIN ]] && "$BIN" -version >/dev/null 2>&1; then
    printf '%s\n' "$BIN"
    return 0
  fi
  command -v go >/dev/null || die "go is not installed (toxiproxy is built with go install)"
  mkdir -p "$CACHE/bin" "$CACHE/gomod"
  local tmp
  tmp="$(mktemp -d /tmp/spillway-toxiproxy.XXXXXX)"
  log "go install github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION (modules cached in $CACHE/gomod)"
  GOMODCACHE="$CACHE/gomod" GOBIN="$tmp" CGO_ENABLED=0 go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION" >&2 ||
    { rm -rf "$tmp"; die "go install failed"; }
  mv "$tmp/server" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
  rm -rf "$tmp"
  "$BIN" -version >&2
  printf '%s\n' "$BIN"
}

case "${1:-}" in
  build) build ;;
  path) [[ -x $BIN ]] || exit 3; printf '%s\n' "$BIN" ;;
  *) echo "usage: $0 build|path" >&2; exit 2 ;;
esac
