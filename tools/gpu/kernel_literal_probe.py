"""Probe, after tools/gpu/kernel_timer_probe.py found the harness's kernel slower than Inductor's
generated kernel for the same config on long problems (the timers agree): does it come from the
sizes Inductor bakes into its kernel as literals? Times, with gemmsift's timer (Inductor's
settings), for a few configs of each shape: Inductor's kernel, gemmsift's triton_mm, and
gemmsift's triton_mm with some of M, N, K and the strides made constexprs (variants written from
triton_mm's own source; GEMMSIFT_PROBE_VARIANTS picks them by name). Copies Inductor's generated kernels of the first shape.

    python3 tools/gpu/kernel_literal_probe.py OUTDIR   [GEMMSIFT_PROBE_SHAPES=4096x4096x4096,...]
                                                       [GEMMSIFT_PROBE_CONFIGS=128x128x64x8x3x4,...]
                                                       [GEMMSIFT_PROBE_ROUNDS=3: interleaved rounds, each printed]
"""

import os
import sys

import torch
import triton

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from gemmsift import Config  # noqa: E402
from gemmsift.collect import kernel  # noqa: E402
from gemmsift.collect.timing import autotune_timer, first_call  # noqa: E402
from kernel_timer_probe import inductor_kernels  # noqa: E402

SHAPES = [(4096, 4096, 4096), (8192, 8192, 4096), (2048, 2048, 2048)]
if os.environ.get("GEMMSIFT_PROBE_SHAPES"):
    SHAPES = [tuple(map(int, s.split("x"))) for s in os.environ["GEMMSIFT_PROBE_SHAPES"].split(",")]
CONFIGS = [Config(128, 128, 64, 8, 3, 4), Config(128, 128, 64, 8, 5, 8), Config(64, 128, 128, 8, 4, 4),
           Config(64, 64, 64, 8, 3, 8)]
if os.environ.get("GEMMSIFT_PROBE_CONFIGS"):  # e.g. 64x128x64x8x3x4,...: BLOCK_M x N x K x GROUP_M x stages x warps
    CONFIGS = [Config(*map(int, c.split("x"))) for c in os.environ["GEMMSIFT_PROBE_CONFIGS"].split(",")]
VARIANTS = {"M N K literal": {"M", "N", "K"}, "K literal": {"K"}, "M N literal": {"M", "N"},
            "strides literal": {"stride_am", "stride_ak", "stride_bk", "stride_bn", "stride_cm", "stride_cn"}}
VARIANTS["all literal"] = VARIANTS["M N K literal"] | VARIANTS["strides literal"]
OTHER_TENSORS = {}  # GEMMSIFT_PROBE_OTHER_TENSORS=1: also time triton_mm on a second set of operands
ROUNDS = int(os.environ.get("GEMMSIFT_PROBE_ROUNDS", "1"))  # > 1: every round's time printed too
if os.environ.get("GEMMSIFT_PROBE_VARIANTS"):
    VARIANTS = {v: VARIANTS[v] for v in os.environ["GEMMSIFT_PROBE_VARIANTS"].split(",")}


def variants():
    """{name: JITFunction}: triton_mm, and triton_mm with some integer arguments made constexprs."""
    return {"ours": kernel.triton_mm, **{name: kernel.triton_mm_with_literals(names) for name, names in VARIANTS.items()}}


def launcher(fn, a, b, c, cfg):
    m, k = a.shape
    n = b.shape[1]
    kw = kernel.static_args(m, n, k, a.stride(), b.stride(), cfg)
    grid = (triton.cdiv(m, cfg.block_m) * triton.cdiv(n, cfg.block_n),)
    args = (a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
    return lambda: fn[grid](*args, ALLOW_TF32=False, ACC_TYPE=triton.language.float32, **kw)


def main(out_dir):
    timer = autotune_timer(torch.cuda.current_device())  # Inductor's settings
    kernels = variants()
    print(torch.cuda.get_device_name(0), "torch", torch.__version__, "triton", triton.__version__, flush=True)
    lines = []
    for i, (m, n, k) in enumerate(SHAPES):
        ind = inductor_kernels(m, n, k, "NT")
        if i == 0:
            os.system(f"cd {os.environ.get('TORCHINDUCTOR_CACHE_DIR', '/tmp')} && grep -rl 'def triton_mm' --include=*.py . "
                      f"| head -40 | tar czf {out_dir}/inductor_kernels_{m}x{n}x{k}.tar.gz -T - 2>/dev/null")
        a, b, c = kernel.operands(m, n, k, "bf16", "NT", seed=1)
        if os.environ.get("GEMMSIFT_PROBE_OTHER_TENSORS"):
            OTHER_TENSORS[(m, n, k)] = kernel.operands(m, n, k, "bf16", "NT", seed=2)
        header = f"{m}x{n}x{k} NT bf16 (us, min of 2 timings)"
        lines.append(f"{header:>40} {'Inductor':>9}" + "".join(f"{name:>16}" for name in kernels))
        for cfg in CONFIGS:
            fns = {"Inductor": ind[cfg][1]} if cfg in ind else {}
            fns.update({name: launcher(fn, a, b, c, cfg) for name, fn in kernels.items()})
            if OTHER_TENSORS:  # triton_mm once more on operands allocated after all the others
                fns["ours, other tensors"] = launcher(kernels["ours"], *OTHER_TENSORS[(m, n, k)], cfg)
            for name, fn in fns.items():
                try:
                    first_call(fn)
                except Exception as e:
                    print(f"{cfg} {name}: {type(e).__name__}: {str(e)[:200]}", flush=True)
            regs = {}
            for name in kernels:
                try:
                    compiled = fns[name]()  # Triton's launch returns the compiled kernel
                    regs[name] = f"{getattr(compiled, 'n_regs', '?')} regs {getattr(compiled, 'n_spills', '?')} spills"
                except Exception as e:
                    regs[name] = type(e).__name__
            rounds = {name: [] for name in fns}
            for _ in range(ROUNDS):  # interleaved: each round times every function once
                for name, fn in fns.items():
                    try:
                        rounds[name].append(min(timer.time(fn)[1] for _ in range(2)))
                    except Exception:
                        rounds[name].append(float("nan"))
            times = {name: min(ts) for name, ts in rounds.items()}
            if ROUNDS > 1 or os.environ.get("GEMMSIFT_PROBE_REGS"):
                lines.append(f"{str(cfg):>40} rounds: " + "; ".join(f"{name} " + "/".join(f"{t:.1f}" for t in ts)
                                                                   for name, ts in rounds.items()))
                lines.append(f"{str(cfg):>40} compiled: " + "; ".join(f"{name} {r}" for name, r in regs.items()))
                print("\n".join(lines[-2:]), flush=True)
            lines.append(f"{str(cfg):>40} " + "".join(f"{times.get(name, float('nan')):>9.1f}" if name == "Inductor"
                                                      else f"{times[name]:>16.1f}" for name in ["Inductor"] + list(kernels)))
            print(lines[-1], flush=True)
        launcher(kernels["ours"], a, b, c, CONFIGS[0])()
        ref = c.clone()
        c.zero_()
        for name in list(kernels)[1:]:
            c.zero_()
            launcher(kernels[name], a, b, c, CONFIGS[0])()
            torch.cuda.synchronize()
            lines.append(f"{'':>40} {name}: the same output as ours: {torch.equal(ref, c)}")
    print("\n".join(lines))
    with open(os.path.join(out_dir, "kernel_literal_probe.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
