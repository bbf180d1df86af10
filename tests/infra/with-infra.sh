#!/usr/bin/env bash
# Runs a command with the real servers the tests need: Apache Kafka (KRaft, loopback) and a
# MongoDB-protocol server (FerretDB, SQLite backend, loopback). Each server's script prints
# `export NAME=value` lines on start. A server that cannot start here leaves its variable unset:
# its tests then skip with a reason, and under CI=true they fail instead (see tests/conftest.py).
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var/infra
# A loaded 2-core CI machine can take well over the default minute to start a JVM broker.
export LEDGER_KAFKA_START_TIMEOUT="${LEDGER_KAFKA_START_TIMEOUT:-180}"
started=()
cleanup() {
  for s in "${started[@]}"; do bash "tests/infra/$s/$s.sh" stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT INT TERM
for s in ${LEDGER_INFRA_SERVERS:-kafka ferretdb}; do
  script="tests/infra/$s/$s.sh"
  [ -f "$script" ] || continue
  t0=$SECONDS
  if out=$(bash "$script" start 2> "var/infra/$s.start.log"); then
    eval "$out"
    started+=("$s")
    grep -h '^version:' "var/infra/$s.start.log" | sed "s/^/[$s] /" || true
    echo "[$s] started in $((SECONDS - t0)) s"
  else
    echo "[$s] not started: $(tail -n 1 "var/infra/$s.start.log")"
    export "LEDGER_INFRA_${s^^}_SKIP_REASON=$(tail -n 1 "var/infra/$s.start.log")"
  fi
done
t0=$SECONDS
"$@"
rc=$?
echo "[with-infra] command finished in $((SECONDS - t0)) s (exit $rc)"
exit $rc
