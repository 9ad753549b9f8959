"""Triton's do_bench against gemmsift.triton.do_bench inside triton.autotune (GPU machine).

Users of gemmsift.triton.prune autotune their own Triton matmul with triton.autotune, which times
each config with Triton's do_bench: the L2 flush, the start event, then the launch from Python.
If the CPU's launch took longer than the flush, the GPU would idle inside the timed span, as it
does in Inductor's short lists. This benchmark measures whether it does, how good the picks are
and how long tuning takes, with Triton's do_bench and with `do_bench=gemmsift.triton.do_bench`.

For each problem (bench/inductor_e2e_problems.csv by default, bf16), the GPU test's user kernel
(tests/gpu/test_triton_prune_torch.py: the Triton tutorial's matmul with a GROUP_M swizzle) over
its 16 configs:
  1. reference: every config timed by gemmsift's Timer with a 1,000,000-cycle GPU spin before each
     start event (5 estimation launches, then up to 50 within 25 ms; the minimum);
  2. triton.autotune with Triton's do_bench, and with gemmsift's (fresh Autotuners; the order
     alternates over problems; the configs are compiled before either, so tuning time is timing).
Per problem and timer: the pick's reference time as % of the list's reference best (100 = the
best), the tuning wall seconds, the configs' reported medians over their reference times (median
and 90th percentile) and the Spearman rank correlation of reported medians with the reference.

    python3 bench/triton_do_bench.py --out DIR [--problems CSV] [--limit N]

Writes DIR/do_bench_rows.jsonl and DIR/do_bench_summary.json and prints a short table last.
"""

import argparse
import csv
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "gpu"))

from gemmsift.stats import geomean, spearman  # noqa: E402


def config_name(c):
    kw = c.kwargs
    return f"{kw['BLOCK_M']}x{kw['BLOCK_N']}x{kw['BLOCK_K']}_g{kw['GROUP_M']}_s{c.num_stages}_w{c.num_warps}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--problems", default=os.path.join(ROOT, "bench", "inductor_e2e_problems.csv"))
    ap.add_argument("--limit", type=int, default=0, help="first N problems only")
    args = ap.parse_args()

    import torch
    import triton
    import gemmsift.triton as gt
    from gemmsift.collect.kernel import operands
    from gemmsift.collect.timing import Timer
    from test_triton_prune_torch import CONFIGS, make_kernel

    with open(args.problems) as f:
        problems = [(r["layout"], int(r["m"]), int(r["n"]), int(r["k"])) for r in csv.DictReader(f)]
    if args.limit:
        problems = problems[:args.limit]
    os.makedirs(args.out, exist_ok=True)
    device = torch.cuda.get_device_name()
    versions = {"device": device, "torch": torch.__version__, "triton": triton.__version__}
    print(versions, flush=True)
    ref_timer = Timer(estimation_iters=5, max_iters=50, budget_ms=25.0, spin_cycles=1_000_000)
    jit = make_kernel(None).fn  # the plain @triton.jit function, launched with a config's values
    rows = []
    for index, (layout, m, n, k) in enumerate(problems):
        a, b, c = operands(m, n, k, "bf16", layout, seed=index)  # NT: B stored as nn.Linear's weight
        grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)  # noqa: E731
        plain = (a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
        ref = {}
        for cfg in CONFIGS:
            launch = lambda cfg=cfg: jit[grid](*plain, **cfg.all_kwargs())  # noqa: E731
            launch()
            torch.cuda.synchronize()
            ref[config_name(cfg)] = ref_timer.time(launch)[1]
        best = min(ref.values())
        order = [("triton", None), ("gemmsift", gt.do_bench)]
        if index % 2:
            order.reverse()
        for method, bench in order:
            kernel = make_kernel(None, do_bench=bench)
            t0 = time.perf_counter()
            kernel[grid](*plain)
            torch.cuda.synchronize()
            wall = time.perf_counter() - t0
            reported = {config_name(cfg): t[0] * 1000.0 for cfg, t in kernel.configs_timings.items()}
            names = sorted(reported)
            ratios = [reported[x] / ref[x] for x in names]
            pick = config_name(kernel.best_config)
            row = {"layout": layout, "m": m, "n": n, "k": k, "method": method, "pick": pick,
                   "pick_ref_us": ref[pick], "best_ref_us": best, "pct_of_best": 100.0 * best / ref[pick],
                   "tune_s": wall, "bench_s": getattr(kernel, "bench_time", float("nan")),
                   "ratio_median": statistics.median(ratios), "ratio_p90": sorted(ratios)[int(0.9 * (len(ratios) - 1))],
                   "spearman": spearman([reported[x] for x in names], [ref[x] for x in names]),
                   "reported_us": reported, "ref_us": ref, **versions}
            rows.append(row)
            print(f"{layout} {m}x{n}x{k} {method:8s} pick {pick:22s} {row['pct_of_best']:6.1f}% of best "
                  f"({ref[pick]:.1f} vs {best:.1f} us)  tune {wall:5.2f} s  reported/ref median "
                  f"{row['ratio_median']:.2f}  rho {row['spearman']:.2f}", flush=True)
    with open(os.path.join(args.out, "do_bench_rows.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    summary = summarize(rows, versions)
    with open(os.path.join(args.out, "do_bench_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(table(summary))


def summarize(rows, versions):
    out = {**versions, "problems": len({(r["layout"], r["m"], r["n"], r["k"]) for r in rows}), "methods": {}}
    by = {}
    for r in rows:
        by.setdefault(r["method"], []).append(r)
    for method, rs in by.items():
        out["methods"][method] = {
            "geomean_pct_of_best": geomean([r["pct_of_best"] for r in rs]),
            "worst_pct_of_best": min(r["pct_of_best"] for r in rs),
            "picks_within_1pct": sum(r["pct_of_best"] >= 99.0 for r in rs),
            "median_reported_over_ref": statistics.median(r["ratio_median"] for r in rs),
            "median_spearman": statistics.median(r["spearman"] for r in rs),
            "tune_s_total": sum(r["tune_s"] for r in rs),
            "count": len(rs)}
    return out


def table(summary):
    lines = [f"{summary['device']}, torch {summary['torch']}, triton {summary['triton']}, {summary['problems']} problems",
             "timer    | pick % of best (geomean) | worst | picks within 1% | reported/ref (median) | rho (median) | tuning s"]
    for method, s in sorted(summary["methods"].items()):
        lines.append(f"{method:8s} | {s['geomean_pct_of_best']:24.1f} | {s['worst_pct_of_best']:5.1f} | "
                     f"{s['picks_within_1pct']:7d} of {s['count']:<5d} | {s['median_reported_over_ref']:21.2f} | "
                     f"{s['median_spearman']:12.2f} | {s['tune_s_total']:8.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
