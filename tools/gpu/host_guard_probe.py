"""Probe for the timer's host guard (python/gemmsift/collect/timing.py) on a quiet host. Session 22's
first GPU run of the guard dropped about one launch per config in every problem and repeated some
runs with a longer spin, on a host that showed no slowness (docs/collection.md, session 22). Which
launches does it drop, and do they read any slower on the GPU than the launches it keeps?

For a few problems and the DEFAULT configs (bf16 NN, literal sizes, as the collector's NN sets) this
runs the collector's timer run by run (2 estimation launches, then 10) and records, for every launch,
its place in the run, the host's time from the spin's enqueue to the end event's, and the GPU's
reading; the same with no spin for comparison. It also times the L2 flush (the zero_ before the
spin), which the GPU runs before the spin and so delays it.

    python3 tools/gpu/host_guard_probe.py OUT.json
"""

import json
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import gemmsift  # noqa: E402
from gemmsift import Problem  # noqa: E402
from gemmsift.collect import kernel  # noqa: E402
from gemmsift.collect.harness import compile_all  # noqa: E402
from gemmsift.collect.timing import Timer, first_call  # noqa: E402

SHAPES = [(8, 61, 64), (392, 64, 1), (595, 111, 64), (2048, 2048, 2048), (6672, 1376, 512)]
REPEATS = 3


def runs(timer, fn, spin):
    """REPEATS x (estimation run, timed run): per launch (run, place, host us, gpu us)."""
    out = []
    for r in range(REPEATS):
        for name, pairs in (("est", timer._events[:2]), ("timed", timer._events[2:12])):
            gpu, host = timer.launches(fn, pairs, spin)
            for i, (g, h) in enumerate(zip(gpu, host)):
                out.append({"repeat": r, "run": name, "place": i, "host_us": h, "gpu_us": g})
    return out


def flush_us(timer, n=20):
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    got = []
    for _ in range(n):
        s.record()
        timer.buffer.zero_()
        e.record()
        torch.cuda.synchronize()
        got.append(s.elapsed_time(e) * 1000.0)
    return min(got)


def main(path):
    timer = Timer()
    window = 0.9 * timer.spin_us
    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "triton": __import__("triton").__version__, "spin_us": timer.spin_us, "window_us": window,
           "flush_us": flush_us(timer), "problems": []}
    work = [(m, n, k, "bf16", "NN", c) for (m, n, k) in SHAPES
            for c in gemmsift.space(Problem(m, n, k, layout="NN"), space="DEFAULT")]
    _, variants, secs = compile_all(work, os.cpu_count(), lambda msg: None, literal_sizes=True)
    print(f"compiled {variants} variants in {secs:.0f} s; spin {timer.spin_us:.1f} us, flush {res['flush_us']:.1f} us",
          flush=True)
    lines = []
    for (m, n, k) in SHAPES:
        a, b, c = kernel.operands(m, n, k, "bf16", "NN", seed=1)
        rows = []
        for cfg in gemmsift.space(Problem(m, n, k, layout="NN"), space="DEFAULT"):
            fn = (lambda cfg=cfg: kernel.launch(a, b, c, cfg, literal_sizes=True))
            try:
                first_call(fn)
            except Exception as e:
                rows.append({"config": str(cfg), "error": type(e).__name__})
                continue
            rows.append({"config": str(cfg), "spin": runs(timer, fn, timer.spin_cycles), "nospin": runs(timer, fn, 0)})
        res["problems"].append({"shape": [m, n, k], "rows": rows})
        ok = [r for r in rows if "error" not in r]
        launches = [x for r in ok for x in r["spin"]]
        dropped = [x for x in launches if x["host_us"] >= window]
        by_place = {}
        for x in launches:
            key = f"{x['run']}{x['place']}"
            by_place.setdefault(key, [0, 0])
            by_place[key][0] += 1
            by_place[key][1] += x["host_us"] >= window
        worst_place = sorted(by_place.items(), key=lambda kv: -kv[1][1] / kv[1][0])[:3]
        # Does a dropped launch read slower than the kept launches of its own run?
        ratios = []
        for r in ok:
            for rep in range(REPEATS):
                for name in ("est", "timed"):
                    run = [x for x in r["spin"] if x["repeat"] == rep and x["run"] == name]
                    kept = [x["gpu_us"] for x in run if x["host_us"] < window]
                    for x in run:
                        if x["host_us"] >= window and kept:
                            ratios.append(x["gpu_us"] / statistics.median(kept))
        nospin = [x["gpu_us"] for r in ok for x in r["nospin"]]
        spin = [x["gpu_us"] for r in ok for x in r["spin"]]
        hosts = sorted(x["host_us"] for x in launches)
        q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))]  # noqa: E731
        line = (f"{m}x{n}x{k}: {len(ok)} configs, {len(launches)} launches, {len(dropped)} over the window "
                f"({len(dropped) / max(1, len(launches)):.1%}); host us p50/p90/p99/max "
                f"{q(hosts, .5):.0f}/{q(hosts, .9):.0f}/{q(hosts, .99):.0f}/{hosts[-1]:.0f}; "
                f"most dropped places {', '.join(f'{k} {d}/{n_}' for k, (n_, d) in worst_place)}; "
                f"dropped/kept gpu median {statistics.median(ratios) if ratios else float('nan'):.3f} "
                f"(max {max(ratios) if ratios else float('nan'):.3f}, n {len(ratios)}); "
                f"gpu median spin {statistics.median(spin):.2f} us, no spin {statistics.median(nospin):.2f} us")
        print(line, flush=True)
        lines.append(line)
    with open(path, "w") as f:
        json.dump(res, f)
    print(f"{res['device']} torch {res['torch']} triton {res['triton']}: spin {timer.spin_us:.1f} us, "
          f"window {window:.1f} us, L2 flush {res['flush_us']:.1f} us")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
