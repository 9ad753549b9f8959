"""How well models rank the configs of a few problems against a set of measured times: per problem,
Spearman's rank correlation of each model's estimates with the times, and the quality of its top
1, 3 and 5 among the measured configs (the best time over the best time in the model's top k).

The times come from either
- a dataset (`python -m gemmsift.collect` output, .csv or .csv.gz; the configs timed "ok"), or
- a JSON file of tools/gpu/validate_harness.py, whose "inductor" entries hold Inductor's own
  autotune timings of its DEFAULT list ("pairs": [config, Inductor's us, harness's us]); --harness
  takes the harness's column instead of Inductor's.
The "off16" column marks problems with a leading stride (A's, B's or C's) that is not a multiple of
16: "even" when such a stride is even (where the datasets' arguments kernel and Inductor's differ
most, docs/collection.md, session 16), else "odd".

    python3 tools/rank_check.py TIMES [--harness] --model SPEC [--model SPEC ...] [--off16 POLICY ...]

--off16 loads each model once per policy (learned, analytical, padded: ModelOptions::off16,
docs/inductor.md). The table ends with each model's summary over all problems and over those of
each off16 class: geometric mean of quality@k, and the worst quality@5.

Needs the built library (build/libgemmsift.so, or GEMMSIFT_LIBRARY)."""

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_kernels import ok_times  # noqa: E402  (a dataset's ok times, per problem and config)
from gemmsift import OFF16_POLICIES, Config, Model, Problem  # noqa: E402
from gemmsift.stats import spearman  # noqa: E402


def config_of_short(text):
    """Config of validate_harness.py's short form, "64x128x64 g8 s3 w4"."""
    tiles, g, s, w = text.split()
    bm, bn, bk = map(int, tiles.split("x"))
    return Config(bm, bn, bk, int(g[1:]), int(s[1:]), int(w[1:]))


def times_of(path, harness=False):
    """{(dtype, layout, m, n, k): {Config: us}}."""
    if path.endswith(".json"):
        with open(path) as f:
            runs = json.load(f).get("inductor", [])
        out = {}
        for r in runs:
            m, n, k = r["shape"]
            out[("bf16", r.get("layout", "NT"), m, n, k)] = {config_of_short(c): (mine if harness else ind)
                                                              for c, ind, mine in r["pairs"]}
        return out
    return ok_times(path)


def off16(layout, m, n, k):
    """"even" when a leading stride (A's, B's, C's) is even but not a multiple of 16, else "odd"
    when one is odd, else ""."""
    a = m if layout[0] == "T" else k
    b = k if layout[1] == "T" else n
    strides = (a, b, n)
    if any(s % 16 and s % 2 == 0 for s in strides):
        return "even"
    return "odd" if any(s % 2 for s in strides) else ""


def check(times, models, ks=(1, 3, 5)):
    """Rows (problem key, off16, {model name: (spearman, {k: quality})})."""
    rows = []
    for key in sorted(times):
        dtype, layout, m, n, k = key
        configs = list(times[key])
        t = [times[key][c] for c in configs]
        best = min(t)
        got = {}
        for name, model in models.items():
            est = model.estimate(Problem(m, n, k, dtype=dtype, layout=layout), configs)
            order = sorted(range(len(configs)), key=lambda i: est[i])
            got[name] = (spearman(est, t), {kk: best / min(t[i] for i in order[:kk]) for kk in ks})
        rows.append((key, off16(layout, m, n, k), got))
    return rows


def summary(rows, names, ks=(1, 3, 5)):
    """Lines: per model and problem class (all, then each off16 class present), the geometric mean
    of quality@k over the problems and the worst quality@k of the largest k."""
    classes = [("all", lambda o: True)] + [(f"off16 {c or 'none'}", lambda o, c=c: o == c)
                                           for c in ("even", "odd", "") if any(r[1] == c for r in rows)]
    lines = [f"{'summary':>22} {'problems':>8}  " + " / ".join(f"q@{k}" for k in ks) + f" / worst@{ks[-1]}"]
    for i, name in enumerate(names):
        for label, keep in classes:
            qs = [r[2][name][1] for r in rows if keep(r[1])]
            mean = [math.exp(sum(math.log(q[k]) for q in qs) / len(qs)) for k in ks]
            worst = min(q[ks[-1]] for q in qs)
            lines.append(f"{f'model {i + 1}, {label}':>22} {len(qs):>8}  " +
                         " / ".join(f"{v:.3f}" for v in mean) + f" / {worst:.3f}")
    return "\n".join(lines)


def table(rows, names, ks=(1, 3, 5)):
    cols = "rho / " + " / ".join(f"q@{k}" for k in ks)
    lines = [f"{'model':>6}  {cols}:  " + "; ".join(f"{i + 1} = {name}" for i, name in enumerate(names)),
             f"{'problem':>22} {'off16':>5} {'configs':>7}" + "".join(f"{f'model {i + 1}':>{6 + 9 * len(ks)}}"
                                                                     for i in range(len(names)))]
    for (dtype, layout, m, n, k), o16, got, count in rows:
        line = f"{f'{dtype} {layout} {m}x{n}x{k}':>22} {o16:>5} {count:>7}"
        for name in names:
            rho, q = got[name]
            line += f"{f'{rho:.3f} / ' + ' / '.join(f'{q[k]:.3f}' for k in ks):>{6 + 9 * len(ks)}}"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("times", help="a dataset (.csv, .csv.gz) or a validate_harness.py JSON file")
    ap.add_argument("--harness", action="store_true", help="JSON: the harness's times instead of Inductor's")
    ap.add_argument("--model", action="append", required=True, help="model spec or file (repeatable)")
    ap.add_argument("--off16", action="append", choices=OFF16_POLICIES,
                    help="load each model with this off16 policy (repeatable; default: learned, the networks on the "
                         "problem as it is, whatever the library's default)")
    a = ap.parse_args(argv)
    times = times_of(a.times, a.harness)
    if not times:
        raise SystemExit(f"{a.times}: no timed configs")
    policies = a.off16 or ["learned"]
    models = {spec + (f" [off16 {p}]" if len(policies) > 1 or p != "learned" else ""): Model(spec, off16=p)
              for spec in a.model for p in policies}
    rows = [(key, o16, got, len(times[key])) for key, o16, got in check(times, models)]
    print(table(rows, list(models)))
    print(summary(rows, list(models)))


if __name__ == "__main__":
    main()
