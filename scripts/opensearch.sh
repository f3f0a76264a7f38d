#!/usr/bin/env bash
# A local single-node OpenSearch for development, tests and CI, next to the
# Elasticsearch of scripts/es.sh (same layout, same conventions):
#
#   scripts/opensearch.sh start|stop|status|kill|pid
#
# The distribution is org.opensearch.distribution.integ-test-zip:opensearch
# from Maven Central (fetched once with `mvn dependency:copy`, cached under
# /var/cache/spillway/opensearch), run on the machine's JDK 17 as a non-root
# system user, on loopback, on a port that is not Elasticsearch's.
# The integ-test-zip has no security plugin: plain HTTP, no credentials.
#
# Environment:
#   SPILLWAY_OS_VERSION   2.19.4 (2.19.x is the last line that runs on JDK 17)
#   SPILLWAY_OS_PORT      9250 (HTTP; transport on PORT+100)
#   SPILLWAY_OS_HEAP      512m (the machine's cores and memory are shared with Elasticsearch)
#   SPILLWAY_OS_JAVA_HOME /usr/lib/jvm/java-17-openjdk-amd64
#   SPILLWAY_OS_START_TIMEOUT 180 (seconds)
#   SPILLWAY_OS_FRESH=1   wipe the data directory before starting
set -euo pipefail

OS_VERSION="${SPILLWAY_OS_VERSION:-2.19.4}"
OS_PORT="${SPILLWAY_OS_PORT:-9250}"
OS_HOST=127.0.0.1
OS_HEAP="${SPILLWAY_OS_HEAP:-512m}"
START_TIMEOUT="${SPILLWAY_OS_START_TIMEOUT:-180}"
JAVA17_HOME="${SPILLWAY_OS_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
OS_ARTIFACT="org.opensearch.distribution.integ-test-zip:opensearch:${OS_VERSION}:zip"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

if [[ $EUID -eq 0 ]]; then
  OS_USER="${SPILLWAY_OS_USER:-spillway-os}"
  CACHE_BASE=/var/cache/spillway
  STATE_BASE=/var/lib/spillway
else
  OS_USER="$(id -un)"
  CACHE_BASE="${XDG_CACHE_HOME:-$HOME/.cache}/spillway"
  STATE_BASE="$CACHE_BASE"
fi
OS_HOME_CACHE="$CACHE_BASE/opensearch"
OS_HOME="$OS_HOME_CACHE/$OS_VERSION"
RUN_DIR="${SPILLWAY_OS_RUN_DIR:-$STATE_BASE/opensearch-run/$OS_PORT}"
PID_FILE="$RUN_DIR/opensearch.pid"
URL="http://$OS_HOST:$OS_PORT"

log() { printf '[opensearch.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_os_user() {
  if [[ $EUID -eq 0 ]]; then runuser -u "$OS_USER" -- "$@"; else "$@"; fi
}

health() {
  local wait="${1:-0}" body
  body="$(curl -sS --max-time $((wait + 5)) \
    "$URL/_cluster/health?wait_for_status=yellow&timeout=${wait}s" 2>/dev/null)" || return 1
  printf '%s\n' "$body"
  [[ $body =~ \"status\":\"(green|yellow)\" && $body != *'"timed_out":true'* ]]
}

running_pid() {
  local pid
  [[ -s $PID_FILE ]] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Read the whole cmdline first: `tr | grep -q` fails under pipefail when
  # grep exits before tr is done (SIGPIPE).
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ $cmdline == *org.opensearch* ]] || return 1
  printf '%s\n' "$pid"
}

os_version() {
  curl -sS --max-time 5 "$URL/_cat/nodes?h=version" 2>/dev/null | head -n1 | tr -d '[:space:]'
}

log_tail() {
  local f="$RUN_DIR/logs/${1:-spillway-os.log}"
  [[ -s $f ]] || return 0
  log "---- last lines of $f ----"
  tail -n 40 "$f" >&2
}

take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 600 9 || die "could not lock $RUN_DIR/.lock"
}

ensure_user() {
  [[ $EUID -eq 0 ]] || return 0
  id -u "$OS_USER" >/dev/null 2>&1 && return 0
  log "creating system user $OS_USER (OpenSearch refuses to run as root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$OS_USER"
}

