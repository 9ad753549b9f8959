#!/usr/bin/env bash
# Session 23 check (CPU): session 19's five training recipes (seeds 0-2) judged by both NN test
# files timed with Inductor's kernel: test_random (60 of 60) and test_llm (64 of 72 since session
# 23); sessions 21-22 judged them by NN test_random alone. Session 21's script with NN test_llm
# added. Session 19's rule, written before its run: a recipe replaces the shipped one only if its
# three-seed means of quality@1 and quality@5 are at least the shipped recipe's on every test set.
# Nothing is decided by a partial test_llm; this says whether the choice still holds.
#   bash docs/results/literal_session23/nn_recipe_check.sh   (from the repository root, after a build)
set -euo pipefail
EXTRA_TESTS=data/literal/h200_bf16_NN_test_llm.csv.gz exec bash docs/results/literal_session21/nn_recipe_check.sh
