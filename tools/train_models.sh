#!/usr/bin/env bash
# Trains the shipped models and the proposal baselines from the committed datasets, then
# evaluates them on the held-out test sets (tables and tradeoff graphs under docs/results/).
# Deterministic for the seed on one build. Needs build/ (scripts/build.sh). About 16 to 23 minutes on this 2-core VM (22 min 52 s in session 27, beside another training).
set -euo pipefail
cd "$(dirname "$0")/.."
G=build/gemmsift
D=data
. tools/train_sets.sh
mkdir -p models/baselines docs/results
$G train -q $H100_TRAIN $H100_TRANSFER --name gemmsift-h100-bf16 -o models/h100-80gb-hbm3_bf16.safetensors
$G train -q $H200_TRAIN --name gemmsift-h200-bf16 -o models/h200_bf16.safetensors
$G train -q --preset proposal $H100_TRAIN -o models/baselines/h100-80gb-hbm3_bf16_proposal-mlp.safetensors
$G train -q --preset proposal $H200_TRAIN -o models/baselines/h200_bf16_proposal-mlp.safetensors
evaluate() {  # test set, analytical spec, device slug
  local test=$1 analytical=$2 slug=$3 stem
  stem=$(basename "$test" .csv.gz | sed 's/^[^_]*_//')
  local models=(--model "$analytical" --model "models/baselines/${slug}_bf16_proposal-mlp.safetensors"
                --model "models/${slug}_bf16.safetensors")
  $G eval --data "$test" "${models[@]}" --svg "docs/results/tradeoff_${slug%%-*}_${stem}.svg" \
    > "docs/results/eval_${slug%%-*}_${stem}.txt" 2>&1
  $G eval --json --data "$test" "${models[@]}" > "docs/results/eval_${slug%%-*}_${stem}.json"
}
evaluate $D/h100-80gb-hbm3_bf16_NT_test_llm.csv.gz analytical h100-80gb-hbm3
evaluate $D/h100-80gb-hbm3_bf16_NN_test_llm.csv.gz analytical h100-80gb-hbm3
evaluate $D/h100-80gb-hbm3_bf16_NT_test_random.csv.gz analytical h100-80gb-hbm3
evaluate $D/h100-80gb-hbm3_bf16_NN_test_random.csv.gz analytical h100-80gb-hbm3
evaluate $D/h200_bf16_NT_test_llm.csv.gz analytical:device=H200 h200
evaluate $D/h200_bf16_NN_test_llm.csv.gz analytical:device=H200 h200
evaluate $D/h200_bf16_NT_test_random.csv.gz analytical:device=H200 h200
evaluate $D/h200_bf16_NN_test_random.csv.gz analytical:device=H200 h200
ls docs/results
