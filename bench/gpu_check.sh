#!/usr/bin/env bash
# The GPU check of the training stages and the search: one short run on a CUDA machine
# (H100/H200 here). PARTS (default "train search") picks the parts.
# Needs data/prepared and models/ from `dvc repro` on the default data, and the machine's own
# python3 with CUDA torch; pydantic/dvclive wheels may be given in .whl/. Writes its logs to
# ${OUT:-/tmp/gpu_check}. Where the offline VGG package is missing, random VGG16 weights in
# torchvision's layout stand in (timings do not depend on the weights' values).
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
PARTS=${PARTS:-train search}
if [[ " $PARTS " == *" train "* ]]; then
# 1. the CUDA tests: AMP off/bf16/fp16 with the grad scaler, channels_last, the warps, the
#    appearance cycle through its joint phase, stage runs on CUDA
timeout ${TESTS_S:-100} python3 -m pytest -q -x -m gpu -p no:cacheprovider tests/training tests/torch_utils \
  2>&1 | tail -25 | tee "$OUT/gpu_tests.log"
# 2. appearance training throughput per profile and precision (bench/train.py, e2e joint phase)
PARAMS=params.yaml
if ! python3 -c "from pipeline.models.vgg import default_weights_path as d; assert d()" 2>/dev/null; then
  python3 - <<'PY'
import torch
g = torch.Generator().manual_seed(0)
sd = {}
for i, (cin, cout) in zip((0, 2, 5), ((3, 64), (64, 64), (64, 128))):
    sd[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * 0.05
    sd[f"features.{i}.bias"] = torch.zeros(cout)
torch.save(sd, "/tmp/vgg_random.pth")
PY
  sed "s|^  vgg_weights: ''|  vgg_weights: /tmp/vgg_random.pth|" params.yaml > /tmp/params_gpu.yaml
  PARAMS=/tmp/params_gpu.yaml
fi
for prec in "--amp off" "--amp bf16 --channels-last"; do
  timeout ${BENCH_S:-60} python3 bench/train.py --params "$PARAMS" --device cuda $prec --workers 6 \
    --iters 30 --warmup 3 --reps 3 --paper-iters 8 --paper-reps 2 2>&1 | tail -30 \
    | tee "$OUT/bench_train_${prec//[^a-z0-9]/_}.txt"
done
fi
if [[ " $PARTS " == *" search "* ]]; then
# 3. the search's torch path on CUDA: bit for bit against the numba kernel, then pairs/s of
#    every implementation on the same pairs (N = 4,000), then the exact search at DeepFashion's
#    size on the GPU, timed on 500 random sources of 38,000 and extrapolated
  timeout ${TESTS_S:-100} python3 -m pytest -q -x -m gpu -p no:cacheprovider tests/search \
    2>&1 | tail -15 | tee "$OUT/gpu_search_tests.log"
  timeout ${SEARCH_S:-180} python3 bench/search.py --part speed --n 4000 --ref-pairs 100 2>&1 \
    | tail -15 | tee "$OUT/bench_search_speed.txt"
  timeout ${SEARCH_S:-180} python3 bench/search.py --part scale --n 38000 --shortlists 0 \
    --scale-sources 500 --implementation torch --device cuda 2>&1 | tail -10 \
    | tee "$OUT/bench_search_scale_cuda.txt"
fi
