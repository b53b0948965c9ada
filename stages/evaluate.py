"""DVC stage `evaluate`: trained models + test pairs -> eval/images/, eval/metrics.json,
eval/report.md, eval/report/, eval/plots/ (README "Evaluation")."""
from __future__ import annotations

from pipeline.artifacts import Paths
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.evaluation.stage import USER_ERRORS, run, summary_text

if __name__ == "__main__":
    run_stage("evaluate", lambda: print(summary_text(run(load_params(), Paths()))),
              extra_errors=USER_ERRORS)
