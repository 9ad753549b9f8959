#!/usr/bin/env bash
# Session 23 check (CPU): session 19's five training recipes (docs/results/literal_session19/
# config_count_experiment.sh trains them; seeds 0-2) judged by both NN test files timed with
# Inductor's kernel: test_random (60 of 60) and test_llm (64 of 72 since session 23). Sessions 21-22
# judged them by NN test_random alone (docs/results/literal_session22/nn_recipe_check.txt). No recipe
# has an NN problem timed with Inductor's kernel in its training data. The rule of session 19, written
# before its run: a recipe replaces the shipped one only if its three-seed means of quality@1 and
# quality@5 are at least the shipped recipe's on every test set. Nothing is decided by a partial
# test_llm; this says whether the choice still holds.
# Run from the repository root after a build (about half an hour on a 2-core VM, for the training):
#   bash docs/results/literal_session23/nn_recipe_check.sh
set -euo pipefail
G=build/gemmsift W=${W:-/tmp/gemmsift-config-count}
[ -f "$W/all200_2.safetensors" ] || W=$W bash docs/results/literal_session19/config_count_experiment.sh > /dev/null
L=data/literal
RECIPES=(shipped lit60 lit200 mix200 all200)
echo "judged by Inductor's kernel, NN (off16 auto = padded): q@1 q@3 q@5 worst@5 >=DEFAULT@5"
python3 tools/recipe_means.py --gemmsift $G --test $L/h200_bf16_NN_test_random.csv.gz \
  --test $L/h200_bf16_NN_test_llm.csv.gz --rows "$W/nn_rows.txt" \
  $(for r in "${RECIPES[@]}"; do echo --recipe "$r=$W/${r}_{seed}.safetensors"; done)
