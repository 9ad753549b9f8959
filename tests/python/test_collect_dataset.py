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


def test_a_resumed_problem_is_kept_once(tmp_path):
    """Found on the GPU (session 14): a second call with the same output folder on a warm machine
    and --resume-from the first call's file copied every problem the first call timed twice (its
    own part and the resumed rows), and `data check` refused the file. Now the resumed rows skip
    problems the folder's parts hold, two sources give a problem once, and the merge keeps a
    problem from one part only."""
    (tmp_path / "parts").mkdir()
    meta = {"format": "gemmsift-dataset", "format_version": 1, "device": DEV, "sm_count": 132,
            "torch": "2.11.0", "triton": "3.6.0", "cuda": "13.0", "timing": {"method": "test"}, "date": "2026-11-29"}
    first, second = str(tmp_path / "first.csv"), str(tmp_path / "second.csv")
    dataset.append_problem(first, [row(32, 2, t=9.5), row(32, 3, t=9.0)])
    dataset.append_problem(second, [row(32, 2, t=1.0)])
    dataset.append_problem(second, [row(16, 2, t=7.0)])
    want = {("mm", "bf16", "NT", m, 64, 64, 1) for m in (16, 32, 48)}
    seeded = str(tmp_path / "parts" / "x.shard0of1.resumed.csv")
    assert dataset.seed_part([first, second], seeded, DEV, want) == {("mm", "bf16", "NT", 32, 64, 64, 1),
                                                                     ("mm", "bf16", "NT", 16, 64, 64, 1)}
    assert sorted((r["m"], r["num_stages"], r["time_us_min"]) for r in dataset.read_rows(seeded)) == [
        ("16", "2", "7.000"), ("32", "2", "9.500"), ("32", "3", "9.000")]  # 32 from the first source only
    own = {("mm", "bf16", "NT", 16, 64, 64, 1)}
    assert dataset.seed_part([first, second], seeded, DEV, want, skip=own) == {("mm", "bf16", "NT", 32, 64, 64, 1)}
    # What the folder's own parts hold: the seeded part counts unless it is about to be rewritten.
    glob_ = str(tmp_path / "parts" / "x.shard*.csv")
    assert dataset.problems_in_parts(glob_) == {("mm", "bf16", "NT", 32, 64, 64, 1)}
    assert dataset.problems_in_parts(glob_, leave_out=seeded) == set()
    # The merge, given the same problem in two parts anyway, keeps the first part's rows.
    dataset.append_problem(str(tmp_path / "parts" / "x.shard0of1.gpu0of1.csv"), [row(32, 4, t=8.0)])
    dataset.append_problem(str(tmp_path / "parts" / "x.shard0of1.gpu0of1.csv"), [row(16, 2, t=7.0)])
    seen = []
    out = str(tmp_path / "x.csv.gz")
    assert dataset.merge_parts(str(tmp_path / "parts" / "x.shard*.csv"), out, meta,
                               on_duplicate=lambda part, key: seen.append((part.endswith("resumed.csv"), key))) == 2
    assert seen == [(True, ("mm", "bf16", "NT", 32, 64, 64, 1))]
    assert sorted((r["m"], r["num_stages"]) for r in dataset.read_rows(out)) == [("16", "2"), ("32", "4")]
    assert subprocess.run([str(CLI), "data", "check", out], capture_output=True).returncode == 0


def test_history_carries_over_resumed_files(tmp_path):
    """The sidecar's history: the resumed files' entries (the last one given its file's problem
    count), an entry made from a sidecar without history, no repeats, then this run's."""
    base = {"format": "gemmsift-dataset", "format_version": 1, "device": DEV, "gpus": 1, "problems": 7,
            "date": "2026-11-28T10:00:00+00:00", "compile": {"compiled": 5, "variants": 9, "seconds": 1.5},
            "timing_seconds": 2.5}
    old = tmp_path / "old.csv.gz"
    (tmp_path / "old.meta.json").write_text(json.dumps(base))
    newer = tmp_path / "newer.csv.gz"
    hist = [{"date": "2026-11-28T10:00:00+00:00", "what": "made by hand", "problems": 7},
            {"date": "2026-11-29T00:00:00+00:00", "what": "one H200", "command": "python3 -m gemmsift.collect ..."}]
    (tmp_path / "newer.meta.json").write_text(json.dumps(dict(base, problems=12, history=hist)))
    (tmp_path / "broken.meta.json").write_text("{")
    this = {"date": "2026-11-29T01:00:00+00:00", "what": "this call", "command": "c"}
    got = dataset.history_of([str(newer), str(tmp_path / "broken.csv.gz"), str(tmp_path / "none.csv"), str(newer)], this)
    assert got == [hist[0], dict(hist[1], problems=12), this]
    got = dataset.history_of([str(old)], this)
    assert len(got) == 2 and got[1] == this
    assert got[0]["date"] == base["date"] and got[0]["problems"] == 7
    assert "compiled 5 of 9 variants in 1.5 s, timed for 2.5 s" in got[0]["what"] and "old.csv.gz" in got[0]["what"]


