"""tools/repeat_check.py on hand-made datasets with known answers."""

import importlib.util

import pytest
from conftest import ROOT
from gemmsift import Config
from test_compare_kernels import write

spec = importlib.util.spec_from_file_location("repeat_check", ROOT / "tools" / "repeat_check.py")
repeat_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(repeat_check)

A, B, C = Config(128, 128, 64, 8, 3, 4), Config(32, 32, 32, 8, 2, 4), Config(64, 64, 32, 8, 4, 4)


def test_an_offset_per_launch_shows_as_the_same_difference_in_every_band(tmp_path, capsys):
    # The second collection adds 1.5 us to every launch of problem 2: its ratio falls with the time,
    # the difference does not. Problem 1's winner changes (A 4.0 -> 5.5, B 4.2 -> 5.0); C failed
    # to launch in the second file, so it is in no pair.
    p1, p2 = (16, 48, 480), (4096, 4096, 4096)
    first = write(tmp_path, "first", {p1: {A: 4.0, B: 4.2, C: 8.0}, p2: {A: 100.0, B: 300.0}}, "literal")
    second = write(tmp_path, "second", {p1: {A: 5.5, B: 5.0, C: None}, p2: {A: 101.5, B: 301.5}}, "literal")
    f, s = repeat_check.ok_times(first), repeat_check.ok_times(second)
    pairs, picks, same = repeat_check.matched(f, s)
    assert sorted(pairs) == [(4.0, 5.5), (4.2, 5.0), (100.0, 101.5), (300.0, 301.5)]
    assert same == 1 and picks == pytest.approx([5.0 / 5.5, 1.0])
    rows = {r[0]: r[1:] for r in repeat_check.band_rows(pairs)}
    assert set(rows) == {"[0, 5)", "[50, 200)", ">= 200"}
    assert rows["[0, 5)"][0] == 2
    assert rows["[50, 200)"] == pytest.approx((1, 1.015, 1.015, 1.015, 1.5, 1.5, 1.5))
    assert rows[">= 200"] == pytest.approx((1, 1.005, 1.005, 1.005, 1.5, 1.5, 1.5))
    text = repeat_check.compare(f, s)
    assert "2 problems, 4 (problem, config) pairs timed ok in both" in text
    assert "the same in both on 1 of 2" in text
    assert f"geometric mean {(5.0 / 5.5) ** 0.5:.3f} of the best, worst {5.0 / 5.5:.3f}, within 2% on 1" in text
    repeat_check.main([first, second, "--field", "time_us_median"])
    assert "pairs timed ok in both" in capsys.readouterr().out


def test_refuses_two_kernels_and_disjoint_files(tmp_path):
    first = write(tmp_path, "first", {(64, 64, 64): {A: 4.0}}, "literal")
    other = write(tmp_path, "other", {(64, 64, 64): {A: 4.0}}, None)
    with pytest.raises(SystemExit, match="time different kernels.*compare_kernels"):
        repeat_check.main([first, other])
    disjoint = write(tmp_path, "disjoint", {(128, 64, 64): {A: 4.0}}, "literal")
    with pytest.raises(SystemExit, match="share no"):
        repeat_check.main([first, disjoint])


def test_per_problem_groups_the_problems_of_two_machines(tmp_path, capsys):
    # Problem 1 was measured on the same machine both times (+0.1 us), problem 2 on another (+1.3 us);
    # problem 3 has only 4 pairs under 50 us and is left out, and a 60 us pair never counts.
    cs = [Config(16 * (i + 1), 16, 16, 8, 2, 4) for i in range(6)]
    p1, p2, p3 = (64, 64, 64), (128, 128, 128), (256, 256, 256)
    t1 = {c: 4.0 + i for i, c in enumerate(cs)}
    t2 = {c: 5.0 + i for i, c in enumerate(cs)}
    t3 = {c: 6.0 + i for i, c in enumerate(cs[:4])} | {cs[4]: 60.0}
    first = write(tmp_path, "first", {p1: t1, p2: t2, p3: t3}, "literal")
    second = write(tmp_path, "second", {p1: {c: t + 0.1 for c, t in t1.items()}, p2: {c: t + 1.3 for c, t in t2.items()},
                                        p3: {c: t + 1.3 for c, t in t3.items()}}, "literal")
    rows = repeat_check.per_problem(repeat_check.ok_times(first), repeat_check.ok_times(second))
    assert [(round(d, 2), key[2:], n) for d, key, n in rows] == [(0.1, p1, 6), (1.3, p2, 6)]
    repeat_check.main([first, second, "--per-problem"])
    out = capsys.readouterr().out
    assert "   +0.10 us  64x64x64 bf16 NT  (6 pairs)" in out and "256x256x256" not in out
