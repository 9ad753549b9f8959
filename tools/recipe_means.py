"""Evaluates the models of several training recipes, each trained with several seeds, on test
datasets: one row per (test set, recipe, seed) and then the seeds' means, each row quality@1, @3,
@5, worst@5 and the share of problems where the top 5 is at least as fast as the whole DEFAULT
list (`gemmsift eval --json`, its default --off16 auto). For the experiments that compare training
recipes (docs/results/literal_session18/, literal_session19/).

    python3 tools/recipe_means.py --test FILE [--test FILE ...] --recipe NAME=PATTERN [--recipe ...]
        [--seeds 0,1,2] [--gemmsift build/gemmsift] [--rows FILE]

PATTERN names the model files with {seed} in place of the seed, e.g. /tmp/w/lit200_{seed}.safetensors.
A test set is labelled by its file name less the device, dtype and layout (h200_bf16_NT_test_llm.csv.gz:
test_llm), with the layout kept where two test sets would share a label (NT_test_llm, NN_test_llm)."""

import argparse
import json
import os
import subprocess
import sys

COLUMNS = ((1, "quality"), (3, "quality"), (5, "quality"), (5, "worst"), (5, "at_least_default"))


def label(path, keep_layout=False):
    stem = os.path.basename(path)
    for ext in (".gz", ".csv"):
        stem = stem[:-len(ext)] if stem.endswith(ext) else stem
    parts = stem.split("_")
    return "_".join(parts[2 if keep_layout else 3:]) if len(parts) > 3 else stem


def labels(tests):
    """Each test set's label; with the layout kept (NT_test_llm) where two would otherwise share one
    (the means are taken per label). Two files still alike are refused."""
    short = [label(t) for t in tests]
    out = [label(t, keep_layout=True) if short.count(s) > 1 else s for s, t in zip(short, tests)]
    for t, lab in zip(tests, out):
        if out.count(lab) > 1:
            raise SystemExit(f"--test {t}: another test set has the same label {lab!r}")
    return out


def run_eval(gemmsift, test, model):
    """`gemmsift eval --json` of one model on one test set, parsed."""
    out = subprocess.run([gemmsift, "eval", "--json", "--data", test, "--model", model, "--k", "1,3,5"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def model_row(report, model):
    """The five columns of `model`'s entry in an eval report."""
    # "NAME (FILE)", with ", off16 POLICY" after it where eval applied one (docs/inductor.md)
    mine = [m for m in report["methods"] if f"({os.path.basename(model)})" in m["method"]]
    if len(mine) != 1:
        raise SystemExit(f"{model}: {len(mine)} entries in the evaluation, expected 1")
    at = {(a["k"]): a for a in mine[0]["at"]}
    return [at[k][field] for k, field in COLUMNS]


def evaluate(tests, recipes, seeds, evaluate_one):
    """[(test label, recipe, seed, columns)] in the order test, recipe, seed, each column rounded
    to 3 decimals as printed; then the means of those rows."""
    rows = []
    for test, lab in zip(tests, labels(tests)):
        for name, pattern in recipes:
            for seed in seeds:
                model = pattern.format(seed=seed)
                cols = [round(c, 3) for c in model_row(evaluate_one(test, model), model)]
                rows.append((lab, name, seed, cols))
    means = {}
    for t, name, _, cols in rows:
        means.setdefault((t, name), []).append(cols)
    return rows, [(t, name, [sum(c) / len(c) for c in zip(*v)]) for (t, name), v in means.items()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--test", action="append", required=True)
    ap.add_argument("--recipe", action="append", required=True, help="NAME=PATTERN, {seed} in PATTERN")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--gemmsift", default="build/gemmsift")
    ap.add_argument("--rows", help="also write the per-seed rows to this file")
    a = ap.parse_args(argv)
    recipes = []
    for spec in a.recipe:
        name, sep, pattern = spec.partition("=")
        if not sep or "{seed}" not in pattern:
            raise SystemExit(f"--recipe {spec!r}: expected NAME=PATTERN with {{seed}} in PATTERN")
        recipes.append((name, pattern))
    seeds = [int(s) for s in a.seeds.split(",")]
    rows, means = evaluate(a.test, recipes, seeds, lambda test, model: run_eval(a.gemmsift, test, model))
    fmt = lambda cols: " ".join(f"{c:.3f}" for c in cols)  # noqa: E731
    lines = [f"{t} {name} seed {seed}  {fmt(cols)}" for t, name, seed, cols in rows]
    if a.rows:
        with open(a.rows, "w") as f:
            f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"means of seeds {seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1))
          else f"means of seeds {a.seeds}")
    for t, name, cols in means:
        print(f"{t} {name} mean  {fmt(cols)}")


if __name__ == "__main__":
    sys.exit(main())
