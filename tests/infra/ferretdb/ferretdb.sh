#!/usr/bin/env bash
# A MongoDB-protocol server for tests: FerretDB v1.24.2 (SQLite backend) on loopback.
#
#   ferretdb.sh start   build (cached) and start in the background; on success prints exactly
#                       `export LEDGER_TEST_MONGO_URL=mongodb://127.0.0.1:PORT/` on stdout
#   ferretdb.sh stop    stop the server this script started (by its PID file only)
#   ferretdb.sh env     print the export line of the running server
#
# On failure the LAST stderr line is a one-line reason: tests/infra/with-infra.sh shows it as
# the skip reason. Environment: LEDGER_CACHE (binary cache), LEDGER_INFRA_DIR (state, logs, data).
set -euo pipefail

FERRET_VERSION=v1.24.2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cache="${LEDGER_CACHE:-$HOME/.cache/supervision-ledger}/ferretdb-$FERRET_VERSION"
bin="$cache/ferretdb-test"
state="${LEDGER_INFRA_DIR:-$repo/var/infra}/ferretdb"
pidfile="$state/ferretdb.pid"
urlfile="$state/url"
logfile="$state/ferretdb.log"
buildlog="$state/build.log"

die() { echo "ferretdb: $*" >&2; exit 1; }

# The sources' hash names the build, so an edited main.go or go.sum is rebuilt, not reused.
source_hash() {
  (cd "$here" && cat go.mod go.sum main.go) | sha256sum | cut -c1-16
}

# Alive and really our binary: a recycled PID must never be signalled.
our_pid_alive() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "ferretdb-test"
}

# FerretDB v1.24.2 needs Go >= 1.24. Go 1.21+ can fetch that toolchain itself through the module
# proxy; anything older (Debian 12's golang-go is 1.19) cannot, so say so plainly.
check_go() {
  command -v go >/dev/null 2>&1 || die "go is not installed (FerretDB $FERRET_VERSION needs Go >= 1.24)"
  local v minor
  v="$(go env GOVERSION 2>/dev/null || true)"
  minor="$(sed -nE 's/^go1\.([0-9]+).*/\1/p' <<<"$v")"
  [ -n "$minor" ] || return 0 # a devel build: let the build decide
  if [ "$minor" -lt 21 ]; then
    die "$v is too old: FerretDB $FERRET_VERSION needs Go >= 1.24 (Debian 12's golang-go is 1.19)"
  elif [ "$minor" -lt 24 ]; then
    export GOTOOLCHAIN=go1.24.3 # FerretDB's own toolchain line; fetched via the module proxy
  fi
}

build() {
  check_go
  local want have
  want="$(source_hash)"
  have="$(cat "$cache/source.sha256" 2>/dev/null || true)"
  if [ -x "$bin" ] && [ "$want" = "$have" ]; then
    return 0
  fi
  mkdir -p "$cache"
  local tmp="$bin.tmp.$$" t0=$SECONDS
  echo "building FerretDB $FERRET_VERSION into $cache (first run takes minutes)" >&2
  # A temporary name then rename: a concurrent start never runs a half-written binary.
  if ! (cd "$here" && GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -o "$tmp" .) >"$buildlog" 2>&1; then
    rm -f "$tmp"
    die "go build failed: $(grep -m1 -v '^#' "$buildlog" || true) [log: $buildlog]"
  fi
  mv -f "$tmp" "$bin"
  echo "$want" >"$cache/source.sha256"
  echo "built in $((SECONDS - t0)) s" >&2
}

cmd_start() {
  mkdir -p "$state"
  if [ -f "$pidfile" ] && our_pid_alive "$(cat "$pidfile")"; then
    die "already running (pid $(cat "$pidfile")); run '$0 stop' first"
  fi
  rm -f "$pidfile" "$urlfile"
  build

  # A fresh data directory every start: tests must not see an earlier run's databases.
  rm -rf "$state/data"
  mkdir -p "$state/data"

  # Port 0: the server binds a free loopback port itself and writes its URI to $urlfile, so
  # there is no window in which another process can take a port we picked.
  nohup "$bin" -dir "$state/data" -port 0 -addr-file "$urlfile" -log-level warn \
    >"$logfile" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidfile"

  local deadline=$((SECONDS + 60)) url=""
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      die "server exited at start: $(tail -n 1 "$logfile" 2>/dev/null) [log: $logfile]"
    fi
    [ -z "$url" ] && [ -s "$urlfile" ] && url="$(cat "$urlfile")"
    if [ -n "$url" ] && "$bin" -ping "$url" -timeout 2s >/dev/null 2>&1; then
      break
    fi
    if [ $SECONDS -ge $deadline ]; then
      kill_pid "$pid"
      die "no answer to ping within 60 s [log: $logfile]"
    fi
    sleep 0.2
  done
  echo "export LEDGER_TEST_MONGO_URL=$url"
  echo "version: $("$bin" -version)" >&2
}

kill_pid() {
  local pid=$1 i
  our_pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    our_pid_alive "$pid" || return 0
    sleep 0.1
  done
  echo "ferretdb: pid $pid ignored TERM for 10 s; sending KILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  [ -f "$pidfile" ] || { echo "ferretdb: not running (no $pidfile)" >&2; return 0; }
  kill_pid "$(cat "$pidfile")"
  rm -f "$pidfile" "$urlfile"
}

cmd_env() {
  if [ -f "$pidfile" ] && our_pid_alive "$(cat "$pidfile")" && [ -s "$urlfile" ]; then
    echo "export LEDGER_TEST_MONGO_URL=$(cat "$urlfile")"
  else
    die "not running"
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
