"""DVC stage `synthesize`: data.synthetic.* -> data/raw/synthetic (the embedded default dataset)."""
from __future__ import annotations

from pipeline.artifacts import Paths
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.synthetic.stage import run, summary_text

if __name__ == "__main__":
    run_stage("synthesize", lambda: print(summary_text(run(load_params(), Paths()))))
