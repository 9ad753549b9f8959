#!/usr/bin/env bash
# Device job: while tools/gpu/job_multi.sh collects (SPECS_<GPU>: its arguments for this GPU,
# e.g. SPECS_H100="train_random:bf16:NN:300:480:400"), trains the shipped H100 model's recipe with
# --trace on the machine's CPU (train.log under $OUT), to compare with the same training here.
# Needs .device-carry (tools/gpu/prepare_carry.sh).
set -u
lscpu | grep -m1 "Model name" | tee "$OUT"/cpu.txt
# The shipped H100 model's training files, from the one place that names them.
eval "$(grep -E '^(D|H100_TRAIN|H100_TRANSFER)=' tools/train_models.sh)"
# At the lowest priority, as in job_train_e2e.sh (timings beside a training: docs/results.md, run h100-H).
# shellcheck disable=SC2086  # several arguments
( time LD_LIBRARY_PATH=$PWD/.device-carry nice -n 19 .device-carry/gemmsift train -q --trace \
    $H100_TRAIN $H100_TRANSFER --name gemmsift-h100-bf16 -o /tmp/trace.safetensors ) >"$OUT"/train.log 2>&1 &
train=$!
if nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -q H200; then specs=${SPECS_H200:-}; else specs=${SPECS_H100:-}; fi
# shellcheck disable=SC2086  # several specs
[ -n "$specs" ] && bash tools/gpu/job_multi.sh $specs
wait $train
sha256sum /tmp/trace.safetensors | tee -a "$OUT"/train.log
tail -3 "$OUT"/train.log
