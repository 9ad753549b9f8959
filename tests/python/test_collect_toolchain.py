"""Which ptxas the collector records (gemmsift.collect.toolchain), with stand-in ptxas scripts."""

import os
import stat

from gemmsift.collect.toolchain import ptxas_in_use


def fake_ptxas(tmp_path, name, text, rc=0):
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\nprintf '{text}'\nexit {rc}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_environment_variable_wins_over_the_bundled_one(tmp_path):
    mine = fake_ptxas(tmp_path, "ptxas13", "ptxas: NVIDIA (R) Ptx optimizing assembler\\nCuda compilation tools, release 13.0, V13.0.88\\n")
    bundled = fake_ptxas(tmp_path, "ptxas12", "Cuda compilation tools, release 12.8, V12.8.93\\n")
    got = ptxas_in_use({"TRITON_PTXAS_PATH": mine}, bundled=bundled)
    assert got == {"path": mine, "source": "TRITON_PTXAS_PATH", "version": "Cuda compilation tools, release 13.0, V13.0.88"}
    got = ptxas_in_use({}, bundled=bundled)
    assert got == {"path": bundled, "source": "bundled", "version": "Cuda compilation tools, release 12.8, V12.8.93"}


def test_a_ptxas_that_cannot_run_is_an_error_not_an_exception(tmp_path):
    broken = fake_ptxas(tmp_path, "broken", "", rc=3)
    assert "exited with 3" in ptxas_in_use({"TRITON_PTXAS_PATH": broken})["error"]
    missing = os.path.join(str(tmp_path), "absent")
    got = ptxas_in_use({}, bundled=missing)
    assert got["source"] == "bundled" and "version" not in got and missing in got["error"]
