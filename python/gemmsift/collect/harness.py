"""The collection loop: shard the problems, compile every needed kernel variant in parallel
into a persistent Triton cache, then time each problem's configs on one GPU."""

import concurrent.futures as cf
import datetime
import multiprocessing
import platform
import random
import socket
import subprocess
import time

import torch

from .. import Config, Model, space, version as gemmsift_version
from . import dataset, kernel
from .abandon import time_with_second_chance
from .timing import Timer
from .toolchain import ptxas_in_use

TOLERANCE = {"bf16": 1e-2, "fp16": 2e-3, "fp32": 1e-4}  # ||C - ref|| / ||ref||, fp64 reference


def read_shapes(path):
    """Shape files: one problem per line, "M N K" (# comments and blank lines ignored)."""
    shapes = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
                raise SystemExit(f"{path}:{lineno}: expected 'M N K' (positive integers), got {line!r}")
            shapes.append(tuple(int(p) for p in parts))
    return shapes


def select_configs(problem, sample, seed):
    """The pruned EXHAUSTIVE space (from libgemmsift: one source of truth), or, with sample > 0,
    Inductor's DEFAULT list plus a random sample of the rest, `sample` configs in all."""
    configs = space(problem, space="EXHAUSTIVE")
    if sample and len(configs) > sample:
        default = set(space(problem, space="DEFAULT"))
        rest = [c for c in configs if c not in default]
        rng = random.Random(f"{seed}:{problem.m}x{problem.n}x{problem.k}:{problem.dtype}:{problem.layout}")
        chosen = default | set(rng.sample(rest, max(0, sample - len(default))))
        configs = [c for c in configs if c in chosen]
    return configs


# ---- compile phase (worker processes) ----

def _compile_many(items, literal_sizes=False):
    out = []
    for (m, n, k, dtype, layout, cfg) in items:
        try:
            kernel.warmup(m, n, k, dtype, layout, Config(*cfg), literal_sizes=literal_sizes)
            out.append(None)
        except Exception as e:  # compile errors are data, not crashes
            out.append(f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}")
    return out


def compile_all(work, jobs, log, deadline=0, literal_sizes=False):
    """work: list of (m, n, k, dtype, layout, config). Compiles each distinct kernel variant once,
    in the order of `work` (problem by problem). After `deadline` (epoch seconds; 0 = none) batches
    not yet started are cancelled: their variants are missing from the result. literal_sizes:
    the kernel with M, N and K compiled in (kernel.launch's), one variant per problem and config.
    Returns ({repr(specialization_key): error or None}, variants, seconds)."""
    todo = {}
    for (m, n, k, dtype, layout, c) in work:
        key = kernel.specialization_key(m, n, k, dtype, layout, c, literal_sizes)
        if key not in todo:
            todo[key] = (m, n, k, dtype, layout, (c.block_m, c.block_n, c.block_k, c.group_m,
                                                  c.num_stages, c.num_warps))
    keys = list(todo)
    t0 = time.time()
    errors = {}
    chunk = 4  # small batches: a compile limit cancels all but the batches in flight
    batches = [keys[i:i + chunk] for i in range(0, len(keys), chunk)]
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {pool.submit(_compile_many, [todo[k] for k in b], literal_sizes): b for b in batches}
        done = 0
        cancelled = False
        for fut in cf.as_completed(futures):
            if deadline and not cancelled and time.time() > deadline:
                n = sum(1 for f in futures if f.cancel())
                cancelled = True
                log(f"compile limit reached: {n} batches of {chunk} variants cancelled")
            if fut.cancelled():
                continue
            b = futures[fut]
            for key, err in zip(b, fut.result()):
                errors[repr(key)] = err
            done += len(b)
            if done % 2000 < chunk or done == len(keys):
                log(f"compiled {done}/{len(keys)} variants in {time.time() - t0:.0f} s")
    return errors, len(keys), time.time() - t0


# ---- timing phase (one process per GPU) ----

def _row(device, p, c, status, tmin=None, tmed=None, iters=0, note=""):
    return {"device": device, "op": p.op, "dtype": p.dtype, "layout": p.layout, "m": p.m,
            "n": p.n, "k": p.k, "batch": p.batch, "template": c.template, "block_m": c.block_m,
            "block_n": c.block_n, "block_k": c.block_k, "group_m": c.group_m,
            "num_stages": c.num_stages, "num_warps": c.num_warps, "status": status,
            "time_us_min": dataset.fmt_us(tmin), "time_us_median": dataset.fmt_us(tmed),
            "iterations": iters, "note": note}


