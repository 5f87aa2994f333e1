#!/usr/bin/env bash
# Installs the Debian packages the tests start for real (Redis, PostgreSQL, nginx, HAProxy, wrk,
# Docker engine, busybox for test images). Idempotent and quick when everything is present.
set -euo pipefail
pkgs=(redis-server nginx-light haproxy wrk postgresql busybox-static docker.io procps passwd curl iproute2)
# herd convert's integration test runs the exports: podman kube play, docker-compose (Debian's 1.29)
pkgs+=(podman catatonit docker-compose)
# the dashboard's browser test (Chromium driven by playwright-core); metrics are checked by promtool
# and scraped by a real Prometheus
pkgs+=(chromium prometheus)
# `herd systemd`'s unit is checked by systemd-analyze verify
pkgs+=(systemd)
# `herd completion` scripts are run by the shells they are for
pkgs+=(zsh fish)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# This machine refuses the rlimits podman sets by default (Debian ships no containers.conf in /etc,
# so writing one never conflicts with the package); an existing file is left alone.
if [ ! -f /etc/containers/containers.conf ] && [ "$(id -u)" -eq 0 ]; then
  mkdir -p /etc/containers && printf '[containers]\ndefault_ulimits = []\n' >/etc/containers/containers.conf
fi
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
