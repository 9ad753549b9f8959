"""Cost of tuning, end to end in PyTorch (../shared/EVALUATION.md): torch.compile(mode=
"max-autotune-no-cudagraphs") of one matmul per problem, stock Inductor against gemmsift, on one GPU.

    python bench/inductor_e2e.py --out DIR [--methods ...] [--exhaustive-problems 2 --exhaustive-cap 120]

Methods (each in its own process with fresh Inductor and Triton cache folders; the process first
compiles one small warm-up matmul so that Inductor's compile workers are running; every problem
then gets torch._dynamo.reset(); no two problems share a graph or a kernel, the sizes being
compiled into the kernels):
  stock-default     Inductor's DEFAULT list (the stock max-autotune)
  stock-exhaustive  Inductor's EXHAUSTIVE space, one process per problem killed at --exhaustive-cap s
  gemmsift-1/3/5/DEFAULT  gemmsift.inductor.install(benchmark_space=k) with --model (default: the
                    shipped model for the device) and Inductor's own timer (benchmark_timer=
                    "inductor"); gemmsift-5t (or -5x2t): with gemmsift's timer, install()'s default;
                    gemmsift-5x2: with benchmark_passes=2; gemmsift-5a2t: with 2 DEFAULT anchors
  gemmsift-alt-1/3/5/DEFAULT  the same with --alt-model (two models compared in one run)
  exhaustive-best   the best config of the problem's full EXHAUSTIVE measurement in data/ (the
                    harness's), pinned through a lookup table (with the model's top 1 and ATen):
                    the kernel EXHAUSTIVE finds, without paying for the search; gemmsift's timer
                    (Inductor's in the runs up to h200x2-N)
  cublas            torch.mm / F.linear, no compile
ATen (cuBLAS) competes in every compiled method, as in stock max-autotune. Columns: compile wall
seconds of the first call, choices benchmarked (all / Triton mm), kernel microseconds of the
compiled function (L2 flushed before each launch, minimum of up to 100), % of EXHAUSTIVE's best
(best_us / kernel_us x 100: 100 = as fast; best_us from the exhaustive-best or stock-exhaustive
method), % of best seen (the same against the fastest kernel any method got in the run), % of
cuBLAS (cublas_us / kernel_us x 100). Each row also holds eager_us, the eager op (cuBLAS) timed
right after in the same worker. Rows of several runs (calls) can be merged: each row is
compared only with rows of its own run.
--gpus N shards the problems over N GPUs (problem i on GPU i mod N), one driver per GPU with
CUDA_VISIBLE_DEVICES and an equal share of the CPU cores for Inductor's compile workers
(TORCHINDUCTOR_COMPILE_THREADS), so that each GPU's compiles see about the cores a one-GPU machine
of the same kind has; rows land in DIR/gpuG/rows.jsonl and are merged into DIR/rows.jsonl.
Writes DIR/e2e.csv, DIR/summary.json, DIR/summary.md, DIR/tradeoff.svg; prints the summary.
"""

import argparse
import csv
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
from gemmsift.stats import geomean  # noqa: E402  (bench/e2e_picks.py imports it from here too)

METHODS = ["cublas", "exhaustive-best", "gemmsift-1", "gemmsift-3", "gemmsift-5", "gemmsift-alt-1",
           "gemmsift-alt-3", "gemmsift-alt-5", "stock-default", "gemmsift-DEFAULT", "gemmsift-alt-DEFAULT",
           "stock-exhaustive"]


def device_data(name):
    """The EXHAUSTIVE test files of data/ measured on this GPU (exhaustive-best's source), by its name."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from gemmsift.collect.dataset import device_slug
    slug = device_slug(name)
    return [f"data/{slug}_bf16_{layout}_test_llm.csv.gz" for layout in ("NT", "NN")]


def gpu_name():
    """The first GPU's name, from nvidia-smi (the driver process does not start torch)."""
    out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()[0]


def model_id(spec):
    """A model spec as rows record it: a file's name and the start of its SHA-256."""
    if not os.path.isfile(spec):
        return spec
    import hashlib
    with open(spec, "rb") as f:
        return f"{os.path.basename(spec)} sha256:{hashlib.sha256(f.read()).hexdigest()[:12]}"


