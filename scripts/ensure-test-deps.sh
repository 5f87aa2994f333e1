#!/usr/bin/env bash
# Installs the Debian packages the tests start for real (Redis, PostgreSQL, nginx, HAProxy, wrk,
# Docker engine, busybox for test images). Idempotent and quick when everything is present.
set -euo pipefail
pkgs=(redis-server nginx-light haproxy wrk postgresql busybox-static docker.io procps passwd curl iproute2)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages for the tests: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages for the tests: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
