"""Probe: does our timing include CPU launch gaps? Times configs with and without a GPU spin
before the start event (torch.cuda._sleep keeps the GPU busy while the CPU enqueues)."""
import sys, time, statistics
import torch
sys.path.insert(0, "python")
from gemmsift import Config
from gemmsift.collect import kernel
buf = torch.empty(torch.cuda.get_device_properties(0).L2_cache_size // 4, dtype=torch.int, device="cuda")
def bench(fn, spin, n=30):
    ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n)]
    for s, e in ev:
        buf.zero_()
        if spin: torch.cuda._sleep(spin)
        s.record(); fn(); e.record()
    torch.cuda.synchronize()
    t = [s.elapsed_time(e) * 1000 for s, e in ev]
    return min(t), statistics.median(t)
for (m, n, k), cfg in [((2048, 2048, 2048), Config(128, 128, 64, 8, 3, 4)), ((4096, 4096, 4096), Config(128, 128, 64, 8, 3, 4)),
                       ((129, 4097, 513), Config(128, 64, 32, 8, 4, 8)), ((64, 8192, 4096), Config(64, 64, 128, 8, 5, 4))]:
    a, b, c = kernel.operands(m, n, k, "bf16", "NT")
    f = lambda: kernel.launch(a, b, c, cfg)
    f(); torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(200): f()
    torch.cuda.synchronize()
    launch_us = (time.perf_counter() - t0) / 200 * 1e6
    r = [bench(f, 0), bench(f, 0), bench(f, 1_000_000), bench(f, 1_000_000)]
    print(f"{m}x{n}x{k} {cfg}: cpu launch {launch_us:.1f} us/iter; no spin min/med {r[0][0]:.1f}/{r[0][1]:.1f} {r[1][0]:.1f}/{r[1][1]:.1f}; spin {r[2][0]:.1f}/{r[2][1]:.1f} {r[3][0]:.1f}/{r[3][1]:.1f}", flush=True)
