"""DVC stage `parse`: images.h5 (+ label maps / poses) -> parsing.h5 (10 labels, SPEC 2)."""
from __future__ import annotations

from pipeline.artifacts import Paths
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.parsing.stage import ParsingError, run, summary_text

if __name__ == "__main__":
    run_stage("parse", lambda: print(summary_text(run(load_params(), Paths()))),
              extra_errors=(ParsingError,))
