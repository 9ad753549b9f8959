"""Compares two datasets of the same problems and configs measured with the two kernels of the
harness (sizes as arguments, and --literal-sizes: Inductor's), docs/collection.md "Literal sizes":
how the times move, whether the winners agree, and how good each model's top k is when the
literal-size times (the kernels Inductor runs) are the truth. Sampled datasets are fine: every
figure is over the configs timed "ok" in both files.

    python3 tools/compare_kernels.py ARGUMENTS.csv.gz LITERAL.csv.gz [--model SPEC ...]

Needs the built library (build/libgemmsift.so, or GEMMSIFT_LIBRARY) for the models and the
DEFAULT list."""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from gemmsift import Config, Model, Problem, space  # noqa: E402
from gemmsift.collect import dataset  # noqa: E402
from gemmsift.stats import geomean, quantile, spearman  # noqa: E402



def ok_times(path, field="time_us_min"):
    """{(dtype, layout, m, n, k): {Config: time in us}} over the rows with status ok (`field`: the
    minimum, or time_us_median)."""
    out = {}
    for r in dataset.read_rows(path):
        if r["status"] == "ok":
            key = (r["dtype"], r["layout"], int(r["m"]), int(r["n"]), int(r["k"]))
            out.setdefault(key, {})[Config(*(int(r[f]) for f in dataset.CONFIG_FIELDS))] = float(r[field])
    return out


def compare(args_times, lit_times, models, ks=(1, 5)):
    common = sorted(set(args_times) & set(lit_times))
    if not common:
        raise SystemExit("the two datasets share no problem")
    per_config, top10, best_ratio, pick_quality, rho, same = [], [], [], [], [], 0
    quality = {(name, truth, k): [] for name in models for truth in ("arguments", "literal") for k in ks}
    default_q = {"arguments": [], "literal": []}
    for key in common:
        a, lit = args_times[key], lit_times[key]
        cs = [c for c in a if c in lit]
        if len(cs) < 2:
            continue
        per_config += [lit[c] / a[c] for c in cs]
        lit_best = min(cs, key=lambda c: lit[c])
        arg_best = min(cs, key=lambda c: a[c])
        same += lit_best == arg_best
        best_ratio.append(lit[lit_best] / a[arg_best])
        pick_quality.append(lit[lit_best] / lit[arg_best])
        rho.append(spearman([a[c] for c in cs], [lit[c] for c in cs]))
        top10 += [lit[c] / a[c] for c in sorted(cs, key=lambda c: lit[c])[:10]]
        dtype, layout, m, n, k = key
        problem = Problem(m, n, k, dtype=dtype, layout=layout)
        default = set(space(problem, space="DEFAULT"))
        for truth, t in (("arguments", a), ("literal", lit)):
            best = min(t[c] for c in cs)
            in_default = [t[c] for c in cs if c in default]
            if in_default:
                default_q[truth].append(best / min(in_default))
        for name, model in models.items():
            ranked = [c for _, c in sorted(zip(model.estimate(problem, cs), cs), key=lambda x: x[0])]
            for truth, t in (("arguments", a), ("literal", lit)):
                best = min(t[c] for c in cs)
                for kk in ks:
                    quality[(name, truth, kk)].append(best / min(t[c] for c in ranked[:kk]))
    n = len(best_ratio)
    lines = [f"{n} problems, {len(per_config)} (problem, config) pairs timed ok by both kernels",
             f"literal / arguments, every config: median {statistics.median(per_config):.3f}, "
             f"p10 {quantile(per_config, 0.1):.3f}, p90 {quantile(per_config, 0.9):.3f}, min {min(per_config):.3f}",
             f"literal / arguments, each problem's 10 fastest configs (literal): median {statistics.median(top10):.3f}, "
             f"p10 {quantile(top10, 0.1):.3f}",
             f"best time, literal / arguments: geometric mean {geomean(best_ratio):.3f}, min {min(best_ratio):.3f}, "
             f"max {max(best_ratio):.3f}",
             f"the arguments kernel's winner run with literal sizes: geometric mean {geomean(pick_quality):.3f} of the "
             f"literal best, worst {min(pick_quality):.3f}; the same config on {same} of {n}, within 2% on "
             f"{sum(q >= 1 / 1.02 for q in pick_quality)}",
             f"Spearman between the two kernels' times, per problem: median {statistics.median(rho):.3f}, min {min(rho):.3f}",
             "",
             "quality (best / best of the top k among the configs both timed; geometric mean, worst) "
             "with each kernel's times as the truth:",
             f"{'':>34}" + "".join(f"{f'{truth} @{k}':>22}" for truth in ("arguments", "literal") for k in ks)]
    for name in models:
        cells = "".join(f"{geomean(quality[(name, truth, k)]):>12.3f} ({min(quality[(name, truth, k)]):.3f})"
                        for truth in ("arguments", "literal") for k in ks)
        lines.append(f"{name:>34}" + cells)
    lines.append(f"{'DEFAULT list (its configs timed)':>34}"
                 + "".join(f"{geomean(default_q[truth]):>12.3f} ({min(default_q[truth]):.3f})" + " " * 22
                           for truth in ("arguments", "literal")))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("arguments", help="dataset measured without --literal-sizes")
    ap.add_argument("literal", help="dataset of the same problems measured with --literal-sizes")
    ap.add_argument("--model", action="append", default=[], help="model spec (default: analytical)")
    a = ap.parse_args(argv)
    for path, want in ((a.arguments, "arguments"), (a.literal, "literal")):
        got = dataset.kernel_sizes_of(path)
        if got != want:
            raise SystemExit(f"{path}: its sidecar says kernel_sizes '{got}', expected '{want}'")
    models = {spec: Model(spec) for spec in (a.model or ["analytical"])}
    print(compare(ok_times(a.arguments), ok_times(a.literal), models))


if __name__ == "__main__":
    main()
