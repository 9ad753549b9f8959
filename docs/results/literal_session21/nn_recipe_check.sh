#!/usr/bin/env bash
# Session 21 check (CPU): session 19's five training recipes (docs/results/literal_session19/
# config_count_experiment.sh, which trains them; seeds 0-2) judged by the literal NN test_random,
# complete since session 21 and unseen when session 19 chose. The recipes' training data hold no NN
# problem timed with Inductor's kernel: lit60 and lit200 no NN problem at all, shipped, mix200 and
# all200 the arguments kernel's NN suites. Also on a what-if copy of the test file with its 183
# suspect rows (five problems timed on a slow host, docs/collection.md, session 21) set to their
# stage neighbours' times (tools/suspect_rows.py --impute-to): not data, a bound on what the glitches
# can change. Nothing is decided by this check; it says whether session 19's choice holds on NN.
# Run from the repository root after a build (about half an hour on a 2-core VM, for the training):
#   bash docs/results/literal_session21/nn_recipe_check.sh
# EXTRA_TESTS (space-separated dataset paths) judges the recipes by those files too, after this one
# (docs/results/literal_session23/nn_recipe_check.sh adds NN test_llm).
set -euo pipefail
G=build/gemmsift W=${W:-/tmp/gemmsift-config-count}
[ -f "$W/all200_2.safetensors" ] || W=$W bash docs/results/literal_session19/config_count_experiment.sh > /dev/null
I=$W/imputed
rm -rf "$I" && mkdir -p "$I"
python3 tools/suspect_rows.py data/literal/h200_bf16_NN_test_random.csv.gz --impute-to "$I" > /dev/null
# Since session 22 the file has no suspect row (its 10 problems were timed again), so there is no
# what-if copy and the recipes are judged by the file alone.
whatif=()
if [ -f "$I/h200_bf16_NN_test_random.csv.gz" ]; then
  mv "$I/h200_bf16_NN_test_random.csv.gz" "$I/h200_bf16_NN_test_random_whatif.csv.gz"
  mv "$I/h200_bf16_NN_test_random.meta.json" "$I/h200_bf16_NN_test_random_whatif.meta.json"
  whatif=(--test "$I/h200_bf16_NN_test_random_whatif.csv.gz")
fi
RECIPES=(shipped lit60 lit200 mix200 all200)
echo "judged by Inductor's kernel, NN (off16 auto = padded): q@1 q@3 q@5 worst@5 >=DEFAULT@5"
python3 tools/recipe_means.py --gemmsift $G --test data/literal/h200_bf16_NN_test_random.csv.gz \
  "${whatif[@]}" $(for t in ${EXTRA_TESTS:-}; do echo --test "$t"; done) --rows "$W/nn_rows.txt" \
  $(for r in "${RECIPES[@]}"; do echo --recipe "$r=$W/${r}_{seed}.safetensors"; done)
