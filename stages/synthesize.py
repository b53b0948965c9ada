"""DVC stage `synthesize`: data.synthetic.* -> data/raw/synthetic (the embedded default dataset)."""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.data import DataParams
from pipeline.config.loader import load_sections
from pipeline.synthetic.stage import run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (DataParams,)

if __name__ == "__main__":
    run_stage("synthesize", lambda: print(summary_text(run(load_sections(*SECTIONS), Paths()))))
