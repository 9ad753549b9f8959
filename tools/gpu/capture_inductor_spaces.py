"""Capture Inductor's CUDA mm config lists (DEFAULT and EXHAUSTIVE) as a test fixture.

Runs on the GPU machine (torch + triton installed). Writes JSON to the path given as argv[1].
The fixture is the source of truth for gemmsift's search spaces (DESIGN.md contract 1).
"""
import json
import platform
import sys

import torch
import triton
from torch._inductor import config as inductor_config
from torch._inductor.graph import GraphLowering  # noqa: F401  (import side effects)
from torch._inductor.sizevars import SizeVarAllocator
from torch._inductor.virtualized import V

try:
    from torch._inductor.template_heuristics.triton import CUDAMMTemplateConfigHeuristic as Heur
except ImportError:  # older layouts
    from torch._inductor.template_heuristics.triton import CUDAConfigHeuristic as Heur

SHAPES = [
    # tiny
    (1, 1, 1), (1, 16, 16), (2, 3, 5), (8, 8, 8), (16, 16, 16), (15, 17, 33),
    # odd
    (17, 33, 65), (100, 100, 100), (127, 255, 511), (129, 257, 4097), (1000, 1000, 1000),
    (4097, 4097, 4097), (3000, 5000, 7000), (33, 4095, 65),
    # skinny
    (1, 4096, 4096), (16, 8192, 1024), (8192, 16, 64), (4096, 1, 4096), (32, 32, 16384),
    (16384, 64, 64), (64, 16384, 128), (2, 11008, 4096), (3, 5000, 7), (48, 48, 100000),
    # common
    (128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
    (4096, 4096, 4096), (8192, 8192, 8192), (4096, 11008, 4096), (4096, 4096, 11008),
    (2048, 14336, 4096), (8192, 1024, 8192), (512, 4096, 1024),
    # huge
    (16384, 16384, 16384), (65536, 8192, 4096), (16384, 1, 16384),
]


class _G:
    pass


def main(out_path):
    g = _G()
    g.sizevars = SizeVarAllocator()
    heur = Heur()
    props = torch.cuda.get_device_properties(0)
    result = {
        "torch": torch.__version__,
        "triton": triton.__version__,
        "python": platform.python_version(),
        "device": torch.cuda.get_device_name(0),
        "sm_count": props.multi_processor_count,
        "shared_memory_per_block_optin": getattr(props, "shared_memory_per_block_optin", None),
        "heuristic_class": f"{type(heur).__module__}.{type(heur).__qualname__}",
        "max_autotune_prune_choices_based_on_shared_mem": getattr(
            inductor_config, "max_autotune_prune_choices_based_on_shared_mem", None),
        "multi_kernel_hints": list(getattr(inductor_config, "multi_kernel_hints", []) or []),
        "cases": [],
    }
    with V.set_graph_handler(g):
        for space in ("DEFAULT", "EXHAUSTIVE"):
            inductor_config.max_autotune_gemm_search_space = space
            gen = heur.get_exhaustive_mm_configs() if space == "EXHAUSTIVE" else heur.get_mm_configs()
            for (m, n, k) in SHAPES:
                for dtype_size in (2, 4):
                    configs = []
                    for c in gen(m, n, k, dtype_size=dtype_size, op_name="mm"):
                        kw = c.kwargs
                        configs.append([kw["BLOCK_M"], kw["BLOCK_N"], kw["BLOCK_K"],
                                        kw.get("GROUP_M", 8), c.num_stages, c.num_warps])
                    result["cases"].append({"space": space, "m": m, "n": n, "k": k,
                                            "dtype_size": dtype_size, "configs": configs})
    with open(out_path, "w") as f:
        json.dump(result, f, separators=(",", ":"))
    sizes = {}
    for c in result["cases"]:
        sizes.setdefault(c["space"], []).append(len(c["configs"]))
    print("captured", len(result["cases"]), "cases;",
          {k: (min(v), max(v)) for k, v in sizes.items()})


if __name__ == "__main__":
    main(sys.argv[1])
