#!/usr/bin/env bash
# scripts/k6.sh — run a k6 script from k6/ against a Spillway deployment, and
# keep its end-of-test summary JSON beside the bench results.
#
#   npm run k6 -- k6/ingest.js
#   SPILLWAY_URL=http://edge:8080 RATE=2000 DURATION=5m npm run k6 -- k6/ingest.js
#   scripts/k6.sh --install            only make sure k6 is installed, print its path
#
# What it does:
#   1. Finds k6: on PATH, else in the cache bin dir. When it is missing it builds
#      it there with `go install go.k6.io/k6@<pinned>` (the Go module proxy is
#      the only source of k6 this machine and CI reach). The first build takes
#      a few minutes; later runs reuse the binary.
#   2. Runs `k6 run --summary-export bench/results/k6-<script>-<timestamp>.json
#      "$@"`; every argument is passed through to `k6 run` unchanged, so k6
#      flags (-e KEY=VALUE, --vus, --out ...) work as usual. The script name in
#      the file name is the basename of the last *.js argument.
#
# Environment overrides (all optional):
#   SPILLWAY_K6_VERSION   k6 module version for go install       (default below)
#   SPILLWAY_K6_BIN       where the built k6 lives               (<cache-base>/bin)
#                         cache-base: /var/cache/spillway as root, else
#                         ${XDG_CACHE_HOME:-$HOME/.cache}/spillway (as scripts/es.sh)
#   SPILLWAY_K6_RESULTS   where summary JSON files go            (bench/results)
#   K6                    an explicit k6 binary to use (skips lookup and install)
#
# The k6 scripts themselves read SPILLWAY_URL, RATE, DURATION, ... from the
# environment; see k6/README.md.

set -euo pipefail

# The newest release the Go module proxy serves for go.k6.io/k6 when this was
# written (`curl -s https://proxy.golang.org/go.k6.io/k6/@v/list`).
K6_VERSION="${SPILLWAY_K6_VERSION:-v1.8.1}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ $EUID -eq 0 ]]; then
  CACHE_BASE=/var/cache/spillway
else
  CACHE_BASE="${XDG_CACHE_HOME:-$HOME/.cache}/spillway"
fi
K6_BIN_DIR="${SPILLWAY_K6_BIN:-$CACHE_BASE/bin}"
RESULTS_DIR="${SPILLWAY_K6_RESULTS:-$ROOT/bench/results}"

log() { printf 'k6.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

find_k6() {
  if [[ -n "${K6:-}" ]]; then
    printf '%s\n' "$K6"; return 0
  fi
  if command -v k6 >/dev/null 2>&1; then
    command -v k6; return 0
  fi
  if [[ -x "$K6_BIN_DIR/k6" ]]; then
    printf '%s\n' "$K6_BIN_DIR/k6"; return 0
  fi
  return 1
}

install_k6() {
  command -v go >/dev/null 2>&1 || die "k6 is not installed and go is not on PATH to build it (install k6, or Go >= 1.25 (what k6 v1.8.1 needs), or set K6=/path/to/k6)"
  mkdir -p "$K6_BIN_DIR"
  log "k6 not found; building go.k6.io/k6@$K6_VERSION into $K6_BIN_DIR (first time only, takes a few minutes)"
  local start=$SECONDS
  # CGO off: a static binary that does not depend on the build host's libc.
  GOBIN="$K6_BIN_DIR" CGO_ENABLED=0 go install "go.k6.io/k6@$K6_VERSION"
  [[ -x "$K6_BIN_DIR/k6" ]] || die "go install finished but $K6_BIN_DIR/k6 is missing"
  log "built $("$K6_BIN_DIR/k6" version | head -n1) in $((SECONDS - start)) s"
}

if [[ -n "${K6:-}" && ! -x "$K6" ]]; then die "K6=$K6 is not an executable file"; fi
K6_EXE="$(find_k6)" || { install_k6; K6_EXE="$K6_BIN_DIR/k6"; }

if [[ "${1:-}" == "--install" ]]; then
  "$K6_EXE" version >&2
  printf '%s\n' "$K6_EXE"
  exit 0
fi

[[ $# -gt 0 ]] || die "usage: scripts/k6.sh [k6 run flags] k6/<script>.js   (or --install)"

# Name the summary after the script: the last argument ending in .js.
script=k6
for arg in "$@"; do
  case "$arg" in *.js) script="$(basename "$arg" .js)" ;; esac
done
mkdir -p "$RESULTS_DIR"
stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
summary="$RESULTS_DIR/k6-$script-$stamp.json"

log "using $K6_EXE ($("$K6_EXE" version | head -n1))"
log "summary -> $summary"
set +e
"$K6_EXE" run --summary-export "$summary" "$@"
rc=$?
set -e
[[ -f "$summary" ]] && log "summary written: $summary"
exit "$rc"