def test_resume_refuses_a_dataset_built_by_another_ptxas(tmp_path):
    """The run's ptxas (its version line) must be the one the source's sidecar names; a sidecar that
    names none (before session 13) is taken, with a message saying so."""
    (tmp_path / "parts").mkdir()
    base = {"format": "gemmsift-dataset", "format_version": 1, "device": DEV, "sm_count": 132,
            "torch": "2.11.0", "triton": "3.6.0", "cuda": "13.0", "timing": {"method": "test"}, "date": "2026-11-29"}
    v12, v13 = "Cuda compilation tools, release 12.8, V12.8.93", "Cuda compilation tools, release 13.0, V13.0.88"
    want = {("mm", "bf16", "NT", 32, 64, 64, 1)}
    seeded = str(tmp_path / "parts" / "x.shard0of1.resumed.csv")
    files = {}
    for name, meta in {"old": base, "v12": dict(base, ptxas={"path": "/b/ptxas", "source": "bundled", "version": v12}),
                       "v13": dict(base, ptxas={"path": "/t/ptxas", "source": "TRITON_PTXAS_PATH", "version": v13})}.items():
        part = str(tmp_path / f"{name}.part.csv")
        dataset.append_problem(part, [row(32, 2, t=9.5)])
        files[name] = str(tmp_path / f"{name}.csv.gz")
        dataset.merge_parts(part, files[name], meta)
    assert dataset.ptxas_of(files["v13"]) == v13 and dataset.ptxas_of(files["old"]) is None
    assert dataset.seed_part([files["v13"]], seeded, DEV, want, ptxas=v13) == want
    assert dataset.seed_part([files["v12"]], seeded, DEV, want) == want  # ptxas=None: not checked
    try:
        dataset.seed_part([files["v12"]], seeded, DEV, want, ptxas=v13)
        raise AssertionError("a dataset built by another ptxas resumed the run")
    except ValueError as e:
        assert files["v12"] in str(e) and "12.8" in str(e) and "13.0" in str(e) and "--ptxas" in str(e)
    said = []
    assert dataset.seed_part([files["old"]], seeded, DEV, want, ptxas=v13, warn=said.append) == want
    assert len(said) == 1 and files["old"] in said[0] and "does not say which ptxas" in said[0]


def test_gpu_counts_of_a_sidecar_and_mixed_host_kinds(tmp_path):
    def sidecar(name, meta):
        path = tmp_path / f"{name}.csv.gz"
        (tmp_path / f"{name}.meta.json").write_text(json.dumps(meta))
        return str(path)
    # the literal test_llm's history: written by hand ("two H200s ...", "one H200 ..."), then by the collector
    mixed = sidecar("mixed", {"gpus": 1, "history": [
        {"date": "d1", "what": "two H200s (nvidia-h200-x2), 32 cores: compiled 25488 of 74100 variants"},
        {"date": "d2", "what": "one H200 (nvidia-h200), 16 cores: compiled 8896 of 52500 variants"},
        {"date": "d3", "what": "1 x NVIDIA H200, 16 compile jobs: compiled 2980 of 15150 variants"}]})
    assert dataset.gpu_counts_of(mixed) == {1, 2}
    # since session 19 each entry says it; an entry that names no count adds nothing
    tagged = sidecar("tagged", {"gpus": 4, "history": [{"date": "d", "what": "4 x NVIDIA H200: ...", "gpus": 2},
                                                      {"date": "e", "what": "re-measured by hand"}]})
    assert dataset.gpu_counts_of(tagged) == {2}
    assert dataset.gpu_counts_of(sidecar("plain", {"gpus": 4})) == {4}   # no history: the sidecar's own
    assert dataset.gpu_counts_of(str(tmp_path / "absent.csv.gz")) == set()
    assert dataset.mixes_host_kinds({1, 2}) and dataset.mixes_host_kinds({1, 4})
    assert not dataset.mixes_host_kinds({2, 4}) and not dataset.mixes_host_kinds({1}) and not dataset.mixes_host_kinds(set())
