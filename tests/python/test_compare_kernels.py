"""tools/compare_kernels.py on hand-made datasets with known answers."""

import importlib.util

import pytest
from conftest import ROOT
from gemmsift import Config
from gemmsift.collect import dataset

spec = importlib.util.spec_from_file_location("compare_kernels", ROOT / "tools" / "compare_kernels.py")
compare_kernels = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_kernels)

DEV = "NVIDIA H200"
BIG = Config(128, 128, 64, 8, 3, 4)    # in the DEFAULT list of these problems
SMALL = Config(32, 32, 32, 8, 2, 4)
OTHER = Config(64, 64, 32, 8, 4, 4)


def write(tmp_path, name, times, sizes):
    """times: {(m, n, k): {Config: us or None (launch_error)}}."""
    part = str(tmp_path / f"{name}.part.csv")
    for (m, n, k), by_config in times.items():
        dataset.append_problem(part, [
            {"device": DEV, "op": "mm", "dtype": "bf16", "layout": "NT", "m": m, "n": n, "k": k, "batch": 1,
             "template": "triton_mm", "block_m": c.block_m, "block_n": c.block_n, "block_k": c.block_k,
             "group_m": c.group_m, "num_stages": c.num_stages, "num_warps": c.num_warps,
             "status": "ok" if t else "launch_error", "time_us_min": dataset.fmt_us(t),
             "time_us_median": dataset.fmt_us(t), "iterations": 10 if t else 0, "note": ""}
            for c, t in by_config.items()])
    path = str(tmp_path / f"{name}.csv.gz")
    meta = {"format": "gemmsift-dataset", "format_version": 1, "device": DEV, "sm_count": 132, "torch": "2.11.0",
            "triton": "3.6.0", "cuda": "13.0", "timing": {"method": "test"}, "date": "2026-11-28"}
    if sizes:
        meta["kernel_sizes"] = sizes
    dataset.merge_parts(part, path, meta)
    return path


def test_winners_ratios_and_quality_against_each_kernel(tmp_path, capsys):
    # Problem 1: literal sizes make BIG the winner (100 -> 80) where SMALL won (90 -> 90).
    # Problem 2: the same winner; every time 10% lower. OTHER failed to launch with literal sizes.
    p1, p2 = (2048, 2048, 2048), (4096, 4096, 4096)
    args = write(tmp_path, "args", {p1: {BIG: 100.0, SMALL: 90.0, OTHER: 95.0},
                                    p2: {BIG: 200.0, SMALL: 400.0, OTHER: 300.0}}, None)
    lit = write(tmp_path, "lit", {p1: {BIG: 80.0, SMALL: 90.0, OTHER: 95.0},
                                  p2: {BIG: 180.0, SMALL: 360.0, OTHER: None}}, "literal")
    a, lt = compare_kernels.ok_times(args), compare_kernels.ok_times(lit)
    assert set(lt[("bf16", "NT", 4096, 4096, 4096)]) == {BIG, SMALL}
    text = compare_kernels.compare(a, lt, {})
    assert "2 problems, 5 (problem, config) pairs" in text
    # best literal / best arguments: 80/90 and 180/200 -> geometric mean sqrt(0.8 * 0.9)
    assert f"geometric mean {(80 / 90 * 0.9) ** 0.5:.3f}, min {80 / 90:.3f}, max 0.900" in text
    # the arguments winner (SMALL, then BIG) run with literal sizes: 80/90 and 1
    assert f"geometric mean {(80 / 90) ** 0.5:.3f} of the literal best, worst {80 / 90:.3f}; the same config on 1 of 2" in text
    assert "within 2% on 1" in text
    # the DEFAULT list holds BIG (not SMALL): 90/100 and 1 with the arguments' times, 1 and 1 with literal ones
    default_line = next(line for line in text.splitlines() if line.strip().startswith("DEFAULT list"))
    assert f"{(0.9) ** 0.5:.3f} (0.900)" in default_line and "1.000 (1.000)" in default_line
    compare_kernels.main([args, lit])  # with the analytical model: runs and prints the table
    assert "analytical" in capsys.readouterr().out


def test_refuses_files_of_the_wrong_kernel(tmp_path):
    p = (2048, 2048, 2048)
    args = write(tmp_path, "args", {p: {BIG: 100.0, SMALL: 90.0}}, None)
    with pytest.raises(SystemExit, match="kernel_sizes 'arguments', expected 'literal'"):
        compare_kernels.main([args, args])
