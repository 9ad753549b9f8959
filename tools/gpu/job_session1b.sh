#!/usr/bin/env bash
# Re-time the test_llm suite with the GPU spin before each start event (compile cached on a warm
# machine), then a short Inductor comparison. Results under $OUT.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python LD_LIBRARY_PATH=$PWD/.device-carry
export GEMMSIFT_LIBRARY=$PWD/.device-carry/libgemmsift.so TRITON_CACHE_DIR=/tmp/triton_cache
rm -rf /tmp/collect2
python3 -m gemmsift.collect --shapes data/shapes/test_llm.txt --dtype bf16 --layout NT --out /tmp/collect2 \
  2>&1 | tee $OUT/collect.log | grep -v "\] [0-9]*/" | tail -5
cp /tmp/collect2/*.csv.gz /tmp/collect2/*.meta.json $OUT/ 2>/dev/null
GEMMSIFT_VALIDATE_SHAPES=2048x2048x2048,64x8192x4096,129x4097x513,4096x4096x4096 GEMMSIFT_VALIDATE_SKIP_CORRECTNESS=1 \
  timeout 75 python3 tools/gpu/validate_harness.py $OUT/validate.json 2>&1 | grep -v -i warn | tail -7