def all_methods(rows):
    """METHODS, then any other method the rows hold, in a stable order."""
    return METHODS + sorted({r["method"] for r in rows} - set(METHODS))


def gemmsift_settings(method):
    """gemmsift-K[xP][aN][t] (or gemmsift-alt-...) -> install() arguments: benchmark_space K; P
    passes (benchmark_passes); N DEFAULT anchors (anchors); t: gemmsift's timer, else Inductor's
    (benchmark_timer, named either way: gemmsift-5 keeps the meaning it had in the runs before
    gemmsift's timer became the default). ValueError for anything else."""
    spec = re.fullmatch(r"(\d+|DEFAULT|SAME|fast)(?:x(\d+))?(?:a(\d+))?(t?)", method.rsplit("-", 1)[1])
    if not method.startswith("gemmsift-") or spec is None:
        raise ValueError(f"not a gemmsift method: {method} (gemmsift-K, gemmsift-KxP, gemmsift-KaN, gemmsift-Kt, "
                         "gemmsift-KxPaNt)")
    space, passes, anchors, timer = spec.groups()
    return {"benchmark_space": space, "benchmark_passes": int(passes) if passes else None,
            "anchors": int(anchors) if anchors else None,
            "benchmark_timer": "gemmsift" if timer else "inductor"}


def parse_subset(which):
    """'i;j;a-b' -> [i, j, a, ..., b]; '' -> None (all)."""
    if not which:
        return None
    out = []
    for part in which.split(";"):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def load_problems(path):
    with open(path) as f:
        return [(r["layout"], int(r["m"]), int(r["n"]), int(r["k"])) for r in csv.DictReader(f)]


def oracle_table(problems, data_files, path):
    """A gemmsift lookup table holding each problem's fastest measured config (from the datasets)."""
    from gemmsift.collect.dataset import read_rows  # the collector's reader: checks the header
    best = {}
    for f in data_files:
        for r in read_rows(f):
            if r["status"] != "ok":
                continue
            p = (r["layout"], int(r["m"]), int(r["n"]), int(r["k"]))
            t = float(r["time_us_min"])
            if p not in best or t < best[p][0]:
                best[p] = (t, r)
    entries = []
    for p in problems:
        if p not in best:
            continue
        t, r = best[p]
        entries.append({"problem": {"op": "mm", "dtype": r["dtype"], "layout": p[0], "m": p[1], "n": p[2], "k": p[3]},
                        "configs": [{"block_m": int(r["block_m"]), "block_n": int(r["block_n"]),
                                     "block_k": int(r["block_k"]), "group_m": int(r["group_m"]),
                                     "num_stages": int(r["num_stages"]), "num_warps": int(r["num_warps"]),
                                     "measured_us": t, "source": "dataset best (harness)"}]})
    with open(path, "w") as f:
        json.dump({"gemmsift_lut": 1, "entries": entries}, f, indent=1)
    return {p for p in problems if p in best}


# ---------------------------------------------------------------------------------------------
# worker: one method, several problems, one process

