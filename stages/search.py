"""DVC stage `search`: poses/parsing/masks.h5 -> pseudo.h5 + pseudo.summary.json
(docs/method.md §4)."""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.loader import load_sections
from pipeline.config.search import SearchParams
from pipeline.search.stage import run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (SearchParams,)

if __name__ == "__main__":
    run_stage("search", lambda: print(summary_text(run(load_sections(*SECTIONS), Paths()))))
