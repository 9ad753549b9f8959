#!/usr/bin/env bash
# Device job: several collections in one call, each with its own time limit, so the call returns
# inside the device tool's 10 minutes with valid (possibly partial) datasets.
#   bash tools/gpu/job_multi.sh SHAPES:DTYPE:LAYOUT:SAMPLE:SECONDS[:COMPILE_SECONDS] ...
# COMPILE_SECONDS stops compiling after that long; problems not fully compiled wait for a rerun.
# Both count from the collection's start: SECONDS - COMPILE_SECONDS is what is left to time (at
# 200 configs a problem one H200 times about 170 rows a second; session 19 left 17 s and timed
# a third of what it had compiled). Since session 20 a problem still being timed at SECONDS is
# dropped (before, it ran on: session 20 lost a call that way, 26 s over on one large problem);
# leave some 20 s after SECONDS for the python start, the merge and the copy inside the device
# tool's limit. Two runs in one call: give each its own OUT (OUT=$OUT/a ...).
# A dataset of this GPU already in data/ (data/<gpu>_<dtype>_<layout>_<shapes>.csv.gz) is resumed:
# its problems are kept and not timed again (RESUME=0: measure everything anew; RESUME_DIR=DIR: look
# in DIR instead of data/). COLLECT_FLAGS is added to every collection, e.g. "--literal-sizes"
# (Inductor's kernel; resume only from datasets of that kernel, e.g. RESUME_DIR=data/literal).
# Since session 16 the collector builds with torch's ptxas (as Inductor) unless told --ptxas triton,
# and every dataset in data/ and data/literal/ was built by Triton's bundled one: resuming one of
# them needs COLLECT_FLAGS="... --ptxas triton" (the collector refuses otherwise, naming the file).
# Needs .device-carry (tools/gpu/prepare_carry.sh). Datasets, their sidecars and one log under $OUT.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python LD_LIBRARY_PATH=$PWD/.device-carry
export GEMMSIFT_LIBRARY=$PWD/.device-carry/libgemmsift.so TRITON_CACHE_DIR=/tmp/triton_cache
nvidia-smi --query-gpu=index,name,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr 'A-Z' 'a-z' | sed 's/^nvidia //; s/ /-/g')
for spec in "$@"; do
  IFS=: read -r shapes dtype layout sample secs csecs <<<"$spec"
  echo "== $(date +%T) collect $shapes $dtype $layout sample=$sample time-limit=$secs compile-limit=${csecs:-0}"
  resume=()
  earlier="${RESUME_DIR:-data}/${gpu}_${dtype}_${layout}_${shapes}.csv.gz"
  if [ "${RESUME:-1}" = 1 ] && [ -f "$earlier" ]; then resume=(--resume-from "$earlier"); fi
  python3 -m gemmsift.collect --shapes "data/shapes/$shapes.txt" --dtype "$dtype" --layout "$layout" \
    --sample "$sample" --time-limit "$secs" --compile-limit "${csecs:-0}" "${resume[@]}" ${COLLECT_FLAGS:-} --out "/tmp/collect/${shapes}_${dtype}_${layout}" 2>&1 | tee -a $OUT/collect.log \
    | grep -v "\] [0-9]*/[0-9]* " | tail -6
  cp /tmp/collect/${shapes}_${dtype}_${layout}/*.csv.gz /tmp/collect/${shapes}_${dtype}_${layout}/*.meta.json $OUT/
done
gzip -f $OUT/collect.log
ls -la $OUT
