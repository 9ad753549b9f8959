"""The harness's dataset writer (no torch needed) against the C++ reader and checker."""
import gzip
import json
import pathlib
import subprocess

from gemmsift.collect import dataset

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = ROOT / "build" / "gemmsift"
DEV = "NVIDIA H100 80GB HBM3"


def row(m, stages, status="ok", t=None, note=""):
    return {"device": DEV, "op": "mm", "dtype": "bf16", "layout": "NT", "m": m, "n": 64, "k": 64,
            "batch": 1, "template": "triton_mm", "block_m": 16, "block_n": 64, "block_k": 64,
            "group_m": 8, "num_stages": stages, "num_warps": 2, "status": status,
            "time_us_min": dataset.fmt_us(t), "time_us_median": dataset.fmt_us(t and t + 1),
            "iterations": 12 if t else 0, "note": note}


def test_parts_resume_merge_and_check(tmp_path):
    part = str(tmp_path / "parts" / "x.shard0of1.gpu0of1.csv")
    (tmp_path / "parts").mkdir()
    dataset.append_problem(part, [row(32, 2, t=9.5), row(32, 3, "launch_error", note="OutOfResources: a, b")])
    dataset.append_problem(part, [row(16, 2, t=7.25)])
    assert dataset.done_problems(part) == {("mm", "bf16", "NT", 32, 64, 64, 1), ("mm", "bf16", "NT", 16, 64, 64, 1)}
    meta = {"format": "gemmsift-dataset", "format_version": 1, "device": DEV, "sm_count": 132,
            "torch": "2.11.0", "triton": "3.6.0", "cuda": "13.0", "timing": {"method": "test"},
            "date": "2026-11-27"}
    out = str(tmp_path / "x.csv.gz")
    assert dataset.merge_parts(str(tmp_path / "parts" / "x.shard*.csv"), out, meta) == 3
    with gzip.open(out, "rt") as f:
        lines = f.read().splitlines()
    assert lines[0].split(",") == dataset.HEADER
    assert lines[1].startswith(f"{DEV},mm,bf16,NT,16,")  # sorted by problem
    assert '"OutOfResources: a, b"' in lines[3]          # quoted: the note has a comma
    side = json.loads((tmp_path / "x.meta.json").read_text())
    assert side["rows"] == 3 and side["status_counts"]["launch_error"] == 1
    r = subprocess.run([str(CLI), "data", "check", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "3 rows, 2 problems: ok" in r.stdout


def test_resume_from_an_earlier_dataset(tmp_path):
    """--resume-from: an earlier run's rows seed a part file; its problems count as done and the
    merge keeps them beside the new rows."""
    (tmp_path / "old").mkdir()
    (tmp_path / "parts").mkdir()
    meta = {"format": "gemmsift-dataset", "format_version": 1, "device": DEV, "sm_count": 132,
            "torch": "2.11.0", "triton": "3.6.0", "cuda": "13.0", "timing": {"method": "test"},
            "date": "2026-11-27"}
    old_part = str(tmp_path / "old" / "x.shard0of1.gpu0of1.csv")
    dataset.append_problem(old_part, [row(32, 2, t=9.5), row(32, 3, t=9.0)])
    dataset.append_problem(old_part, [row(48, 2, t=11.0)])
    old = str(tmp_path / "old.csv.gz")
    dataset.merge_parts(old_part, old, meta)
    want = {("mm", "bf16", "NT", 32, 64, 64, 1), ("mm", "bf16", "NT", 16, 64, 64, 1)}  # 48 not asked for
    seeded = str(tmp_path / "parts" / "x.shard0of1.resumed.csv")
    assert dataset.seed_part([old], seeded, DEV, want) == {("mm", "bf16", "NT", 32, 64, 64, 1)}
    assert dataset.done_problems(seeded) == {("mm", "bf16", "NT", 32, 64, 64, 1)}
    dataset.append_problem(str(tmp_path / "parts" / "x.shard0of1.gpu0of1.csv"), [row(16, 2, t=7.0)])
    out = str(tmp_path / "x.csv.gz")
    assert dataset.merge_parts(str(tmp_path / "parts" / "x.shard*.csv"), out, meta) == 3
    assert {(r["m"], r["num_stages"]) for r in dataset.read_rows(out)} == {("16", "2"), ("32", "2"), ("32", "3")}
    assert subprocess.run([str(CLI), "data", "check", out], capture_output=True).returncode == 0
    # Rows of another GPU, or a file that is not a dataset, are refused with the place.
    try:
        dataset.seed_part([old], seeded, "NVIDIA H200", want)
        raise AssertionError("foreign device accepted")
    except ValueError as e:
        assert "old.csv.gz:2:" in str(e) and "NVIDIA H200" in str(e)
    bad = tmp_path / "bad.csv"
    bad.write_text("m,n,k\n1,2,3\n")
    try:
        dataset.seed_part([str(bad)], seeded, DEV, want)
        raise AssertionError("foreign header accepted")
    except ValueError as e:
        assert "bad.csv:1:" in str(e)


def test_resume_refuses_a_dataset_of_the_other_kernel(tmp_path):
    """A run with --literal-sizes resumes only from datasets measured with literal sizes, and a run
    without it only from the others (datasets whose sidecar does not say count as "arguments")."""
    (tmp_path / "parts").mkdir()
    base = {"format": "gemmsift-dataset", "format_version": 1, "device": DEV, "sm_count": 132,
            "torch": "2.11.0", "triton": "3.6.0", "cuda": "13.0", "timing": {"method": "test"}, "date": "2026-11-28"}
    want = {("mm", "bf16", "NT", 32, 64, 64, 1)}
    seeded = str(tmp_path / "parts" / "x.shard0of1.resumed.csv")
    files = {}
    for name, meta in {"plain": base, "literal": dict(base, kernel_sizes="literal")}.items():
        part = str(tmp_path / f"{name}.part.csv")
        dataset.append_problem(part, [row(32, 2, t=9.5)])
        files[name] = str(tmp_path / f"{name}.csv.gz")
        dataset.merge_parts(part, files[name], meta)
    assert dataset.kernel_sizes_of(files["plain"]) == "arguments"
    assert dataset.kernel_sizes_of(files["literal"]) == "literal"
    assert dataset.seed_part([files["plain"]], seeded, DEV, want) == want
    assert dataset.seed_part([files["literal"]], seeded, DEV, want, kernel_sizes="literal") == want
    for src, sizes in ((files["plain"], "literal"), (files["literal"], "arguments")):
        try:
            dataset.seed_part([src], seeded, DEV, want, kernel_sizes=sizes)
            raise AssertionError("a dataset of the other kernel resumed the run")
        except ValueError as e:
            assert src in str(e) and "--literal-sizes" in str(e)
    (tmp_path / "literal.meta.json").write_text("{not json")
    try:
        dataset.kernel_sizes_of(files["literal"])
        raise AssertionError("an unreadable sidecar was taken as 'arguments'")
    except ValueError as e:
        assert "literal.meta.json" in str(e)
