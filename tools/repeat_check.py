"""Compares two datasets of the same kernel and problems measured in different calls or on
different machines (docs/collection.md "Session 19"): how much the times of the (problem, config)
pairs timed "ok" in both move, band by band of the first file's time, as a ratio and as a
difference in microseconds (a difference that stays put across the bands is an offset per
launch, not a slower GPU), and whether each problem's fastest config agrees.

    python3 tools/repeat_check.py FIRST.csv.gz SECOND.csv.gz [--field time_us_min|time_us_median] [--per-problem]

--per-problem adds each problem's median difference over its pairs under 50 us (problems with at
least 5): a file measured in several calls on different machines falls into groups."""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_kernels import ok_times  # noqa: E402,F401  (a dataset's ok times, per problem and config)
from gemmsift.collect import dataset  # noqa: E402
from gemmsift.stats import geomean, quantile  # noqa: E402

BANDS = ((0, 5), (5, 10), (10, 20), (20, 50), (50, 200), (200, float("inf")))


def matched(first, second):
    """The (first, second) time pairs of every (problem, config) timed ok in both, and for each
    problem with any: the second file's time of its own winner over that of the first's winner."""
    pairs, picks, same = [], [], 0
    for key in sorted(set(first) & set(second)):
        a, b = first[key], second[key]
        cs = [c for c in a if c in b]
        if not cs:
            continue
        pairs += [(a[c], b[c]) for c in cs]
        a_best = min(cs, key=lambda c: a[c])
        b_best = min(cs, key=lambda c: b[c])
        same += a_best == b_best
        picks.append(b[b_best] / b[a_best])
    return pairs, picks, same


def band_rows(pairs):
    """Per band of the first time: (name, pairs, ratio p5, median, p95, difference p5, median, p95)."""
    rows = []
    for lo, hi in BANDS:
        band = [(x, y) for x, y in pairs if lo <= x < hi]
        if band:
            r = [y / x for x, y in band]
            d = [y - x for x, y in band]
            rows.append((f"[{lo:g}, {hi:g})" if hi != float("inf") else f">= {lo:g}", len(band),
                         quantile(r, 0.05), statistics.median(r), quantile(r, 0.95),
                         quantile(d, 0.05), statistics.median(d), quantile(d, 0.95)))
    return rows


def per_problem(first, second, below_us=50.0, at_least=5):
    """[(median difference in us, problem key, pairs)] over each problem's pairs whose first time
    is under below_us, for problems with at least `at_least` of them, smallest difference first."""
    out = []
    for key in sorted(set(first) & set(second)):
        a, b = first[key], second[key]
        d = [b[c] - a[c] for c in a if c in b and a[c] < below_us]
        if len(d) >= at_least:
            out.append((statistics.median(d), key, len(d)))
    return sorted(out)


def compare(first, second):
    pairs, picks, same = matched(first, second)
    if not pairs:
        raise SystemExit("the two datasets share no (problem, config) timed ok in both")
    ratios = [y / x for x, y in pairs]
    lines = [f"{len(picks)} problems, {len(pairs)} (problem, config) pairs timed ok in both",
             f"second / first, every pair: median {statistics.median(ratios):.3f}, "
             f"p5 {quantile(ratios, 0.05):.3f}, p95 {quantile(ratios, 0.95):.3f}",
             f"{'first time (us)':>16} {'pairs':>7} {'ratio p5':>9} {'median':>7} {'p95':>6} "
             f"{'diff us p5':>11} {'median':>7} {'p95':>6}"]
    for name, n, r5, r50, r95, d5, d50, d95 in band_rows(pairs):
        lines.append(f"{name:>16} {n:>7} {r5:>9.3f} {r50:>7.3f} {r95:>6.3f} {d5:>11.2f} {d50:>7.2f} {d95:>6.2f}")
    lines.append(f"each problem's fastest config (among the pairs): the same in both on {same} of {len(picks)}; "
                 f"the first file's winner judged by the second's times: geometric mean {geomean(picks):.3f} "
                 f"of the best, worst {min(picks):.3f}, within 2% on {sum(q >= 1 / 1.02 for q in picks)}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("first")
    ap.add_argument("second")
    ap.add_argument("--field", default="time_us_min", choices=["time_us_min", "time_us_median"])
    ap.add_argument("--per-problem", action="store_true",
                    help="each problem's median difference over its pairs under 50 us")
    a = ap.parse_args(argv)
    kernels = {path: dataset.kernel_sizes_of(path) for path in (a.first, a.second)}
    if len(set(kernels.values())) != 1:
        raise SystemExit("the two datasets time different kernels (" +
                         ", ".join(f"{p}: kernel_sizes '{k}'" for p, k in kernels.items()) +
                         "): tools/compare_kernels.py compares those")
    first, second = ok_times(a.first, a.field), ok_times(a.second, a.field)
    print(compare(first, second))
    if a.per_problem:
        print("\nper problem, second - first over its pairs under 50 us (at least 5), median:")
        for d, (dtype, layout, m, n, k), count in per_problem(first, second):
            print(f"{d:+8.2f} us  {m}x{n}x{k} {dtype} {layout}  ({count} pairs)")


if __name__ == "__main__":
    main()
