"""Probe, after tools/gpu/job_ptxas_probe.sh ruled out the ptxas (session 14): on the largest
problems triton_mm with literal sizes stays 6-10% slower than Inductor's kernel of the same
config, though the two compile to nearly the same PTX (the same main loop; 187 against 193
registers, the same occupancy). Is it how they are measured? kernel_literal_probe.py times
Inductor's kernel first, on Inductor's own input tensors, then gemmsift's on its own. This times,
for each config, in ROUNDS rounds whose order alternates (forwards, then backwards):
Inductor's kernel on its tensors, triton_mm with literal sizes on gemmsift's tensors, the same
on Inductor's tensors where they can be found in the function Inductor timed, and (for the
config Inductor picked) the compiled `x @ y` on gemmsift's tensors; each timing is followed by a
reading of the SM clock and the power draw.

    python3 tools/gpu/kernel_order_probe.py OUTDIR   [GEMMSIFT_PROBE_SHAPES=8192x8192x4096,...]
                                                     [GEMMSIFT_PROBE_ROUNDS=6]

Writes OUTDIR/kernel_order_probe.json (every timing with its clock and power) and
OUTDIR/kernel_order_probe.txt (min and median per kernel, and the clock range), and prints the
table last."""

import json
import os
import statistics
import subprocess
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from gemmsift import Config  # noqa: E402
from gemmsift.collect import kernel  # noqa: E402
from gemmsift.collect.timing import autotune_timer, first_call  # noqa: E402
from kernel_literal_probe import launcher  # noqa: E402
from kernel_timer_probe import inductor_kernels  # noqa: E402

SHAPES = [(8192, 8192, 4096), (6144, 16384, 3072), (4096, 4096, 4096)]
if os.environ.get("GEMMSIFT_PROBE_SHAPES"):
    SHAPES = [tuple(map(int, s.split("x"))) for s in os.environ["GEMMSIFT_PROBE_SHAPES"].split(",")]
ROUNDS = int(os.environ.get("GEMMSIFT_PROBE_ROUNDS", "6"))
CONFIGS = [Config(128, 128, 64, 8, 3, 4), Config(128, 128, 64, 8, 5, 8), Config(64, 64, 64, 8, 3, 8)]


def gpu_reading():
    """(SM clock in MHz, power draw in W) now, from nvidia-smi (None, None if it fails)."""
    out = subprocess.run(["nvidia-smi", "-i", str(torch.cuda.current_device()), "--query-gpu=clocks.sm,power.draw",
                          "--format=csv,noheader,nounits"], capture_output=True, text=True)
    try:
        clock, power = (float(x) for x in out.stdout.strip().split(","))
        return clock, power
    except ValueError:
        return None, None


def tensors_in(obj, depth=0, seen=None):
    """The CUDA tensors reachable from a function Inductor timed: partial arguments, closure
    cells, a bound method's object and its attributes, lists and tuples (at most 4 levels)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 4:
        return []
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        return [obj] if obj.is_cuda else []
    found = []
    children = []
    if isinstance(obj, (list, tuple)):
        children = list(obj)
    elif isinstance(obj, dict):
        children = list(obj.values())
    else:
        children += list(getattr(obj, "args", ()) or ()) if not isinstance(obj, type) else []
        children += list((getattr(obj, "keywords", None) or {}).values())
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                children.append(cell.cell_contents)
            except ValueError:
                pass
        if hasattr(obj, "__self__"):
            children.append(obj.__self__)
        if depth and hasattr(obj, "__dict__") and not callable(obj):
            children += list(vars(obj).values())
    for child in children:
        found += tensors_in(child, depth + 1, seen)
    return found


def inductor_operands(fn, m, n, k):
    """Inductor's A [M,K], B [K,N] and output [M,N] from the tensors its timed function holds
    (matched by shape; None when not all three are found)."""
    a = b = c = None
    for t in tensors_in(fn):
        shape = tuple(t.shape)
        if shape == (m, k) and a is None:
            a = t
        elif shape == (k, n) and b is None:
            b = t
        elif shape == (m, n) and c is None:
            c = t
    return (a, b, c) if a is not None and b is not None and c is not None else None


def describe(t):
    return {"shape": list(t.shape), "stride": list(t.stride()), "dtype": str(t.dtype),
            "ptr_mod_2MiB": t.data_ptr() % (2 << 20), "mean": float(t.float().mean()), "std": float(t.float().std()),
            "zeros": float((t == 0).float().mean())}


def main(out_dir):
    timer = autotune_timer(torch.cuda.current_device())  # Inductor's settings
    literal = kernel.triton_mm_literal_sizes()
    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "triton": __import__("triton").__version__, "rounds": ROUNDS, "shapes": []}
    print(res["device"], "torch", res["torch"], "triton", res["triton"], flush=True)
    lines = []
    for (m, n, k) in SHAPES:
        keep = {}
        ind = inductor_kernels(m, n, k, "NT", keep=keep)
        a, b, c = kernel.operands(m, n, k, "bf16", "NT", seed=1)
        shape = {"m": m, "n": n, "k": k, "ours": {"a": describe(a), "b": describe(b)}, "configs": []}
        lines.append(f"{m}x{n}x{k} NT bf16, {ROUNDS} rounds (us: min / median; SM MHz min-max, W max)")
        for cfg in CONFIGS:
            if cfg not in ind:
                lines.append(f"  {cfg}: Inductor did not time it")
                continue
            fns = {"Inductor": ind[cfg][1], "literal": launcher(literal, a, b, c, cfg)}
            theirs = inductor_operands(ind[cfg][1], m, n, k)
            if theirs is not None:
                fns["literal on Inductor's tensors"] = launcher(literal, *theirs, cfg)
                shape["inductor"] = {"a": describe(theirs[0]), "b": describe(theirs[1])}
            if keep.get("compiled") is not None and keep.get("picked") == cfg:
                compiled = keep["compiled"]
                fns["compiled x @ y (ours)"] = lambda: compiled(a, b)
            from torch._dynamo.utils import counters
            graphs = counters["stats"]["unique_graphs"]
            for fn in fns.values():
                first_call(fn)
            if counters["stats"]["unique_graphs"] != graphs:  # compiled anew, outside max-autotune
                fns.pop("compiled x @ y (ours)", None)
                lines.append(f"  {cfg}: the compiled x @ y recompiled when called again: left out")
            names = list(fns)
            runs = []
            for r in range(ROUNDS):
                for name in (names if r % 2 == 0 else names[::-1]):
                    status, best, median, iters = timer.time(fns[name])
                    clock, power = gpu_reading()
                    runs.append({"round": r, "kernel": name, "min_us": best, "median_us": median, "iters": iters,
                                 "sm_mhz": clock, "power_w": power})
            shape["configs"].append({"config": str(cfg), "inductor_own_us": ind[cfg][0], "runs": runs})
            for name in names:
                mine = [x for x in runs if x["kernel"] == name]
                mins = [x["min_us"] for x in mine]
                clocks = [x["sm_mhz"] for x in mine if x["sm_mhz"] is not None]
                powers = [x["power_w"] for x in mine if x["power_w"] is not None]
                lines.append(f"  {str(cfg):>22} {name:>30} {min(mins):9.1f} / {statistics.median(mins):9.1f}   "
                             + (f"{min(clocks):.0f}-{max(clocks):.0f} MHz, {max(powers):.0f} W" if clocks and powers else ""))
            print("\n".join(lines[-len(names):]), flush=True)
        res["shapes"].append(shape)
    with open(os.path.join(out_dir, "kernel_order_probe.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out_dir, "kernel_order_probe.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
