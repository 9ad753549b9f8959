"""bench/inductor_e2e.py's summary (no torch): references per run, percentages, goals, capped runs."""
import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("inductor_e2e", ROOT / "bench" / "inductor_e2e.py")
e2e = importlib.util.module_from_spec(spec)
spec.loader.exec_module(e2e)

P1, P2 = ("NT", 64, 64, 64), ("NN", 128, 64, 32)


def row(run, method, p, us, compile_s=1.0, status="ok"):
    return {"run": run, "method": method, "layout": p[0], "m": p[1], "n": p[2], "k": p[3], "status": status,
            "kernel_us": us, "compile_s": compile_s, "choices": 3, "device": "GPU X", "torch": "2.11"}


def test_summary_compares_each_row_with_its_own_run(tmp_path):
    rows = [
        # run a: EXHAUSTIVE's best 10 us, cuBLAS 12, stock DEFAULT 11 (10 s), gemmsift-5 10.5 (2 s)
        row("a", "exhaustive-best", P1, 10.0), row("a", "cublas", P1, 12.0, 0.0), row("a", "stock-default", P1, 11.0, 10.0),
        row("a", "gemmsift-5", P1, 10.5, 2.0),
        # run b, same problem, another machine: everything twice as slow; gemmsift-5 slower than stock
        row("b", "exhaustive-best", P1, 20.0), row("b", "cublas", P1, 24.0, 0.0), row("b", "stock-default", P1, 20.0, 8.0),
        row("b", "gemmsift-5", P1, 22.0, 4.0),
        # P2 only in run a, with a gemmsift kernel faster than the pinned best (best seen moves)
        row("a", "exhaustive-best", P2, 10.0), row("a", "gemmsift-5", P2, 8.0, 1.0),
        row("a", "stock-exhaustive", P2, None, 150.0, status="capped"),
    ]
    e2e.summarize(rows, [P1, P2], str(tmp_path), 150.0)
    s = json.loads((tmp_path / "summary.json").read_text())
    g = s["methods"]["gemmsift-5"]
    assert g["problems"] == 3 and g["ok"] == 3
    # % of EXHAUSTIVE best per row: 10/10.5, 20/22, 10/8 -> geomean
    want = (100 * 10 / 10.5 * 100 * 20 / 22 * 100 * 10 / 8) ** (1 / 3)
    assert g["geomean_pct_of_exhaustive_best"] == pytest.approx(want)
    # best seen on P2 is gemmsift's own 8 us: 100%
    want_seen = (100 * 10 / 10.5 * 100 * 20 / 22 * 100.0) ** (1 / 3)
    assert g["geomean_pct_of_best_seen"] == pytest.approx(want_seen)
    # against stock DEFAULT of the same run: faster in a, slower in b (P2 has none)
    assert g["at_least_as_fast_as_stock_default"] == pytest.approx(0.5)
    assert g["compile_time_vs_stock_default"] == pytest.approx((2.0 + 4.0) / (10.0 + 8.0))
    assert s["methods"]["stock-exhaustive"]["capped"] == 1
    v = g["vs_stock_exhaustive"]
    assert v == [{"problem": "NN 128x64x32", "stock_exhaustive_s": 150.0, "stock_exhaustive_status": "capped",
                  "compile_s": 1.0, "ratio_at_most": 1.0 / 150.0}]
    md = (tmp_path / "summary.md").read_text()
    assert "| gemmsift-5 | 3/3 |" in md and "at most 1/150" in md
    assert md.startswith("GPU X, torch 2.11, 2 problems (bf16")
    # rows of fewer problems than the list: the header says how many were measured
    (tmp_path / "few").mkdir()
    e2e.summarize(rows[-2:], [P1, P2, ("NT", 8, 8, 8)], str(tmp_path / "few"), 150.0)
    assert (tmp_path / "few" / "summary.md").read_text().startswith("GPU X, torch 2.11, 1 of the 3 problems (bf16")
    assert "torch 2.11, 1 of the 3 problems</text>" in (tmp_path / "few" / "tradeoff.svg").read_text()
    # each run alone as well: gemmsift-5 at least as fast as stock DEFAULT in a, not in b
    a, b = s["per_run"]["a"]["gemmsift-5"], s["per_run"]["b"]["gemmsift-5"]
    assert (a["problems"], a["at_least_as_fast_as_stock_default"], b["problems"], b["at_least_as_fast_as_stock_default"]) == (2, 1.0, 1, 0.0)
    assert b["compile_time_vs_stock_default"] == pytest.approx(4.0 / 8.0)
    assert "Run a alone:" in md and "Run b alone:" in md and "| gemmsift-5 | 1/1 |" in md
    csv_text = (tmp_path / "e2e.csv").read_text().splitlines()
    assert csv_text[0].startswith("run,method,layout")
    assert len(csv_text) == 1 + len(rows)
    svg = (tmp_path / "tradeoff.svg").read_text()
    assert svg.startswith("<svg") and "gemmsift-5" in svg and "more than 150 s (capped)" in svg
    # a method that ran on fewer problems says so (its median is over another set)
    assert "(1 of 2 problems)" in svg and "gemmsift-5: 2 s" in svg and "gemmsift-5: 2 s, 95.3% (" not in svg


