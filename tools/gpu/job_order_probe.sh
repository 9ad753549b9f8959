#!/usr/bin/env bash
# Device job: is the 6-10% that triton_mm with literal sizes stays behind Inductor's kernel on the
# largest problems a matter of measurement (order, clocks, power, input tensors) rather than of
# the kernel? (tools/gpu/kernel_order_probe.py; docs/collection.md, session 14.) One GPU, about
# 3 minutes. Needs .device-carry (tools/gpu/prepare_carry.sh). Under $OUT: the probe's table, its
# JSON (every timing with the SM clock and power after it) and the log.
set -u
source tools/gpu/device_env.sh
export TRITON_CACHE_DIR=/tmp/triton_cache
python3 tools/gpu/kernel_order_probe.py $OUT >$OUT/order_probe.log 2>&1
rc=$?
gzip -f $OUT/order_probe.log $OUT/kernel_order_probe.json 2>/dev/null
[ $rc = 0 ] || { zcat $OUT/order_probe.log.gz | tail -30; exit $rc; }
cat $OUT/kernel_order_probe.txt
