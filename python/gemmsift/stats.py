"""Small statistics the Python side's benchmarks and checks share (no torch, no library)."""

import math
import statistics
from typing import List, Sequence


def ranks(values: Sequence[float]) -> List[float]:
    """0-based ranks of values; tied values share the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for t in range(i, j + 1):
            r[order[t]] = (i + j) / 2.0
        i = j + 1
    return r


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of two equally long sequences (Pearson's of their ranks, ties
    averaged); nan when either has no spread."""
    if len(x) != len(y):
        raise ValueError(f"spearman of sequences of {len(x)} and {len(y)} values")
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return num / den if den else float("nan")


def geomean(values: Sequence[float]) -> float:
    """Geometric mean of the finite positive values (None, 0, negative, nan and inf left out); nan
    when none is left."""
    kept = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in kept) / len(kept)) if kept else float("nan")


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) of values by linear interpolation between the closest ranks
    (torch.quantile's default, which Triton's do_bench uses)."""
    if not values:
        raise ValueError("quantile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is not in [0, 1]")
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)
