#!/usr/bin/env bash
# Session 19 probe (CPU, an experiment, nothing shipped): does the 1.3 us offset per launch of the
# two-GPU host (docs/collection.md, session 19) cost the lit200 recipe of config_count_experiment.sh
# its quality on the one-GPU test sets? A copy of the 200-config train_random file with 1.3 us taken
# off every ok row's times (min and median, not below 0.5 us) in place of the original; seeds 0-2.
# Needs config_count_experiment.sh's models in $W for the comparison rows (it is rerun for them).
# Run from the repository root after a build: bash docs/results/literal_session19/offset_probe.sh
set -euo pipefail
G=build/gemmsift W=${W:-/tmp/gemmsift-config-count}
mkdir -p "$W"
python3 - "$W" <<'PY'
import csv, gzip, json, sys
w, src = sys.argv[1], "data/literal/h200_bf16_NT_train_random_s200"
with gzip.open(f"{src}.csv.gz", "rt") as f:
    rows = list(csv.DictReader(f))
for r in rows:
    if r["status"] == "ok":
        for k in ("time_us_min", "time_us_median"):
            r[k] = f"{max(0.5, float(r[k]) - 1.3):.3f}"
with gzip.open(f"{w}/h200_bf16_NT_train_random_s200_minus1.3.csv.gz", "wt", newline="") as f:
    out = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
    out.writeheader()
    out.writerows(rows)
json.dump(json.load(open(f"{src}.meta.json")), open(f"{w}/h200_bf16_NT_train_random_s200_minus1.3.meta.json", "w"))
PY
for s in 0 1 2; do
  $G train -q --seed $s --data "$W/h200_bf16_NT_train_random_s200_minus1.3.csv.gz" \
    --data data/literal/h200_bf16_NT_train_llm.csv.gz --name lit200m -o "$W/lit200m_$s.safetensors" > /dev/null
done
echo "judged by Inductor's kernel (data/literal/, off16 auto = padded): q@1 q@3 q@5 worst@5 >=DEFAULT@5"
python3 tools/recipe_means.py --gemmsift $G --test data/literal/h200_bf16_NT_test_random.csv.gz --test data/literal/h200_bf16_NT_test_llm.csv.gz --rows "$W/probe_rows.txt" \
  --recipe "lit200=$W/lit200_{seed}.safetensors" --recipe "lit200m=$W/lit200m_{seed}.safetensors"
