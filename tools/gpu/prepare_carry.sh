#!/usr/bin/env bash
# Builds what device jobs need from this machine into .device-carry/ (git-ignored): the shared
# library, the CLI and libsimdjson (not installed there). Name .device-carry in the call's carry.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh >/dev/null
rm -rf .device-carry && mkdir -p .device-carry
cp -L build/libgemmsift.so .device-carry/libgemmsift.so
cp build/gemmsift .device-carry/gemmsift
cp -L "$(ldconfig -p | awk '/libsimdjson.so.14 /{print $NF; exit}')" .device-carry/libsimdjson.so.14
ls -la .device-carry
