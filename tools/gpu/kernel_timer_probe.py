"""Probe for the long-kernel discrepancy of docs/collection.md: on long kernels the harness read
above Inductor's own autotune timing of the same config (4096^3 bf16 NT on an H100: 226 against
211 us). Is it the kernel (Inductor's generated module against gemmsift's triton_mm) or the timer
(Inductor's benchmarker against gemmsift's Timer)? For each config of Inductor's DEFAULT list this
times both kernels with both timers, twice, interleaved, and reads the SM clock, power and
throttle reasons before and after each shape.

    python3 tools/gpu/kernel_timer_probe.py OUT.json   [GEMMSIFT_PROBE_SHAPES=4096x4096x4096,...]

Inductor's kernels are the functions its autotuning hands to benchmarker.benchmark_gpu (captured
while max-autotune compiles x @ y), matched to configs by the feedback saver's timings."""

import json
import os
import statistics
import subprocess
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import gemmsift  # noqa: E402
from gemmsift import Problem  # noqa: E402
from gemmsift.collect import kernel  # noqa: E402
from gemmsift.collect.harness import compile_all  # noqa: E402
from gemmsift.collect.timing import autotune_timer, first_call  # noqa: E402
from gemmsift.inductor import _benchmarkers, config_of_description  # noqa: E402

SHAPES = [(4096, 4096, 4096), (8192, 8192, 4096), (2048, 2048, 2048)]
if os.environ.get("GEMMSIFT_PROBE_SHAPES"):
    SHAPES = [tuple(map(int, s.split("x"))) for s in os.environ["GEMMSIFT_PROBE_SHAPES"].split(",")]


def gpu_state():
    q = "clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active"
    out = subprocess.run(["nvidia-smi", "-i", str(torch.cuda.current_device()), f"--query-gpu={q}",
                          "--format=csv,noheader"], capture_output=True, text=True)
    return out.stdout.strip()


def inductor_kernels(m, n, k, layout, keep=None):
    """{config: (Inductor's own time in us, the function Inductor timed)} for one problem. With a
    dict `keep`, also keep["compiled"] (the compiled x @ y, which runs Inductor's pick) and
    keep["picked"] (the config of Inductor's fastest timing)."""
    import torch._dynamo
    from torch._inductor import config as ic
    from torch._inductor.select_algorithm import add_feedback_saver, clear_feedback_savers

    seen = []  # (ms, fn) in the order Inductor timed them
    originals = []
    for b in _benchmarkers():
        own = b.benchmark_gpu
        originals.append((b, own))

        def capture(fn, *args, _own=own, **kwargs):
            ms = _own(fn, *args, **kwargs)
            if not args and not kwargs.get("return_mode") and isinstance(ms, float):
                seen.append((ms, fn))
            return ms
        b.benchmark_gpu = capture
    timings = {}

    def saver(got, name, input_nodes, choices, profiled, precompile_times):
        for caller, t in got.items():
            cfg = config_of_description(str(getattr(caller, "description", "") or ""))
            if cfg is not None:
                timings[cfg] = t

    clear_feedback_savers()
    add_feedback_saver(saver)
    torch._dynamo.reset()
    a, b_, _ = kernel.operands(m, n, k, "bf16", layout, seed=1)
    try:
        with ic.patch(max_autotune=True, max_autotune_gemm_backends="TRITON",
                      max_autotune_gemm_search_space="DEFAULT", force_disable_caches=True,
                      autotune_local_cache=False, autotune_remote_cache=False):
            compiled = torch.compile(lambda x, y: x @ y, dynamic=False)
            compiled(a, b_)
        torch.cuda.synchronize()
        if keep is not None:
            keep["compiled"] = compiled
            keep["picked"] = min(timings, key=timings.get) if timings else None
    finally:
        clear_feedback_savers()
        for b, own in originals:
            b.benchmark_gpu = own
    out = {}
    for cfg, ms in timings.items():
        fns = [fn for t, fn in seen if t == ms]
        if len(fns) == 1:
            out[cfg] = (ms * 1000.0, fns[0])
    print(f"{m}x{n}x{k}: Inductor timed {len(seen)} functions, its saver named {len(timings)} configs, "
          f"{len(out)} matched", flush=True)
    return out


