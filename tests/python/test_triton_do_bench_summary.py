"""bench/triton_do_bench.py's arithmetic (no GPU): ranks with ties, Spearman (gemmsift.stats), the summary."""
import importlib.util
import pathlib

import pytest

from gemmsift.stats import geomean, ranks, spearman

spec = importlib.util.spec_from_file_location(
    "triton_do_bench", pathlib.Path(__file__).resolve().parents[2] / "bench" / "triton_do_bench.py")
tdb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tdb)


def test_ranks_average_ties_and_spearman_known_values():
    assert ranks([30.0, 10.0, 20.0, 10.0]) == [3.0, 0.5, 2.0, 0.5]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # d = (0, 0, 1, -1) -> 1 - 6 * 2 / (4 * 15) = 0.8 without ties
    assert spearman([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(0.8)
    assert spearman([1, 1, 1], [1, 2, 3]) != spearman([1, 1, 1], [1, 2, 3])  # nan: no spread
    with pytest.raises(ValueError):
        spearman([1, 2], [1, 2, 3])


def test_geomean_leaves_out_what_has_no_logarithm():
    assert geomean([1.0, 4.0, None, 0.0, -2.0, float("nan"), float("inf")]) == pytest.approx(2.0)
    assert geomean([None, 0.0]) != geomean([None, 0.0])  # nan


def test_summary_per_timer():
    def row(method, pct, ratio, rho, tune, n):
        return {"layout": "NT", "m": 2, "n": n, "k": 8, "method": method, "pct_of_best": pct,
                "ratio_median": ratio, "spearman": rho, "tune_s": tune}
    rows = [row("triton", 100.0, 2.0, 0.5, 2.0, 16), row("triton", 25.0, 3.0, 0.7, 3.0, 32),
            row("gemmsift", 100.0, 1.0, 0.9, 0.5, 16), row("gemmsift", 99.5, 1.1, 1.0, 0.25, 32)]
    s = tdb.summarize(rows, {"device": "d", "torch": "t", "triton": "x"})
    assert s["problems"] == 2  # two problems, each timed both ways
    t, g = s["methods"]["triton"], s["methods"]["gemmsift"]
    assert t["geomean_pct_of_best"] == pytest.approx(50.0)
    assert t["worst_pct_of_best"] == 25.0 and t["picks_within_1pct"] == 1
    assert g["picks_within_1pct"] == 2 and g["tune_s_total"] == 0.75
    assert t["median_reported_over_ref"] == pytest.approx(2.5) and g["median_spearman"] == pytest.approx(0.95)
    text = tdb.table(s)
    assert "gemmsift" in text.splitlines()[2] and "triton" in text.splitlines()[3]
