"""DVC stage `ingest`: dataset folder (data.*) -> data/prepared/images.h5 + images.summary.json."""
from __future__ import annotations

from pipeline.artifacts import Paths
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.ingest.stage import IngestError, run, summary_text

if __name__ == "__main__":
    run_stage("ingest", lambda: print(summary_text(run(load_params(), Paths()))),
              extra_errors=(IngestError,))
