#!/usr/bin/env bash
# Device job: the harness's agreement with Inductor when it compiles M, N and K in
# (validate_harness.py with GEMMSIFT_VALIDATE_LITERAL=1, the six shapes of docs/collection.md), and
# the compiled code of Inductor's kernel and of triton_mm's literal variants on a large problem
# where literal sizes leave a gap and on one where they close it (Triton's caches of
# kernel_literal_probe.py, tarred: register use with cuobjdump --dump-resource-usage, the IR with diff).
# Needs .device-carry (tools/gpu/prepare_carry.sh). Under $OUT: validate_literal.json,
# kernel_literal_probe.txt and literal_check.tar.gz (those, the logs and the compiled code).
set -u
R=/tmp/literal_check && rm -rf $R && mkdir -p $R
source tools/gpu/device_env.sh
export TRITON_CACHE_DIR=/tmp/triton_cache
echo "== $(date +%T) validate_harness, literal sizes"
GEMMSIFT_VALIDATE_LITERAL=1 \
GEMMSIFT_VALIDATE_SHAPES=2048x2048x2048,64x8192x4096,129x4097x513,4096x4096x4096,384x4096x2304,24x18432x2304 \
  python3 tools/gpu/validate_harness.py $R/validate_literal.json >$R/validate_literal.log 2>&1
grep -v "^  triton_mm_\|AUTOTUNE\|^[A-Za-z_]*mm(" $R/validate_literal.log | tail -12
echo "== $(date +%T) compiled code: ${PROBE_SHAPES:=8192x8192x4096,4096x4096x4096}"
rm -rf /tmp/asm && mkdir -p /tmp/asm/tmp  # Inductor's fresh cache (force_disable_caches) is a mkdtemp
TMPDIR=/tmp/asm/tmp TRITON_CACHE_DIR=/tmp/asm/triton TORCHINDUCTOR_CACHE_DIR=/tmp/asm GEMMSIFT_PROBE_SHAPES=$PROBE_SHAPES \
GEMMSIFT_PROBE_VARIANTS="M N K literal,all literal" \
  python3 tools/gpu/kernel_literal_probe.py $R >$R/probe.log 2>&1
tail -4 $R/probe.log
(cd /tmp/asm && find . \( -name '*.ttir' -o -name '*.ttgir' -o -name '*.ptx' -o -name '*.cubin' -o -name '*.json' \
  -o -name '*.py' \) -size -4M | tar czf $R/compiled.tar.gz -T -)
cp $R/validate_literal.json $R/kernel_literal_probe.txt $OUT/
tar czf $OUT/literal_check.tar.gz -C /tmp literal_check
ls -la $OUT
