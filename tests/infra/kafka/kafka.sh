#!/usr/bin/env bash
# A real Apache Kafka 4.x broker for the tests: one KRaft node (broker+controller) on loopback,
# assembled from Maven Central jars (see pom.xml next to this script), no distribution tarball.
#
#   kafka.sh start    fetch jars (cached), FRESH data dir, format, start, wait until ready;
#                     stdout: `export LEDGER_TEST_KAFKA_BOOTSTRAP=127.0.0.1:PORT`
#                             `export LEDGER_TEST_KAFKA_SCRIPT=/abs/path/kafka.sh`
#                     stderr: progress, `version: Apache Kafka X.Y.Z`; on failure the last
#                     stderr line is a one-line reason and the exit status is 1.
#   kafka.sh stop     SIGTERM the broker from the PID file, SIGKILL after 20 s.
#   kafka.sh restart  stop, then start again on the same data dir, ports and cluster id.
#   kafka.sh env      re-print the export lines of the running broker.
#   kafka.sh status   one line on stderr; exit 0 if running.
#
# Environment:
#   LEDGER_CACHE       jar cache root (default ~/.cache/supervision-ledger); jars go to
#                      $LEDGER_CACHE/kafka-<version>/libs.
#   LEDGER_INFRA_DIR   state root (default <repo>/var/infra); this broker uses its kafka/ subdir
#                      (server.properties, kafka.pid, state.env, data/, logs/server.log).
#   LEDGER_KAFKA_START_TIMEOUT  seconds to wait for readiness (default 60).
#   LEDGER_KAFKA_JAVA_OPTS      extra JVM options.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
REPO="$(cd "$SCRIPT_DIR/../../.." && pwd)"

INFRA_ROOT="${LEDGER_INFRA_DIR:-$REPO/var/infra}"
case "$INFRA_ROOT" in /*) ;; *) INFRA_ROOT="$PWD/$INFRA_ROOT" ;; esac
DIR="$INFRA_ROOT/kafka"
PIDFILE="$DIR/kafka.pid"
STATE="$DIR/state.env"
PROPS="$DIR/server.properties"
LOGS="$DIR/logs"
START_TIMEOUT="${LEDGER_KAFKA_START_TIMEOUT:-60}"

log() { echo "kafka: $*" >&2; }
# The one-line reason must be the LAST stderr line (with-infra.sh reports `tail -n 1`).
die() { echo "kafka: $*" >&2; exit 1; }

pom_value() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$SCRIPT_DIR/pom.xml" | head -n 1; }
KAFKA_VERSION="$(pom_value kafka.version)"
[ -n "$KAFKA_VERSION" ] || die "cannot read <kafka.version> from $SCRIPT_DIR/pom.xml"
CACHE="${LEDGER_CACHE:-$HOME/.cache/supervision-ledger}/kafka-$KAFKA_VERSION"
case "$CACHE" in /*) ;; *) CACHE="$PWD/$CACHE" ;; esac
LIBS="$CACHE/libs"

PY="$(command -v python3 || true)"
[ -n "$PY" ] || PY="$(command -v python || true)"

# ---------------------------------------------------------------------------------------------
# prerequisites and jars

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka $KAFKA_VERSION needs Java 17+)"
  local v major
  v="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
  major="${v%%.*}"
  [ "$major" = "1" ] && major="$(echo "$v" | cut -d. -f2)"
  case "$major" in '' | *[!0-9]*) die "cannot parse java version from: $(java -version 2>&1 | head -n 1)" ;; esac
  [ "$major" -ge 17 ] || die "java $v is too old (Kafka $KAFKA_VERSION broker needs Java 17+)"
}

need_python() {
  [ -n "$PY" ] || die "python3 not found on PATH (used for port picking and the readiness check)"
}

pom_hash() { cksum < "$SCRIPT_DIR/pom.xml" | cut -d' ' -f1; }

fetch_jars() {
  local want
  want="$(pom_hash)"
  if [ -f "$CACHE/.complete" ] && [ "$(cat "$CACHE/.complete")" = "$want" ] \
     && ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (needed once to fetch Kafka $KAFKA_VERSION jars into $CACHE)"
  mkdir -p "$CACHE" || die "cannot create jar cache dir $CACHE"
  local tmp="$CACHE/libs.tmp.$$" t0=$SECONDS
  rm -rf "$tmp"
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION jars from Maven Central into $LIBS"
  if ! (cd "$CACHE" && mvn -B -q -Dstyle.color=never -f "$SCRIPT_DIR/pom.xml" dependency:copy-dependencies \
          -DincludeScope=runtime -DoutputDirectory="$tmp") >"$CACHE/fetch.log" 2>&1; then
    rm -rf "$tmp"
    local why
    why="$(sed 's/\x1b\[[0-9;]*m//g' "$CACHE/fetch.log" | grep -m 1 '^\[ERROR\]' | sed 's/^\[ERROR\] *//' | cut -c1-300 || true)"
    die "maven fetch of org.apache.kafka:kafka_2.13:$KAFKA_VERSION failed: ${why:-see log} (log: $CACHE/fetch.log)"
  fi
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
    || die "maven fetch produced no kafka_2.13-$KAFKA_VERSION.jar (see $CACHE/fetch.log)"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  echo "$want" > "$CACHE/.complete"
  log "fetched $(ls "$LIBS" | wc -l) jars in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------------------------
