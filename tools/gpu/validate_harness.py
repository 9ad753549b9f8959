"""Checks the collection harness on the GPU machine (issue 4, deliverable 1):

1. correctness of the Triton kernel for every dtype and layout, on aligned and odd shapes;
2. agreement with Inductor's own autotune timings of the same configs (torch 2.11 max-autotune,
   DEFAULT list, Triton backend only): Spearman rank correlation and the winner, per shape;
3. measurement noise: the spread of re-timing the same configs.

Writes JSON to argv[1] and prints a table.
"""

import json
import math
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import gemmsift  # noqa: E402
import gemmsift.inductor  # noqa: E402
from gemmsift import Config, Problem  # noqa: E402
from gemmsift.collect import kernel  # noqa: E402
from gemmsift.collect.harness import TOLERANCE, compile_all  # noqa: E402
from gemmsift.collect.timing import Timer, autotune_timer  # noqa: E402
from gemmsift.collect.toolchain import ptxas_in_use, use_inductor_ptxas  # noqa: E402
from gemmsift.inductor import config_of_description  # noqa: E402
from gemmsift.stats import spearman  # noqa: E402


CORRECTNESS_SHAPES = [(256, 512, 128), (1000, 777, 333), (1, 4096, 4096)]
CORRECTNESS_CONFIGS = [Config(64, 64, 32, 8, 2, 4), Config(128, 128, 64, 8, 3, 8), Config(16, 32, 128, 8, 4, 2)]
INDUCTOR_SHAPES = [(2048, 2048, 2048), (4096, 4096, 4096), (1024, 4096, 11008), (64, 8192, 4096),
                   (3000, 1000, 777), (16384, 1024, 1024), (129, 4097, 513)]
if os.environ.get("GEMMSIFT_VALIDATE_SHAPES"):
    INDUCTOR_SHAPES = [tuple(map(int, s.split("x"))) for s in os.environ["GEMMSIFT_VALIDATE_SHAPES"].split(",")]
NOISE_SHAPE = (2048, 2048, 2048)
# GEMMSIFT_VALIDATE_LITERAL=1: every check runs the kernel with M, N, K and the strides compiled in
# (`python -m gemmsift.collect --literal-sizes`, Inductor's way) instead of as arguments.
# GEMMSIFT_VALIDATE_PTXAS=triton: leave the ptxas to Triton (TRITON_PTXAS_PATH, else its bundled
# one) instead of torch's, which Inductor's compiles use (`--ptxas` of the collector); before
# session 16 the harness's kernels were built by Triton's and Inductor's by torch's, once Inductor
# had set the variable in the process.
PTXAS = os.environ.get("GEMMSIFT_VALIDATE_PTXAS", "inductor")
if PTXAS == "inductor":
    use_inductor_ptxas()
LITERAL = os.environ.get("GEMMSIFT_VALIDATE_LITERAL", "0") == "1"
# GEMMSIFT_VALIDATE_INDUCTOR_TIMER=gemmsift: Inductor's autotuning of its DEFAULT list times the
# choices with gemmsift's timer (gemmsift.inductor.install(benchmark_space="SAME",
# benchmark_timer="gemmsift"): the list, the kernels and the autotuning stay Inductor's), to tell
# Inductor's timing error apart from the harness's. GEMMSIFT_VALIDATE_INDUCTOR_RUNS=N: Inductor
# autotunes each shape N times (compiled anew each time); each config's median of the N timings
# is compared.
INDUCTOR_TIMER = os.environ.get("GEMMSIFT_VALIDATE_INDUCTOR_TIMER", "inductor")
if INDUCTOR_TIMER not in ("inductor", "gemmsift"):
    sys.exit(f"GEMMSIFT_VALIDATE_INDUCTOR_TIMER must be inductor or gemmsift, got {INDUCTOR_TIMER!r}")
INDUCTOR_RUNS = int(os.environ.get("GEMMSIFT_VALIDATE_INDUCTOR_RUNS", "1"))


