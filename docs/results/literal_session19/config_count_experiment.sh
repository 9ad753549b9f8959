#!/usr/bin/env bash
# Session 19 experiment (CPU): do models trained on Inductor's kernel's times (data/literal/) beat
# the shipped recipe once they have more configs a problem? Session 18's literal models had 60
# configs a random-shape problem (against the arguments data's 300) and lost on random shapes.
# Five recipes, seeds 0-2, judged by data/literal/'s test sets (off16 auto = padded):
#   shipped  the H200 line of tools/train_models.sh (arguments kernel, NT + NN, 300 configs)
#   lit60    literal train_random (380 problems, 60 configs) + literal train_llm (237, 60 configs)
#   lit200   literal train_random_s200 (the same 380 problems, 200 configs) + literal train_llm
#   mix200   lit200 + the arguments kernel's NN train_llm and train_random, relabelled "literal"
#            in a copy ($W) because `gemmsift train` refuses two kernels in one set: an experiment only
#   all200   lit200 + all four of the shipped recipe's files, relabelled the same way (the NT
#            problems twice, once per kernel, as two problems: a copy can fall in the validation
#            split while the other trains, which flatters the validation the best epoch is chosen by)
# Written before the run: a literal recipe replaces the shipped one only if its three-seed means of
# quality@1 and quality@5 are at least the shipped recipe's on both test sets.
# Run from the repository root after a build: bash docs/results/literal_session19/config_count_experiment.sh
set -euo pipefail
G=build/gemmsift W=${W:-/tmp/gemmsift-config-count}
mkdir -p "$W"
python3 - "$W" <<'PY'
import json, shutil, sys
w = sys.argv[1]
for src in ("h200_bf16_NN_train_llm", "h200_bf16_NN_train_random", "h200_bf16_NT_train_llm", "h200_bf16_NT_train_random"):
    shutil.copy(f"data/{src}.csv.gz", f"{w}/{src}.csv.gz")
    meta = json.load(open(f"data/{src}.meta.json"))
    meta["kernel_sizes"] = "literal"
    json.dump(meta, open(f"{w}/{src}.meta.json", "w"))
PY
D=data L=data/literal
SHIPPED="--data $D/h200_bf16_NT_train_llm.csv.gz --data $D/h200_bf16_NN_train_llm.csv.gz --data $D/h200_bf16_NT_train_random.csv.gz --data $D/h200_bf16_NN_train_random.csv.gz"
LIT60="--data $L/h200_bf16_NT_train_random.csv.gz --data $L/h200_bf16_NT_train_llm.csv.gz"
LIT200="--data $L/h200_bf16_NT_train_random_s200.csv.gz --data $L/h200_bf16_NT_train_llm.csv.gz"
MIX200="$LIT200 --data $W/h200_bf16_NN_train_llm.csv.gz --data $W/h200_bf16_NN_train_random.csv.gz"
ALL200="$MIX200 --data $W/h200_bf16_NT_train_llm.csv.gz --data $W/h200_bf16_NT_train_random.csv.gz"
RECIPES=(shipped lit60 lit200 mix200 all200)
for s in 0 1 2; do
  for r in "${RECIPES[@]}"; do
    v=${r^^}
    [ -f "$W/${r}_$s.safetensors" ] || $G train -q --seed $s ${!v} --name $r -o "$W/${r}_$s.safetensors" > /dev/null
  done
done
echo "judged by Inductor's kernel (data/literal/, off16 auto = padded): q@1 q@3 q@5 worst@5 >=DEFAULT@5"
python3 tools/recipe_means.py --gemmsift $G --test $L/h200_bf16_NT_test_random.csv.gz --test $L/h200_bf16_NT_test_llm.csv.gz --rows "$W/rows.txt" \
  $(for r in "${RECIPES[@]}"; do echo --recipe "$r=$W/${r}_{seed}.safetensors"; done)
