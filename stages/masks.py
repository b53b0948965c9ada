"""DVC stage `masks`: poses.h5 -> data/prepared/masks.h5 (+ masks.summary.json)."""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.loader import load_sections
from pipeline.config.masks import MasksParams
from pipeline.masks.stage import run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (MasksParams,)

if __name__ == "__main__":
    run_stage("masks", lambda: print(summary_text(run(load_sections(*SECTIONS), Paths()))))
