#!/usr/bin/env bash
# Installs gemmsift's build and test dependencies from Debian's packages (Debian 12).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  cmake ninja-build g++ clang libclang-rt-14-dev \
  libeigen3-dev nlohmann-json3-dev libsimdjson-dev libcsv-dev libcli11-dev libfmt-dev zlib1g-dev libssl-dev \
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev \
  python3 python3-pytest python3-numpy >/dev/null
echo "gemmsift: dependencies installed"
