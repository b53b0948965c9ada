"""DVC stage `search`: poses/parsing/masks.h5 -> pseudo.h5 + pseudo.summary.json (SPEC 4)."""
from __future__ import annotations

from pipeline.artifacts import Paths
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.search.stage import run, summary_text

if __name__ == "__main__":
    run_stage("search", lambda: print(summary_text(run(load_params(), Paths()))))
