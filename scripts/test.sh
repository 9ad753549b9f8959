#!/usr/bin/env bash
# Builds gemmsift and runs every test: C++ (GoogleTest, RapidCheck, CLI), Python (pytest), then the
# C++ tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="$(nproc)"
PY=/usr/bin/python3  # Debian's python3, which has python3-pytest

echo "== release build (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGEMMSIFT_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"
echo "== C++ tests"
ctest --test-dir build --output-on-failure -j"$JOBS"
echo "== Python tests"
GEMMSIFT_LIBRARY="$PWD/build/libgemmsift.so" "$PY" -m pytest -q tests/python

echo "== ASan + UBSan build"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGEMMSIFT_SANITIZE=ON \
  -DGEMMSIFT_BUILD_BENCH=OFF -DGEMMSIFT_WERROR=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== C++ tests under sanitizers"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS"
echo "== libFuzzer targets (clang), ${FUZZ_SECONDS:=60} s each"
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGEMMSIFT_FUZZ=ON \
  -DGEMMSIFT_SANITIZE=ON -DGEMMSIFT_BUILD_TESTS=OFF -DGEMMSIFT_BUILD_BENCH=OFF -DGEMMSIFT_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$JOBS"
run_fuzz() {  # target, seed files...
  local target=$1
  shift
  local corpus="build-fuzz/corpus/$target"
  rm -rf "$corpus" && mkdir -p "$corpus" && cp "$@" "$corpus"/
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
    "build-fuzz/fuzz/$target" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=4096 -print_final_stats=0 \
    -artifact_prefix="build-fuzz/$target-" "$corpus" 2>&1 | tail -n 2
}
run_fuzz lut_parse_fuzz tests/lut/good/*.json $(ls tests/lut/bad/*.json | grep -v expected.json)
build/gemmsift model save analytical -o build-fuzz/analytical.safetensors >/dev/null
run_fuzz safetensors_fuzz build-fuzz/analytical.safetensors
run_fuzz model_load_fuzz build-fuzz/analytical.safetensors models/*.safetensors

echo "== all tests passed"
