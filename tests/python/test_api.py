import json
import math
import pathlib
import subprocess
import sys

import pytest

import gemmsift
from gemmsift import Config, Problem

ROOT = pathlib.Path(__file__).resolve().parents[2]
P = Problem(4096, 4096, 4096, dtype="bf16", layout="NT")


def test_version_matches_package():
    assert gemmsift.version() == gemmsift.__version__


def test_space_equals_the_fixture():
    fx = json.loads((ROOT / "tests/fixtures/inductor_spaces_torch2.11.json").read_text())
    for case in fx["cases"][::7]:
        dtype = "fp32" if case["dtype_size"] == 4 else "bf16"
        got = gemmsift.space(Problem(case["m"], case["n"], case["k"], dtype=dtype), space=case["space"])
        want = [Config(c[0], c[1], c[2], c[3], c[4], c[5]) for c in case["configs"]]
        assert got == want, case


def test_select_topk():
    sel = gemmsift.select(P, benchmark_space=5)
    assert len(sel.candidates) == 5
    assert [c.model_rank for c in sel.candidates] == [0, 1, 2, 3, 4]
    assert all(c.source == "model" for c in sel.candidates)
    times = [c.predicted_us for c in sel.candidates]
    assert times == sorted(times)
    assert sel.search_space_size == 1400 and sel.default_count == 20
    assert sel.model == "analytical"
    assert not sel.skip_benchmark


def test_select_with_default_anchors():
    plain = gemmsift.select(P, benchmark_space=5)
    sel = gemmsift.select(P, benchmark_space=5, anchors=2)
    assert [c.source for c in sel.candidates] == ["model"] * 3 + ["anchor"] * 2
    assert sel.configs[:3] == plain.configs[:3]
    default = set(gemmsift.space(P, "DEFAULT"))
    assert all(c in default for c in sel.configs[3:])
    reused = gemmsift.Selector("analytical", benchmark_space=5, anchors=2)
    assert reused.select(P).configs == sel.configs
    with pytest.raises(gemmsift.InvalidArgumentError, match="anchors"):
        gemmsift.select(P, benchmark_space=5, anchors=-1)


def test_select_fast_and_same():
    assert gemmsift.select(P, benchmark_space="fast").skip_benchmark
    same = gemmsift.select(P, model=None, benchmark_space="SAME", space="DEFAULT")
    assert same.configs == gemmsift.space(P, space="DEFAULT")


def test_model_estimate_and_info():
    with gemmsift.Model("analytical:device=H200") as m:
        info = m.info()
        assert info["kind"] == "analytical" and info["device"] == "H200"
        assert m.name == "analytical:device=H200"
        t = m.estimate(P, [Config(128, 128, 64, 8, 3, 4), Config(256, 256, 128, 8, 5, 8)])
        assert 0 < t[0] < math.inf and t[1] == math.inf
    with pytest.raises(gemmsift.InvalidArgumentError, match="the Model is closed"):
        m.estimate(P, [])


def test_errors_are_typed_and_carry_the_message():
    with pytest.raises(gemmsift.InvalidArgumentError, match=r"^problem: m must be a positive integer, got 0$"):
        gemmsift.space(Problem(0, 1, 1))
    with pytest.raises(gemmsift.InvalidArgumentError, match=r"unknown dtype 'int8': expected bf16, fp16 or fp32"):
        gemmsift.space(Problem(1, 1, 1, dtype="int8"))
    with pytest.raises(gemmsift.NotFoundError, match=r"^unknown model 'nope': known kinds are analytical"):
        gemmsift.Model("nope")
    with pytest.raises(gemmsift.FileError, match=r"cannot open: No such file or directory"):
        gemmsift.Model("/no/such/file.safetensors")
    with pytest.raises(gemmsift.InvalidArgumentError, match="benchmark space '0'"):
        gemmsift.select(P, benchmark_space=0)
    err = None
    try:
        gemmsift.Model("nope")
    except gemmsift.GemmsiftError as e:
        err = e
    assert err.code == 4 and isinstance(err, LookupError)


def _run_python(code, env):
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_missing_library_lists_every_path_tried(tmp_path):
    env = {"PYTHONPATH": str(ROOT / "python"), "GEMMSIFT_LIBRARY": str(tmp_path / "nope.so"),
           "PATH": "/usr/bin:/bin"}
    # Copy the package somewhere without a build folder beside it.
    pkg = tmp_path / "pkg" / "gemmsift"
    pkg.mkdir(parents=True)
    for f in (ROOT / "python" / "gemmsift").glob("*.py"):
        (pkg / f.name).write_text(f.read_text())
    env["PYTHONPATH"] = str(tmp_path / "pkg")
    r = _run_python("import gemmsift\ngemmsift.version()", env)
    assert r.returncode != 0
    assert "could not load libgemmsift.so; tried:" in r.stderr
    assert f"{tmp_path / 'nope.so'} (no such file)" in r.stderr
    assert str(pkg / "libgemmsift.so") in r.stderr


def test_import_works_against_the_built_library():
    r = _run_python("import gemmsift; print(gemmsift.version())",
                    {"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == gemmsift.__version__
