"""gemmsift.triton.prune inside a real triton.autotune (needs torch, Triton and a CUDA GPU).

    PYTHONPATH=python GEMMSIFT_LIBRARY=build/libgemmsift.so python3 tests/gpu/test_triton_prune_torch.py [--json OUT]
"""
import os
import sys
import warnings

import torch
import triton
import triton.language as tl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
import gemmsift.triton as gt  # noqa: E402

CONFIGS = [triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8}, num_stages=s, num_warps=w)
           for bm in (64, 128) for bn in (64, 128) for bk in (32, 64) for s, w in ((3, 4), (4, 8))]


def make_kernel(pruner, do_bench=None, configs=CONFIGS):
    @triton.autotune(configs=configs, key=["M", "N", "K"], do_bench=do_bench,
                     prune_configs_by={"early_config_prune": pruner} if pruner is not None else None)
    @triton.jit
    def matmul(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
               BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
        pid = tl.program_id(0)
        grid_m = tl.cdiv(M, BLOCK_M)
        grid_n = tl.cdiv(N, BLOCK_N)
        width = GROUP_M * grid_n
        group = pid // width
        size = min(grid_m - group * GROUP_M, GROUP_M)
        pid_m = group * GROUP_M + (pid % size)
        pid_n = (pid % width) // size
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, K, BLOCK_K):
            a = tl.load(a_ptr + rm[:, None] * sam + (k0 + rk)[None, :] * sak,
                        mask=(rm[:, None] < M) & ((k0 + rk)[None, :] < K), other=0.0)
            b = tl.load(b_ptr + (k0 + rk)[:, None] * sbk + rn[None, :] * sbn,
                        mask=((k0 + rk)[:, None] < K) & (rn[None, :] < N), other=0.0)
            acc += tl.dot(a, b)
        tl.store(c_ptr + rm[:, None] * scm + rn[None, :] * scn, acc.to(tl.bfloat16),
                 mask=(rm[:, None] < M) & (rn[None, :] < N))
    return matmul


def run(kernel, m=1000, n=1536, k=2048, transposed_b=True):
    torch.manual_seed(0)
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16).t() if transposed_b else \
        torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    c = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
    grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)  # noqa: E731
    kernel[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
    ref = a.double() @ b.double()
    err = ((c.double() - ref).norm() / ref.norm()).item()
    return err, dict(getattr(kernel, "configs_timings", None) or {})


def test_top3_benchmarked_and_result_right():
    kernel = make_kernel(gt.prune(k=3, model="auto"))
    err, timings = run(kernel)
    assert err < 1e-2, err
    assert len(timings) == 3, len(timings)  # only the model's top 3 of 16 were timed


def test_missing_model_warns_once_and_times_every_config():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kernel = make_kernel(gt.prune(k=3, model="/nonexistent/model.safetensors"))
        err, timings = run(kernel)
        err2, _ = run(kernel, m=777)
    msgs = [str(c.message) for c in caught if "gemmsift.triton.prune" in str(c.message)]
    assert err < 1e-2 and err2 < 1e-2
    assert len(msgs) == 1, msgs
    assert len(timings) == len(CONFIGS), len(timings)


def test_gemmsift_do_bench_times_the_pruned_configs_in_milliseconds():
    # do_bench=gemmsift.triton.do_bench inside triton.autotune, with the pruner: the top 5 timed by
    # gemmsift's timer, the quantiles in milliseconds, the winner the fastest by median, the
    # product right; then the same kernel re-tuned by Triton's do_bench for a sanity check of units.
    kernel = make_kernel(gt.prune(k=5, model="auto"), do_bench=gt.do_bench)
    err, timings = run(kernel, m=512, n=1024, k=1024)
    assert err < 1e-2, err
    assert len(timings) == 5, len(timings)
    for config, t in timings.items():
        assert len(t) == 3 and t[1] <= t[0] <= t[2], (config, t)  # median, 20th, 80th percentile
        assert 0.001 < t[0] < 5.0, (config, t)  # milliseconds: a 512x1024x1024 GEMM takes microseconds
    assert kernel.best_config == min(timings, key=timings.get)
    stock = make_kernel(gt.prune(k=5, model="auto"))
    _, stock_timings = run(stock, m=512, n=1024, k=1024)
    assert set(stock_timings) == set(timings)
    ratio = min(v[0] for v in stock_timings.values()) / min(v[0] for v in timings.values())
    assert 0.2 < ratio < 5.0, ratio  # same units, same kernels: Triton's and gemmsift's within 5x

    # A config that cannot launch (too much shared memory) raises in do_bench's first call, and
    # the autotuner records it as never fastest, as with Triton's own do_bench.
    bad = triton.Config({"BLOCK_M": 256, "BLOCK_N": 256, "BLOCK_K": 128, "GROUP_M": 8}, num_stages=5, num_warps=8)
    kernel = make_kernel(None, do_bench=gt.do_bench, configs=CONFIGS[:3] + [bad])
    err, timings = run(kernel, m=512, n=1024, k=1024)
    assert err < 1e-2, err
    assert timings[bad] == [float("inf")] * 3, timings[bad]
    assert kernel.best_config is not bad


if __name__ == "__main__":
    from gpu_runner import run_tests
    sys.exit(run_tests(globals()))