def worker(args):
    import torch
    import torch._dynamo
    from torch._inductor import config as ic
    from torch._inductor import select_algorithm

    sys.path.insert(0, os.path.join(ROOT, "python"))
    from gemmsift.collect.timing import Timer
    from gemmsift.inductor import is_triton_mm_name

    method = args.worker
    problems = load_problems(args.problems)
    if args.only is not None:
        problems = [problems[i] for i in args.only]
    hook = None
    model = args.alt_model if method.startswith("gemmsift-alt-") else args.model
    model_name = model_id(model)
    if method.startswith("gemmsift-") or method == "exhaustive-best":
        import gemmsift.inductor as gi
        if method == "exhaustive-best":
            # gemmsift's timer (after run h200x2-N; Inductor's up to it): the pinned best config
            # and ATen then meet on measured terms, the stricter reference
            hook = gi.install(benchmark_space=1, lut=args.lut, model=model, benchmark_timer="gemmsift")
        else:
            hook = gi.install(model=model, **gemmsift_settings(method))
    ic.max_autotune_gemm_search_space = "EXHAUSTIVE" if method == "stock-exhaustive" else "DEFAULT"
    # Fresh cache folders per process and distinct problems make every compile a cold one.
    counts = []

    def saver(timings, name, input_nodes, *rest):
        names = [str(getattr(c, "name", "")) for c in timings]
        counts.append((len(timings), sum(1 for n in names if is_triton_mm_name(n))))

    select_algorithm.add_feedback_saver(saver)
    # The harness's timer set as Inductor's autotuning, with a longer GPU spin (about 0.5 ms)
    # before each start event: a compiled function's CPU time per call (guards, wrapper, buffer
    # allocation) is longer than a bare Triton launch's, and must not be timed.
    timer = Timer(estimation_iters=5, max_iters=100, budget_ms=25.0, spin_cycles=1_000_000)
    device = torch.cuda.get_device_name()

    def operands(layout, m, n, k):
        g = torch.Generator(device="cuda").manual_seed(m * 7 + n * 13 + k)
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16, generator=g)
        if layout == "NT":
            w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16, generator=g)
            return a, w, (lambda x, y: x @ y.t())
        b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16, generator=g)
        return a, b, (lambda x, y: x @ y)

    def compile_one(layout, m, n, k):
        torch._dynamo.reset()
        a, b, fn = operands(layout, m, n, k)
        counts.clear()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        if method == "cublas":
            f = fn
            out = f(a, b)
        else:
            f = torch.compile(fn, mode="max-autotune-no-cudagraphs", dynamic=False)
            out = f(a, b)
        torch.cuda.synchronize()
        wall = time.perf_counter() - t0
        ref = fn(a.double(), b.double())
        err = ((out.double() - ref).norm() / ref.norm().clamp_min(1e-30)).item()
        status, tmin, tmed, iters = timer.time(lambda: f(a, b))
        # The eager op (cuBLAS) timed right after in the same process: a reference that shares
        # this worker's GPU and process state (a slow kernel_us with a slow eager_us is the state).
        eager = tmin if method == "cublas" else timer.time(lambda: fn(a, b))[1]
        return {"compile_s": 0.0 if method == "cublas" else wall, "choices": sum(c[0] for c in counts),
                "triton_choices": sum(c[1] for c in counts), "kernel_us": tmin, "kernel_us_median": tmed,
                "iterations": iters, "rel_err": err, "eager_us": eager}

    if method != "cublas":
        compile_one("NN", 256, 256, 256)  # warm-up: compile workers up, modules imported
    with open(args.rows, "a") as out:
        deadline = float(os.environ.get("GEMMSIFT_E2E_DEADLINE", "inf"))
        for layout, m, n, k in problems:
            if time.time() > deadline:
                print(f"{method}: deadline reached, {layout} {m}x{n}x{k} and later not run", flush=True)
                break
            row = {"method": method, "layout": layout, "m": m, "n": n, "k": k, "device": device,
                   "torch": torch.__version__, "run": os.environ.get("GEMMSIFT_E2E_RUN", "")}
            try:
                row.update(compile_one(layout, m, n, k))
                row["status"] = "ok"
            except Exception as e:  # a failed compile is a result too
                row.update({"status": f"error: {type(e).__name__}: {e}"[:300]})
            if hook is not None:
                row["gemmsift_fallbacks"] = hook.stats["fallbacks"]
                row["model"] = model_name
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(f"{method:>17} {layout} {m}x{n}x{k}: {row.get('compile_s', float('nan')):.2f} s, "
                  f"{row.get('choices')} choices, {row.get('kernel_us', float('nan')):.2f} us {row['status'][:60]}",
                  flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# driver

def summarize(rows, problems, out_dir, cap):
    """Each row is compared with the references (cuBLAS, EXHAUSTIVE's best, stock DEFAULT) measured
    in the same run, so several runs (calls on different machines of one kind) can be merged."""
    by = {}
    for r in rows:
        by[(r.get("run", ""), r["method"], r["layout"], r["m"], r["n"], r["k"])] = r
    methods = all_methods(rows)
    table = []
    for method in methods:
        for (run, mm, *p), r in sorted(by.items(), key=lambda kv: (kv[0][0], problems.index(tuple(kv[0][2:])) if tuple(kv[0][2:]) in problems else 0)):
            if mm != method or tuple(p) not in problems:
                continue
            cub = by.get((run, "cublas", *p), {}).get("kernel_us")
            # EXHAUSTIVE's best, two ways: what the exhaustive-best method (the dataset's best
            # config, pinned) or stock EXHAUSTIVE compiled; and the fastest kernel any method got
            # for the problem in this run (each picks from the EXHAUSTIVE space or ATen, as stock
            # EXHAUSTIVE does), the stricter of the two.
            seen = [by.get((run, other, *p), {}) for other in methods]
            best_seen = min([x["kernel_us"] for x in seen if x.get("status") == "ok"] or [float("nan")])
            refs = [by.get((run, ref, *p), {}) for ref in ("exhaustive-best", "stock-exhaustive")]
            best = min([x["kernel_us"] for x in refs if x.get("status") == "ok"] or [float("nan")])
            row = dict(r)
            if r.get("status") == "ok":
                row["pct_of_exhaustive_best"] = 100.0 * best / r["kernel_us"] if best == best else float("nan")
                row["pct_of_best_seen"] = 100.0 * best_seen / r["kernel_us"] if best_seen == best_seen else float("nan")
                row["pct_of_cublas"] = 100.0 * cub / r["kernel_us"] if cub else float("nan")
            row["_stock"] = by.get((run, "stock-default", *p))
            table.append(row)
    cols = ["run", "method", "layout", "m", "n", "k", "status", "compile_s", "choices", "triton_choices", "kernel_us",
            "kernel_us_median", "pct_of_exhaustive_best", "pct_of_best_seen", "pct_of_cublas", "rel_err", "device", "torch"]
    with open(os.path.join(out_dir, "e2e.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for row in table:
            w.writerow({c: (f"{row[c]:.4g}" if isinstance(row.get(c), float) else row.get(c, "")) for c in cols})

    summary = {"device": rows[0]["device"] if rows else "", "torch": rows[0].get("torch", "") if rows else "",
               "problems": len(problems), "exhaustive_cap_s": cap, "methods": method_stats(table, methods)}
    runs = sorted({r.get("run", "") for r in rows})
    if len(runs) > 1:  # the pooled table mixes runs; each run's own beside it
        summary["per_run"] = {run: method_stats([r for r in table if r.get("run", "") == run], methods) for run in runs}
    # Compile time against stock EXHAUSTIVE where it was tried (capped runs give a lower bound).
    exh = [r for r in rows if r["method"] == "stock-exhaustive"]
    if any(r.get("status") == "capped" for r in exh):  # the cap the rows were run with
        summary["exhaustive_cap_s"] = max(r["compile_s"] for r in exh if r.get("status") == "capped")
    for method in methods:
        if method not in summary["methods"] or method.startswith("stock") or method == "cublas":
            continue
        pairs = []
        for e in exh:
            mine = [r for r in rows if r["method"] == method and r.get("status") == "ok"
                    and (r["layout"], r["m"], r["n"], r["k"]) == (e["layout"], e["m"], e["n"], e["k"])]
            if mine:
                pairs.append((e, statistics.median(r["compile_s"] for r in mine)))
        if pairs:
            summary["methods"][method]["vs_stock_exhaustive"] = [
                {"problem": f"{e['layout']} {e['m']}x{e['n']}x{e['k']}", "stock_exhaustive_s": e["compile_s"],
                 "stock_exhaustive_status": e["status"], "compile_s": t, "ratio_at_most" if e["status"] == "capped" else "ratio":
                 t / e["compile_s"]} for e, t in pairs]
    summary["runs"] = runs
    summary["problems_measured"] = len({(r["layout"], r["m"], r["n"], r["k"]) for r in rows})
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    lines = [f"{summary['device']}, torch {summary['torch']}, {problem_count(summary)} (bf16; NT and NN), "
             f"{len(runs)} run(s): {', '.join(runs)}", ""] + table_lines(summary["methods"])
    for run, stats in summary.get("per_run", {}).items():
        lines += ["", f"Run {run} alone:", ""] + table_lines(stats)
    for method, s in summary["methods"].items():
        for v in s.get("vs_stock_exhaustive", []):
            bound = "at most " if "ratio_at_most" in v else ""
            lines.append(f"- {method} on {v['problem']}: {v['compile_s']:.2f} s against stock EXHAUSTIVE's "
                         f"{'more than ' if bound else ''}{v['stock_exhaustive_s']:.0f} s"
                         f"{' (capped)' if bound else ''}: {bound}1/{1 / v.get('ratio_at_most', v.get('ratio')):.0f}")
    with open(os.path.join(out_dir, "summary.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    write_svg(summary, os.path.join(out_dir, "tradeoff.svg"))
    print("\n".join(lines))


def method_stats(table, methods):
    """Per method: problems, compile time, choices, kernel percentages, and against stock DEFAULT
    (each row against stock DEFAULT's row of its own run)."""
    out = {}
    for method in methods:
        mine = [r for r in table if r["method"] == method]
        ok = [r for r in mine if r.get("status") == "ok"]
        if not mine:
            continue
        s = {"problems": len(mine), "ok": len(ok), "models": sorted({r["model"] for r in mine if r.get("model")}),
             "distinct_problems_ok": len({(r["layout"], r["m"], r["n"], r["k"]) for r in ok}), "capped": sum(1 for r in mine if r.get("status") == "capped"),
             "compile_s_total": sum(r["compile_s"] for r in ok), "compile_s_median": statistics.median([r["compile_s"] for r in ok]) if ok else None,
             "choices_median": statistics.median([r["choices"] for r in ok]) if ok else None,
             "geomean_pct_of_exhaustive_best": geomean([r.get("pct_of_exhaustive_best") for r in ok]),
             "geomean_pct_of_best_seen": geomean([r.get("pct_of_best_seen") for r in ok]),
             "geomean_pct_of_cublas": geomean([r.get("pct_of_cublas") for r in ok])}
        vs = [(r, r["_stock"]) for r in ok]
        vs = [(r, st) for r, st in vs if st and st.get("status") == "ok"]
        if vs and method != "stock-default":
            s["at_least_as_fast_as_stock_default"] = sum(1 for r, st in vs if r["kernel_us"] <= st["kernel_us"] * 1.01) / len(vs)
            s["compile_time_vs_stock_default"] = sum(r["compile_s"] for r, _ in vs) / max(1e-9, sum(st["compile_s"] for _, st in vs))
        out[method] = s
    return out


def table_lines(stats):
    """method_stats as a markdown table."""
    lines = ["| method | problems ok | compile s (sum) | compile s (median) | choices (median) | % of EXHAUSTIVE best (geomean) | % of best seen (geomean) | % of cuBLAS (geomean) | >= stock DEFAULT kernel | compile time / stock DEFAULT |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def f(x, fmt):
        return fmt.format(x) if isinstance(x, (int, float)) and x == x else "-"
    for method, s in stats.items():
        lines.append(f"| {method} | {s['ok']}/{s['problems']}{' (' + str(s['capped']) + ' capped)' if s['capped'] else ''} | "
                     f"{f(s['compile_s_total'], '{:.1f}')} | {f(s['compile_s_median'], '{:.2f}')} | {f(s['choices_median'], '{:g}')} | "
                     f"{f(s['geomean_pct_of_exhaustive_best'], '{:.1f}')} | {f(s['geomean_pct_of_best_seen'], '{:.1f}')} | "
                     f"{f(s['geomean_pct_of_cublas'], '{:.1f}')} | "
                     f"{f(s.get('at_least_as_fast_as_stock_default'), '{:.0%}')} | {f(s.get('compile_time_vs_stock_default'), '{:.3f}')} |")
    return lines


def problem_count(summary):
    """'24 problems', or '2 of the 24 problems' when the rows cover fewer than the list."""
    measured = summary.get("problems_measured", summary["problems"])
    return f"{measured} of the {summary['problems']} problems" if measured < summary["problems"] else \
        f"{summary['problems']} problems"


def write_svg(summary, path):
    """Compile seconds per problem (median, log x) against kernel speed (% of the best seen). Stock
    EXHAUSTIVE, when capped, is drawn hollow at its cap (its kernel is EXHAUSTIVE's best: 100%)."""
    pts = [(m, s["compile_s_median"], s["geomean_pct_of_best_seen"], False) for m, s in summary["methods"].items()
           if s.get("compile_s_median") and s["compile_s_median"] > 0 and s["geomean_pct_of_best_seen"] == s["geomean_pct_of_best_seen"]]
    exh = summary["methods"].get("stock-exhaustive")
    if exh and exh.get("capped"):
        pts.append(("stock-exhaustive", summary["exhaustive_cap_s"], 100.0, True))
    W, H, L, R, T, B = 720, 420, 70, 30, 40, 50
    if not pts:
        open(path, "w").write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}"/>\n')
        return
    xs = [math.log10(p[1]) for p in pts]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs) + 0.3)
    y0, y1 = min(80.0, math.floor(min(p[2] for p in pts) / 5) * 5), max(102.0, max(p[2] for p in pts) + 2)
    sx = lambda v: L + (math.log10(v) - x0) / (x1 - x0) * (W - L - R)  # noqa: E731
    sy = lambda v: T + (y1 - v) / (y1 - y0) * (H - T - B)  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">Tuning cost against kernel speed, '
           f'{summary["device"]}, torch {summary["torch"]}, {problem_count(summary)}</text>']
    for e in range(x0, x1 + 1):
        x = L + (e - x0) / (x1 - x0) * (W - L - R)
        out.append(f'<line x1="{x}" y1="{T}" x2="{x}" y2="{H-B}" stroke="#ddd"/><text x="{x}" y="{H-B+16}" text-anchor="middle">{10**e:g} s</text>')
    y = y0
    while y <= y1:
        out.append(f'<line x1="{L}" y1="{sy(y)}" x2="{W-R}" y2="{sy(y)}" stroke="#ddd"/><text x="{L-6}" y="{sy(y)+4}" text-anchor="end">{y:g}%</text>')
        y += 5
    out.append(f'<text x="{(W+L)/2}" y="{H-10}" text-anchor="middle">compile wall time per problem (median, log scale)</text>')
    out.append(f'<text transform="translate(16,{(H-B+T)/2}) rotate(-90)" text-anchor="middle">kernel speed, % of best seen (geomean)</text>')
    # Numbered points and a legend (labels beside close points would overlap).
    ordered = sorted(pts, key=lambda p: p[1])
    for i, (m, cx, cy, hollow) in enumerate(ordered, 1):
        px, py = sx(cx), sy(cy)
        color = "#c33" if m.startswith("stock") else "#36c"
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="8" fill="{"white" if hollow else color}" '
                   f'stroke="{color}" stroke-width="2"/><text x="{px:.1f}" y="{py + 4:.1f}" text-anchor="middle" '
                   f'font-size="10" fill="{color if hollow else "white"}">{i}</text>')
    # The legend in the first corner (bottom right, top right, bottom left, top left) whose box
    # covers no point; bottom right when every corner does.
    bw, bh = 346, 16 * len(ordered) + 10
    corners = [(W - R - 340, sy(y0) - 16 * len(ordered) - 8), (W - R - 340, T + 22),
               (L + 16, sy(y0) - 16 * len(ordered) - 8), (L + 16, T + 22)]

    def covers(lx, ly):
        return any(lx - 8 - 10 <= sx(cx) <= lx - 8 + bw + 10 and ly - 14 - 10 <= sy(cy) <= ly - 14 + bh + 10
                   for _, cx, cy, _ in ordered)
    lx, ly = next((c for c in corners if not covers(*c)), corners[0])
    out.append(f'<rect x="{lx - 8}" y="{ly - 14}" width="{bw}" height="{bh}" fill="white" stroke="#bbb"/>')
    for i, (m, cx, cy, hollow) in enumerate(ordered, 1):
        what = f"more than {cx:.3g} s (capped)" if hollow else f"{cx:.3g} s, {cy:.1f}%"
        ok = summary["methods"].get(m, {}).get("distinct_problems_ok")
        if not hollow and ok is not None and ok != summary["problems"]:
            what += f" ({ok} of {summary['problems']} problems)"  # medians over different problem sets
        out.append(f'<text x="{lx}" y="{ly + 16 * (i - 1):.1f}">{i}  {m}: {what}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def shard_plan(methods, exhaustive_problems, count, n):
    """Problem i of the list run goes to GPU i mod n. Per GPU: the positions it runs, its --methods
    (METHOD@subsets renumbered into its own list; a method none of whose problems it has is left
    out) and its --exhaustive-problems, both as strings."""
    plan = []
    for g in range(n):
        mine = [j for j in range(count) if j % n == g]
        local = {j: pos for pos, j in enumerate(mine)}
        specs = []
        for spec in methods.split(","):
            method, _, which = spec.partition("@")
            subset = parse_subset(which)
            if subset is None:
                specs.append(method)
            elif any(j in local for j in subset):
                specs.append(method + "@" + ";".join(str(local[j]) for j in subset if j in local))
        exh = [str(local[int(x)]) for x in exhaustive_problems.split(",") if x and int(x) in local]
        plan.append((mine, ",".join(specs), ",".join(exh)))
    return plan


def run_sharded(args, problems, indices):
    """One driver per GPU (shard_plan), then the merged rows."""
    n = args.gpus
    cores = os.cpu_count() or n
    procs = []
    for g, (mine, specs, exh) in enumerate(shard_plan(args.methods, args.exhaustive_problems, len(problems), n)):
        cmd = [sys.executable, os.path.abspath(__file__), "--out", os.path.join(args.out, f"gpu{g}"),
               "--problems", args.problems, "--select", ",".join(str(indices[j]) for j in mine),
               "--methods", specs, "--exhaustive-problems", exh,
               "--exhaustive-cap", str(args.exhaustive_cap), "--model", args.model]
        cmd += [x for f in args.data for x in ("--data", f)]
        if args.alt_model:
            cmd += ["--alt-model", args.alt_model]
        env = dict(os.environ, CUDA_VISIBLE_DEVICES=str(g), TORCHINDUCTOR_COMPILE_THREADS=str(max(1, cores // n)))
        log = open(os.path.join(args.out, f"gpu{g}.log"), "a")
        procs.append((subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    for proc, log in procs:
        proc.wait()
        log.close()
    rows = []
    for g in range(n):
        path = os.path.join(args.out, f"gpu{g}", "rows.jsonl")
        if os.path.exists(path):
            rows += [json.loads(line) for line in open(path)]
    with open(os.path.join(args.out, "rows.jsonl"), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/tmp/e2e")
    ap.add_argument("--problems", default=os.path.join(HERE, "inductor_e2e_problems.csv"))
    ap.add_argument("--methods", default=",".join(m for m in METHODS if "-alt-" not in m),
                    help="comma list; METHOD@i;j;a-b runs METHOD on those problems only")
    ap.add_argument("--select", type=lambda s: [int(x) for x in s.split(",")], default=None,
                    help="only these problems (0-based indices into --problems)")
    ap.add_argument("--exhaustive-problems", default="", help="indices of problems for stock-exhaustive (comma list)")
    ap.add_argument("--exhaustive-cap", type=float, default=120.0)
    ap.add_argument("--model", default="auto", help="model of the gemmsift-K methods and exhaustive-best's top 1")
    ap.add_argument("--alt-model", default=None, help="model of the gemmsift-alt-K methods")
    ap.add_argument("--data", action="append", default=None,
                    help="EXHAUSTIVE dataset whose best configs exhaustive-best pins (repeatable; default: "
                         "data/<this GPU>_bf16_{NT,NN}_test_llm.csv.gz)")
    ap.add_argument("--gpus", type=int, default=1, help="shard the problems over this many GPUs")
    ap.add_argument("--summarize-only", action="store_true")
    ap.add_argument("--budget-s", type=float, default=None, help="stop starting problems after this many seconds")
    ap.add_argument("--worker"), ap.add_argument("--rows"), ap.add_argument("--lut")
    ap.add_argument("--only", type=lambda s: [int(x) for x in s.split(",")], default=None)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if any("-alt-" in m for m in args.methods.split(",")) and not args.alt_model:
        ap.error("gemmsift-alt-K methods need --alt-model")
    for spec in args.methods.split(","):
        if spec.startswith("gemmsift-"):
            try:
                gemmsift_settings(spec.partition("@")[0])
            except ValueError as e:
                ap.error(str(e))

    os.makedirs(args.out, exist_ok=True)
    if args.data is None and not args.summarize_only:
        try:
            args.data = device_data(gpu_name())
        except (OSError, subprocess.CalledProcessError, IndexError) as e:
            ap.error(f"cannot name this machine's GPU with nvidia-smi ({e}); pass --data FILE for exhaustive-best")
    missing = [f for f in args.data or [] if not os.path.isfile(os.path.join(ROOT, f))]
    if missing and "exhaustive-best" in args.methods:
        ap.error(f"exhaustive-best needs EXHAUSTIVE data of this GPU; missing: {', '.join(missing)}")
    problems = load_problems(args.problems)
    indices = args.select if args.select else list(range(len(problems)))
    problems = [problems[i] for i in indices]
    rows_path = os.path.join(args.out, "rows.jsonl")
    methods = [m for m in args.methods.split(",") if m]
    if args.budget_s and not args.summarize_only:
        os.environ["GEMMSIFT_E2E_DEADLINE"] = str(time.time() + args.budget_s)
    os.environ.setdefault("GEMMSIFT_E2E_RUN", time.strftime("%Y%m%dT%H%M%S"))
    if args.gpus > 1 and not args.summarize_only:
        run_sharded(args, problems, indices)
    elif not args.summarize_only:
        lut = os.path.join(args.out, "exhaustive_best_lut.json")
        oracle_table(problems, [os.path.join(ROOT, f) for f in args.data if os.path.isfile(os.path.join(ROOT, f))], lut)
        problems_file = os.path.join(args.out, "problems.csv")
        with open(problems_file, "w") as f:
            f.write("layout,m,n,k\n" + "".join(f"{l},{m},{n},{k}\n" for l, m, n, k in problems))
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python") + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   PYTHONUNBUFFERED="1")
        base = [sys.executable, os.path.abspath(__file__), "--problems", problems_file, "--rows", rows_path, "--lut", lut,
                "--model", args.model] + (["--alt-model", args.alt_model] if args.alt_model else [])
        for spec in methods:
            method, _, which = spec.partition("@")
            subset = parse_subset(which)  # method@i;j;a-b: only these problems (indices into the list run)
            t0 = time.time()
            # Fresh cache folders for each method's process, set before torch starts: Triton's
            # compile workers inherit them (changing them mid-process made every benchmarked
            # kernel compile again in the main process).
            for var in ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR"):
                env[var] = tempfile.mkdtemp(prefix=f"{method}_{var.lower()}_")
            if method == "stock-exhaustive":
                for i in subset if subset is not None else [int(x) for x in args.exhaustive_problems.split(",") if x]:
                    if i >= len(problems):
                        continue
                    left = float(os.environ.get("GEMMSIFT_E2E_DEADLINE", "inf")) - time.time()
                    if left < 10:
                        print("stock-exhaustive: deadline reached", flush=True)
                        break
                    for var in ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR"):
                        env[var] = tempfile.mkdtemp(prefix=f"{method}{i}_{var.lower()}_")
                    proc = subprocess.Popen(base + ["--worker", method, "--only", str(i)], env=env,
                                            start_new_session=True)
                    try:
                        waited = min(args.exhaustive_cap, left)
                        proc.wait(timeout=waited)
                    except subprocess.TimeoutExpired:  # the worker and its compile workers
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        l, m, n, k = problems[i]
                        with open(rows_path, "a") as f:
                            f.write(json.dumps({"method": method, "layout": l, "m": m, "n": n, "k": k,
                                                "run": env["GEMMSIFT_E2E_RUN"],
                                                "status": "capped", "compile_s": waited}) + "\n")
                        print(f"  stock-exhaustive {l} {m}x{n}x{k}: capped at {waited:.0f} s", flush=True)
            else:
                only = ["--only", ",".join(map(str, subset))] if subset is not None else []
                subprocess.run(base + ["--worker", method] + only, env=env, check=False)
            print(f"== {method}: {time.time() - t0:.0f} s", flush=True)
    rows = [json.loads(line) for line in open(rows_path)] if os.path.exists(rows_path) else []
    dev = next((r["device"] for r in rows if r.get("device")), "")
    tv = next((r["torch"] for r in rows if r.get("torch")), "")
    for r in rows:
        r.setdefault("device", dev)
        r.setdefault("torch", tv)
    summarize(rows, problems, args.out, args.exhaustive_cap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
