"""Which ptxas Triton compiles with (torch-free, so it is tested without a GPU).

Triton runs the ptxas named by TRITON_PTXAS_PATH, otherwise the one it bundles
(triton/backends/nvidia/bin/ptxas). Inductor's compiles can use torch's own ptxas instead (in
session 13 some of its kernels were built by ptxas 13.0, others by Triton's 12.8; importing
torch._inductor.async_compile does not set the variable), so a process that uses Inductor and one
that does not can build the same kernel with different ptxas versions. On an H200 the two gave the
same times for the same kernel, and the gap between the harness's literal-size kernel and
Inductor's on the largest problems stayed with either ptxas on both sides (docs/collection.md,
session 14). The collector records the ptxas its compiles use."""

import os
import subprocess


def bundled_ptxas():
    """The ptxas inside the installed Triton package (None without Triton)."""
    try:
        import triton
    except ImportError:
        return None
    return os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "ptxas")


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
