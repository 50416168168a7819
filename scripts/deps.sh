#!/usr/bin/env bash
# Installs the Debian 12 packages Starling needs to build and test. Run as root. Packages
# already installed are not touched, and when all of them are present apt is not run at all.
set -euo pipefail

PACKAGES=(
  # toolchains and build tools
  build-essential cmake ninja-build ccache g++ git pkg-config
  clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14 lld
  # libraries
  libboost-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev
  libre2-dev libxxhash-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  protobuf-compiler libprotobuf-dev libsnappy-dev
  # testing and benchmarking
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # real peers of the end-to-end tests (started by the tests themselves, never as services)
  prometheus prometheus-node-exporter
  # the web UI: built with npm at build time, tested in headless Chromium
  nodejs chromium
  # used by the scripts and by people poking at a running agent
  curl ca-certificates
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Some Node.js builds bundle npm; Debian's nodejs needs its npm package.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run this script as root to install them" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packaged daemons (prometheus, node exporter) must not start: tests run their own instances.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
