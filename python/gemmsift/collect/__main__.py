"""python -m gemmsift.collect: measure Triton mm configs on the GPU machine (docs/collection.md)."""

import argparse
import json
import os
import subprocess
import sys
import time

from .. import Problem
from . import toolchain


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m gemmsift.collect", description=__doc__)
    ap.add_argument("--shapes", required=True, help="shape file: 'M N K' per line")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--layout", default="NT", choices=["NN", "NT", "TN", "TT"])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--name", help="dataset name (default: <device>_<dtype>_<layout>_<shapes stem>)")
    ap.add_argument("--shard", default="0/1", help="i/n: this run takes problems i, i+n, i+2n, ...")
    ap.add_argument("--gpus", default="all", help="number of GPUs to use, one process each (default: all)")
    ap.add_argument("--sample", type=int, default=0,
                    help="configs per problem: 0 = the full pruned EXHAUSTIVE space, else DEFAULT + random rest")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--literal-sizes", action="store_true",
                    help="compile M, N, K and the strides into each kernel, as Inductor does (one compile per "
                         "problem and config; faster large-tile kernels on large problems, and on strides that "
                         "are not multiples of 16 up to 23 times faster kernels, docs/collection.md)")
    ap.add_argument("--ptxas", default="inductor", choices=["inductor", "triton"],
                    help="inductor (default): torch's ptxas, as Inductor's compiles (unless TRITON_PTXAS_PATH "
                         "is set); triton: Triton's own choice (TRITON_PTXAS_PATH, else its bundled ptxas), "
                         "as the datasets collected before session 16")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="compile processes")
    ap.add_argument("--estimation-iters", type=int, default=2)
    ap.add_argument("--max-iters", type=int, default=10, help="timed launches per config at most")
    ap.add_argument("--budget-ms", type=float, default=5.0, help="timed launches fill about this much GPU time")
    ap.add_argument("--abandon-factor", type=float, default=4.0,
                    help="stop timing a config whose estimation launches exceed this many times the best so far")
    ap.add_argument("--abandon-retries", type=int, default=1,
                    help="tries more before a config is recorded as abandoned (a slow pair of estimation "
                         "launches can be a glitch; 0: none, as before session 12)")
    ap.add_argument("--max-problem-seconds", type=float, default=120.0)
    ap.add_argument("--limit", type=int, default=0, help="only the first N problems of the shard (smoke runs)")
    ap.add_argument("--time-limit", type=float, default=0,
                    help="seconds: stop timing after this long (a problem not finished by then is dropped), "
                         "then write what was timed (a valid partial dataset; rerun to resume)")
    ap.add_argument("--compile-limit", type=float, default=0,
                    help="seconds: stop compiling after this long; problems whose variants are not all "
                         "compiled are left for a rerun (the Triton cache keeps what was compiled)")
    ap.add_argument("--resume-from", action="append", default=[], metavar="DATASET",
                    help="an earlier dataset of this GPU (.csv.gz, repeatable): its problems are kept, not timed again")
    ap.add_argument("--deadline", type=float, default=0, help=argparse.SUPPRESS)  # internal: epoch seconds
    ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: "gpu_index/gpu_count"
    return ap.parse_args(argv)


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(os.path.join(args.out, "parts"), exist_ok=True)
    os.environ.setdefault("TRITON_CACHE_DIR", os.path.join(args.out, "triton_cache"))
    if args.ptxas == "inductor":  # before anything compiles; the compile and timing processes inherit it
        toolchain.use_inductor_ptxas()
    import torch  # after TRITON_CACHE_DIR is set

    from . import dataset, harness, timing

    shard_i, shard_n = (int(x) for x in args.shard.split("/"))
    shapes = harness.read_shapes(args.shapes)
    problems = [Problem(m, n, k, dtype=args.dtype, layout=args.layout)
                for idx, (m, n, k) in enumerate(shapes) if idx % shard_n == shard_i]
    if args.limit:
        problems = problems[:args.limit]
    stem = os.path.splitext(os.path.basename(args.shapes))[0]

    if args.worker:
        gi, gn = (int(x) for x in args.worker.split("/"))
        mine = problems[gi::gn]
        with open(os.path.join(args.out, "parts", "compile_errors.json")) as f:
            errors = json.load(f)
        name = args.name or "dataset"
        part = dataset.part_path(args.out, name, (shard_i, shard_n), f"gpu{gi}of{gn}")
        harness.run_gpu(args, gi, errors, mine, part, log,
                        also_done=dataset.part_path(args.out, name, (shard_i, shard_n), "resumed"))
        return 0

    started = time.time()
    visible = torch.cuda.device_count()
    gpus = visible if args.gpus == "all" else min(int(args.gpus), visible)
    meta = harness.environment()
    slug = dataset.device_slug(meta["device"])
    name = args.name or f"{slug}_{args.dtype}_{args.layout}_{stem}"
    log(f"{len(problems)} problems ({args.dtype} {args.layout}, shard {args.shard}) on {gpus} x {meta['device']}")

    parts_glob = os.path.join(args.out, "parts", f"{name}.shard*.csv")
    seeded = dataset.part_path(args.out, name, (shard_i, shard_n), "resumed")
    # Problems this output folder's own parts hold (an earlier call with the same --out): neither
    # compiled nor timed again, and not copied from --resume-from files (the merge would see them
    # twice). With --resume-from the rows an earlier call resumed from are copied anew instead.
    own = dataset.problems_in_parts(parts_glob, leave_out=seeded if args.resume_from else None)
    done = set()
    if args.resume_from:
        try:
            done = dataset.seed_part(args.resume_from, seeded, meta["device"], {dataset.key_of(p) for p in problems},
                                     dataset.KERNEL_SIZES[args.literal_sizes], skip=own,
                                     ptxas=meta["ptxas"].get("version"), warn=log)
        except (OSError, ValueError) as e:
            raise SystemExit(f"--resume-from: {e}")
        log(f"resuming from {', '.join(args.resume_from)}: {len(done)} problems already measured"
            + (" (not counting those this folder's parts hold, below)" if own else ""))
        earlier = set().union(*(dataset.gpu_counts_of(f) for f in args.resume_from))
        if dataset.mixes_host_kinds(earlier | {gpus}):
            log(f"warning: the resumed data were measured on hosts with {', '.join(map(str, sorted(earlier)))} "
                f"GPU(s), this one has {gpus}: one- and several-GPU hosts read short kernels about 1.3 us a launch "
                "apart (H200s, docs/collection.md, session 19); compare with tools/repeat_check.py before mixing")
    if own:
        log(f"{len(own)} problems measured by an earlier call in {os.path.join(args.out, 'parts')}")
    measured = done | own
    problems_to_compile = [p for p in problems if dataset.key_of(p) not in measured]

    # Compile every variant any problem still needs, once, with all the cores.
    work = []
    for p in problems_to_compile:
        for c in harness.select_configs(p, args.sample, args.seed):
            work.append((p.m, p.n, p.k, p.dtype, p.layout, c))
    errors, variants, secs = harness.compile_all(work, args.jobs, log,
                                                 deadline=started + args.compile_limit if args.compile_limit else 0,
                                                 literal_sizes=args.literal_sizes)
    failed = sum(1 for e in errors.values() if e)
    log(f"compile: {len(errors)}/{variants} variants for {len(work)} (problem, config) pairs in {secs:.0f} s, "
        f"{failed} failed" + ("" if len(errors) == variants else
                              " (compile limit: problems with uncompiled variants are left for a rerun)"))
    with open(os.path.join(args.out, "parts", "compile_errors.json"), "w") as f:
        json.dump(errors, f)

    # One timing process per GPU.
    t0 = time.time()
    procs = []
    for g in range(gpus):
        env = dict(os.environ, CUDA_VISIBLE_DEVICES=str(g))
        cmd = [sys.executable, "-m", "gemmsift.collect"] + (sys.argv[1:] if argv is None else list(argv))
        cmd += ["--name", name, "--worker", f"{g}/{gpus}"]
        if args.time_limit:
            cmd += ["--deadline", str(started + args.time_limit)]
        procs.append(subprocess.Popen(cmd, env=env))
    rcs = [p.wait() for p in procs]
    timing_secs = time.time() - t0
    if any(rcs):
        log(f"timing processes exited with {rcs}; rerun the same command to resume")

    meta.update({
        "format": "gemmsift-dataset", "format_version": 1, "name": name, "shapes_file": args.shapes,
        "shard": args.shard, "gpus": gpus, "dtype": args.dtype, "layout": args.layout,
        "sample": args.sample, "seed": args.seed, "kernel_sizes": dataset.KERNEL_SIZES[args.literal_sizes],
        "ptxas_choice": args.ptxas,  # how `ptxas` (from harness.environment) came to be: --ptxas
        "timing": {
            "method": "InductorBenchmarker-like: zero an L2-sized int32 buffer before every launch, one CUDA "
                      "event pair per launch, estimation launches then timed launches; min over all, median "
                      "over timed. A GPU spin of spin_cycles before each start event; a launch that took the "
                      "host longer to enqueue than the spin lasts is not counted, and a run with none counted "
                      "is repeated with a spin spin_growth times as long, at most spin_escalations times "
                      "(since session 21)",
            "spin_cycles": timing.SPIN_CYCLES, "spin_growth": timing.SPIN_GROWTH,
            "spin_escalations": timing.SPIN_ESCALATIONS,
            "estimation_iters": args.estimation_iters, "max_iters": args.max_iters,
            "budget_ms": args.budget_ms, "abandon_factor": args.abandon_factor,
            "abandon_retries": args.abandon_retries,
            "max_problem_seconds": args.max_problem_seconds,
        },
        "correctness": {"reference": "float64 torch matmul", "tolerance": harness.TOLERANCE,
                        "checked": "once per (config, dtype, layout, EVEN_K) per timing process"},
        "compile": {"variants": variants, "compiled": len(errors), "seconds": round(secs, 1), "failed": failed, "jobs": args.jobs},
        "timing_seconds": round(timing_secs, 1),
        "problems_requested": len(problems),
    })
    if args.resume_from:
        meta["resumed_from"] = [os.path.basename(f) for f in args.resume_from]
    out = os.path.join(args.out, f"{name}.csv.gz")
    # Where the file's problems came from: the resumed files' history, this output folder's
    # earlier file (its parts are merged again), then this call.
    cmd = ["python3", "-m", "gemmsift.collect"] + (sys.argv[1:] if argv is None else list(argv))
    meta["history"] = dataset.history_of(
        list(args.resume_from or []) + ([out] if os.path.exists(dataset.sidecar_path(out)) else []),
        {"date": meta["date"], "command": " ".join(cmd),
         "what": f"{gpus} x {meta['device']}, {args.jobs} compile jobs: compiled {len(errors)} of {variants} "
                 f"variants in {secs:.1f} s, timed for {timing_secs:.1f} s", "gpus": gpus})
    rows = dataset.merge_parts(parts_glob, out, meta,
                               on_duplicate=lambda part, key: log(f"{part}: problem {key} is in an earlier part too; "
                                                                  "the earlier part's rows are kept"))
    with open(dataset.sidecar_path(out)) as f:
        written = json.load(f)["problems"]
    log(f"wrote {out}: {rows} rows, {written}/{len(problems)} problems"
        + ("" if written == len(problems) else " (partial: rerun the same command to resume)"))
    return 1 if any(rcs) else 0


if __name__ == "__main__":
    sys.exit(main())
