# Sourced by the device jobs that run Inductor (job_inductor.sh, job_train_e2e.sh,
# job_literal_check.sh, job_ptxas_probe.sh, job_order_probe.sh, job_agreement.sh): the carried
# library (tools/gpu/prepare_carry.sh) on the paths, unbuffered Python, then the machine's GPUs,
# driver and versions printed first, for the record.
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python LD_LIBRARY_PATH=$PWD/.device-carry
export GEMMSIFT_LIBRARY=$PWD/.device-carry/libgemmsift.so
nvidia-smi --query-gpu=index,name,clocks.sm,clocks.max.sm,temperature.gpu,driver_version --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
