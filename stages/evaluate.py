"""DVC stage `evaluate`: trained models + test pairs -> eval/images/, eval/metrics.json,
eval/report.md, eval/report/, eval/plots/ (docs/metrics.md)."""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.data import DataParams
from pipeline.config.evaluate import EvaluateParams
from pipeline.config.loader import load_sections
from pipeline.config.parse import ParseParams
from pipeline.config.posenet import PosenetParams
from pipeline.evaluation.stage import USER_ERRORS, run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (DataParams, ParseParams, PosenetParams, EvaluateParams)

if __name__ == "__main__":
    run_stage("evaluate", lambda: print(summary_text(run(load_sections(*SECTIONS), Paths()))),
              extra_errors=USER_ERRORS)
