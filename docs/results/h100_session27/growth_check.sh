#!/usr/bin/env bash
# Session 27 check (CPU): the shipped H100 recipe (tools/train_models.sh's H100 line) trained with
# seeds 0-2 on H100 NN train_random as it grew: 270 of 380 problems (session 25, commit 3e92787)
# and 315 (session 26, commit 37c777f), judged by the four H100 test files. The 129- and 178-problem
# rows are docs/results/h100_session24/retrain_check.txt. Output: growth_check.txt beside this.
#   bash docs/results/h100_session27/growth_check.sh   (from the repository root, after a build;
#   about 12 minutes on one core of a 2-core VM)
set -euo pipefail
exec bash tools/growth_check.sh n270:3e92787 n315:37c777f
