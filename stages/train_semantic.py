"""DVC stage `train_semantic`: pseudo.h5 & co. -> models/semantic.safetensors + eval/semantic/.

One process: ``python -m stages.train_semantic``; several: ``torchrun --nproc_per_node N -m
stages.train_semantic`` (DDP; only rank 0 prints and writes).
"""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.data import DataParams
from pipeline.config.loader import load_sections
from pipeline.config.semantic import SemanticParams
from pipeline.torch_utils.distributed import print0
from pipeline.training.semantic.stage import USER_ERRORS, run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (DataParams, SemanticParams)

if __name__ == "__main__":
    run_stage("train_semantic",
              lambda: print0(summary_text(run(load_sections(*SECTIONS), Paths()))),
              extra_errors=USER_ERRORS)
