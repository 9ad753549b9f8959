#!/usr/bin/env bash
# Device job (issue 6): the GPU tests (tools/gpu/run_gpu_tests.sh; SKIP_TESTS=1 skips them), then
# bench/inductor_e2e.py with a time budget, rows tagged GEMMSIFT_E2E_RUN when set.
#   bash tools/gpu/job_inductor.sh E2E_BUDGET_S [inductor_e2e.py arguments...]
# Needs .device-carry (tools/gpu/prepare_carry.sh). Results under $OUT.
set -u
budget=${1:-300}; shift || true
source tools/gpu/device_env.sh
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  bash tools/gpu/run_gpu_tests.sh $OUT
fi
python3 bench/inductor_e2e.py --out /tmp/e2e --budget-s "$budget" "$@" 2>&1 | tee $OUT/e2e.log | grep -v "^W\|^I" | tail -60
cp /tmp/e2e/rows.jsonl /tmp/e2e/e2e.csv /tmp/e2e/summary.json $OUT/ 2>/dev/null  # at most 8 files come back: summary.md and the SVG come from rows.jsonl with --summarize-only
for f in /tmp/e2e/gpu*.log; do  # --gpus N: each GPU's driver and worker output (Inductor's AUTOTUNE tables, for bench/e2e_picks.py)
  [ -f "$f" ] && gzip -c "$f" > "$OUT/e2e_$(basename "$f").gz"
done
gzip -f $OUT/e2e.log $OUT/*_tests.log 2>/dev/null
ls $OUT
