#!/usr/bin/env bash
# The GPU check of the training stages, one short run on a CUDA machine (H100/H200 here).
# Needs data/prepared and data/raw/synthetic from `dvc repro` on the default data, and the
# machine's own python3 with CUDA torch; pydantic/dvclive wheels may be given in .whl/.
# Writes its logs to ${OUT:-/tmp/gpu_check}.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 DVC_NO_ANALYTICS=1
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
{ nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"; } \
  2>&1 | tee "$OUT/device.txt"
# 1. the CUDA tests (AMP bf16/fp16 with the scaler, channels_last, warps, a stage run on CUDA)
timeout 180 python3 -m pytest -q -m gpu tests/training tests/torch_utils 2>&1 | tee "$OUT/gpu_tests.log"
# 2. the default train_semantic stage on the GPU (device auto -> cuda), timed
( time timeout 100 python3 -m stages.train_semantic ) > "$OUT/stage.log" 2>&1
tail -5 "$OUT/stage.log"; cp eval/semantic/metrics.json "$OUT/stage_metrics.json" 2>/dev/null
# 3. throughput per profile and precision
for prec in "--amp off" "--amp bf16 --channels-last"; do
  timeout 70 python3 bench/train_semantic.py --device cuda $prec --workers 6 \
    --iters 100 --paper-iters 40 2>&1 | tee "$OUT/bench_${prec//[^a-z0-9]/_}.txt"
done
