#!/usr/bin/env bash
# Device job: check the library loads, the torch lookup-table interop, the harness's kernel and
# timing against Inductor, and the harness's throughput. Needs .device-carry (see
# tools/gpu/prepare_carry.sh). Results under $OUT.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python LD_LIBRARY_PATH=$PWD/.device-carry
export GEMMSIFT_LIBRARY=$PWD/.device-carry/libgemmsift.so TRITON_CACHE_DIR=/tmp/triton_cache
python3 -c "import gemmsift; print('libgemmsift', gemmsift.version(), 'from', gemmsift.library_path())"
echo "== torch lookup-table interop"
python3 tools/gpu/check_torch_lut.py .device-carry/gemmsift $OUT/torch_lut.json 2>&1 | grep -v Warning | tail -6
echo "== harness: correctness, Inductor agreement, noise"
python3 tools/gpu/validate_harness.py $OUT/validate.json 2>&1 | tail -16
echo "== harness throughput (full EXHAUSTIVE space)"
python3 -m gemmsift.collect --shapes tools/gpu/smoke_shapes.txt --dtype bf16 --layout NT --out /tmp/smoke --gpus 1 2>&1 | tail -8
cp /tmp/smoke/*.csv.gz /tmp/smoke/*.meta.json $OUT/ 2>/dev/null
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
