#!/usr/bin/env python3
"""Looks up the Triton configs Inductor benchmarked in an end-to-end run (its AUTOTUNE tables in the
run's log) in the full EXHAUSTIVE measurements of data/, problem by problem: how fast the config
Inductor picked and the best of the configs it was given are there, against the problem's best.
This judges the candidates a method handed Inductor apart from the run's own timings (a run whose
timings were disturbed still shows whether the model's top k held the best configs). Then how
Inductor's own timings compare: each Triton config's time in its table against the data's (ratio
Inductor / data), and with --rows (the run's rows.jsonl) its time of the ATen choice against the
run's cuBLAS measurement of the same problem (ratio Inductor / cuBLAS); a method whose ratios run
high had its pick decided by inflated timings.

    python3 bench/e2e_picks.py LOG --data data/h100-80gb-hbm3_bf16_NT_test_llm.csv.gz --data ... [--rows ROWS [--run RUN]]

LOG: the e2e job's output (tools/gpu/job_train_e2e.sh's job.log), in which each method's worker
printed Inductor's "AUTOTUNE mm(MxK, KxN)" tables with the strides (layout) of its problems. Each
worker starts with a 256x256x256 warm-up matmul; its table starts a new section (the methods that
autotune, in the run's order). Inductor prints at most its 10 fastest choices a problem.
"""
import argparse
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gemmsift.collect.dataset import read_rows  # noqa: E402  (the package beside bench/)
from inductor_e2e import geomean  # noqa: E402  (the e2e summary's geometric mean)

CONFIG = re.compile(r"BLOCK_K=(\d+), BLOCK_M=(\d+), BLOCK_N=(\d+).*num_stages=(\d+), num_warps=(\d+)")
HEAD = re.compile(r"^AUTOTUNE mm\((\d+)x(\d+), (\d+)x(\d+)\)")
TIME = re.compile(r"^  \S+ ([\d.]+) ms")
RESULT = re.compile(r"^\s+(\S+) (?:NT|NN) \d+x\d+x\d+: ")  # a worker's line after each problem


def load(paths):
    """(layout, m, n, k) -> {(block_m, block_n, block_k, stages, warps): best time_us_min}"""
    out = {}
    for path in paths:
        for r in read_rows(path):  # the collector's reader: refuses a file with another header
            if r["status"] != "ok":
                continue
            key = (r["layout"], int(r["m"]), int(r["n"]), int(r["k"]))
            cfg = tuple(int(r[c]) for c in ("block_m", "block_n", "block_k", "num_stages", "num_warps"))
            t = float(r["time_us_min"])
            d = out.setdefault(key, {})
            d[cfg] = min(t, d.get(cfg, math.inf))
    return out


def tables(log):
    """Each AUTOTUNE table: section, (layout, m, n, k), [configs, fastest first; None = ATen],
    [Inductor's microseconds for each]."""
    lines = open(log, errors="replace").read().splitlines()
    i, section = 0, 0
    while i < len(lines):
        h = HEAD.match(lines[i])
        if not h:
            i += 1
            continue
        m, k, _, n = (int(x) for x in h.groups())
        if (m, k, n) == (256, 256, 256):
            section += 1
        strides = lines[i + 1] if i + 1 < len(lines) else ""
        # B is K x N: row-major strides [N, 1] (NN); [1, K] is the transposed weight of nn.Linear (NT)
        layout = "NT" if re.search(r"\], \[1, \d+\]", strides) else "NN"
        picks, times = [], []
        i += 3
        while i < len(lines) and lines[i].startswith("  "):
            c = CONFIG.search(lines[i])
            t = TIME.match(lines[i])
            picks.append(tuple(int(x) for x in (c.group(2), c.group(3), c.group(1), c.group(4), c.group(5))) if c else None)
            times.append(float(t.group(1)) * 1000.0 if t else math.nan)
            i += 1
        yield section, (layout, m, n, k), picks, times


def section_methods(log):
    """section -> the method its worker named in its first result line (the warm-up starts a section)."""
    out, section = {}, 0
    for line in open(log, errors="replace"):
        h = HEAD.match(line)
        if h and tuple(int(x) for x in h.groups()) == (256, 256, 256, 256):
            section += 1
        r = RESULT.match(line)
        if r and section and section not in out:
            out[section] = r.group(1)
    return out


