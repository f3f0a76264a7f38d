#!/usr/bin/env bash
# A local single-node Apache Kafka (KRaft: broker and controller in one
# process) for development, tests and CI, beside the Elasticsearch of
# scripts/es.sh and the OpenSearch of scripts/opensearch.sh:
#
#   scripts/kafka.sh start|stop|status|kill|pid
#
# The broker is org.apache.kafka:kafka_2.13 (and kafka-tools) from Maven
# Central with their runtime dependencies, resolved once by
# `mvn dependency:copy-dependencies` on a generated pom and cached under
# /var/cache/spillway/kafka/<version>/lib, plus slf4j-simple for its logs.
# The log directory is formatted with kafka.tools.StorageTool, then
# kafka.Kafka runs on the machine's JDK 17, on loopback. Kafka does not
# refuse root, so it runs as the calling user.
#
# Listeners (all on 127.0.0.1), for the Kafka output's tests:
#   PORT      PLAINTEXT
#   PORT+1    the KRaft controller
#   PORT+2    SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; the test-only
#             user "spillway", password "spillway-secret" (SCRAM users are
#             added once the broker is up)
#   PORT+3    SSL: a certificate from a test CA made with openssl in the run
#             dir (tls/ca.pem); client certificates requested, not required
#
# Environment:
#   SPILLWAY_KAFKA_VERSION   4.1.1
#   SPILLWAY_KAFKA_PORT      9092 (PLAINTEXT listener; the controller on PORT+1)
#   SPILLWAY_KAFKA_HEAP      512m
#   SPILLWAY_KAFKA_JAVA_HOME /usr/lib/jvm/java-17-openjdk-amd64
#   SPILLWAY_KAFKA_START_TIMEOUT 120 (seconds)
#   SPILLWAY_KAFKA_FRESH=1   wipe the log directory before starting
set -euo pipefail

KAFKA_VERSION="${SPILLWAY_KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${SPILLWAY_KAFKA_PORT:-9092}"
CONTROLLER_PORT=$((KAFKA_PORT + 1))
SASL_PORT=$((KAFKA_PORT + 2))
SSL_PORT=$((KAFKA_PORT + 3))
TEST_USER=spillway
TEST_PASSWORD=spillway-secret
KAFKA_HOST=127.0.0.1
KAFKA_HEAP="${SPILLWAY_KAFKA_HEAP:-512m}"
START_TIMEOUT="${SPILLWAY_KAFKA_START_TIMEOUT:-120}"
JAVA17_HOME="${SPILLWAY_KAFKA_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
SLF4J_VERSION=1.7.36 # the slf4j-api that kafka_2.13 4.x depends on
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

if [[ $EUID -eq 0 ]]; then
  CACHE_BASE=/var/cache/spillway
  STATE_BASE=/var/lib/spillway
else
  CACHE_BASE="${XDG_CACHE_HOME:-$HOME/.cache}/spillway"
  STATE_BASE="$CACHE_BASE"
fi
KAFKA_CACHE="$CACHE_BASE/kafka"
KAFKA_LIB="$KAFKA_CACHE/$KAFKA_VERSION/lib"
RUN_DIR="${SPILLWAY_KAFKA_RUN_DIR:-$STATE_BASE/kafka-run/$KAFKA_PORT}"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/logs/kafka.log"
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

log() { printf '[kafka.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

java_bin() { printf '%s/bin/java' "$JAVA17_HOME"; }

# The broker answers once its process is alive, its port accepts, and its
# log (a new file per start) says the server started. (A Java admin tool
# would take seconds of JVM start per probe on a busy machine.)
broker_up() {
  running_pid >/dev/null || return 1
  (exec 3<>"/dev/tcp/$KAFKA_HOST/$KAFKA_PORT") 2>/dev/null || return 1
  grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null
}

running_pid() {
  local pid cmdline
  [[ -s $PID_FILE ]] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ $cmdline == *kafka.Kafka* ]] || return 1
  printf '%s\n' "$pid"
}

log_tail() {
  [[ -s $LOG_FILE ]] || return 0
  log "---- last lines of $LOG_FILE ----"
  tail -n 40 "$LOG_FILE" >&2
}

take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 600 9 || die "could not lock $RUN_DIR/.lock"
}

# Resolve the jars once, through a temp dir renamed at the end, so an
# interrupted run never leaves half a classpath.
ensure_install() {
  [[ -f $KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed to fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION)"
  mkdir -p "$KAFKA_CACHE/$KAFKA_VERSION"
  local tmp
  tmp="$(mktemp -d "$KAFKA_CACHE/.download.XXXXXX")"
  DOWNLOAD_TMP="$tmp"
  trap 'rm -rf "$DOWNLOAD_TMP"' EXIT
  cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>spillway</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
  if ! (cd "$tmp" && mvn -q -B -Dstyle.color=never "$DEP_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$tmp/lib") >"$tmp/mvn.log" 2>&1; then
    grep -m5 ERROR "$tmp/mvn.log" >&2 || tail -n 20 "$tmp/mvn.log" >&2
    die "could not fetch Kafka $KAFKA_VERSION (does it exist in Maven Central?)"
  fi
  [[ -f $tmp/lib/kafka_2.13-$KAFKA_VERSION.jar ]] || die "maven did not produce kafka_2.13-$KAFKA_VERSION.jar"
  rm -rf "$KAFKA_LIB"
  mv "$tmp/lib" "$KAFKA_LIB"
  rm -rf "$tmp"
  trap - EXIT
  log "installed Kafka $KAFKA_VERSION ($(ls "$KAFKA_LIB" | wc -l) jars) into $KAFKA_LIB"
}

# A test CA and a broker certificate for 127.0.0.1/localhost, made once per run dir.
ensure_tls() {
  local d="$RUN_DIR/tls"
  [[ -s $d/broker.pem && -s $d/ca.pem ]] && return 0
  command -v openssl >/dev/null || die "openssl not found (needed for the SSL listener's test certificates)"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=spillway kafka test CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile broker.ext -out broker.crt
    cat broker.key broker.crt >broker.pem
  ) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "could not make the test certificates"; }
}

