"""Prints the source of the running torch's autotune benchmarking, the code gemmsift.inductor wraps
(AlgorithmSelectorCache.benchmark_choices, the benchmarker's benchmark_gpu and benchmark, how a
Triton template and an ATen choice are timed), so the wrappers can be checked against the torch
that runs rather than a published copy. Run on the GPU machine:  python3 tools/gpu/torch_sources.py > FILE"""
import inspect

import torch
from torch._inductor import autotune_process, select_algorithm
from torch._inductor.runtime import benchmarking

print("torch", torch.__version__)
b = benchmarking.benchmarker
print("benchmarking.benchmarker:", type(b), "MRO:", [c.__name__ for c in type(b).__mro__])
for mod in (select_algorithm, autotune_process):
    print(f"{mod.__name__}.benchmarker is benchmarking.benchmarker:", getattr(mod, "benchmarker", None) is b)
targets = [("AlgorithmSelectorCache.benchmark_choices", select_algorithm.AlgorithmSelectorCache.benchmark_choices)]
for name in ("benchmark_gpu", "benchmark"):
    for cls in type(b).__mro__:
        if name in vars(cls):
            targets.append((f"{cls.__name__}.{name}", vars(cls)[name]))
for owner, name in ((select_algorithm, "TritonTemplateCaller"), (select_algorithm, "ExternKernelCaller"),
                    (autotune_process, "GPUDeviceBenchmarkMixin"), (autotune_process, "BenchmarkRequest")):
    cls = getattr(owner, name, None)
    for meth in ("benchmark", "do_bench"):
        if cls is not None and meth in vars(cls):
            targets.append((f"{name}.{meth}", vars(cls)[meth]))
for name, obj in targets:
    print(f"\n# ---- {name}")
    try:
        print(inspect.getsource(inspect.unwrap(getattr(obj, "__func__", obj))))
    except (OSError, TypeError) as e:
        print(f"(no source: {e})")
