#!/usr/bin/env bash
# System packages the tests need that pip cannot bring: Java and Maven (Kafka broker), Go
# (FerretDB), Debian's Chromium and a CJK font (page tests in a real browser; without the font
# Chinese renders as empty boxes). Installs only what is missing.
set -euo pipefail
need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v go >/dev/null || need+=(golang-go)
command -v chromium >/dev/null || need+=(chromium)
fc-list :lang=zh family 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
