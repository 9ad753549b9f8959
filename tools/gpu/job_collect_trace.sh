#!/usr/bin/env bash
# Device job: while tools/gpu/job_multi.sh collects (SPECS_<GPU>: its arguments for this GPU,
# e.g. SPECS_H100="train_random:bf16:NN:300:480:400"), trains the shipped H100 model's recipe with
# --trace on the machine's CPU (train.log under $OUT), to compare with the same training here.
# Needs .device-carry (tools/gpu/prepare_carry.sh).
set -u
lscpu | grep -m1 "Model name" | tee $OUT/cpu.txt
D=data
( time LD_LIBRARY_PATH=$PWD/.device-carry .device-carry/gemmsift train -q --trace \
    --data $D/h100-80gb-hbm3_bf16_NT_train_llm.csv.gz --data $D/h100-80gb-hbm3_bf16_NN_train_llm.csv.gz \
    --data $D/h100-80gb-hbm3_bf16_NT_train_random.csv.gz --data $D/h100-80gb-hbm3_bf16_NN_train_random.csv.gz \
    --transfer-data $D/h200_bf16_NT_train_random.csv.gz --name gemmsift-h100-bf16 -o /tmp/trace.safetensors ) >$OUT/train.log 2>&1 &
train=$!
if nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -q H200; then specs=${SPECS_H200:-}; else specs=${SPECS_H100:-}; fi
# shellcheck disable=SC2086  # several specs
[ -n "$specs" ] && bash tools/gpu/job_multi.sh $specs
wait $train
sha256sum /tmp/trace.safetensors | tee -a $OUT/train.log
tail -3 $OUT/train.log
