#!/usr/bin/env bash
# Device job (issues 5 and 6): trains a model on the GPU machine (the carried CLI, the same build as
# here) and measures it end to end in Inductor against a
# reference model, both in one run, with the problems sharded over the machine's GPUs
# (bench/inductor_e2e.py --gpus). Two phases: while the model trains, the methods that do not
# need it (METHODS1: cuBLAS, stock DEFAULT, the reference model); then the new model's methods
# (METHODS2: by default with stock EXHAUSTIVE capped and k = DEFAULT with what the budget leaves;
# METHODS2="" skips the phase). Between them, whether the new model's tensors equal REF's (for REF
# trained here with the same arguments: whether both machines train the same model). An EXIT trap
# and a loop every 20 s copy the rows measured so far under $OUT (a call stopped at its time limit
# is killed without running the trap: session 6's returned only what was already under $OUT).
# With `--trace` in TRAIN and TRACE_REF=FILE (the same training's `--trace` output from here), it
# also prints where the two trainings part: the first differing fingerprint line.
#   TRAIN="--data ... --name ..." REF=models/OLD.safetensors RUN=tag EXH=8,13 CAP=200 \
#   B1=170 B2=380 [METHODS1=...] [METHODS2=...] [E2E_ARGS="--select 0,3"] [TRACE_REF=...] bash tools/gpu/job_train_e2e.sh
# Needs .device-carry (tools/gpu/prepare_carry.sh). Under $OUT: the new model, the training log,
# rows.jsonl, summary.md and the drivers' logs (gzipped).
set -u
export GEMMSIFT_E2E_RUN=${RUN:-$(date +%Y%m%dT%H%M%S)}
source tools/gpu/device_env.sh
gpus=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)
new=/tmp/new_model.safetensors ref=/tmp/ref_model.safetensors
cp "$REF" $ref
# shellcheck disable=SC2086  # TRAIN holds several arguments
# At the lowest priority: in run h100-H (one H100, 16 cores) Inductor's timings of the methods that
# ran beside the training were several times too slow (cause not established; docs/results.md).
( time nice -n 19 .device-carry/gemmsift train $TRAIN -o $new ) >$OUT/train.log 2>&1 &
train=$!
save() {  # the drivers' rows (each GPU's) and logs so far, under $OUT
  if ls /tmp/e2e/gpu*/rows.jsonl >/dev/null 2>&1; then cat /tmp/e2e/gpu*/rows.jsonl >$OUT/rows.jsonl.part
  else cp /tmp/e2e/rows.jsonl $OUT/rows.jsonl.part 2>/dev/null; fi
  [ -f $OUT/rows.jsonl.part ] && mv $OUT/rows.jsonl.part $OUT/rows.jsonl
  cp /tmp/e2e/summary.md $OUT/ 2>/dev/null
  cat /tmp/e2e/gpu*.log 2>/dev/null | gzip >$OUT/e2e_drivers.log.gz
}
# Every 20 s as well as at the end: a call killed at its time limit runs no EXIT trap, and what
# is under $OUT comes back all the same.
( while sleep 20; do save; done ) &
saver=$!
trap 'kill $saver 2>/dev/null; save' EXIT
# shellcheck disable=SC2206  # E2E_ARGS holds several arguments
e2e=(python3 bench/inductor_e2e.py --out /tmp/e2e --gpus "$gpus" --alt-model $ref ${E2E_ARGS:-})
"${e2e[@]}" --budget-s "${B1:-170}" --methods "${METHODS1-cublas,stock-default,gemmsift-alt-5}" | tail -6
echo "== $(date +%T) phase 1 done"
wait $train || { echo "training failed"; tail -5 $OUT/train.log; exit 1; }
cp $new $OUT/
python3 - $new $ref <<'EOF' | tee -a $OUT/train.log
import json, struct, sys
def parts(path):  # tensors and metadata, less the creation time
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    meta = json.loads(head.pop("__metadata__")["gemmsift"])
    meta.pop("created", None)
    return head, b[8 + n:], meta
a, b = parts(sys.argv[1]), parts(sys.argv[2])
print("trained here vs REF: tensors", "identical" if a[:2] == b[:2] else "DIFFER",
      "/ metadata", "identical" if a[2] == b[2] else "differs", "(creation time aside)")
EOF
if [ -n "${TRACE_REF:-}" ]; then
  parted=$(diff <(grep '^trace' $OUT/train.log) <(grep '^trace' "$TRACE_REF") | grep '^[<>]' | head -2 | tr '\n' ' ')
  echo "fingerprints, here (<) against TRACE_REF (>): ${parted:-identical}" | tee -a $OUT/train.log
fi
if [ -n "${METHODS2-x}" ]; then
  "${e2e[@]}" --budget-s "${B2:-380}" --model $new --exhaustive-problems "${EXH:-}" --exhaustive-cap "${CAP:-200}" \
    --methods "${METHODS2-exhaustive-best,gemmsift-5,gemmsift-1,gemmsift-3,stock-exhaustive,gemmsift-DEFAULT}" | tail -20
  echo "== $(date +%T) phase 2 done"
fi
