#!/usr/bin/env bash
# scripts/es.sh — run a real, local, single-node Elasticsearch for development,
# tests and CI.
#
#   scripts/es.sh start    download (once), start in the background, wait for yellow;
#                          if a node already answers on the port, succeed only when it
#                          runs with the settings (and heap, if given) asked for now,
#                          else refuse with exit 4 (it is never restarted behind the
#                          back of whoever else uses it)
#   scripts/es.sh stop     SIGTERM, wait, then SIGKILL; succeeds if nothing runs
#   scripts/es.sh status   exit 0 and print cluster health if up, exit 3 if not
#   scripts/es.sh kill     SIGKILL, no flush: a crash, for the chaos suite
#   scripts/es.sh pid      print the node's pid (exit 3 if none runs), for the bench's CPU figures
#
# Why this shape:
#   * The only outside source this machine (and CI) reaches for Java artifacts is
#     Maven Central, and Elastic publishes a plain, JDK-less archive there:
#     org.elasticsearch.distribution.integ-test-zip:elasticsearch:<v>:zip.
#     We fetch it with the ordinary Maven client and run it on the system JDK 17.
#   * 8.19.x is the last line that runs on JDK 17 (9.x needs JDK 21).
#   * Elasticsearch refuses to run as root, so as root we run it as a dedicated
#     unprivileged system user. That user cannot enter /root (mode 0700), so as
#     root the cache and run dirs default to /var/cache and /var/lib instead of
#     $HOME/.cache.
#
# Environment overrides (all optional):
#   SPILLWAY_ES_VERSION        Elasticsearch version            (default below)
#   SPILLWAY_ES_PORT           HTTP port on 127.0.0.1           (9200)
#   SPILLWAY_ES_SETTINGS       extra settings, space separated: "-Ekey=value -Ek2=v2"
#                              (a bare "key=value" is accepted too)
#   SPILLWAY_ES_HEAP           JVM heap, used for -Xms and -Xmx (1g)
#   SPILLWAY_ES_HOME_CACHE     where versions are unpacked      (<base-cache>/es)
#   SPILLWAY_ES_RUN_DIR        config, data, logs, pid file     (<base-state>/es-run/<port>)
#   SPILLWAY_ES_USER           user to run as when root         (spillway-es)
#   SPILLWAY_ES_JAVA_HOME      JDK used by Elasticsearch        (JDK 17)
#   SPILLWAY_ES_START_TIMEOUT  seconds to wait for yellow       (180)
#   SPILLWAY_ES_FRESH=1        wipe the data dir before starting
#
# Several instances can coexist on different ports: each port gets its own run
# dir (data, logs, pid file), so e.g. a test can start a throttled node on 9201
# while the dev node keeps running on 9200.

set -euo pipefail

# Newest 8.x published in Maven Central for this artifact when this was written
# (its maven-metadata.xml lists 8.19.0, 8.19.2, 8.19.4 and 8.19.21 in the 8.19
# line). Bump deliberately: a newer minor may need a newer JDK.
ES_VERSION="${SPILLWAY_ES_VERSION:-8.19.21}"
ES_PORT="${SPILLWAY_ES_PORT:-9200}"
ES_HOST=127.0.0.1
ES_HEAP="${SPILLWAY_ES_HEAP:-1g}"
ES_SETTINGS="${SPILLWAY_ES_SETTINGS:-}"
START_TIMEOUT="${SPILLWAY_ES_START_TIMEOUT:-180}"
JAVA17_HOME="${SPILLWAY_ES_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
# Pin the plugin: Maven 3.8's default maven-dependency-plugin is the ancient 2.8.
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

if [[ $EUID -eq 0 ]]; then
  ES_USER="${SPILLWAY_ES_USER:-spillway-es}"
  CACHE_BASE=/var/cache/spillway
  STATE_BASE=/var/lib/spillway
else
  ES_USER="$(id -un)"
  CACHE_BASE="${XDG_CACHE_HOME:-$HOME/.cache}/spillway"
  STATE_BASE="$CACHE_BASE"
