#!/usr/bin/env bash
# Does more H100 NN random-shape data move the shipped H100 recipe? Trains tools/train_models.sh's
# H100 line (files: tools/train_sets.sh) with seeds 0-2, once for each LABEL:REV given, with
# data/h100-80gb-hbm3_bf16_NN_train_random.csv.gz as it was at git revision REV (the working tree's
# file for REV "-"), and judges every model on the four H100 test files (tools/recipe_means.py:
# quality@1, @3, @5, worst@5, share at least as fast as the whole DEFAULT list at k = 5, and the
# seeds' means). Prints the trainings' "wrote" lines, then the table.
#   bash tools/growth_check.sh 270:3e92787 315:37c777f   (from the repository root, after a build;
#   about 2 minutes a training on one core of a 2-core VM)
# W (default /tmp/gemmsift-h100-growth) keeps the models: a model already there is not trained again.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bash tools/growth_check.sh LABEL:REV [LABEL:REV ...]" >&2; exit 2; }
G=${G:-build/gemmsift} D=data W=${W:-/tmp/gemmsift-h100-growth}
. tools/train_sets.sh
NNR=h100-80gb-hbm3_bf16_NN_train_random
recipes=()
for pair in "$@"; do
  label=${pair%%:*} rev=${pair#*:}
  [[ $pair == *:* && -n $label && -n $rev ]] || { echo "growth_check.sh: '$pair' is not LABEL:REV" >&2; exit 2; }
  mkdir -p "$W/$label"
  for ext in csv.gz meta.json; do
    if [ "$rev" = - ]; then cp "$D/$NNR.$ext" "$W/$label/"; else git show "$rev:$D/$NNR.$ext" > "$W/$label/$NNR.$ext"; fi
  done
  train=${H100_TRAIN//"$D/$NNR.csv.gz"/"$W/$label/$NNR.csv.gz"}
  [ "$train" != "$H100_TRAIN" ] || { echo "growth_check.sh: $NNR is not in tools/train_sets.sh's H100 files" >&2; exit 2; }
  for s in 0 1 2; do
    [ -f "$W/${label}_$s.safetensors" ] || $G train -q $train $H100_TRANSFER --name gemmsift-h100-bf16 \
      --seed $s -o "$W/${label}_$s.safetensors" 2>&1 | tail -1
  done
  recipes+=(--recipe "$label=$W/${label}_{seed}.safetensors")
done
python3 tools/recipe_means.py --gemmsift $G --rows "$W/rows.txt" \
  $(for l in NT NN; do for t in test_llm test_random; do echo --test $D/h100-80gb-hbm3_bf16_${l}_$t.csv.gz; done; done) \
  "${recipes[@]}"