# process handling: only ever the PID we wrote, and only while it is still our broker

# True if $1 is alive and is the kafka.Kafka JVM started on this data dir's server.properties.
# (A zombie has an empty cmdline, so it counts as dead.)
is_our_broker() {
  local pid="$1" cmd
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  if [ -r "/proc/$pid/cmdline" ]; then
    cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)"
  else
    cmd="$(ps -p "$pid" -o args= 2>/dev/null || true)"
  fi
  case "$cmd" in *"kafka.Kafka $PROPS"*) return 0 ;; *) return 1 ;; esac
}

# True while $1 exists and is not a zombie (used during startup: right after `&` the child
# may not have exec'd java yet, so its cmdline is still this script's).
pid_alive() {
  local pid="$1" st
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    st="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [ "$st" != "Z" ] || return 1
  fi
  return 0
}

read_pid() { [ -f "$PIDFILE" ] && cat "$PIDFILE" 2>/dev/null || true; }

stop_broker() {
  local pid i
  pid="$(read_pid)"
  if [ -z "$pid" ]; then
    return 0
  fi
  if is_our_broker "$pid"; then
    log "stopping broker pid $pid (SIGTERM)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      is_our_broker "$pid" || break
      sleep 0.1
    done
    if is_our_broker "$pid"; then
      log "broker pid $pid still running after 20 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        is_our_broker "$pid" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$PIDFILE"
}

# ---------------------------------------------------------------------------------------------
# config, format, launch, readiness

free_ports() {
  "$PY" - <<'PY'
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

write_properties() {
  local port="$1" cport="$2"
  cat > "$PROPS" <<EOF
# Written by tests/infra/kafka/kafka.sh: one KRaft node (broker+controller) on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data

# Single node: internal topics with one replica, and few partitions (faster first group join).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
default.replication.factor=1
min.insync.replicas=1

group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
}

format_storage() {
  local cid
  cid="$(java -Xmx256m -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>>"$LOGS/format.log" | tail -n 1)" \
    || { tail -n 20 "$LOGS/format.log" >&2 || true; die "kafka.tools.StorageTool random-uuid failed (see $LOGS/format.log)"; }
  [ -n "$cid" ] || die "kafka.tools.StorageTool random-uuid printed no cluster id (see $LOGS/format.log)"
  if ! java -Xmx256m -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cid" -c "$PROPS" >>"$LOGS/format.log" 2>&1; then
    tail -n 20 "$LOGS/format.log" >&2 || true
    die "kafka.tools.StorageTool format failed (see $LOGS/format.log)"
  fi
  echo "$cid"
}

launch() {
  mkdir -p "$LOGS"
  cp "$SCRIPT_DIR/log4j2.xml" "$DIR/log4j2.xml"
  local opts=(-Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
              -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
              -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
              "-Dkafka.logs.dir=$LOGS" "-Dlog4j2.configurationFile=$DIR/log4j2.xml")
  # shellcheck disable=SC2206
  local extra=(${LEDGER_KAFKA_JAVA_OPTS:-})
  echo "=== $(date '+%F %T') launching kafka.Kafka" >> "$LOGS/kafka.out"
  # stdin/stdout/stderr all redirected: the caller's $(...) must not wait on the JVM.
  nohup java "${opts[@]}" ${extra[@]+"${extra[@]}"} -cp "$LIBS/*" kafka.Kafka "$PROPS" \
    >>"$LOGS/kafka.out" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
}

# One readiness probe: ApiVersions v0, then Metadata v1 must list this broker (a fenced or
# not-yet-registered broker is not listed). Exit 0 when ready.
probe() {
  "$PY" - "$1" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])

def call(sock, api_key, version, corr, body=b""):
    client = b"ledger-ready"
    req = struct.pack(">hhih", api_key, version, corr, len(client)) + client + body
    sock.sendall(struct.pack(">i", len(req)) + req)
    hdr = b""
    while len(hdr) < 4:
        chunk = sock.recv(4 - len(hdr))
        if not chunk:
            raise EOFError
        hdr += chunk
    (n,) = struct.unpack(">i", hdr)
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    (got,) = struct.unpack(">i", buf[:4])
    assert got == corr
    return buf[4:]

try:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        r = call(s, 18, 0, 1)                       # ApiVersions v0
        err, count = struct.unpack(">hi", r[:6])
        if err != 0:
            sys.exit(1)
        ranges = {}
        for i in range(count):
            k, lo, hi = struct.unpack(">hhh", r[6 + 6 * i: 12 + 6 * i])
            ranges[k] = (lo, hi)
        lo, hi = ranges.get(3, (99, -1))
        if not lo <= 1 <= hi:                        # no Metadata v1: ApiVersions is enough
            sys.exit(0)
        r = call(s, 3, 1, 2, struct.pack(">i", 0))  # Metadata v1, no topics
        (nb,) = struct.unpack(">i", r[:4])
        pos, ports = 4, []
        for _ in range(nb):
            node, hlen = struct.unpack(">ih", r[pos:pos + 6]); pos += 6 + hlen
            (p,) = struct.unpack(">i", r[pos:pos + 4]); pos += 4
            (rlen,) = struct.unpack(">h", r[pos:pos + 2]); pos += 2 + max(rlen, 0)
            ports.append(p)
        sys.exit(0 if port in ports else 1)
except Exception:
    sys.exit(1)
PY
}

fail_start() {
  {
    echo "---- last lines of $LOGS/server.log ----"
    tail -n 40 "$LOGS/server.log" 2>/dev/null || echo "(no server.log)"
    echo "---- last lines of $LOGS/kafka.out ----"
    tail -n 15 "$LOGS/kafka.out" 2>/dev/null || echo "(no kafka.out)"
  } >&2
  stop_broker
  die "$1"
}

wait_ready() {
  local port="$1" pid t0=$SECONDS
  pid="$(read_pid)"
  while :; do
    pid_alive "$pid" || fail_start "broker (pid $pid) exited during startup (see $LOGS/server.log)"
    if probe "$port"; then
      log "ready on 127.0.0.1:$port after $((SECONDS - t0)) s (pid $pid)"
      return 0
    fi
    [ $((SECONDS - t0)) -lt "$START_TIMEOUT" ] \
      || fail_start "broker not ready on 127.0.0.1:$port after ${START_TIMEOUT} s (see $LOGS/server.log)"
    sleep 0.5
  done
}

print_version() {
  local v
  v="$(grep -ho 'Kafka version: [^ ]*' "$LOGS/server.log" 2>/dev/null | tail -n 1 | sed 's/Kafka version: //' || true)"
  echo "version: Apache Kafka ${v:-$KAFKA_VERSION}" >&2
}

print_env() {
  # shellcheck disable=SC1090
  . "$STATE"
  echo "export LEDGER_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$PORT"
  echo "export LEDGER_TEST_KAFKA_SCRIPT=$SCRIPT"
}

# ---------------------------------------------------------------------------------------------
# subcommands

cmd_start() {
  need_java
  need_python
  fetch_jars
  stop_broker                               # an old broker of ours on this dir, if any
  rm -rf "$DIR"
  mkdir -p "$DIR/data" "$LOGS" || die "cannot create data dir $DIR"
  local ports port cport cid
  ports="$(free_ports)" || die "cannot pick free loopback ports"
  read -r port cport <<<"$ports"
  write_properties "$port" "$cport"
  cid="$(format_storage)"
  printf 'PORT=%s\nCONTROLLER_PORT=%s\nCLUSTER_ID=%s\nKAFKA_VERSION=%s\nLIBS=%q\n' \
    "$port" "$cport" "$cid" "$KAFKA_VERSION" "$LIBS" > "$STATE"
  log "starting Kafka $KAFKA_VERSION (cluster $cid) on 127.0.0.1:$port, controller :$cport, data $DIR"
  launch
  wait_ready "$port"
  print_version
  print_env
}

cmd_restart() {
  [ -f "$STATE" ] && [ -f "$PROPS" ] || die "nothing to restart: no broker state in $DIR (run start first)"
  need_java
  need_python
  # shellcheck disable=SC1090
  . "$STATE"
  [ -d "$LIBS" ] || fetch_jars
  stop_broker
  log "restarting Kafka $KAFKA_VERSION (cluster $CLUSTER_ID) on 127.0.0.1:$PORT, same data dir"
  launch
  wait_ready "$PORT"
  print_version
  print_env
}

cmd_stop() {
  stop_broker
}

cmd_env() {
  [ -f "$STATE" ] && is_our_broker "$(read_pid)" || die "no running broker for $DIR"
  print_env
}

cmd_status() {
  if [ -f "$STATE" ] && is_our_broker "$(read_pid)"; then
    # shellcheck disable=SC1090
    . "$STATE"
    log "running: pid $(read_pid), 127.0.0.1:$PORT, data $DIR"
  else
    die "not running ($DIR)"
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_restart ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) echo "usage: $0 {start|stop|restart|env|status}" >&2; exit 2 ;;
esac
