#!/usr/bin/env bash
# First device call of a session: environment facts, Inductor space fixture, torch/triton sources.
set -u
export PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv
  python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, 'cuda', torch.version.cuda)"
  ldd --version | head -1; g++ --version | head -1; which cmake ninja nvcc
  ls /usr/lib/x86_64-linux-gnu | grep -E 'libfmt|libz\.so' ; nproc; free -g | head -2
} > $OUT/env.txt 2>&1
cat $OUT/env.txt
python3 tools/gpu/capture_inductor_spaces.py $OUT/inductor_spaces.json
TP=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
TR=$(python3 -c "import triton, os; print(os.path.dirname(triton.__file__))")
tar -C "$TP/.." -cJf $OUT/torch_inductor_src.tar.xz --exclude='__pycache__' torch/_inductor 2>&1 | tail -2
tar -C "$TR/.." -cJf $OUT/triton_src.tar.xz --exclude='__pycache__' --exclude='*.so' --exclude='backends/nvidia/bin' --exclude='backends/nvidia/lib' --exclude='backends/nvidia/include' --exclude='_C' triton 2>&1 | tail -2
ls -la $OUT
