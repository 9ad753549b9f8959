"""tools/rank_check.py on hand-made times with known answers."""

import importlib.util
import json
import os

from conftest import ROOT
from gemmsift import Config, Model, Problem
from gemmsift.collect import dataset

spec = importlib.util.spec_from_file_location("rank_check", ROOT / "tools" / "rank_check.py")
rank_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rank_check)

CONFIGS = [Config(128, 128, 64, 8, 3, 4), Config(64, 64, 32, 8, 2, 4), Config(32, 32, 32, 8, 2, 4),
           Config(64, 128, 64, 8, 3, 4), Config(128, 64, 32, 8, 4, 8), Config(16, 64, 128, 8, 3, 4)]


def test_off16_classes():
    assert rank_check.off16("NT", 4096, 4096, 4096) == ""
    assert rank_check.off16("NT", 777, 3000, 1500) == "even"   # K = 1500, N = 3000
    assert rank_check.off16("NT", 129, 4097, 513) == "odd"
    assert rank_check.off16("NT", 1000, 4096, 4096) == ""      # M is no stride in NT
    assert rank_check.off16("TN", 1000, 4096, 4096) == "even"  # A transposed: its stride is M
    assert rank_check.off16("NN", 64, 4097, 1024) == "odd"


def test_a_model_ranked_against_its_own_estimates_and_against_the_reverse(tmp_path, capsys):
    """Times equal to the analytical model's estimates: Spearman 1 and every quality 1. Times in
    the reverse order of the estimates: Spearman -1, and quality@1 = best / the worst time."""
    model = Model("analytical")
    p = (2048, 2048, 2048)
    est = model.estimate(Problem(*p, dtype="bf16", layout="NT"), CONFIGS)
    same = {("bf16", "NT") + p: dict(zip(CONFIGS, est))}
    rows = rank_check.check(same, {"a": model})
    assert len(rows) == 1 and rows[0][1] == ""
    rho, q = rows[0][2]["a"]
    assert abs(rho - 1) < 1e-9 and q == {1: 1.0, 3: 1.0, 5: 1.0}
    rev = sorted(est, reverse=True)
    order = sorted(range(len(CONFIGS)), key=lambda i: est[i])
    reverse = {("bf16", "NT") + p: {CONFIGS[i]: rev[rank] for rank, i in enumerate(order)}}
    rho, q = rank_check.check(reverse, {"a": model})[0][2]["a"]
    assert abs(rho + 1) < 1e-9 and abs(q[1] - min(est) / max(est)) < 1e-12
    assert abs(q[5] - min(est) / sorted(est)[1]) < 1e-12  # the top 5 misses only the fastest

    # the same times through a dataset file and through validate_harness.py's JSON
    part = str(tmp_path / "x.part.csv")
    dataset.append_problem(part, [
        {"device": "NVIDIA H200", "op": "mm", "dtype": "bf16", "layout": "NT", "m": 2048, "n": 2048, "k": 2048,
         "batch": 1, "template": "triton_mm", "block_m": c.block_m, "block_n": c.block_n, "block_k": c.block_k,
         "group_m": c.group_m, "num_stages": c.num_stages, "num_warps": c.num_warps, "status": "ok",
         "time_us_min": dataset.fmt_us(t), "time_us_median": dataset.fmt_us(t), "iterations": 10, "note": ""}
        for c, t in reverse[("bf16", "NT") + p].items()])
    path = str(tmp_path / "x.csv.gz")
    dataset.merge_parts(part, path, {"format": "gemmsift-dataset", "format_version": 1, "device": "NVIDIA H200",
                                     "sm_count": 132, "torch": "2.11.0", "triton": "3.6.0", "cuda": "13.0",
                                     "timing": {"method": "test"}, "date": "2026-11-29"})
    got = rank_check.times_of(path)[("bf16", "NT") + p]
    assert set(got) == set(CONFIGS) and all(abs(got[c] - reverse[("bf16", "NT") + p][c]) < 1e-3 for c in CONFIGS)
    short = lambda c: f"{c.block_m}x{c.block_n}x{c.block_k} g{c.group_m} s{c.num_stages} w{c.num_warps}"  # noqa: E731
    j = tmp_path / "v.json"
    j.write_text(json.dumps({"inductor": [{"shape": [777, 3000, 1500], "layout": "NT",
                                           "pairs": [[short(c), 10.0 + i, 20.0 - i] for i, c in enumerate(CONFIGS)]}]}))
    ind = rank_check.times_of(str(j))[("bf16", "NT", 777, 3000, 1500)]
    mine = rank_check.times_of(str(j), harness=True)[("bf16", "NT", 777, 3000, 1500)]
    assert ind[CONFIGS[0]] == 10.0 and mine[CONFIGS[0]] == 20.0
    rank_check.main([str(j), "--model", "analytical"])
    out = capsys.readouterr().out
    assert "bf16 NT 777x3000x1500  even       6" in out and "1 = analytical" in out
    assert "model 1, off16 even        1" in out


def test_summary_and_off16_policies(capsys):
    """The summary's geometric means and worst case over hand-made rows; --off16 loads a model per
    policy (the analytical model ignores the policy: the same figures)."""
    rows = [(("bf16", "NT", 1000, 1000, 1000), "even", {"m": (0.5, {1: 0.5, 3: 0.8, 5: 1.0})}, 6),
            (("bf16", "NT", 4096, 4096, 4096), "", {"m": (0.9, {1: 0.8, 3: 0.8, 5: 0.9})}, 6)]
    lines = rank_check.summary(rows, ["m"]).splitlines()
    assert "model 1, all" in lines[1] and lines[1].endswith(" 2  0.632 / 0.800 / 0.949 / 0.900")
    assert "off16 even" in lines[2] and lines[2].endswith(" 1  0.500 / 0.800 / 1.000 / 1.000")
    assert "off16 none" in lines[3] and lines[3].endswith(" 1  0.800 / 0.800 / 0.900 / 0.900")
    times = {("bf16", "NT", 777, 3000, 1500): {c: 10.0 + i for i, c in enumerate(CONFIGS)}}
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        j = os.path.join(d, "t.json")
        short = lambda c: f"{c.block_m}x{c.block_n}x{c.block_k} g{c.group_m} s{c.num_stages} w{c.num_warps}"  # noqa: E731
        with open(j, "w") as f:
            json.dump({"inductor": [{"shape": [777, 3000, 1500], "layout": "NT",
                                     "pairs": [[short(c), t, t] for c, t in times[("bf16", "NT", 777, 3000, 1500)].items()]}]}, f)
        rank_check.main([j, "--model", "analytical", "--off16", "learned", "--off16", "padded"])
    out = capsys.readouterr().out
    assert "1 = analytical [off16 learned]; 2 = analytical [off16 padded]" in out
    got = [line.split(",")[1] for line in out.splitlines() if line.strip().startswith("model ") and "," in line]
    assert len(got) == 4 and got[0] == got[2] and got[1] == got[3]  # all, off16 even; per model
