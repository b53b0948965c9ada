"""DVC stage `pose`: images.h5 (+ annotations / ground truth / detector) -> poses.h5."""
from __future__ import annotations

from pipeline.artifacts import Paths
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.pose.stage import run, summary_text

if __name__ == "__main__":
    run_stage("pose", lambda: print(summary_text(run(load_params(), Paths()))))
