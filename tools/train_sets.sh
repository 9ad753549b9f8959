# The training files of the shipped models, one place for tools/train_models.sh and the checks that
# retrain its recipes (tools/growth_check.sh). Sourced, with D set to the data folder.
H100_TRAIN="--data $D/h100-80gb-hbm3_bf16_NT_train_llm.csv.gz --data $D/h100-80gb-hbm3_bf16_NN_train_llm.csv.gz --data $D/h100-80gb-hbm3_bf16_NT_train_random.csv.gz --data $D/h100-80gb-hbm3_bf16_NN_train_random.csv.gz"
H200_TRAIN="--data $D/h200_bf16_NT_train_llm.csv.gz --data $D/h200_bf16_NN_train_llm.csv.gz --data $D/h200_bf16_NT_train_random.csv.gz --data $D/h200_bf16_NN_train_random.csv.gz"
# The H200's random-shape problems also teach the H100 model's correction to the analytical model
# (same 132 SMs; those of the H100 validation shapes stay out; docs/results.md). The proposal's MLP
# predicts absolute times, so another device's data would only mislead it: H100 data alone.
H100_TRANSFER="--transfer-data $D/h200_bf16_NT_train_random.csv.gz"