def cublas_times(rows_path, run=None):
    """(layout, m, n, k) -> the fastest cuBLAS kernel of the rows (method cublas), of run RUN only
    when given (a rows file merged from several runs)."""
    out = {}
    with open(rows_path) as f:
        for line in f:
            r = json.loads(line)
            if run is not None and r.get("run") != run:
                continue
            if r.get("method") == "cublas" and r.get("status") == "ok" and r.get("kernel_us"):
                key = (r["layout"], int(r["m"]), int(r["n"]), int(r["k"]))
                out[key] = min(r["kernel_us"], out.get(key, math.inf))
    return out


def spread(ratios):
    """median, 90th percentile and the share above 1.25 of a list of ratios, as text."""
    xs = sorted(ratios)
    if not xs:
        return "-"
    def q(p):
        return xs[min(len(xs) - 1, int(p * len(xs)))]
    share = sum(x > 1.25 for x in xs) / len(xs)
    return f"{len(xs)}: median {q(0.5):.2f}, 90th percentile {q(0.9):.2f}, above 1.25 {100 * share:.0f}%"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log")
    ap.add_argument("--data", action="append", required=True, help="EXHAUSTIVE measurements (repeat)")
    ap.add_argument("--rows", help="the run's rows.jsonl: Inductor's ATen timings against its cuBLAS rows")
    ap.add_argument("--run", help="with --rows: only the cuBLAS rows of this run (rows merged from several runs)")
    args = ap.parse_args()
    if args.run and not args.rows:
        ap.error("--run needs --rows")
    data = load(args.data)
    cublas = cublas_times(args.rows, args.run) if args.rows else {}
    if args.rows and not cublas:
        ap.error(f"no cuBLAS row{' of run ' + args.run if args.run else ''} in {args.rows}")
    names = section_methods(args.log)
    rows, triton_ratio, aten_ratio = {}, {}, {}
    print("| section | problem | configs given | picked (data, µs) | best given (data) | EXHAUSTIVE best (data) | picked / best | best given / best |")
    print("|---|---|---|---|---|---|---|---|")
    for section, key, picks, times in tables(args.log):
        if key in cublas and key[1:] != (256, 256, 256):
            aten_ratio.setdefault(section, []).extend(t / cublas[key] for p, t in zip(picks, times) if p is None)
        d = data.get(key)
        triton = [p for p in picks if p is not None]
        if not d or not triton or key[1:] == (256, 256, 256):
            continue  # warm-up matmul, or not a measured problem
        best = min(d.values())
        triton_ratio.setdefault(section, []).extend(t / d[p] for p, t in zip(picks, times) if p in d)
        known = [d[p] for p in triton if p in d]
        if not known:
            continue
        first = next(p for p in picks if p is not None)
        picked = d.get(first, math.nan)
        given = min(known)
        rows.setdefault(section, []).append((best / picked, best / given))
        print(f"| {section} | {key[0]} {key[1]}x{key[2]}x{key[3]} | {len(triton)} | {picked:.1f} | {given:.1f} | {best:.1f} | "
              f"{best / picked:.3f} | {best / given:.3f} |")
    if not rows:
        sys.exit("no AUTOTUNE table of a measured problem in the log")
    print()
    for section, rs in rows.items():
        picked = [r[0] for r in rs if not math.isnan(r[0])]
        print(f"section {section} ({names.get(section, '?')}), {len(rs)} problems: Inductor's pick (its fastest Triton config) {geomean(picked):.3f} "
              f"of the data's best (geometric mean of the {len(picked)} picks the data hold), the best config given "
              f"{geomean([r[1] for r in rs]):.3f}; worst {min(r[1] for r in rs):.3f}")
    print()
    print("Inductor's timings against the data (Triton configs) and against the run's cuBLAS rows (ATen):")
    for section in sorted(set(triton_ratio) | set(aten_ratio)):
        print(f"section {section} ({names.get(section, '?')}): Triton configs {spread(triton_ratio.get(section, []))}; "
              f"ATen {spread(aten_ratio.get(section, []))}")


if __name__ == "__main__":
    main()
