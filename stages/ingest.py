"""DVC stage `ingest`: dataset folder (data.*) -> data/prepared/images.h5 + images.summary.json."""
from __future__ import annotations

from pipeline.artifacts.paths import Paths
from pipeline.cli import run_stage
from pipeline.config.data import DataParams
from pipeline.config.loader import load_sections
from pipeline.ingest.stage import IngestError, run, summary_text

#: The params sections the stage reads (only their schema modules are its code deps).
SECTIONS = (DataParams,)

if __name__ == "__main__":
    run_stage("ingest", lambda: print(summary_text(run(load_sections(*SECTIONS), Paths()))),
              extra_errors=(IngestError,))