def main(path):
    bench = _benchmarkers()[0]
    timer = autotune_timer(torch.cuda.current_device())  # Inductor's settings
    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "triton": __import__("triton").__version__, "shapes": []}
    lines = []
    work = [(m, n, k, "bf16", "NT", c) for (m, n, k) in SHAPES
            for c in gemmsift.space(Problem(m, n, k, layout="NT"), space="DEFAULT")]
    _, variants, secs = compile_all(work, os.cpu_count(), lambda msg: None)
    print(f"precompiled {variants} variants in {secs:.0f} s", flush=True)
    for (m, n, k) in SHAPES:
        kernels = inductor_kernels(m, n, k, "NT")
        a, b, c = kernel.operands(m, n, k, "bf16", "NT", seed=1)
        rows = []
        states = [gpu_state()]
        for cfg, (ind_us, ind_fn) in sorted(kernels.items(), key=lambda kv: kv[1][0]):
            if ind_us != ind_us or ind_us == float("inf"):
                continue
            ours = (lambda cfg=cfg: kernel.launch(a, b, c, cfg))
            try:
                first_call(ours)
                first_call(ind_fn)
            except Exception as e:  # out of resources: Inductor could not time it either
                rows.append({"config": str(cfg), "error": type(e).__name__})
                continue
            t = {"ind_kernel_ind_timer": [], "ind_kernel_our_timer": [],
                 "our_kernel_ind_timer": [], "our_kernel_our_timer": []}
            for _ in range(2):
                t["ind_kernel_ind_timer"].append(bench.benchmark_gpu(ind_fn) * 1000.0)
                t["ind_kernel_our_timer"].append(timer.time(ind_fn)[1])
                t["our_kernel_ind_timer"].append(bench.benchmark_gpu(ours) * 1000.0)
                t["our_kernel_our_timer"].append(timer.time(ours)[1])
            rows.append({"config": str(cfg), "inductor_autotune_us": ind_us,
                         **{key: min(v) for key, v in t.items()}, "all": t})
        states.append(gpu_state())
        res["shapes"].append({"shape": [m, n, k], "layout": "NT", "gpu_state_before_after": states, "rows": rows})
        ok = [r for r in rows if "error" not in r]
        ratio = lambda x, y: statistics.median(r[x] / r[y] for r in ok)  # noqa: E731
        lines.append(f"{m}x{n}x{k}: {len(ok)} configs; medians over configs: "
                     f"our kernel / Inductor's (our timer) {ratio('our_kernel_our_timer', 'ind_kernel_our_timer'):.3f}, "
                     f"(Inductor's timer) {ratio('our_kernel_ind_timer', 'ind_kernel_ind_timer'):.3f}; "
                     f"our timer / Inductor's (Inductor's kernel) {ratio('ind_kernel_our_timer', 'ind_kernel_ind_timer'):.3f}, "
                     f"(our kernel) {ratio('our_kernel_our_timer', 'our_kernel_ind_timer'):.3f}; "
                     f"autotune reading / Inductor's timer now {ratio('inductor_autotune_us', 'ind_kernel_ind_timer'):.3f}")
        for r in ok[:5]:
            lines.append(f"   {r['config']:>24} autotune {r['inductor_autotune_us']:8.1f}  ind/ind {r['ind_kernel_ind_timer']:8.1f}"
                         f"  ind/ours {r['ind_kernel_our_timer']:8.1f}  ours/ind {r['our_kernel_ind_timer']:8.1f}"
                         f"  ours/ours {r['our_kernel_our_timer']:8.1f}")
        lines.append(f"   GPU before / after: {states[0]} / {states[1]}")
        print(lines[-1], flush=True)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
