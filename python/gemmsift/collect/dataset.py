"""The dataset files (DESIGN.md contract 5): CSV with a fixed header, one row per (problem,
config) measurement, and a sidecar .meta.json. A failed compile or launch is a row with a status."""

import csv
import glob
import gzip
import io
import json
import os
import re

HEADER = ["device", "op", "dtype", "layout", "m", "n", "k", "batch", "template", "block_m",
          "block_n", "block_k", "group_m", "num_stages", "num_warps", "status", "time_us_min",
          "time_us_median", "iterations", "note"]
CONFIG_FIELDS = ("block_m", "block_n", "block_k", "group_m", "num_stages", "num_warps")  # a config, in Config's order

# ok: timed; abandoned: its estimation launches were already far slower than the best so far
# (only those were timed); compile_error / launch_error: Triton failed (out of shared memory,
# ...); wrong_result: the output did not match the reference, its times are not used;
# timeout: the problem's time budget ran out before this config was timed.
STATUSES = ("ok", "abandoned", "compile_error", "launch_error", "wrong_result", "timeout")


def device_slug(name):
    """A device name as data and model files spell it: "NVIDIA H100 80GB HBM3" -> "h100-80gb-hbm3"."""
    return name.strip().lower().replace("nvidia ", "").replace(" ", "-")


def problem_key(row):
    return (row["op"], row["dtype"], row["layout"], int(row["m"]), int(row["n"]), int(row["k"]),
            int(row["batch"]))


def key_of(problem):
    """problem_key of a gemmsift.Problem."""
    return (problem.op, problem.dtype, problem.layout, problem.m, problem.n, problem.k, problem.batch)


def part_path(out_dir, name, shard, suffix):
    """A part file of a run: out_dir/parts/NAME.shardIofN.SUFFIX.csv (merge_parts reads them all)."""
    return os.path.join(out_dir, "parts", f"{name}.shard{shard[0]}of{shard[1]}.{suffix}.csv")


def fmt_us(v):
    return "" if v is None else f"{v:.3f}"


