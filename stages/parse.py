"""DVC stage `parse`: images.h5 (+ label maps / poses) -> parsing.h5 (10 labels,
docs/method.md §2)."""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.data import DataParams
from pipeline.config.loader import load_sections
from pipeline.config.parse import ParseParams
from pipeline.parsing.stage import ParsingError, run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (DataParams, ParseParams)

if __name__ == "__main__":
    run_stage("parse", lambda: print(summary_text(run(load_sections(*SECTIONS), Paths()))),
              extra_errors=(ParsingError,))