def test_oracle_table_holds_each_problems_fastest_config(tmp_path):
    import gzip
    data = tmp_path / "d.csv.gz"
    header = ("device,op,dtype,layout,m,n,k,batch,template,block_m,block_n,block_k,group_m,num_stages,num_warps,"
              "status,time_us_min,time_us_median,iterations,note\n")
    lines = ["GPU X,mm,bf16,NT,64,64,64,1,triton_mm,32,32,32,8,2,4,ok,5.0,5.1,10,",
             "GPU X,mm,bf16,NT,64,64,64,1,triton_mm,64,64,32,8,3,4,ok,4.0,4.2,10,",
             "GPU X,mm,bf16,NT,64,64,64,1,triton_mm,64,64,64,8,5,8,launch_failed,,,0,"]
    with gzip.open(data, "wt") as f:
        f.write(header + "\n".join(lines) + "\n")
    out = tmp_path / "lut.json"
    have = e2e.oracle_table([P1, P2], [str(data)], str(out))
    assert have == {P1}
    t = json.loads(out.read_text())
    assert len(t["entries"]) == 1
    c = t["entries"][0]["configs"][0]
    assert (c["block_m"], c["num_stages"], c["measured_us"]) == (64, 3, 4.0)
    import gemmsift
    assert gemmsift.LookupTable(str(out)).warnings == []  # a valid gemmsift table
    # a file that is not a gemmsift dataset is refused by name
    bad = tmp_path / "other.csv.gz"
    with gzip.open(bad, "wt") as f:
        f.write("layout,m,n,k,status,time_us_min\nNT,64,64,64,ok,1.0\n")
    with pytest.raises(ValueError, match="other.csv.gz: header"):
        e2e.oracle_table([P1], [str(bad)], str(out))


def test_shard_plan_renumbers_subsets_per_gpu():
    plan = e2e.shard_plan("cublas,gemmsift-5@1;4-5,stock-default@0", "2,3,4", 7, 2)
    # GPU 0 runs positions 0, 2, 4, 6; GPU 1 runs 1, 3, 5
    assert plan[0] == ([0, 2, 4, 6], "cublas,gemmsift-5@2,stock-default@0", "1,2")
    assert plan[1] == ([1, 3, 5], "cublas,gemmsift-5@0;2", "1")
    assert e2e.parse_subset("") is None and e2e.parse_subset("3;5-7") == [3, 5, 6, 7]


def test_summary_keeps_methods_it_does_not_know_and_the_models(tmp_path):
    rows = [row("a", "exhaustive-best", P1, 10.0), row("a", "gemmsift-alt-5", P1, 12.5),
            row("a", "gemmsift-beta-2", P1, 10.0)]
    rows[1]["model"] = "old.safetensors sha256:0123456789ab"
    e2e.summarize(rows, [P1], str(tmp_path), 150.0)
    s = json.loads((tmp_path / "summary.json").read_text())["methods"]
    assert s["gemmsift-alt-5"]["geomean_pct_of_exhaustive_best"] == pytest.approx(80.0)
    assert s["gemmsift-alt-5"]["models"] == ["old.safetensors sha256:0123456789ab"]
    assert s["gemmsift-beta-2"]["geomean_pct_of_best_seen"] == pytest.approx(100.0)