write_config() {
  local h=$KAFKA_HOST
  cat >"$RUN_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$h:$CONTROLLER_PORT
listeners=PLAINTEXT://$h:$KAFKA_PORT,CONTROLLER://$h:$CONTROLLER_PORT,SASL_PLAINTEXT://$h:$SASL_PORT,SSL://$h:$SSL_PORT
advertised.listeners=PLAINTEXT://$h:$KAFKA_PORT,SASL_PLAINTEXT://$h:$SASL_PORT,SSL://$h:$SSL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$TEST_USER="$TEST_PASSWORD";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$RUN_DIR/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$RUN_DIR/tls/ca.pem
ssl.client.auth=requested
log.dirs=$RUN_DIR/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=104857600
PROPS
}

# The SCRAM credentials of the test user live in the cluster metadata: add
# them once per data directory (a marker file says it was done).
ensure_scram_user() {
  local marker="$RUN_DIR/data/.spillway-scram-user"
  [[ -f $marker ]] && return 0
  local mechanism ok=1
  # One mechanism per request: the broker refuses two changes of one user in one request.
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    if ! timeout 120 "$(java_bin)" -Xmx128m -cp "$KAFKA_LIB/*" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$TEST_USER" \
      --add-config "$mechanism=[password=$TEST_PASSWORD]" >>"$LOG_FILE" 2>&1; then
      ok=0
      break
    fi
  done
  if ((ok)); then
    touch "$marker"
  else
    log "could not add the SCRAM user $TEST_USER (see $LOG_FILE)"
    return 1
  fi
}

cmd_start() {
  local t0=$SECONDS pid
  if broker_up; then
    ensure_scram_user || exit 1
    log "already running at $BOOTSTRAP (pid $(running_pid)), nothing to do"
    return 0
  fi
  take_lock
  if pid="$(running_pid)"; then
    log "process $pid is running but not answering yet; waiting"
  else
    [[ -x $(java_bin) ]] || die "no JDK at $JAVA17_HOME (set SPILLWAY_KAFKA_JAVA_HOME)"
    if (exec 3<>"/dev/tcp/$KAFKA_HOST/$KAFKA_PORT") 2>/dev/null; then
      die "something else listens on $BOOTSTRAP; not starting on top of it"
    fi
    ensure_install
    if [[ ${SPILLWAY_KAFKA_FRESH:-0} == 1 ]]; then
      log "SPILLWAY_KAFKA_FRESH=1: wiping $RUN_DIR/data"
      rm -rf "$RUN_DIR/data"
    fi
    mkdir -p "$RUN_DIR"/{data,logs}
    if [[ -f $LOG_FILE ]]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi
    ensure_tls
    write_config
    rm -f "$PID_FILE"
    local java=(env -u KAFKA_OPTS "$(java_bin)" -cp "$KAFKA_LIB/*"
      -Dorg.slf4j.simpleLogger.defaultLogLevel=info -Dorg.slf4j.simpleLogger.showDateTime=true)
    if [[ ! -f $RUN_DIR/data/meta.properties ]]; then
      log "formatting $RUN_DIR/data (kafka.tools.StorageTool)"
      "${java[@]}" -Xmx256m kafka.tools.StorageTool format --standalone \
        -t "$("${java[@]}" -Xmx64m kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)" \
        -c "$RUN_DIR/server.properties" >>"$LOG_FILE" 2>&1 || { log_tail; die "could not format $RUN_DIR/data"; }
    fi
    log "starting Kafka $KAFKA_VERSION on $BOOTSTRAP (controller :$CONTROLLER_PORT, heap $KAFKA_HEAP, run dir $RUN_DIR)"
    # setsid: the broker outlives this script; 9>&-: it must not inherit the lock.
    setsid "${java[@]}" -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
      kafka.Kafka "$RUN_DIR/server.properties" </dev/null >>"$LOG_FILE" 2>&1 9>&- &
    echo $! >"$PID_FILE"
  fi
  local deadline=$((t0 + START_TIMEOUT))
  until broker_up; do
    if ((SECONDS >= deadline)); then
      log "Kafka did not answer within ${START_TIMEOUT}s"
      log_tail
      exit 1
    fi
    if ! running_pid >/dev/null; then
      log "Kafka exited during startup"
      log_tail
      exit 1
    fi
    sleep 1
  done
  ensure_scram_user || exit 1
  log "Kafka $KAFKA_VERSION is up at $BOOTSTRAP (pid $(running_pid || echo '?')) after $((SECONDS - t0))s"
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
  log "stopping Kafka (pid $pid)"
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
  log "killing Kafka (pid $pid) with SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 100 || true
  rm -f "$PID_FILE"
  log "killed"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then log "process: running (pid $pid, run dir $RUN_DIR)"; else log "process: no live pid in $PID_FILE"; fi
  if broker_up; then
    log "broker at $BOOTSTRAP answers (Kafka $KAFKA_VERSION)"
    return 0
  fi
  log "broker at $BOOTSTRAP does not answer"
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