fi
ES_HOME_CACHE="${SPILLWAY_ES_HOME_CACHE:-$CACHE_BASE/es}"
ES_HOME="$ES_HOME_CACHE/$ES_VERSION"            # the unpacked distribution
RUN_DIR="${SPILLWAY_ES_RUN_DIR:-$STATE_BASE/es-run/$ES_PORT}"
PID_FILE="$RUN_DIR/es.pid"
URL="http://$ES_HOST:$ES_PORT"

log() { printf '[es.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run a command as the Elasticsearch user (a no-op wrapper when not root).
as_es_user() {
  if [[ $EUID -eq 0 ]]; then runuser -u "$ES_USER" -- "$@"; else "$@"; fi
}

# Prints the health JSON and succeeds only if the cluster is at least yellow.
# wait_for_status makes ES hold the answer up to $1 seconds until it is yellow.
health() {
  local wait="${1:-0}" body
  body="$(curl -sS --max-time $((wait + 5)) \
    "$URL/_cluster/health?wait_for_status=yellow&timeout=${wait}s" 2>/dev/null)" || return 1
  printf '%s\n' "$body"
  [[ $body =~ \"status\":\"(green|yellow)\" && $body != *'"timed_out":true'* ]]
}

# The pid from our pid file, if that process is alive and is Elasticsearch
# (guards against a stale pid file whose pid was reused).
running_pid() {
  local pid
  [[ -s $PID_FILE ]] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  # No pipe into grep -q: under pipefail, tr's SIGPIPE when grep stops early
  # would make a live node look dead.
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ $cmdline == *org.elasticsearch* ]] || return 1
  printf '%s\n' "$pid"
}

# Not "GET /": the integ-test-zip lacks the rest-root module, so / answers 405.
es_version() {
  curl -sS --max-time 5 "$URL/_cat/nodes?h=version" 2>/dev/null | head -n1 | tr -d '[:space:]'
}

# Seconds since $1 (an $EPOCHREALTIME value), with one decimal.
elapsed() {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# console.log holds the CLI's output (startup failures); once the node is
# daemonized, its own log is the interesting one.
log_tail() {
  local f="$RUN_DIR/logs/${1:-spillway-dev.log}"
  [[ -s $f ]] || return 0
  log "---- last lines of $f ----"
  tail -n 40 "$f" >&2
}

# Serialise start/stop on one run dir (parallel test jobs, impatient humans).
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 600 9 || die "could not lock $RUN_DIR/.lock"
}

ensure_user() {
  [[ $EUID -eq 0 ]] || return 0
  id -u "$ES_USER" >/dev/null 2>&1 && return 0
  log "creating system user $ES_USER (Elasticsearch refuses to run as root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$ES_USER"
}

# Download once via Maven Central and unpack into $ES_HOME. The unpack goes to a
# temp dir first and is renamed at the end, so an interrupted run never leaves a
# half-unpacked install that a later start would trust.
ensure_install() {
  [[ -x $ES_HOME/bin/elasticsearch ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed to fetch $ES_ARTIFACT)"
  mkdir -p "$ES_HOME_CACHE"
  local tmp zip
  tmp="$(mktemp -d "$ES_HOME_CACHE/.download.XXXXXX")"
  DOWNLOAD_TMP="$tmp"
  trap 'rm -rf "$DOWNLOAD_TMP"' EXIT
  log "fetching $ES_ARTIFACT from Maven Central"
  # Run from the temp dir so a pom.xml in the caller's cwd cannot interfere.
  # Maven prints its errors on stdout; keep them for the failure message only.
  if ! (cd "$tmp" && mvn -q -B -C -Dstyle.color=never "$DEP_PLUGIN:copy" \
    -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$tmp/zip") >"$tmp/mvn.log" 2>&1; then
    grep -m5 ERROR "$tmp/mvn.log" >&2 || tail -n 20 "$tmp/mvn.log" >&2
    die "could not fetch $ES_ARTIFACT (does version $ES_VERSION exist in Maven Central?)"
  fi
  zip="$(find "$tmp/zip" -name '*.zip' | head -n1)"
  [[ -f $zip ]] || die "maven did not produce a zip in $tmp/zip"
  mkdir -p "$tmp/x"
  if command -v unzip >/dev/null; then
    unzip -q "$zip" -d "$tmp/x"
  else # the JDK's jar tool can unpack too, but drops the exec bits
    (cd "$tmp/x" && "$JAVA17_HOME/bin/jar" xf "$zip")
    chmod -R u+x,go+rx "$tmp"/x/*/bin
  fi
  # The zip holds a single top-level dir, elasticsearch-<version>/.
  mv "$tmp"/x/elasticsearch-* "$ES_HOME"
  rm -rf "$tmp"
  trap - EXIT
  log "installed Elasticsearch $ES_VERSION into $ES_HOME"
}

# Build the -E list. Settings common to every dev/test/CI node:
#   loopback only, single node (no discovery, no bootstrap checks), no disk
#   watermarks (CI disks are often >90% full and ES would go read-only), and
#   nothing that phones home (the machine has no internet anyway).
build_settings() {
  SETTINGS=(
    -Ecluster.name=spillway-dev
    -Enode.name="spillway-dev-$ES_PORT"
    -Enetwork.host="$ES_HOST"
    -Ehttp.port="$ES_PORT"
    -Ediscovery.type=single-node
    -Epath.data="$RUN_DIR/data"
    -Epath.logs="$RUN_DIR/logs"
    -Ecluster.routing.allocation.disk.threshold_enabled=false
  )
  # The integ-test-zip is a minimal distribution: settings that belong to a
  # module it lacks would be rejected as unknown, so only add them if present.
  [[ -d $ES_HOME/modules/x-pack-security ]] && SETTINGS+=(-Expack.security.enabled=false)
  [[ -d $ES_HOME/modules/x-pack-ml ]] && SETTINGS+=(-Expack.ml.enabled=false)
  [[ -d $ES_HOME/modules/ingest-geoip ]] && SETTINGS+=(-Eingest.geoip.downloader.enabled=false)
  local s extra=()
  read -r -a extra <<<"$ES_SETTINGS"
  for s in "${extra[@]}"; do
    [[ $s == -E* ]] || s="-E$s"
    [[ $s == -E?*=* ]] || die "bad entry in SPILLWAY_ES_SETTINGS: '$s' (want -Ekey=value)"
    SETTINGS+=("$s")
  done
}

prepare_run_dir() {
  if [[ ${SPILLWAY_ES_FRESH:-0} == 1 ]]; then
    log "SPILLWAY_ES_FRESH=1: wiping $RUN_DIR/data"
    rm -rf "$RUN_DIR/data"
  fi
  mkdir -p "$RUN_DIR"/{config,data,logs,tmp}
  # A private copy of config/: ES writes its keystore there, and it keeps the
  # cached install pristine and shareable between instances.
  cp -a "$ES_HOME/config/." "$RUN_DIR/config/"
  if [[ $EUID -eq 0 ]]; then
    # ES only needs to read the install, but owning it lets the ES user run
    # the bundled tools (elasticsearch-keystore, -plugin) without root.
    chown -R "$ES_USER:" "$ES_HOME" "$RUN_DIR"
    as_es_user test -x "$ES_HOME/bin/elasticsearch" -a -w "$RUN_DIR" ||
      die "$ES_USER cannot reach $ES_HOME or $RUN_DIR (a parent dir is not traversable?)"
    # In dev mode on loopback ES does not enforce bootstrap checks, but a low
    # max_map_count can still hurt mmapfs; raise it if we are allowed to.
    if (($(sysctl -n vm.max_map_count 2>/dev/null || echo 0) < 262144)); then
      sysctl -qw vm.max_map_count=262144 >/dev/null 2>&1 || true
    fi
  fi
  rm -f "$PID_FILE"
}

# SPILLWAY_ES_SETTINGS as a canonical list: one -Ekey=value per line, sorted.
normalize_settings() {
  local s list=()
  read -r -a list <<<"$1"
  for s in "${list[@]}"; do
    [[ $s == -E* ]] || s="-E$s"
    printf '%s\n' "$s"
  done | sort -u
}

# "1g", "512m", "524288k" or plain bytes -> bytes (empty if unparsable).
heap_bytes() {
  local v="${1,,}"
  case "$v" in
    *[0-9]g) echo $((${v%g} * 1024 * 1024 * 1024)) ;;
    *[0-9]m) echo $((${v%m} * 1024 * 1024)) ;;
    *[0-9]k) echo $((${v%k} * 1024)) ;;
    *[!0-9]* | '') echo '' ;;
    *) echo "$v" ;;
  esac
}

# A node already answers on $URL: succeed only if it runs with the settings
# asked for now, else refuse (exit 4) rather than hand the caller a node that
# silently ignores them. Checked three ways:
#   * every asked -Ekey=value against the live node (_nodes/_local/settings);
#   * the settings recorded at its start (run dir file "settings") must not
#     hold more than was asked: a plain `start` against a throttled node is
#     refused too, so `npm run es:start` with no settings stays idempotent on
#     a default node and never reuses a tuned one by mistake;
#   * the heap, when SPILLWAY_ES_HEAP is given, against the live JVM's max.
check_running_settings() {
  local asked recorded flat s key want got problems=()
  asked="$(normalize_settings "$ES_SETTINGS")"
  if [[ -n $asked ]]; then
    flat="$(curl -sS --max-time 5 "$URL/_nodes/_local/settings?flat_settings=true&filter_path=nodes.*.settings" 2>/dev/null)" ||
      die "cannot read the settings of the node at $URL"
    while IFS= read -r s; do
      [[ -n $s ]] || continue
      key="${s#-E}"; want="${key#*=}"; key="${key%%=*}"
      got="$(grep -o "\"$key\":\"[^\"]*\"" <<<"$flat" | head -n1 | sed 's/^.*":"//; s/"$//')" || true
      [[ $got == "$want" ]] || problems+=("$key is '${got:-<unset>}', asked '$want'")
    done <<<"$asked"
  fi
  if [[ -f $RUN_DIR/settings ]]; then
    recorded="$(normalize_settings "$(<"$RUN_DIR/settings")")"
    while IFS= read -r s; do
      [[ -n $s ]] || continue
      grep -qxF -- "$s" <<<"$asked" || problems+=("started with $s, not asked now")
    done <<<"$recorded"
  fi
  if [[ -n ${SPILLWAY_ES_HEAP:-} ]]; then
    want="$(heap_bytes "$SPILLWAY_ES_HEAP")"
    got="$(curl -sS --max-time 5 "$URL/_nodes/_local/jvm?filter_path=nodes.*.jvm.mem.heap_max_in_bytes" 2>/dev/null |
      grep -o '"heap_max_in_bytes":[0-9]*' | head -n1 | cut -d: -f2)" || true
    [[ -n $want && $got == "$want" ]] || problems+=("heap max is ${got:-unknown} bytes, asked $SPILLWAY_ES_HEAP")
  fi
  ((${#problems[@]} == 0)) && return 0
  log "error: Elasticsearch at $URL is already running, but not with the settings asked for:"
  for s in "${problems[@]}"; do log "  - $s"; done
  log "not reusing it. Stop it first (SPILLWAY_ES_PORT=$ES_PORT scripts/es.sh stop; never the shared"
  log "node others use), or start a node with these settings on another SPILLWAY_ES_PORT."
  exit 4
}

# The same before the node answers: only the recorded settings can be compared.
check_running_settings_recorded() {
  [[ -f $RUN_DIR/settings ]] || return 0
  [[ "$(normalize_settings "$(<"$RUN_DIR/settings")")" == "$(normalize_settings "$ES_SETTINGS")" ]] && return 0
  log "error: the node starting from $RUN_DIR was started with SPILLWAY_ES_SETTINGS='$(<"$RUN_DIR/settings")', not '$ES_SETTINGS'"
  log "not reusing it. Stop it first (SPILLWAY_ES_PORT=$ES_PORT scripts/es.sh stop), or use another SPILLWAY_ES_PORT."
  exit 4
}

cmd_start() {
  local t0=$SECONDS t0r=$EPOCHREALTIME pid body
  if body="$(health 0)"; then
    check_running_settings
    log "already running at $URL (version $(es_version)) with the settings asked for, nothing to do"
    return 0
  fi
  take_lock
  if pid="$(running_pid)"; then
    # Ours, but not healthy (yet): give it the usual time rather than restarting.
    check_running_settings_recorded
    log "process $pid is running but not healthy yet; waiting"
  else
    [[ -x $JAVA17_HOME/bin/java ]] || die "no JDK at $JAVA17_HOME (set SPILLWAY_ES_JAVA_HOME)"
    command -v curl >/dev/null || die "curl not found"
    if curl -s --max-time 2 -o /dev/null "$URL/"; then
      die "something else answers on $URL; not starting on top of it"
    fi
    ensure_user
    ensure_install
    build_settings
    prepare_run_dir
    printf '%s' "$ES_SETTINGS" >"$RUN_DIR/settings"
    log "starting Elasticsearch $ES_VERSION on $URL as $ES_USER (run dir $RUN_DIR)"
    # -d daemonizes: the CLI returns once the node has started (or failed).
    # (-q would be nice but the CLI rejects it together with -d.)
    # cd: start from a dir the ES user may enter (the caller's cwd may be under
    # /root); the server itself runs with path.logs as its working dir.
    if ! (cd "$ES_HOME" && as_es_user env -u JAVA_HOME \
      ES_JAVA_HOME="$JAVA17_HOME" \
      ES_PATH_CONF="$RUN_DIR/config" ES_TMPDIR="$RUN_DIR/tmp" \
      ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${SPILLWAY_ES_JAVA_OPTS:-}" \
      "$ES_HOME/bin/elasticsearch" -d -p "$PID_FILE" "${SETTINGS[@]}" \
      >"$RUN_DIR/logs/console.log" 2>&1 9>&-); then
      # 9>&-: the daemonized node must not inherit the lock, or a later stop
      # would wait on it for the lock's whole timeout.
      log "Elasticsearch failed to start"
      log_tail console.log
      exit 1
    fi
  fi
  local deadline=$((t0 + START_TIMEOUT)) left
  while :; do
    left=$((deadline - SECONDS))
    if ((left <= 0)); then
      log "Elasticsearch did not reach yellow within ${START_TIMEOUT}s"
      log_tail
      exit 1
    fi
    if body="$(health $((left < 10 ? left : 10)))"; then break; fi
    if ! running_pid >/dev/null; then
      log "Elasticsearch exited during startup"
      log_tail
      exit 1
    fi
    sleep 1
  done
  log "Elasticsearch $(es_version) is up at $URL (pid $(running_pid || echo '?')) after $(elapsed "$t0r")s"
}

cmd_stop() {
  take_lock
  local pid i
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running (no live pid in $PID_FILE)"
    if curl -s --max-time 2 -o /dev/null "$URL/"; then
      log "warning: something still answers on $URL, but it was not started from $RUN_DIR"
    fi
    return 0
  fi
  log "stopping Elasticsearch (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  # A clean shutdown flushes and releases the data dir lock; give it 60 s.
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after 60s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

# A crash on purpose: no flush, no clean release of the data dir. The next
# start replays the translog, which is what the chaos suite wants to prove.
cmd_kill() {
  take_lock
  local pid i
  if ! pid="$(running_pid)"; then
    log "not running (no live pid in $PID_FILE)"
    return 0
  fi
  log "killing Elasticsearch (pid $pid) with SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$PID_FILE"
  log "killed"
}

cmd_status() {
  local pid body
  if pid="$(running_pid)"; then
    log "process: running (pid $pid, run dir $RUN_DIR)"
  else
    log "process: no live pid in $PID_FILE"
  fi
  if body="$(health 0)"; then
    log "cluster at $URL is up (version $(es_version)):"
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
