"""DVC stage `train_posenet`: images.h5 + poses.h5 -> models/posenet.safetensors + eval/posenet/.

One process: ``python -m stages.train_posenet``; several: ``torchrun --nproc_per_node N -m
stages.train_posenet`` (DDP; only rank 0 prints and writes).
"""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.loader import load_sections
from pipeline.config.pose import PoseParams
from pipeline.config.posenet import PosenetParams
from pipeline.torch_utils.distributed import print0
from pipeline.training.posenet.stage import USER_ERRORS, run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (PoseParams, PosenetParams)

if __name__ == "__main__":
    run_stage("train_posenet",
              lambda: print0(summary_text(run(load_sections(*SECTIONS), Paths()))),
              extra_errors=USER_ERRORS)
