#!/usr/bin/env bash
# System packages the tests need that pip cannot bring: Java and Maven (Kafka broker) and Go
# (FerretDB). Installs only what is missing. (Page tests in Chromium will add `chromium` and a
# CJK font here when they arrive.)
set -euo pipefail
need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v go >/dev/null || need+=(golang-go)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
