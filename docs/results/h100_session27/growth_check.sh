#!/usr/bin/env bash
# Session 27 check (CPU): the shipped H100 recipe (tools/train_models.sh's H100 line) trained with
# seeds 0-2 on H100 NN train_random as it grew: 270 of 380 problems (session 25, commit 3e92787)
# and 315 (session 26, commit 37c777f), judged by the four H100 test files (tools/recipe_means.py:
# quality@1, @3, @5, worst@5, share at least as fast as the whole DEFAULT list at k = 5, and the
# seeds' means). The 129- and 178-problem rows are docs/results/h100_session24/retrain_check.txt.
# Output: growth_check.txt beside this (the trainings' "wrote" lines, then the table).
#   bash docs/results/h100_session27/growth_check.sh   (from the repository root, after a build;
#   about 12 minutes on one core of a 2-core VM)
set -euo pipefail
G=build/gemmsift D=data W=${W:-/tmp/gemmsift-h100-growth}
NNR=h100-80gb-hbm3_bf16_NN_train_random
common="--data $D/h100-80gb-hbm3_bf16_NT_train_llm.csv.gz --data $D/h100-80gb-hbm3_bf16_NN_train_llm.csv.gz
  --data $D/h100-80gb-hbm3_bf16_NT_train_random.csv.gz" xfer="--transfer-data $D/h200_bf16_NT_train_random.csv.gz"
recipes=()
for pair in 270:3e92787 315:37c777f; do
  n=${pair%%:*} rev=${pair#*:}
  mkdir -p "$W/$n"
  for ext in csv.gz meta.json; do git show "$rev:$D/$NNR.$ext" > "$W/$n/$NNR.$ext"; done
  for s in 0 1 2; do
    [ -f "$W/n${n}_$s.safetensors" ] || $G train -q $common --data "$W/$n/$NNR.csv.gz" $xfer --name gemmsift-h100-bf16 \
      --seed $s -o "$W/n${n}_$s.safetensors" 2>&1 | tail -1
  done
  recipes+=(--recipe "n$n=$W/n${n}_{seed}.safetensors")
done
python3 tools/recipe_means.py --gemmsift $G --rows "$W/rows.txt" \
  $(for l in NT NN; do for t in test_llm test_random; do echo --test $D/h100-80gb-hbm3_bf16_${l}_$t.csv.gz; done; done) \
  "${recipes[@]}"