def test_exhaustive_best_reads_the_running_gpus_data():
    # The H100's data named the H200's reference before: each GPU's own test files, by its name.
    assert e2e.device_data("NVIDIA H200") == ["data/h200_bf16_NT_test_llm.csv.gz", "data/h200_bf16_NN_test_llm.csv.gz"]
    assert e2e.device_data("NVIDIA H100 80GB HBM3") == ["data/h100-80gb-hbm3_bf16_NT_test_llm.csv.gz",
                                                       "data/h100-80gb-hbm3_bf16_NN_test_llm.csv.gz"]
    assert all((ROOT / f).is_file() for f in e2e.device_data("NVIDIA H100 80GB HBM3"))


def test_without_a_gpu_to_name_the_run_asks_for_data(tmp_path):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "inductor_e2e.py"), "--out", str(tmp_path), "--methods", "cublas"],
                       capture_output=True, text=True, env={"PATH": str(tmp_path)})  # no nvidia-smi on this PATH
    assert r.returncode == 2 and "pass --data FILE" in r.stderr and "nvidia-smi" in r.stderr


def test_gemmsift_methods_name_their_settings(tmp_path):
    assert e2e.gemmsift_settings("gemmsift-5") == {"benchmark_space": "5", "benchmark_passes": None, "anchors": None,
                                                   "benchmark_timer": "inductor"}
    assert e2e.gemmsift_settings("gemmsift-5x2") == {"benchmark_space": "5", "benchmark_passes": 2, "anchors": None,
                                                     "benchmark_timer": "inductor"}
    assert e2e.gemmsift_settings("gemmsift-alt-3t") == {"benchmark_space": "3", "benchmark_passes": None, "anchors": None,
                                                        "benchmark_timer": "gemmsift"}
    assert e2e.gemmsift_settings("gemmsift-5a2t") == {"benchmark_space": "5", "benchmark_passes": None, "anchors": 2,
                                                      "benchmark_timer": "gemmsift"}
    assert e2e.gemmsift_settings("gemmsift-5x2a1")["anchors"] == 1
    assert e2e.gemmsift_settings("gemmsift-fast")["benchmark_space"] == "fast"
    assert e2e.gemmsift_settings("gemmsift-DEFAULTx3t") == {"benchmark_space": "DEFAULT", "benchmark_passes": 3,
                                                            "anchors": None, "benchmark_timer": "gemmsift"}
    for bad in ("gemmsift-5y", "gemmsift-x2", "gemmsift-5x", "stock-5", "gemmsift-5tt"):
        with pytest.raises(ValueError, match="not a gemmsift method"):
            e2e.gemmsift_settings(bad)
    import subprocess
    import sys
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "inductor_e2e.py"), "--out", str(tmp_path), "--methods",
                        "cublas,gemmsift-5q@1", "--data", "x"], capture_output=True, text=True)
    assert r.returncode == 2 and "not a gemmsift method: gemmsift-5q" in r.stderr


def test_the_graphs_legend_covers_no_point(tmp_path):
    import re

    def legend_and_points(methods):
        summary = {"device": "GPU", "torch": "2.11", "problems": 2, "exhaustive_cap_s": 150,
                   "methods": {m: {"compile_s_median": c, "geomean_pct_of_best_seen": p, "distinct_problems_ok": 2}
                               for m, (c, p) in methods.items()}}
        path = tmp_path / "g.svg"
        e2e.write_svg(summary, str(path))
        svg = path.read_text()
        x, y, w, h = (float(v) for v in re.search(r'<rect x="([\d.-]+)" y="([\d.-]+)" width="(\d+)" height="(\d+)" fill="white" stroke="#bbb"', svg).groups())
        points = [(float(a), float(b)) for a, b in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]
        return (x, y, w, h), points
    # a slow, poor method lands where the legend used to sit (bottom right): the legend moves
    (x, y, w, h), points = legend_and_points({"gemmsift-5": (3.0, 98.0), "stock-default": (9.0, 86.0), "stock-x": (40.0, 81.0)})
    assert len(points) == 3
    assert not any(x <= px <= x + w and y <= py <= y + h for px, py in points), ((x, y, w, h), points)
    (x2, y2, _, _), _ = legend_and_points({"gemmsift-5": (3.0, 98.0)})
    assert y2 > y  # bottom right when nothing is there
