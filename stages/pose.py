"""DVC stage `pose`: images.h5 (+ annotations / ground truth / detector) -> poses.h5."""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.data import DataParams
from pipeline.config.loader import load_sections
from pipeline.config.pose import PoseParams
from pipeline.pose.stage import run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (DataParams, PoseParams)

if __name__ == "__main__":
    run_stage("pose", lambda: print(summary_text(run(load_sections(*SECTIONS), Paths()))))
