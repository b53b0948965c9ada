"""DVC stage `train_posenet`: images.h5 + poses.h5 -> models/posenet.safetensors + eval/posenet/.

One process: ``python -m stages.train_posenet``; several: ``torchrun --nproc_per_node N -m
stages.train_posenet`` (DDP; only rank 0 prints and writes).
"""
from __future__ import annotations

from pipeline.artifacts import Paths
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.torch_utils.distributed import print0
from pipeline.training.posenet_stage import USER_ERRORS, run, summary_text

if __name__ == "__main__":
    run_stage("train_posenet", lambda: print0(summary_text(run(load_params(), Paths()))),
              extra_errors=USER_ERRORS)
