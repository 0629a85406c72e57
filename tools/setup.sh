#!/usr/bin/env bash
# Installs the Debian packages msbench needs, only those missing. Safe to run repeatedly.
# Needs root (or sudo) the first time on a fresh Debian 12 machine; nothing else is fetched.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev          # libFuzzer targets
  clang-format                      # tools/format.sh
  googletest libgtest-dev libbenchmark-dev
  libev-dev libc-ares-dev libcurl4-openssl-dev liburing-dev
  libssl-dev openssl curl           # the TLS transport; certificates and a client in its tests
  libfmt-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  python3 python3-matplotlib python3-scipy python3-pytest
  python3-yaml                      # reads the Kubernetes manifests in their test
  slurmctld slurmd slurm-client munge  # a real 3-node Slurm in tests/cli/test_slurm.py
  valgrind dnsmasq-base nginx-light
  wrk nghttp2-client                # references in the load benchmarks (tools/bench-load.py)
  chromium                          # renders the HTML report in its test (reports/tests/test_render.py)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
