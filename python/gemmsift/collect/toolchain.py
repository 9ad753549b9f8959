"""Which ptxas Triton compiles with (torch-free, so it is tested without a GPU).

Triton runs the ptxas named by TRITON_PTXAS_PATH, otherwise the one it bundles
(triton/backends/nvidia/bin/ptxas; CUDA 12.8 with Triton 3.6). Inductor sets TRITON_PTXAS_PATH to
torch's own ptxas (torch/bin/ptxas; CUDA 13.0 with torch 2.11+cu130) before each Triton compile,
when the variable is unset and that file is an executable (torch/_inductor/runtime/compile_tasks.py,
`_set_triton_ptxas_path`), so the kernels Inductor times and runs are built by torch's ptxas. The
collector does the same by default (`--ptxas inductor`, `use_inductor_ptxas`): on an H200 the two
ptxas versions build the same kernel the same on large aligned problems (docs/collection.md,
session 14), but on configs that spill registers the code of one can run 2.5 times as long as the
other's (129x4097x513, 64x128x64 s3 w4: 110 against 41 us, session 16). The collector records the
ptxas its compiles use, and resuming from a dataset built by another ptxas is refused."""

import importlib.util
import os
import subprocess


def bundled_ptxas():
    """The ptxas inside the installed Triton package (None without Triton)."""
    try:
        import triton
    except ImportError:
        return None
    return os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "ptxas")


def torch_ptxas(torch_dir=None):
    """The ptxas Inductor hands to Triton: torch/bin/ptxas, if it is an executable file (else None).
    `torch_dir` (torch's package folder) defaults to the installed torch's; None without torch."""
    if torch_dir is None:
        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.origin:
            return None
        torch_dir = os.path.dirname(spec.origin)
    path = os.path.join(torch_dir, "bin", "ptxas")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def use_inductor_ptxas(environ=None, torch_dir=None):
    """As Inductor before it compiles: TRITON_PTXAS_PATH = torch's ptxas, unless the variable is
    already set or torch has none. Child processes inherit it. Returns the path set, or None."""
    environ = os.environ if environ is None else environ
    if environ.get("TRITON_PTXAS_PATH") is not None:
        return None
    path = torch_ptxas(torch_dir)
    if path:
        environ["TRITON_PTXAS_PATH"] = path
    return path


def ptxas_in_use(environ=None, bundled=None):
    """{"path", "source", "version"} of the ptxas Triton would run in a process with `environ`
    (default os.environ): "source" is "TRITON_PTXAS_PATH" or "bundled"; "version" is the last
    line of `ptxas --version`, or {"error": ...} in place of the version when it cannot run."""
    environ = os.environ if environ is None else environ
    path = environ.get("TRITON_PTXAS_PATH")
    source = "TRITON_PTXAS_PATH"
    if not path:
        path, source = (bundled if bundled is not None else bundled_ptxas()), "bundled"
    out = {"path": path, "source": source}
    if not path:
        out["error"] = "no Triton installed and TRITON_PTXAS_PATH unset"
        return out
    try:
        run = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20)
        lines = [line.strip() for line in run.stdout.splitlines() if line.strip()]
        if run.returncode != 0 or not lines:
            out["error"] = f"`{path} --version` exited with {run.returncode}"
        else:
            out["version"] = lines[-1]
    except (OSError, subprocess.SubprocessError) as e:
        out["error"] = f"`{path} --version`: {e}"
    return out
