import multiprocessing
import pathlib

import pytest

import gemmsift
from gemmsift import Config, Problem

ROOT = pathlib.Path(__file__).resolve().parents[2]
LUT = ROOT / "tests/lut"


def test_lookup_and_warnings():
    t = gemmsift.LookupTable(LUT / "good/example.json")
    assert t.warnings == []
    e = t.lookup(Problem(4096, 4096, 4096, layout="NT", device="NVIDIA H100 80GB HBM3"))
    assert e["configs"][0]["measured_us"] == 198.25
    assert t.lookup(Problem(1, 1, 1)) is None
    loose = gemmsift.LookupTable(LUT / "bad/unknown_field.json")
    assert len(loose.warnings) == 1 and "unknown field 'blockm'" in loose.warnings[0]
    with pytest.raises(gemmsift.ParseError, match=r"unknown_field.json:13:98 /entries/1/configs/0/blockm"):
        gemmsift.LookupTable(LUT / "bad/unknown_field.json", strict=True)
    with pytest.raises(gemmsift.InvalidArgumentError,
                       match=r"bad_block.json:13:21 /entries/1/configs/0/block_m: expected a power of two from 16 to 256, got 48$"):
        gemmsift.LookupTable(LUT / "bad/bad_block.json", strict=True)


def test_selector_puts_table_hits_first():
    with gemmsift.LookupTable(LUT / "good/example.json") as t:
        s = gemmsift.Selector("analytical", lut=t, benchmark_space=2)
    sel = s.select(Problem(4096, 4096, 4096, layout="NT"))
    assert [c.source for c in sel.candidates] == ["lut", "lut", "model", "model"]
    only = gemmsift.Selector("analytical", lut=gemmsift.LookupTable(LUT / "good/example.json"),
                             pinned_only=True)
    one = only.select(Problem(4096, 4096, 4096, layout="NT", device="NVIDIA H100 80GB HBM3"))
    assert one.skip_benchmark and one.configs == [Config(128, 256, 64, 8, 4, 8)]


def _record(args):
    path, i = args
    return gemmsift.record(path, Problem(64 + i, 64, 64, layout="NT"), Config(64, 64, 32, 8, 2, 4),
                           measured_us=10.0 + i)


def test_record_from_many_processes(tmp_path):
    path = str(tmp_path / "t.json")
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        assert all(pool.map(_record, [(path, i) for i in range(16)]))
    t = gemmsift.LookupTable(path, strict=True)
    for i in range(16):
        assert t.lookup(Problem(64 + i, 64, 64, layout="NT"))["configs"][0]["measured_us"] == 10.0 + i
