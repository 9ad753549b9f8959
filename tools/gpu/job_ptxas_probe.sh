#!/usr/bin/env bash
# Device job: does the ptxas version explain the gap left between triton_mm with literal sizes and
# Inductor's kernel on the largest problems (docs/collection.md, session 13)? Prints which ptxas
# Triton uses with and without torch._inductor imported, then runs kernel_literal_probe.py once
# per ptxas (Triton's bundled one, torch's own) with TRITON_PTXAS_PATH set for the whole process,
# so Inductor's kernels and gemmsift's are built by the same ptxas, each run with fresh caches.
# Needs .device-carry (tools/gpu/prepare_carry.sh). Under $OUT: one probe table per ptxas and a log.
set -u
source tools/gpu/device_env.sh
python3 - <<'PY' 2>&1 | tee $OUT/ptxas.log
from gemmsift.collect.toolchain import ptxas_in_use
print("collector (torch, no Inductor):", ptxas_in_use())
import torch._inductor.async_compile  # noqa: F401
print("after importing torch._inductor.async_compile:", ptxas_in_use())
PY
bundled=$(python3 -c "from gemmsift.collect.toolchain import bundled_ptxas; print(bundled_ptxas())")
torchs=$(python3 -c "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'bin', 'ptxas'))")
for which in bundled torch; do
  path=$bundled; [ $which = torch ] && path=$torchs
  echo "== $(date +%T) ptxas $which: $path: $($path --version | tail -1)" | tee -a $OUT/ptxas.log
  rm -rf /tmp/p_$which && mkdir -p /tmp/p_$which/tmp /tmp/p_$which/out
  TRITON_PTXAS_PATH=$path TMPDIR=/tmp/p_$which/tmp TRITON_CACHE_DIR=/tmp/p_$which/triton TORCHINDUCTOR_CACHE_DIR=/tmp/p_$which \
  GEMMSIFT_PROBE_SHAPES=${PROBE_SHAPES:-8192x8192x4096,6144x16384x3072,4096x4096x4096} GEMMSIFT_PROBE_VARIANTS="M N K literal" \
    python3 tools/gpu/kernel_literal_probe.py /tmp/p_$which/out >>$OUT/ptxas.log 2>&1
  cp /tmp/p_$which/out/kernel_literal_probe.txt $OUT/kernel_literal_probe_$which.txt
  grep -rh '"\.version\|^\.version' /tmp/p_$which --include=*.ptx | sort | uniq -c | tee -a $OUT/ptxas.log
done
gzip -f $OUT/ptxas.log
cat $OUT/kernel_literal_probe_*.txt
