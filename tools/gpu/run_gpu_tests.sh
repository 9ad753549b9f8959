#!/usr/bin/env bash
# The tests that need torch, Triton and a GPU: gemmsift.inductor inside torch.compile and
# gemmsift.triton.prune inside triton.autotune (issue 6), and the harness's kernel (issue 4,
# tests/gpu/test_collect_kernel_torch.py, since session 16). Run on the GPU machine from the
# repository root:
#   bash tools/gpu/run_gpu_tests.sh [OUT_DIR]
# Uses build/libgemmsift.so, or .device-carry/ when present (tools/gpu/prepare_carry.sh). Writes
# OUT_DIR/{collect,inductor,prune}_tests.json and .log; exits non-zero when a test fails.
set -u
out=${1:-${OUT:-/tmp/gemmsift-gpu-tests}}
mkdir -p "$out"
lib=$PWD/build
[ -f .device-carry/libgemmsift.so ] && lib=$PWD/.device-carry
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python LD_LIBRARY_PATH=$lib GEMMSIFT_LIBRARY=$lib/libgemmsift.so
python3 -c "import torch, triton; print(torch.cuda.get_device_name(), 'torch', torch.__version__, 'triton', triton.__version__)"
rc=0
for t in collect prune inductor; do
  file=tests/gpu/test_triton_prune_torch.py; [ $t = inductor ] && file=tests/gpu/test_inductor_torch.py
  [ $t = collect ] && file=tests/gpu/test_collect_kernel_torch.py
  python3 "$file" --json "$out/${t}_tests.json" >"$out/${t}_tests.log" 2>&1 || rc=1
  grep -E "^(pass|FAIL) |passed$" "$out/${t}_tests.log"
done
exit $rc
