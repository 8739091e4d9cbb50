#!/usr/bin/env bash
# Installs the Debian packages kiln builds, tests and benchmarks with. Idempotent: asks apt
# only for what is missing, so a second run is a no-op that costs a dpkg query.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries
  libssl-dev libzstd-dev libsqlite3-dev libspdlog-dev libfmt-dev libcli11-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libfuse3-dev
  # the kiln CLI reads the EC2 API's XML answers
  libpugixml-dev
  # the HTTP server of the EC2 API (Boost.Beast and Asio, header-only)
  libboost-dev
  # FUSE mounts (fusermount3, /etc/fuse.conf) for volumes as block devices
  fuse3
  # tools the tests and benchmarks drive
  restic e2fsprogs busybox-static fio zstd
  # the API throughput benchmark's load generator (bench/api/api_throughput_bench.py)
  wrk
  # the base image's PID 1 (tini-static reaps and forwards signals without busybox init's sleeps)
  tini
  # the real EC2 clients the end-to-end tests drive (AWS CLI v2, boto3 1.26, Packer 1.6)
  awscli python3-boto3 packer
  # the web console's browser test (driven by playwright-core from npm, see tests/browser)
  chromium
  # a WebSocket client for the connect endpoint's end-to-end test (Debian's python3)
  python3-websocket
)

# Node.js and npm (the web console's vendored xterm.js, the browser test's playwright-core):
# Debian's only when no node/npm is on PATH already (the machines bring Node.js 20 of their
# own; playwright-core needs >= 20).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, pinned by each package-lock.json: console/ (xterm.js, copied into the build by
# console/CMakeLists.txt) and tests/browser/ (playwright-core). `npm ci` runs only when
# node_modules is missing or older than package-lock.json (npm's own node_modules/
# .package-lock.json records the last install), so a second run costs a few stat calls.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for dir in console tests/browser; do
  installed="$root/$dir/node_modules/.package-lock.json"
  if [ ! -f "$installed" ] || [ "$root/$dir/package-lock.json" -nt "$installed" ]; then
    echo "install-deps: npm ci --prefix $dir"
    npm ci --prefix "$root/$dir" --no-audit --no-fund --loglevel=error
  fi
done