def time_problem(p, configs, compile_errors, timer, verified, device_name, args):
    """(rows, best time, seconds) of one problem's configs; None when args.deadline (epoch seconds;
    0 = none) passes before its last config: the problem is dropped, left for a rerun, so that
    --time-limit bounds the timing and not only the start of a problem (a large problem takes up
    to --max-problem-seconds)."""
    a, b, c = kernel.operands(p.m, p.n, p.k, p.dtype, p.layout, seed=hash((p.m, p.n, p.k)) & 0xffff)
    ref = a.double() @ b.double()
    ref_norm = ref.norm().item()
    rows = []
    best = None
    t_start = time.time()
    for cfg in configs:
        if args.deadline and time.time() > args.deadline:
            return None
        key = repr(kernel.specialization_key(p.m, p.n, p.k, p.dtype, p.layout, cfg, args.literal_sizes))
        err = compile_errors.get(key)
        if err:
            rows.append(_row(device_name, p, cfg, "compile_error", note=err))
            continue
        if time.time() - t_start > args.max_problem_seconds:
            rows.append(_row(device_name, p, cfg, "timeout"))
            continue
        fn = lambda: kernel.launch(a, b, c, cfg, literal_sizes=args.literal_sizes)  # noqa: E731
        try:
            vkey = (cfg, p.dtype, p.layout, p.k % cfg.block_k == 0)
            if vkey not in verified:
                c.fill_(float("nan"))
                fn()
                torch.cuda.synchronize()
                rel = (c.double() - ref).norm().item() / max(ref_norm, 1e-30)
                if not (rel <= TOLERANCE[p.dtype]):  # NaN fails too: unwritten or wrong
                    rows.append(_row(device_name, p, cfg, "wrong_result", note=f"rel_err={rel:.3g}"))
                    continue
                verified.add(vkey)
            else:
                fn()  # first launch loads the module; keep it out of the timings
            abandon = best * args.abandon_factor if best is not None else None
            status, tmin, tmed, iters = time_with_second_chance(
                lambda limit: timer.time(fn, abandon_above_us=limit), abandon, args.abandon_retries)
        except Exception as e:
            msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            if "illegal" in msg.lower() or "unspecified launch failure" in msg.lower():
                raise  # the CUDA context is gone; let the caller restart
            rows.append(_row(device_name, p, cfg, "launch_error", note=f"{type(e).__name__}: {msg}"))
            continue
        rows.append(_row(device_name, p, cfg, status, tmin, tmed, iters))
        if status == "ok" and (best is None or tmin < best):
            best = tmin
    return rows, best, time.time() - t_start


def run_gpu(args, gpu_index, compile_errors, problems, part_path, log, also_done=None):
    torch.cuda.set_device(0)  # CUDA_VISIBLE_DEVICES names the one GPU of this process
    device_name = torch.cuda.get_device_name(0)
    timer = Timer(estimation_iters=args.estimation_iters, max_iters=args.max_iters,
                  budget_ms=args.budget_ms)
    verified = set()
    done = dataset.done_problems(part_path) | (dataset.done_problems(also_done) if also_done else set())
    todo = [p for p in problems if dataset.key_of(p) not in done]
    log(f"[gpu{gpu_index}] {device_name}: {len(todo)} problems to time ({len(problems) - len(todo)} done)")
    model = Model("analytical")
    t0 = time.time()
    skipped = 0
    for i, p in enumerate(todo):
        if args.deadline and time.time() > args.deadline:
            log(f"[gpu{gpu_index}] time limit reached: {len(todo) - i} problems left for a rerun")
            break
        configs = select_configs(p, args.sample, args.seed)
        if any(repr(kernel.specialization_key(p.m, p.n, p.k, p.dtype, p.layout, c, args.literal_sizes)) not in compile_errors
               for c in configs):
            skipped += 1  # not compiled within --compile-limit: left for a rerun
            continue
        # Best-predicted first, so the best-so-far that abandoning relies on comes early.
        pred = model.estimate(p, configs)
        configs = [c for _, c in sorted(zip(pred, configs), key=lambda t: t[0])]
        host_before = timer.host_counts()
        timed = time_problem(p, configs, compile_errors, timer, verified, device_name, args)
        if timed is None:
            log(f"[gpu{gpu_index}] time limit reached while timing {p.m}x{p.n}x{p.k}: its configs timed so far "
                f"are dropped; {len(todo) - i} problems left for a rerun")
            break
        rows, best, secs = timed
        dataset.append_problem(part_path, rows)
        counts = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        best_row = min((r for r in rows if r["status"] == "ok"), key=lambda r: float(r["time_us_min"]), default=None)
        best_txt = (f"{best_row['block_m']}x{best_row['block_n']}x{best_row['block_k']} s{best_row['num_stages']} "
                    f"w{best_row['num_warps']} {best_row['time_us_min']} us" if best_row else "none")
        dropped, reruns, host_bound = (now - before for now, before in zip(timer.host_counts(), host_before))
        host_txt = (f"; host slower than the spin: {dropped} launches not counted, {reruns} runs repeated with a "
                    f"longer spin, {host_bound} runs host-bound throughout" if dropped or reruns or host_bound else "")
        log(f"[gpu{gpu_index}] {i + 1}/{len(todo)} {p.dtype} {p.layout} {p.m}x{p.n}x{p.k}: {len(rows)} configs in "
            f"{secs:.1f} s, best {best_txt} {counts}{host_txt}")
    if skipped:
        log(f"[gpu{gpu_index}] {skipped} problems not compiled within the compile limit: left for a rerun")
    log(f"[gpu{gpu_index}] finished in {time.time() - t0:.0f} s")


def environment():
    props = torch.cuda.get_device_properties(0)
    meta = {
        "device": torch.cuda.get_device_name(0),
        "sm_count": props.multi_processor_count,
        "l2_bytes": props.L2_cache_size,
        "total_memory_bytes": props.total_memory,
        "torch": torch.__version__,
        "triton": __import__("triton").__version__,
        "cuda": torch.version.cuda,
        "gemmsift": gemmsift_version(),
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "ptxas": ptxas_in_use(),  # the compile workers inherit this process's environment
    }
    try:
        q = "clocks.max.sm,clocks.max.mem,clocks.sm,driver_version,power.limit"
        out = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip().splitlines()
        meta["nvidia_smi"] = {"query": q, "values": out}
    except Exception as e:  # clocks are informative only
        meta["nvidia_smi"] = {"error": str(e)}
    return meta
