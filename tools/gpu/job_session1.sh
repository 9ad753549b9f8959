#!/usr/bin/env bash
# Session 1's last device job: the test suite's LLM shapes on H100 (full space), then the harness
# validation. Results under $OUT.
set -u
bash tools/gpu/job_collect.sh data/shapes/test_llm.txt bf16 NT 0
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python LD_LIBRARY_PATH=$PWD/.device-carry
export GEMMSIFT_LIBRARY=$PWD/.device-carry/libgemmsift.so TRITON_CACHE_DIR=/tmp/triton_cache
echo "== harness: correctness, Inductor agreement, noise"
timeout 200 python3 tools/gpu/validate_harness.py $OUT/validate.json 2>&1 | grep -v -i warn | tail -14