def precompile():
    """Compiles every variant the checks below need, in parallel, into the Triton cache."""
    work = []
    for dtype in ("bf16", "fp16", "fp32"):
        for layout in ("NN", "NT", "TN", "TT"):
            for (m, n, k) in CORRECTNESS_SHAPES:
                work += [(m, n, k, dtype, layout, c) for c in CORRECTNESS_CONFIGS]
    for (m, n, k) in INDUCTOR_SHAPES + [NOISE_SHAPE]:
        work += [(m, n, k, "bf16", "NT", c) for c in gemmsift.space(Problem(m, n, k, layout="NT"), space="DEFAULT")]
    errors, variants, secs = compile_all(work, os.cpu_count(), lambda msg: None, literal_sizes=LITERAL)
    print(f"precompiled {variants} variants in {secs:.0f} s ({sum(1 for e in errors.values() if e)} failed)", flush=True)


def check_correctness():
    results = []
    shapes = CORRECTNESS_SHAPES
    configs = CORRECTNESS_CONFIGS
    for dtype in ("bf16", "fp16", "fp32"):
        for layout in ("NN", "NT", "TN", "TT"):
            for (m, n, k) in shapes:
                a, b, c = kernel.operands(m, n, k, dtype, layout, seed=m + n + k)
                ref = a.double() @ b.double()
                for cfg in configs:
                    c.fill_(float("nan"))
                    try:
                        kernel.launch(a, b, c, cfg, literal_sizes=LITERAL)
                        torch.cuda.synchronize()
                        rel = ((c.double() - ref).norm() / ref.norm()).item()
                        ok = rel <= TOLERANCE[dtype]
                        results.append({"dtype": dtype, "layout": layout, "shape": [m, n, k],
                                        "config": str(cfg), "rel_err": rel, "ok": ok})
                    except Exception as e:  # out of resources for fp32 big tiles is expected
                        results.append({"dtype": dtype, "layout": layout, "shape": [m, n, k],
                                        "config": str(cfg), "error": str(e).splitlines()[0][:120],
                                        "ok": "OutOfResources" in type(e).__name__})
    return results


def inductor_timings(m, n, k, layout):
    """Inductor's own autotune timings (us) of its DEFAULT Triton mm configs for one problem."""
    import torch._dynamo
    from torch._inductor import config as ic
    from torch._inductor.select_algorithm import add_feedback_saver, clear_feedback_savers

    got = {}

    def saver(timings, name, input_nodes, choices, profiled, precompile_times):
        for caller, t in timings.items():
            cfg = config_of_description(str(getattr(caller, "description", "") or ""))
            if cfg is not None:
                got[cfg] = t * 1000.0

    clear_feedback_savers()
    add_feedback_saver(saver)
    torch._dynamo.reset()
    a, b, _ = kernel.operands(m, n, k, "bf16", layout, seed=1)
    with ic.patch(max_autotune=True, max_autotune_gemm_backends="TRITON",
                  max_autotune_gemm_search_space="DEFAULT", force_disable_caches=True,
                  autotune_local_cache=False, autotune_remote_cache=False):
        f = torch.compile(lambda x, y: x @ y, dynamic=False)
        f(a, b)
    torch.cuda.synchronize()
    clear_feedback_savers()
    return got


