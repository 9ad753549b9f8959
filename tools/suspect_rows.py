"""Finds `abandoned` rows that look like glitched measurements rather than slow kernels, and the
problems worth re-measuring for them (docs/collection.md, "Suspect abandoned rows").

A config is abandoned when its first launches already ran several times slower than the best so
far; a passing glitch (two slow launches) can do that to a fast config, and when that config is
really among the fastest, the problem's best time is too slow and every pick there looks better
than it is. The sign used here: a stage neighbour of the abandoned config (the same tile, GROUP_M
and warps, one pipeline stage more or less) ran within --near (default 1.15) of the problem's best,
and at most half the abandoned row's time. An H200 row of 16x32x128 s5 w2 on NT 2x1024x1024
(abandoned at 107.3 us; its 4-stage neighbour 7.1 us, the best 6.4) had that sign; re-measured, it
ran 6.9 us.

    python3 tools/suspect_rows.py DATASET.csv.gz ... [--near 1.15] [--list] [--drop-to DIR]
                                                     [--impute-to DIR]

--drop-to DIR writes each dataset (and its sidecar) into DIR without its suspect problems, so that
`RESUME_DIR=DIR bash tools/gpu/job_multi.sh ...` re-measures exactly those problems and keeps the
others' rows. --impute-to DIR writes each dataset with every suspect row replaced by an `ok` row
at its neighbour's time (note "imputed"): not data, a what-if for `gemmsift eval`, to bound what
the suspect rows could change. Torch-free: runs here."""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from gemmsift.collect import dataset  # noqa: E402


def config_of(row):
    return tuple(int(row[f]) for f in dataset.CONFIG_FIELDS)


def by_problem(rows):
    """{problem_key: {config tuple: (status, time_us_min or None)}}"""
    out = {}
    for r in rows:
        out.setdefault(dataset.problem_key(r), {})[config_of(r)] = (r["status"], float(r["time_us_min"]) if r["time_us_min"] else None)
    return out


def suspects(rows, near=1.15):
    """[(problem_key, config, its time, neighbour config, neighbour time, the problem's best)] for
    each abandoned row with the sign in the module's docstring, in the rows' order of problems."""
    found = []
    for key, configs in by_problem(rows).items():
        ok = [t for status, t in configs.values() if status == "ok"]
        if not ok:
            continue
        best = min(ok)
        for cfg, (status, t) in configs.items():
            if status != "abandoned" or t is None:
                continue
            neighbours = [(c, configs[c][1]) for c in
                          (cfg[:4] + (cfg[4] + d,) + cfg[5:] for d in (-1, 1))
                          if c in configs and configs[c][0] == "ok"]
            if not neighbours:
                continue
            c, tn = min(neighbours, key=lambda x: x[1])
            if tn <= near * best and t >= 2 * tn:
                found.append((key, cfg, t, c, tn, best))
    return found


def fmt_config(c):
    return f"{c[0]}x{c[1]}x{c[2]} g{c[3]} s{c[4]} w{c[5]}"


def write_beside(path, rows, out_dir):
    """Writes rows as a dataset of path's name into out_dir, with path's sidecar (its counts
    those of these rows)."""
    os.makedirs(out_dir, exist_ok=True)
    meta_path = dataset.sidecar_path(path)
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    out = os.path.join(out_dir, os.path.basename(path))
    dataset.write_dataset(rows, out, meta)
    return out


def drop_problems(path, keys, out_dir):
    """Writes path (and its sidecar) into out_dir without the rows of the problems in keys."""
    rows = [r for r in dataset.read_rows(path) if dataset.problem_key(r) not in keys]
    return write_beside(path, rows, out_dir), len(rows)


def impute(path, found, out_dir):
    """Writes path (and its sidecar) into out_dir with each suspect row set to ok at its
    neighbour's time. Returns the written path."""
    at = {(key, cfg): (c, tn) for key, cfg, _, c, tn, _ in found}
    rows = dataset.read_rows(path)
    for r in rows:
        hit = at.get((dataset.problem_key(r), config_of(r)))
        if hit:
            c, tn = hit
            r.update(status="ok", time_us_min=dataset.fmt_us(tn), time_us_median=dataset.fmt_us(tn),
                     note=f"imputed: abandoned at {r['time_us_min']} us, {fmt_config(c)} ran {tn:.3f} us")
    return write_beside(path, rows, out_dir)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="+")
    ap.add_argument("--near", type=float, default=1.15,
                    help="a neighbour this close to the problem's best (ratio) makes the abandoned row suspect")
    ap.add_argument("--list", action="store_true", help="print every suspect row")
    ap.add_argument("--drop-to", metavar="DIR", help="write each dataset without its suspect problems into DIR")
    ap.add_argument("--impute-to", metavar="DIR",
                    help="write each dataset with its suspect rows at their neighbours' times into DIR (a what-if)")
    a = ap.parse_args(argv)
    for path in a.data:
        rows = dataset.read_rows(path)
        found = suspects(rows, a.near)
        keys = {f[0] for f in found}
        abandoned = sum(1 for r in rows if r["status"] == "abandoned")
        problems = len({dataset.problem_key(r) for r in rows})
        print(f"{path}: {len(found)} suspect of {abandoned} abandoned rows, in {len(keys)} of {problems} problems")
        if a.list:
            for key, cfg, t, c, tn, best in found:
                print(f"  {key[2]} {key[3]}x{key[4]}x{key[5]}: {fmt_config(cfg)} abandoned at {t:.1f} us; "
                      f"{fmt_config(c)} {tn:.1f} us; best {best:.1f} us")
        if a.drop_to and keys:
            out, n = drop_problems(path, keys, a.drop_to)
            print(f"  wrote {out}: {n} rows without the {len(keys)} suspect problems "
                  f"({json.dumps([f'{k[3]}x{k[4]}x{k[5]}' for k in sorted(keys)])})")
        if a.impute_to and found:
            print(f"  wrote {impute(path, found, a.impute_to)}: {len(found)} rows imputed (a what-if, not data)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
