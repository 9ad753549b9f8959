"""The harness's kernel (gemmsift.collect.kernel) on the GPU: the literal kernel (M, N, K and the
strides compiled in, `--literal-sizes`) computes the right product where a stride is not a multiple
of 16, and compiles those strides in, which is what makes it Inductor's kernel in speed there
(docs/collection.md, session 16: the arguments kernel spilled 238 registers on 1000^3 with
128x128x64 s3 w4, the all-literal kernel none). Needs torch, Triton and a CUDA GPU.

    PYTHONPATH=python GEMMSIFT_LIBRARY=build/libgemmsift.so python3 tests/gpu/test_collect_kernel_torch.py [--json OUT]
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
from gemmsift.collect.toolchain import use_inductor_ptxas  # noqa: E402

use_inductor_ptxas()  # as the collector's default, before anything compiles

import torch  # noqa: E402

from gemmsift import Config  # noqa: E402
from gemmsift.collect import kernel  # noqa: E402
from gemmsift.collect.harness import TOLERANCE  # noqa: E402

# Strides off 16: even (K = 1500 and 1000, N = 3000) and odd (513, 4097, 777).
SHAPES = [(777, 3000, 1500), (1000, 1000, 1000), (129, 4097, 513), (1, 1000, 333)]
CONFIGS = [Config(128, 128, 64, 8, 3, 4), Config(64, 128, 32, 8, 3, 4), Config(16, 32, 128, 8, 4, 2)]


def rel_error(c, a, b):
    ref = a.double() @ b.double()
    return ((c.double() - ref).norm() / ref.norm()).item()


def test_literal_kernel_is_right_on_strides_off_16():
    for dtype, layouts in (("bf16", ("NT", "NN", "TN")), ("fp16", ("NT",)), ("fp32", ("NT",))):
        for layout in layouts:
            for m, n, k in SHAPES:
                a, b, c = kernel.operands(m, n, k, dtype, layout, seed=3)
                for cfg in CONFIGS:
                    c.fill_(float("nan"))
                    kernel.launch(a, b, c, cfg, literal_sizes=True)
                    err = rel_error(c, a, b)
                    assert err <= TOLERANCE[dtype], (dtype, layout, (m, n, k), str(cfg), err)


def test_literal_kernel_compiles_the_strides_in():
    """On 1000^3 NT a stride of 1000 as an argument proves no alignment and the large tile spills;
    compiled in, it does not (the session 16 probe: 238 spilled registers against none)."""
    a, b, c = kernel.operands(1000, 1000, 1000, "bf16", "NT", seed=3)
    cfg = Config(128, 128, 64, 8, 3, 4)
    literal = kernel.launch(a, b, c, cfg, literal_sizes=True)
    arguments = kernel.launch(a, b, c, cfg, literal_sizes=False)
    torch.cuda.synchronize()
    assert literal.n_spills == 0, literal.n_spills
    assert arguments.n_spills > 0, arguments.n_spills


def test_specialization_key_tells_layouts_and_strides_apart():
    cfg = Config(64, 64, 32, 8, 3, 4)
    keys = {kernel.specialization_key(1000, 1000, 1000, "bf16", lay, cfg, literal_sizes=True) for lay in ("NN", "NT", "TN", "TT")}
    assert len(keys) == 4
    assert (kernel.specialization_key(1000, 1000, 1000, "bf16", "NT", cfg, literal_sizes=True)
            != kernel.specialization_key(1000, 1000, 1008, "bf16", "NT", cfg, literal_sizes=True))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gpu_runner import run_tests
    sys.exit(run_tests(globals()))