# Download once and unpack through a temp dir, renamed at the end, so an
# interrupted run never leaves a half-unpacked install.
ensure_install() {
  [[ -x $OS_HOME/bin/opensearch ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed to fetch $OS_ARTIFACT)"
  mkdir -p "$OS_HOME_CACHE"
  local tmp zip
  tmp="$(mktemp -d "$OS_HOME_CACHE/.download.XXXXXX")"
  DOWNLOAD_TMP="$tmp"
  trap 'rm -rf "$DOWNLOAD_TMP"' EXIT
  log "fetching $OS_ARTIFACT from Maven Central"
  if ! (cd "$tmp" && mvn -q -B -C -Dstyle.color=never "$DEP_PLUGIN:copy" \
    -Dartifact="$OS_ARTIFACT" -DoutputDirectory="$tmp/zip") >"$tmp/mvn.log" 2>&1; then
    grep -m5 ERROR "$tmp/mvn.log" >&2 || tail -n 20 "$tmp/mvn.log" >&2
    die "could not fetch $OS_ARTIFACT (does version $OS_VERSION exist in Maven Central?)"
  fi
  zip="$(find "$tmp/zip" -name '*.zip' | head -n1)"
  [[ -f $zip ]] || die "maven did not produce a zip in $tmp/zip"
  mkdir -p "$tmp/x"
  if command -v unzip >/dev/null; then
    unzip -q "$zip" -d "$tmp/x"
  else
    (cd "$tmp/x" && "$JAVA17_HOME/bin/jar" xf "$zip")
    chmod -R u+x,go+rx "$tmp"/x/*/bin
  fi
  mv "$tmp"/x/opensearch-* "$OS_HOME"
  rm -rf "$tmp"
  trap - EXIT
  log "installed OpenSearch $OS_VERSION into $OS_HOME"
}

prepare_run_dir() {
  if [[ ${SPILLWAY_OS_FRESH:-0} == 1 ]]; then
    log "SPILLWAY_OS_FRESH=1: wiping $RUN_DIR/data"
    rm -rf "$RUN_DIR/data"
  fi
  mkdir -p "$RUN_DIR"/{config,data,logs,tmp}
  cp -a "$OS_HOME/config/." "$RUN_DIR/config/"
  if [[ $EUID -eq 0 ]]; then
    chown -R "$OS_USER:" "$OS_HOME" "$RUN_DIR"
    as_os_user test -x "$OS_HOME/bin/opensearch" -a -w "$RUN_DIR" ||
      die "$OS_USER cannot reach $OS_HOME or $RUN_DIR (a parent dir is not traversable?)"
  fi
  rm -f "$PID_FILE"
}

cmd_start() {
  local t0=$SECONDS pid
  if health 0 >/dev/null; then
    log "already running at $URL (version $(os_version)), nothing to do"
    return 0
  fi
  take_lock
  if pid="$(running_pid)"; then
    log "process $pid is running but not healthy yet; waiting"
  else
    [[ -x $JAVA17_HOME/bin/java ]] || die "no JDK at $JAVA17_HOME (set SPILLWAY_OS_JAVA_HOME)"
    command -v curl >/dev/null || die "curl not found"
    if curl -s --max-time 2 -o /dev/null "$URL/"; then
      die "something else answers on $URL; not starting on top of it"
    fi
    ensure_user
    ensure_install
    prepare_run_dir
    log "starting OpenSearch $OS_VERSION on $URL as $OS_USER (heap $OS_HEAP, run dir $RUN_DIR)"
    # Loopback, single node, no disk watermarks (CI disks are often full
    # enough to turn indices read-only), transport on its own port so it
    # never meets Elasticsearch's 9300.
    # 9>&-: the node must not inherit the lock, or stop would wait on it forever.
    if ! (cd "$OS_HOME" && as_os_user env -u JAVA_HOME \
      OPENSEARCH_JAVA_HOME="$JAVA17_HOME" \
      OPENSEARCH_PATH_CONF="$RUN_DIR/config" OPENSEARCH_TMPDIR="$RUN_DIR/tmp" \
      OPENSEARCH_JAVA_OPTS="-Xms$OS_HEAP -Xmx$OS_HEAP ${SPILLWAY_OS_JAVA_OPTS:-}" \
      "$OS_HOME/bin/opensearch" -d -p "$PID_FILE" \
      -Ecluster.name=spillway-os -Enode.name="spillway-os-$OS_PORT" \
      -Enetwork.host="$OS_HOST" -Ehttp.port="$OS_PORT" -Etransport.port=$((OS_PORT + 100)) \
      -Ediscovery.type=single-node \
      -Epath.data="$RUN_DIR/data" -Epath.logs="$RUN_DIR/logs" \
      -Ecluster.routing.allocation.disk.threshold_enabled=false \
      >"$RUN_DIR/logs/console.log" 2>&1 9>&-); then
      log "OpenSearch failed to start"
      log_tail console.log
      exit 1
    fi
  fi
  local deadline=$((t0 + START_TIMEOUT)) left
  while :; do
    left=$((deadline - SECONDS))
    if ((left <= 0)); then
      log "OpenSearch did not reach yellow within ${START_TIMEOUT}s"
      log_tail
      exit 1
    fi
    if health $((left < 10 ? left : 10)) >/dev/null; then break; fi
    # -d may return before the node has written its pid file: only a pid
    # file whose process is gone (or none after a minute) means it died.
    if ! running_pid >/dev/null && { [[ -s $PID_FILE ]] || ((SECONDS - t0 > 60)); }; then
      log "OpenSearch exited during startup"
      log_tail console.log
      log_tail
      exit 1
    fi
    sleep 1
  done
  log "OpenSearch $(os_version) is up at $URL (pid $(running_pid || echo '?')) after $((SECONDS - t0))s"
}

wait_gone() { # pid, tenths of a second
  local i
  for ((i = 0; i < $2; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

cmd_stop() {
  take_lock
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running (no live pid in $PID_FILE)"
    return 0
  fi
  log "stopping OpenSearch (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 600; then
    log "still alive after 60s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 100 || true
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_kill() {
  take_lock
  local pid
  if ! pid="$(running_pid)"; then
    log "not running (no live pid in $PID_FILE)"
    return 0
  fi
  log "killing OpenSearch (pid $pid) with SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 100 || true
  rm -f "$PID_FILE"
  log "killed"
}

cmd_status() {
  local pid body
  if pid="$(running_pid)"; then log "process: running (pid $pid, run dir $RUN_DIR)"; else log "process: no live pid in $PID_FILE"; fi
  if body="$(health 0)"; then
    log "cluster at $URL is up (version $(os_version)):"
    printf '%s\n' "$body"
    return 0
  fi
  log "cluster at $URL is not up${body:+: $body}"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  kill) cmd_kill ;;
  pid) running_pid || exit 3 ;;
  *)
    echo "usage: $0 start|stop|status|kill|pid" >&2
    exit 2
    ;;
esac
