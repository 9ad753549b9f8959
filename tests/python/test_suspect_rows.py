"""tools/suspect_rows.py on a hand-made dataset with known answers."""

import importlib.util
import json

from conftest import ROOT
from gemmsift.collect import dataset

spec = importlib.util.spec_from_file_location("suspect_rows", ROOT / "tools" / "suspect_rows.py")
suspect_rows = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suspect_rows)

DEV = "NVIDIA H200"


def row(m, n, k, cfg, status, t):
    bm, bn, bk, g, s, w = cfg
    return {"device": DEV, "op": "mm", "dtype": "bf16", "layout": "NT", "m": m, "n": n, "k": k, "batch": 1,
            "template": "triton_mm", "block_m": bm, "block_n": bn, "block_k": bk, "group_m": g, "num_stages": s,
            "num_warps": w, "status": status, "time_us_min": dataset.fmt_us(t), "time_us_median": dataset.fmt_us(t),
            "iterations": 2 if status == "abandoned" else (10 if t else 0), "note": ""}


def make(tmp_path):
    # Problem A: s5 abandoned at 107 while s4 ran 7.1, best 6.4: suspect (7.1 <= 1.15 * 6.4).
    #   A slow tile abandoned at 60, its neighbour 30: not suspect (30 is far from the best).
    # Problem B: s3 abandoned at 20 while s2 ran 11 (best 10): 20 < 2 * 11, not suspect.
    part = str(tmp_path / "d.part.csv")
    dataset.append_problem(part, [
        row(2, 1024, 1024, (16, 16, 128, 8, 5, 1), "ok", 6.4),
        row(2, 1024, 1024, (16, 32, 128, 8, 4, 2), "ok", 7.1),
        row(2, 1024, 1024, (16, 32, 128, 8, 5, 2), "abandoned", 107.3),
        row(2, 1024, 1024, (128, 128, 64, 8, 3, 4), "ok", 30.0),
        row(2, 1024, 1024, (128, 128, 64, 8, 4, 4), "abandoned", 60.0),
        row(2, 1024, 1024, (128, 128, 128, 8, 4, 4), "launch_error", None)])
    dataset.append_problem(part, [
        row(8, 64, 64, (16, 16, 16, 8, 1, 1), "ok", 10.0),
        row(8, 64, 64, (16, 16, 32, 8, 2, 1), "ok", 11.0),
        row(8, 64, 64, (16, 16, 32, 8, 3, 1), "abandoned", 20.0)])
    path = str(tmp_path / "h200_bf16_NT_x.csv.gz")
    dataset.merge_parts(part, path, {"format": "gemmsift-dataset", "format_version": 1, "device": DEV,
                                     "sm_count": 132, "torch": "2.11.0", "triton": "3.6.0", "cuda": "13.0",
                                     "timing": {"method": "test"}, "date": "2026-11-28"})
    return path


def test_only_the_glitch_like_row_is_suspect(tmp_path):
    path = make(tmp_path)
    found = suspect_rows.suspects(dataset.read_rows(path))
    assert [(k[3:6], cfg, t, c, tn, best) for k, cfg, t, c, tn, best in found] == [
        ((2, 1024, 1024), (16, 32, 128, 8, 5, 2), 107.3, (16, 32, 128, 8, 4, 2), 7.1, 6.4)]
    assert suspect_rows.suspects(dataset.read_rows(path), near=1.05) == []  # 7.1 > 1.05 * 6.4


def test_drop_and_impute_write_valid_datasets(tmp_path, capsys):
    path = make(tmp_path)
    assert suspect_rows.main([path, "--list", "--drop-to", str(tmp_path / "drop"),
                              "--impute-to", str(tmp_path / "imp")]) == 0
    out = capsys.readouterr().out
    assert "1 suspect of 3 abandoned rows, in 1 of 2 problems" in out
    assert "16x32x128 g8 s5 w2 abandoned at 107.3 us; 16x32x128 g8 s4 w2 7.1 us; best 6.4 us" in out
    dropped = dataset.read_rows(str(tmp_path / "drop" / "h200_bf16_NT_x.csv.gz"))
    assert {int(r["m"]) for r in dropped} == {8} and len(dropped) == 3
    assert dataset.kernel_sizes_of(str(tmp_path / "drop" / "h200_bf16_NT_x.csv.gz")) == "arguments"  # sidecar copied
    with open(dataset.sidecar_path(str(tmp_path / "drop" / "h200_bf16_NT_x.csv.gz"))) as f:
        meta = json.load(f)
    assert (meta["rows"], meta["problems"], meta["device"]) == (3, 1, DEV)  # the copy's counts, the source's rest
    imputed = dataset.read_rows(str(tmp_path / "imp" / "h200_bf16_NT_x.csv.gz"))
    assert len(imputed) == 9
    changed = [r for r in imputed if r["note"].startswith("imputed")]
    assert len(changed) == 1 and changed[0]["status"] == "ok" and changed[0]["time_us_min"] == "7.100"
    assert "abandoned at 107.300 us" in changed[0]["note"]
