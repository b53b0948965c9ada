"""DVC stage `parse`: images.h5 (+ label maps / poses) -> parsing.h5 (10 labels, SPEC 2)."""
from __future__ import annotations

from pipeline.artifacts import PREPARED_DIR, artifact_path
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.parsing.stage import ParsingError, parse_images


def main() -> None:
    params = load_params()
    s = parse_images(params.parse, params.data, artifact_path("images"), artifact_path("poses"),
                     artifact_path("parsing"), PREPARED_DIR / "parsing.summary.json")
    print(f"parse ({s['backend']}): {s['images']} images; pixel share {s['pixel_share']}")


if __name__ == "__main__":
    run_stage("parse", main, extra_errors=(ParsingError,))
