"""DVC stage `train_appearance`: pseudo pairs + G_S + pose detector -> models/appearance/ +
eval/appearance/ (the scheme is `appearance.scheme`: baseline | ts_pred | ts_gt | e2e).

One process: ``python -m stages.train_appearance``; several: ``torchrun --nproc_per_node N -m
stages.train_appearance`` (DDP; only rank 0 prints and writes).
"""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.appearance import AppearanceParams
from pipeline.config.loader import load_sections
from pipeline.config.loss import LossParams
from pipeline.config.posenet import PosenetParams
from pipeline.torch_utils.distributed import print0
from pipeline.training.appearance.stage import USER_ERRORS, run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps); of
#: ``posenet`` only ``heatmap_sigma``, which the pose loss's targets must share.
SECTIONS = (AppearanceParams, LossParams, PosenetParams)

if __name__ == "__main__":
    run_stage("train_appearance",
              lambda: print0(summary_text(run(load_sections(*SECTIONS), Paths()))),
              extra_errors=USER_ERRORS)
