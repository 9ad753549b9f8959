"""gemmsift.inductor inside real torch.compile (needs torch 2.11, Triton and a CUDA GPU).

    PYTHONPATH=python GEMMSIFT_LIBRARY=build/libgemmsift.so python3 tests/gpu/test_inductor_torch.py [--json OUT]

Runs under pytest too. Each test compiles small matmuls with max-autotune and fresh caches and
checks what Inductor benchmarked (through its feedback savers), the result, and the fallbacks.
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

import torch
import torch._dynamo
from torch._inductor import config as ic
from torch._inductor import select_algorithm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
import gemmsift  # noqa: E402
import gemmsift.inductor as gi  # noqa: E402

M, N, K = 1000, 1536, 2048
# Each test must reach autotuning: no FX graph or autotune cache hits. (Not force_disable_caches:
# with it, torch 2.11's autotune benchmarking slowed to about a second per choice after the
# first compile in a process.)
NO_CACHES = {"fx_graph_cache": False, "autotune_local_cache": False}
_seen = []


def _saver(timings, name, input_nodes, *rest):
    _seen.append({"op": str(name), "names": [str(getattr(c, "name", "")) for c in timings],
                  "descriptions": [str(getattr(c, "description", "")) for c in timings],
                  "ms": [float(t) for t in timings.values()]})


select_algorithm.add_feedback_saver(_saver)


def compile_and_run(fn, *args, dynamic=False, space="DEFAULT"):
    """Compiles fn with max-autotune and fresh caches; returns (output, autotune records)."""
    torch._dynamo.reset()
    _seen.clear()
    with ic.patch(max_autotune=True, max_autotune_gemm_search_space=space, **NO_CACHES):
        out = torch.compile(fn, dynamic=dynamic)(*args)
    torch.cuda.synchronize()
    return out, list(_seen)


def triton_count(rec):
    return sum(1 for n in rec["names"] if gi.is_triton_mm_name(n))


def rel_err(out, ref):
    return ((out.double() - ref.double()).norm() / ref.double().norm()).item()


def linear_inputs(m=M, n=N, k=K):
    torch.manual_seed(0)
    return (torch.randn(m, k, device="cuda", dtype=torch.bfloat16),
            torch.randn(n, k, device="cuda", dtype=torch.bfloat16))


def nt(x, w):
    return x @ w.t()


def stock_default_count():
    return len(gemmsift.space(gemmsift.Problem(M, N, K, dtype="bf16", layout="NT"), "DEFAULT"))


def expect_stock(recs):
    """Inductor's DEFAULT list was benchmarked (less the configs that fail to compile: the largest
    tiles run out of shared memory on some shapes)."""
    assert recs and stock_default_count() - 2 <= triton_count(recs[0]) <= stock_default_count(), \
        (triton_count(recs[0]) if recs else recs)


# -- tests ------------------------------------------------------------------------------------------

def test_top5_from_exhaustive_plus_aten():
    hook = gi.install(benchmark_space=5, model="auto")
    try:
        x, w = linear_inputs()
        out, recs = compile_and_run(nt, x, w)
        assert len(recs) == 1, recs
        assert triton_count(recs[0]) == 5, recs[0]["names"]
        assert any(not n.startswith("triton") for n in recs[0]["names"])  # ATen still competes
        assert rel_err(out, nt(x.double(), w.double())) < 1e-2
        d = hook.decisions[-1]
        assert d["space_size"] > 1000 and d["chosen"] == 5, d
        assert hook.stats["fallbacks"] == 0
        assert "gemmsift" in torch._inductor.virtualized.V.choices.uuid()
    finally:
        gi.uninstall()


def test_default_size_and_fast():
    gi.install(benchmark_space="DEFAULT", model="auto")
    try:
        x, w = linear_inputs()
        _, recs = compile_and_run(nt, x, w)
        expect_stock(recs)  # as many as the DEFAULT list, chosen from EXHAUSTIVE
        gi.install(benchmark_space="fast", model="auto")
        out, recs = compile_and_run(nt, x, w)
        assert sum(triton_count(r) for r in recs) <= 1
        assert rel_err(out, nt(x.double(), w.double())) < 1e-2
    finally:
        gi.uninstall()


def test_lut_hit_always_benchmarked_and_record_writes_the_winner():
    tmp = tempfile.mkdtemp()
    lut = os.path.join(tmp, "lut.json")
    rec = os.path.join(tmp, "record.json")
    with open(lut, "w") as f:
        json.dump({"gemmsift_lut": 1, "entries": [{"problem": {"op": "mm", "dtype": "bf16", "layout": "NT",
                                                               "m": M, "n": N, "k": K},
                                                   "configs": [{"block_m": 64, "block_n": 128, "block_k": 32, "group_m": 4,
                                                                "num_stages": 3, "num_warps": 4, "source": "test"}]}]}, f)
    hook = gi.install(benchmark_space=1, lut=lut, model="auto", record=rec)
    try:
        x, w = linear_inputs()
        out, recs = compile_and_run(nt, x, w)
        names = recs[0]["names"]
        assert triton_count(recs[0]) == 2, names
        hit = [d for d in recs[0]["descriptions"] if "BLOCK_M=64" in d and "BLOCK_N=128" in d and "GROUP_M=4" in d]
        assert hit, recs[0]["descriptions"]
        assert rel_err(out, nt(x.double(), w.double())) < 1e-2
        assert hook.stats["recorded"] == 1, hook.stats
        entry = gemmsift.LookupTable(rec).lookup(gemmsift.Problem(M, N, K, dtype="bf16", layout="NT",
                                                                  device=torch.cuda.get_device_name()))
        assert entry is not None, open(rec).read()
        c = entry["configs"][0]
        fastest = min((t, d) for t, d, n in zip(recs[0]["ms"], recs[0]["descriptions"], recs[0]["names"])
                      if gi.is_triton_mm_name(n))
        assert f"BLOCK_M={c['block_m']}," in fastest[1] + "," and abs(c["measured_us"] - fastest[0] * 1000) < 1e-3
    finally:
        gi.uninstall()


def _fallback_case(**install_kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hook = gi.install(**install_kwargs)
        try:
            x, w = linear_inputs()
            out, recs = compile_and_run(nt, x, w)
            out2, recs2 = compile_and_run(nt, *linear_inputs(M + 8))
        finally:
            gi.uninstall()
    msgs = [str(c.message) for c in caught if "gemmsift" in str(c.message)]
    expect_stock(recs)
    assert rel_err(out, nt(x.double(), w.double())) < 1e-2
    return hook, msgs


def test_corrupted_lut_warns_once_and_compiles_stock():
    bad = os.path.join(tempfile.mkdtemp(), "corrupt.json")
    with open(bad, "w") as f:
        f.write('{"gemmsift_lut": 1, "entries": [{"problem": {"m": 12,')
    hook, msgs = _fallback_case(benchmark_space=5, lut=bad, model="auto")
    assert len([m for m in msgs if "corrupt.json" in m]) == 1, msgs
    assert hook.stats["fallbacks"] == 2, hook.stats


def test_missing_model_warns_once_and_compiles_stock():
    hook, msgs = _fallback_case(benchmark_space=5, model="/nonexistent/model.safetensors")
    assert len([m for m in msgs if "model.safetensors" in m]) == 1, msgs


def test_two_benchmark_passes_time_the_list_twice_and_come_off():
    original = select_algorithm.AlgorithmSelectorCache.__dict__["benchmark_choices"]
    hook = gi.install(benchmark_space=5, model="auto", benchmark_passes=2)
    try:
        x, w = linear_inputs()
        out, recs = compile_and_run(nt, x, w)
        assert len(recs) == 1 and triton_count(recs[0]) == 5, recs
        assert hook.stats["rebenchmarked"] >= 1 and hook.stats["fallbacks"] == 0, hook.stats
        assert rel_err(out, nt(x.double(), w.double())) < 1e-2
    finally:
        gi.uninstall()
    assert select_algorithm.AlgorithmSelectorCache.__dict__["benchmark_choices"] is original


def test_gemmsift_timer_benchmarks_the_list_and_comes_off():
    from torch._inductor.runtime import benchmarking
    hook = gi.install(benchmark_space=5, model="auto", benchmark_timer="gemmsift")
    try:
        x, w = linear_inputs()
        out, recs = compile_and_run(nt, x, w)
        assert len(recs) == 1 and triton_count(recs[0]) == 5, recs
        # every choice of the list (5 Triton, ATen) went through gemmsift's timer, none failed
        assert hook.stats["gemmsift_timed"] >= 6 and hook.stats["fallbacks"] == 0, hook.stats
        assert all(0 < ms < 10 for ms in recs[0]["ms"]), recs[0]["ms"]
        assert rel_err(out, nt(x.double(), w.double())) < 1e-2
    finally:
        gi.uninstall()
    assert "benchmark_gpu" not in vars(benchmarking.benchmarker)


def test_even_strides_off_16_ranked_as_the_padded_problem_by_default():
    """777x3000x1500 NT (nn.Linear with K = 1500: strides even, off 16, 8-byte aligned): by default
    (off16 "padded") the hook benchmarks the shipped model's top 5 for 777x3008x1504, and the
    result is right."""
    hook = gi.install(benchmark_space=5, model="auto")
    try:
        assert hook.settings.off16 == "padded"
        x, w = linear_inputs(777, 3000, 1500)
        out, recs = compile_and_run(nt, x, w)
        assert rel_err(out, nt(x.double(), w.double())) < 1e-2
        assert hook.stats["fallbacks"] == 0, hook.stats
        dev = torch.cuda.get_device_name()
        model = gemmsift.Model("auto", expect_device=dev, dtype="bf16", auto_fallback=False, off16="learned")
        padded = gemmsift.select(gemmsift.Problem(777, 3008, 1504, dtype="bf16", layout="NT", device=dev),
                                 model=model, benchmark_space=5).configs
        as_is = gemmsift.select(gemmsift.Problem(777, 3000, 1500, dtype="bf16", layout="NT", device=dev),
                                model=model, benchmark_space=5).configs
        got = {str(gi.config_of_description(d)) for d, n in zip(recs[0]["descriptions"], recs[0]["names"])
               if gi.is_triton_mm_name(n)}
        assert got == {str(c) for c in padded}, (got, [str(c) for c in padded])
        assert {str(c) for c in as_is} != got
    finally:
        gi.uninstall()


def test_uninstall_restores_stock():
    gi.install(benchmark_space=2, model="auto")
    gi.uninstall()
    _, recs = compile_and_run(nt, *linear_inputs())
    expect_stock(recs)


def test_addmm_and_bmm():
    gi.install(benchmark_space=3, model="auto")
    try:
        lin = torch.nn.Linear(K, N, bias=True, device="cuda", dtype=torch.bfloat16)
        x, _ = linear_inputs()
        with torch.no_grad():
            out, recs = compile_and_run(lin, x)
            ref = torch.nn.functional.linear(x.double(), lin.weight.double(), lin.bias.double())
        assert rel_err(out, ref) < 1e-2
        assert any(r["op"] == "addmm" and triton_count(r) == 3 for r in recs), [(r["op"], triton_count(r)) for r in recs]
        a = torch.randn(8, 256, 512, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(8, 512, 384, device="cuda", dtype=torch.bfloat16)
        out, recs = compile_and_run(torch.bmm, a, b)
        assert rel_err(out, torch.bmm(a.double(), b.double())) < 1e-2
        assert recs, "bmm was not autotuned"
    finally:
        gi.uninstall()


def test_dynamic_shapes_use_hints_and_never_fail():
    hook = gi.install(benchmark_space=3, model="auto")
    try:
        x, w = linear_inputs()
        torch._dynamo.reset()
        _seen.clear()
        with ic.patch(max_autotune=True, **NO_CACHES):
            f = torch.compile(nt, dynamic=True)
            for m in (M, 333, 2048):
                xm = torch.randn(m, K, device="cuda", dtype=torch.bfloat16)
                assert rel_err(f(xm, w), nt(xm.double(), w.double())) < 1e-2
        assert hook.stats["fallbacks"] == 0, hook.stats
    finally:
        gi.uninstall()


def test_environment_variables_and_module_runner():
    script = os.path.join(tempfile.mkdtemp(), "prog.py")
    with open(script, "w") as f:
        f.write(f"""
import torch
from torch._inductor import config as ic, select_algorithm
import gemmsift.inductor as gi
seen = []
select_algorithm.add_feedback_saver(lambda t, name, nodes, *r: seen.append(sum(1 for c in t if gi.is_triton_mm_name(str(getattr(c, 'name', ''))))))
x = torch.randn({M}, {K}, device='cuda', dtype=torch.bfloat16)
w = torch.randn({N}, {K}, device='cuda', dtype=torch.bfloat16)
with ic.patch(max_autotune=True, fx_graph_cache=False, autotune_local_cache=False):
    torch.compile(lambda a, b: a @ b.t())(x, w)
print('TRITON_CHOICES', seen, gi.installed().settings)
""")
    env = dict(os.environ, GEMMSIFT_BENCHMARK_SPACE="4", GEMMSIFT_MODEL="auto",
               TRITON_CACHE_DIR=tempfile.mkdtemp(), PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-m", "gemmsift.inductor", script], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "TRITON_CHOICES [4]" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]


if __name__ == "__main__":
    from gpu_runner import run_tests
    sys.exit(run_tests(globals()))