def format_rows(rows):
    """CSV text (no header) for a list of row dicts."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\n")
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def append_problem(path, rows):
    """Appends one problem's rows in a single write, then fsyncs: after an interruption a part
    file holds whole problems only, so resuming redoes at most the problem in flight."""
    new = not os.path.exists(path)
    text = (",".join(HEADER) + "\n" if new else "") + format_rows(rows)
    with open(path, "a") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def read_rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != HEADER:
            raise ValueError(f"{path}: header {reader.fieldnames} is not gemmsift's {HEADER}")
        return list(reader)


def done_problems(parts_glob):
    done = set()
    for p in glob.glob(parts_glob):
        for r in read_rows(p):
            done.add(problem_key(r))
    return done


def problems_in_parts(parts_glob, leave_out=None):
    """The problem keys the part files matching `parts_glob` hold, but for the part `leave_out`."""
    keys = set()
    for part in glob.glob(parts_glob):
        if leave_out is None or os.path.abspath(part) != os.path.abspath(leave_out):
            keys |= done_problems(part)
    return keys


def merge_parts(parts_glob, out_path, meta, on_duplicate=None):
    """Concatenates part files into one gzipped CSV sorted by problem (config order kept) and
    writes the sidecar meta.json. A problem is taken from the first part (in name order: a run's
    own GPU parts before the rows it resumed from) that holds it; the same problem in a later
    part is left out, and on_duplicate(part, problem_key) is called for it. Returns the number of
    rows."""
    rows, owner, reported = [], {}, set()
    for p in sorted(glob.glob(parts_glob)):
        for r in read_rows(p):
            key = problem_key(r)
            if owner.setdefault(key, p) == p:
                rows.append(r)
            elif key not in reported:
                reported.add(key)
                if on_duplicate:
                    on_duplicate(p, key)
    return write_dataset(rows, out_path, meta)


def write_dataset(rows, out_path, meta):
    """Writes rows as a gzipped dataset sorted by problem (each problem's rows keep their order)
    and its sidecar: `meta` with the rows, problems and status counts of these rows. Returns the
    number of rows."""
    rows = sorted(rows, key=problem_key)  # stable
    tmp = out_path + ".tmp"
    with gzip.open(tmp, "wt", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        f.write(format_rows(rows))
    os.replace(tmp, out_path)
    meta = dict(meta)
    meta["rows"] = len(rows)
    meta["problems"] = len({problem_key(r) for r in rows})
    meta["status_counts"] = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    meta_path = sidecar_path(out_path)
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(meta_path + ".tmp", meta_path)
    return len(rows)


def history_of(sources, entry):
    """The sidecar `history` of a run that resumed from the datasets `sources`: each source's own
    history (an entry without `problems` gets its sidecar's count: the file it wrote), or, where a
    sidecar has none, one entry made from that sidecar; an entry of the same date and `what` in two sources
    (written by one run) once; then `entry`, this run's (`date`, `what`, `command`; the file's own sidecar
    says how many problems it has). A source without a readable sidecar adds nothing."""
    history, seen = [], set()
    for src in sources:
        try:
            with open(sidecar_path(src)) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            continue
        theirs = meta.get("history")
        if not isinstance(theirs, list) or not theirs:
            c = meta.get("compile", {})
            theirs = [{"date": meta.get("date"), "what": f"{meta.get('gpus', '?')} x {meta.get('device', '?')}: "
                       f"compiled {c.get('compiled', '?')} of {c.get('variants', '?')} variants in "
                       f"{c.get('seconds', '?')} s, timed for {meta.get('timing_seconds', '?')} s "
                       f"(from the sidecar of {os.path.basename(src)})"}]
        for i, e in enumerate(theirs):
            if not isinstance(e, dict):
                continue
            e = dict(e)
            if "problems" not in e and i == len(theirs) - 1 and "problems" in meta:
                e["problems"] = meta["problems"]
            key = (e.get("date"), e.get("what"))
            if key not in seen:
                seen.add(key)
                history.append(e)
    return history + [entry]


KERNEL_SIZES = {False: "arguments", True: "literal"}  # the sidecar's kernel_sizes (absent: "arguments")


_WORDS = {"one": 1, "two": 2, "four": 4, "eight": 8}
_GPUS_IN_WHAT = re.compile(r"^\s*(?:(\d+) x |(one|two|four|eight) [A-Z])")


def gpu_counts_of(dataset_path):
    """The GPU counts of the hosts that measured a dataset, from its sidecar: each history
    entry's `gpus` (since session 19), else the count its `what` begins with ("2 x NVIDIA H200:
    ..." as the collector writes it, "two H200s ..." as written by hand), else the sidecar's
    own `gpus`. Empty where the sidecar cannot be read or says nothing of it."""
    try:
        with open(sidecar_path(dataset_path)) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return set()
    counts = set()
    history = meta.get("history") if isinstance(meta.get("history"), list) else []
    for e in history:
        if isinstance(e, dict) and isinstance(e.get("gpus"), int):
            counts.add(e["gpus"])
        elif isinstance(e, dict) and isinstance(e.get("what"), str):
            m = _GPUS_IN_WHAT.match(e["what"])
            if m:
                counts.add(int(m.group(1)) if m.group(1) else _WORDS[m.group(2)])
    if not counts and isinstance(meta.get("gpus"), int):
        counts.add(meta["gpus"])
    return counts


def mixes_host_kinds(counts):
    """Whether GPU counts mix a one-GPU host with hosts of several: those read short kernels about
    1.3 us a launch apart (H200s, docs/collection.md, session 19)."""
    return len({c == 1 for c in counts}) > 1


def sidecar_path(dataset_path):
    """NAME.meta.json beside NAME.csv.gz (or NAME.csv)."""
    stem = dataset_path[:-len(".gz")] if dataset_path.endswith(".gz") else dataset_path
    return (stem[:-len(".csv")] if stem.endswith(".csv") else stem) + ".meta.json"


def kernel_sizes_of(dataset_path):
    """How the dataset's kernels took M, N and K, from its sidecar: "arguments" (triton_mm, and
    every dataset written before the sidecar said) or "literal" (compiled in, as Inductor's)."""
    meta_path = sidecar_path(dataset_path)
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except FileNotFoundError:
        return KERNEL_SIZES[False]
    except (OSError, ValueError) as e:
        raise ValueError(f"{meta_path}: cannot read the sidecar: {e}")
    return meta.get("kernel_sizes", KERNEL_SIZES[False])


def ptxas_of(dataset_path):
    """The ptxas version line the dataset's sidecar records (None: no sidecar, or one written
    before session 13, which did not say; those datasets were built by Triton's bundled ptxas)."""
    try:
        with open(sidecar_path(dataset_path)) as f:
            meta = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ValueError(f"{sidecar_path(dataset_path)}: cannot read the sidecar: {e}")
    ptxas = meta.get("ptxas")
    return ptxas.get("version") if isinstance(ptxas, dict) else None


def seed_part(sources, part_path, device, keys, kernel_sizes=KERNEL_SIZES[False], skip=frozenset(),
              ptxas=None, warn=None):
    """Copies the rows of earlier datasets (`sources`, .csv or .csv.gz) whose problem is in `keys`
    (problem_key tuples) into the part file `part_path`, so that a run on a fresh machine resumes
    from them: those problems are not timed again, and the merge keeps their rows. A problem comes
    from the first source that has it, and not at all when it is in `skip` (the problems the run's
    own part files already hold, from an earlier call with the same output folder). Every row must
    come from `device`, the run's GPU, and every source's kernel must take the sizes as the run's
    does (`kernel_sizes`; the two kernels' times differ), built by the run's ptxas (`ptxas`, its
    version line; None: not checked): a source whose sidecar names another ptxas is refused, one
    whose sidecar names none is taken with a message to `warn`. Overwrites `part_path`; returns
    the keys of the problems seeded.
    Raises ValueError naming the file (and line) for a foreign header, device, kernel or ptxas."""
    rows, taken = [], set(skip)
    for src in sources:
        theirs = kernel_sizes_of(src)
        if theirs != kernel_sizes:
            raise ValueError(f"{src}: measured with the sizes as {theirs}, this run's kernel takes them as "
                             f"{kernel_sizes} (--literal-sizes): the two kernels' times differ")
        if ptxas is not None:
            built_by = ptxas_of(src)
            if built_by is None:
                if warn:
                    warn(f"{src}: its sidecar does not say which ptxas built its kernels (before session 13: "
                         f"Triton's bundled one); this run's is '{ptxas}'")
            elif built_by != ptxas:
                raise ValueError(f"{src}: its kernels were built by ptxas '{built_by}', this run's by '{ptxas}' "
                                 "(--ptxas): spilling configs run up to 2.5 times slower with one than the other")
        opener = gzip.open if src.endswith(".gz") else open
        with opener(src, "rt", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != HEADER:
                raise ValueError(f"{src}:1: not a gemmsift dataset header (expected {','.join(HEADER)})")
            mine = set()
            for lineno, r in enumerate(reader, 2):
                if r["device"] != device:
                    raise ValueError(f"{src}:{lineno}: rows of '{r['device']}' cannot resume a run on '{device}'")
                key = problem_key(r)
                if key in keys and key not in taken:
                    rows.append(r)
                    mine.add(key)
            taken |= mine
    tmp = part_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(",".join(HEADER) + "\n" + format_rows(rows))
    os.replace(tmp, part_path)
    return {problem_key(r) for r in rows}
