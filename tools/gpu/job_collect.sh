#!/usr/bin/env bash
# Device job: collect one dataset (and optionally run the harness validation first).
#   bash tools/gpu/job_collect.sh SHAPES DTYPE LAYOUT SAMPLE [validate]
# COLLECT_FLAGS is added to the collection, e.g. "--literal-sizes" (Inductor's kernel; docs/collection.md).
# Needs .device-carry (tools/gpu/prepare_carry.sh). Results under $OUT.
set -u
SHAPES=$1 DTYPE=$2 LAYOUT=$3 SAMPLE=$4
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python LD_LIBRARY_PATH=$PWD/.device-carry
export GEMMSIFT_LIBRARY=$PWD/.device-carry/libgemmsift.so TRITON_CACHE_DIR=/tmp/triton_cache
nvidia-smi --query-gpu=index,name,clocks.sm,clocks.max.sm,temperature.gpu --format=csv
if [ "${5:-}" = validate ]; then
  echo "== harness: correctness, Inductor agreement, noise"
  python3 tools/gpu/validate_harness.py $OUT/validate.json 2>&1 | grep -v -i warn | tail -14
fi
echo "== collect $SHAPES $DTYPE $LAYOUT sample=$SAMPLE"
python3 -m gemmsift.collect --shapes "$SHAPES" --dtype "$DTYPE" --layout "$LAYOUT" --sample "$SAMPLE" \
  ${COLLECT_FLAGS:-} --out /tmp/collect 2>&1 | tee $OUT/collect.log | grep -v "^\S* \[gpu[0-9]\] [0-9]*/" | tail -12
cp /tmp/collect/*.csv.gz /tmp/collect/*.meta.json $OUT/ 2>/dev/null
grep -c "\] [0-9]*/" $OUT/collect.log
