"""Which ptxas the collector records (gemmsift.collect.toolchain), with stand-in ptxas scripts."""

import os
import stat

from gemmsift.collect.toolchain import ptxas_in_use, torch_ptxas, use_inductor_ptxas


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


def test_inductor_ptxas_is_torchs_own_unless_the_variable_is_set(tmp_path):
    """As torch/_inductor/runtime/compile_tasks.py's _set_triton_ptxas_path: torch/bin/ptxas when it
    is an executable file and TRITON_PTXAS_PATH is unset; nothing otherwise."""
    torch_dir = tmp_path / "torch"
    (torch_dir / "bin").mkdir(parents=True)
    assert torch_ptxas(str(torch_dir)) is None  # no ptxas in torch/bin
    env = {}
    assert use_inductor_ptxas(env, str(torch_dir)) is None and env == {}
    plain = torch_dir / "bin" / "ptxas"
    plain.write_text("not executable")
    plain.chmod(0o644)
    assert torch_ptxas(str(torch_dir)) is None
    plain.chmod(0o755)
    assert torch_ptxas(str(torch_dir)) == str(plain)
    assert use_inductor_ptxas(env, str(torch_dir)) == str(plain) and env == {"TRITON_PTXAS_PATH": str(plain)}
    mine = {"TRITON_PTXAS_PATH": "/opt/my/ptxas"}
    assert use_inductor_ptxas(mine, str(torch_dir)) is None and mine == {"TRITON_PTXAS_PATH": "/opt/my/ptxas"}
