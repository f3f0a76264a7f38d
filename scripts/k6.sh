#!/usr/bin/env bash
# scripts/k6.sh — run a k6 script from k6/ against a Spillway deployment, and
# keep its end-of-test summary JSON beside the bench results.
#
#   npm run k6 -- k6/ingest.js
#   SPILLWAY_URL=http://edge:8080 RATE=2000 DURATION=5m npm run k6 -- k6/ingest.js
#
# What it does:
#   1. Finds k6: K6 if set, else on PATH, else in the cache bin dir. It never
#      installs k6: k6 is under the AGPL, and this project does not fetch or
#      build it (docs/decisions.md). Bring your own k6, or use the project's
#      own runner, which has the same scenarios: `npm run load -- ingest`.
#   2. Runs `k6 run --summary-export bench/results/k6-<script>-<timestamp>.json
#      "$@"`; every argument is passed through to `k6 run` unchanged, so k6
#      flags (-e KEY=VALUE, --vus, --out ...) work as usual. The script name in
#      the file name is the basename of the last *.js argument.
#
# Environment overrides (all optional):
#   SPILLWAY_K6_BIN       a dir holding a k6 you installed        (<cache-base>/bin)
#                         cache-base: /var/cache/spillway as root, else
#                         ${XDG_CACHE_HOME:-$HOME/.cache}/spillway (as scripts/es.sh)
#   SPILLWAY_K6_RESULTS   where summary JSON files go            (bench/results)
#   K6                    an explicit k6 binary to use
#
# The k6 scripts themselves read SPILLWAY_URL, RATE, DURATION, ... from the
# environment; see k6/README.md.

set -euo pipefail

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

if [[ -n "${K6:-}" && ! -x "$K6" ]]; then die "K6=$K6 is not an executable file"; fi
K6_EXE="$(find_k6)" || die "no k6 found (K6, PATH or $K6_BIN_DIR/k6). This project does not install k6 (AGPL); install it yourself, or run the same scenario with the project's runner: npm run load -- ingest|batch|spike|soak"

[[ $# -gt 0 ]] || die "usage: scripts/k6.sh [k6 run flags] k6/<script>.js"

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
