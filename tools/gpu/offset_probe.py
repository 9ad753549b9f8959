"""Probe for the offset per launch of docs/collection.md, session 19: on hosts with several H200s
the collector read short kernels about 1.3 us longer than on the one-GPU host, the same configs of
the same problems. Where does it come from? For a few short problems of the literal train_random
files (their session-18 and session-19 times printed beside) and one tiny torch kernel, this
times each with the collector's Timer (literal sizes and torch's ptxas, as the datasets), one
thing changed at a time:
- the GPU spin before each start event: none, 200,000 cycles (the collector's), 1,000,000;
- alone, then with a second process timing the same work on each other visible GPU meanwhile
  (as the collector's timing processes do on a host with several GPUs);
and it records what nvidia-smi says of the host (persistence and compute mode, confidential
computing, topology) so that two machine kinds can be compared.

    python3 tools/gpu/offset_probe.py OUT.json

Run it on `nvidia-h200` and on `nvidia-h200-x2` with .device-carry carried (PYTHONPATH=python
LD_LIBRARY_PATH=$PWD/.device-carry GEMMSIFT_LIBRARY=$PWD/.device-carry/libgemmsift.so); about a minute. Internal: `--load READY STOP` is the second process."""

import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gemmsift.collect import toolchain  # noqa: E402

toolchain.use_inductor_ptxas()  # before anything compiles, as the collector

import torch  # noqa: E402

from gemmsift import Config  # noqa: E402
from compare_kernels import ok_times  # noqa: E402  (a dataset's ok times, per problem and config)
from gemmsift.collect import kernel  # noqa: E402
from gemmsift.collect.timing import Timer, first_call  # noqa: E402

# (m, n, k), config: short problems whose times moved by about 1.3 us between the two files
# (and 16x16x256 s3 w1 on 16x48x480: 4.6 us in session 18, 53.3 in session 19, its neighbours 6)
CASES = [((16, 48, 480), Config(16, 16, 256, 8, 4, 1)), ((16, 48, 480), Config(16, 16, 256, 8, 3, 1)),
         ((37, 4842, 22), Config(64, 64, 32, 8, 2, 4)),
         ((9, 46, 23), Config(16, 16, 32, 8, 3, 1)), ((128, 7726, 16), Config(32, 64, 16, 8, 2, 4)),
         ((1, 20, 688), Config(16, 16, 256, 8, 4, 1)), ((2048, 2048, 2048), Config(128, 128, 64, 8, 3, 4))]
SPINS = (0, 200_000, 1_000_000)
FILES = {"session 18 (nvidia-h200)": "data/literal/h200_bf16_NT_train_random.csv.gz",
         "session 19 (nvidia-h200-x2)": "data/literal/h200_bf16_NT_train_random_s200.csv.gz"}


def work():
    """[(label, fn)]: each case's literal-size launch, compiled and run once, then a tiny torch kernel."""
    out = []
    for (m, n, k), cfg in CASES:
        a, b, c = kernel.operands(m, n, k, "bf16", "NT")
        fn = (lambda a=a, b=b, c=c, cfg=cfg: kernel.launch(a, b, c, cfg, literal_sizes=True))
        first_call(fn)
        out.append((f"{m}x{n}x{k} {cfg}", fn))
    x = torch.zeros(1, device="cuda")
    out.append(("torch add_ on one element", lambda: x.add_(1)))
    first_call(out[-1][1])
    return out


def measure(fns, spin, rounds=3):
    """{label: (min, median)} in us over `rounds` batches of the Timer's timed launches (up to 50)."""
    timer = Timer(estimation_iters=2, max_iters=50, budget_ms=5.0, spin_cycles=spin)
    res = {}
    for label, fn in fns:
        t = [x for _ in range(rounds) for x in timer.samples(fn)]
        res[label] = (min(t), statistics.median(t))
    return res


def dataset_times():
    """{label: {file label: min us}} for the cases, from the two literal files where present."""
    out = {}
    for name, path in FILES.items():
        if os.path.exists(path):
            times = ok_times(path)
            for (m, n, k), cfg in CASES:
                t = times.get(("bf16", "NT", m, n, k), {}).get(cfg)
                if t is not None:
                    out.setdefault(f"{m}x{n}x{k} {cfg}", {})[name] = t
    return out


def host():
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError) as e:
            return f"{cmd[0]}: {e}"
    q = "name,driver_version,persistence_mode,compute_mode,clocks.sm,clocks.max.sm,clocks.mem,power.limit"
    return {"query": run("nvidia-smi", f"--query-gpu={q}", "--format=csv"),
            "conf_compute": run("nvidia-smi", "conf-compute", "-f"),
            "topology": run("nvidia-smi", "topo", "-m"),
            "cpu": run("sh", "-c", "grep -m1 'model name' /proc/cpuinfo; nproc")}


def load(ready, stop):
    """The second process (on the GPU CUDA_VISIBLE_DEVICES gives it): times the same work until
    `stop` exists."""
    fns = work()
    open(ready, "w").close()
    while not os.path.exists(stop):
        measure(fns, 200_000, rounds=1)


def main():
    if sys.argv[1:2] == ["--load"]:
        return load(*sys.argv[2:4])
    out_path = sys.argv[1]
    fns = work()
    result = {"device": torch.cuda.get_device_name(), "gpus": torch.cuda.device_count(), "host": host(),
              "datasets": dataset_times(), "alone": {}, "with_load": None}
    for spin in SPINS:
        result["alone"][str(spin)] = measure(fns, spin)
    others = list(range(1, torch.cuda.device_count()))
    if others:
        tag = f"/tmp/offset_probe_{os.getpid()}"
        procs = [subprocess.Popen([sys.executable, __file__, "--load", f"{tag}_ready{g}", f"{tag}_stop"],
                                  env=dict(os.environ, CUDA_VISIBLE_DEVICES=str(g))) for g in others]
        deadline = time.time() + 120
        while not all(os.path.exists(f"{tag}_ready{g}") for g in others) and time.time() < deadline:
            time.sleep(0.5)
        result["with_load"] = {"gpus_loaded": others, "200000": measure(fns, 200_000)}
        open(f"{tag}_stop", "w").close()
        for p in procs:
            p.wait(timeout=60)
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
    cols = [f"spin {s}" for s in SPINS] + (["spin 200000, other GPUs busy"] if result["with_load"] else [])
    print(f"{result['device']} x {result['gpus']}; min / median us")
    print(f"{'':>44}" + "".join(f"{c:>30}" for c in cols) + "   datasets (min)")
    for label, _ in fns:
        cells = [result["alone"][str(s)][label] for s in SPINS]
        if result["with_load"]:
            cells.append(result["with_load"]["200000"][label])
        known = result["datasets"].get(label, {})
        print(f"{label:>44}" + "".join(f"{a:>20.2f} / {b:>6.2f}" for a, b in cells) + "   "
              + ", ".join(f"{k}: {v:.2f}" for k, v in known.items()))


if __name__ == "__main__":
    sys.exit(main())