def compare_with_inductor(shapes, layout="NT"):
    timer = autotune_timer(torch.cuda.current_device())  # Inductor's settings
    if INDUCTOR_TIMER == "gemmsift":
        gemmsift.inductor.install(benchmark_space="SAME", benchmark_timer="gemmsift")
    out = []
    for (m, n, k) in shapes:
        t0 = time.time()
        runs = [inductor_timings(m, n, k, layout) for _ in range(INDUCTOR_RUNS)]
        t_ind = time.time() - t0
        ind = {c_: statistics.median(r.get(c_, math.inf) for r in runs) for c_ in runs[0]}
        a, b, c = kernel.operands(m, n, k, "bf16", layout, seed=1)
        mine = {}
        skipped = []
        for cfg in ind:
            if not math.isfinite(ind[cfg]):
                skipped.append(str(cfg))  # Inductor could not run it either (out of shared memory)
                continue
            try:
                kernel.launch(a, b, c, cfg, literal_sizes=LITERAL)
                mine[cfg] = timer.time(lambda: kernel.launch(a, b, c, cfg, literal_sizes=LITERAL))[1]
            except Exception as e:
                skipped.append(f"{cfg}: {type(e).__name__}")
        ind = {c_: t for c_, t in ind.items() if c_ in mine}
        cfgs = list(ind)
        x = [ind[c_] for c_ in cfgs]
        y = [mine[c_] for c_ in cfgs]
        best_ind = min(cfgs, key=lambda c_: ind[c_])
        best_mine = min(cfgs, key=lambda c_: mine[c_])
        out.append({"shape": [m, n, k], "layout": layout, "configs": len(cfgs),
                    "spearman": spearman(x, y) if len(cfgs) > 2 else None,
                    "inductor_best": str(best_ind), "inductor_best_us": ind[best_ind],
                    "ours_best": str(best_mine), "ours_best_us": mine[best_mine],
                    "ours_time_of_inductor_best_us": mine[best_ind],
                    "winner_within_2pct": mine[best_ind] <= 1.02 * mine[best_mine],
                    "inductor_seconds": round(t_ind, 1), "skipped": skipped,
                    "pairs": [[str(c_), ind[c_], mine[c_]] for c_ in cfgs],
                    "inductor_runs": [[r.get(c_) for r in runs] for c_ in cfgs]})
    if INDUCTOR_TIMER == "gemmsift":
        gemmsift.inductor.uninstall()
    return out


def noise(shape=NOISE_SHAPE, repeats=5, layout="NT"):
    """Re-times configs of one problem several times with the dataset settings; reports the
    relative spread (max/min - 1) of the minimum per config."""
    m, n, k = shape
    timer = Timer()
    a, b, c = kernel.operands(m, n, k, "bf16", layout, seed=2)
    configs = gemmsift.space(Problem(m, n, k, layout=layout), space="DEFAULT")
    spreads = []
    for cfg in configs:
        ts = []
        try:
            for _ in range(repeats):
                kernel.launch(a, b, c, cfg, literal_sizes=LITERAL)
                ts.append(timer.time(lambda: kernel.launch(a, b, c, cfg, literal_sizes=LITERAL))[1])
        except Exception:  # out of shared memory: not a config anyone can time
            continue
        spreads.append(max(ts) / min(ts) - 1)
    return {"shape": list(shape), "configs": len(spreads), "repeats": repeats,
            "spread_median": statistics.median(spreads), "spread_p90": sorted(spreads)[int(0.9 * len(spreads))],
            "spread_max": max(spreads)}


def main(out_path):
    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "triton": __import__("triton").__version__,
           "kernel_sizes": "literal" if LITERAL else "arguments",
           "inductor_timer": INDUCTOR_TIMER, "inductor_runs": INDUCTOR_RUNS, "ptxas": ptxas_in_use()}
    t0 = time.time()
    precompile()
    res["correctness"] = check_correctness() if not os.environ.get("GEMMSIFT_VALIDATE_SKIP_CORRECTNESS") else []
    bad = [r for r in res["correctness"] if not r["ok"]]
    print(f"correctness: {len(res['correctness'])} cases, {len(bad)} failed ({time.time() - t0:.0f} s)", flush=True)
    for r in bad[:10]:
        print("  FAILED", r, flush=True)
    res["inductor"] = compare_with_inductor(INDUCTOR_SHAPES)
    res["noise"] = noise()
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    print(f"\n{'shape':>18} {'configs':>7} {'spearman':>8} {'ind best':>22} {'ours best':>22} {'win<=2%':>7} {'ind s':>6}")
    for r in res["inductor"]:
        print(f"{'x'.join(map(str, r['shape'])):>18} {r['configs']:>7} {r['spearman']:>8.3f} "
              f"{r['inductor_best'] + ' ' + format(r['inductor_best_us'], '.1f'):>22} "
              f"{r['ours_best'] + ' ' + format(r['ours_best_us'], '.1f'):>22} {str(r['winner_within_2pct']):>7} "
              f"{r['inductor_seconds']:>6}")
    nz = res["noise"]
    print(f"noise ({nz['configs']} configs x {nz['repeats']} re-timings, {nz['shape']}): median spread "
          f"{nz['spread_median'] * 100:.2f}%, p90 {nz['spread_p90'] * 100:.2f}%, max {nz['spread_max'] * 100:.2f}%")


if __name__ == "__main__":
    main(sys.argv[1])
