"""DVC stage `ingest`: dataset folder (data.*) -> data/prepared/images.h5 + images.summary.json."""
from __future__ import annotations

from pipeline.artifacts import PREPARED_DIR, artifact_path
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.ingest.stage import IngestError, ingest, summarise_reasons


def main() -> None:
    params = load_params().data
    report = ingest(params, artifact_path("images"), PREPARED_DIR / "images.summary.json")
    print(summarise_reasons(report))


if __name__ == "__main__":
    run_stage("ingest", main, extra_errors=(IngestError,))
