"""DVC stage `masks`: poses.h5 -> data/prepared/masks.h5 (+ masks.summary.json)."""
from __future__ import annotations

from pipeline.artifacts import PREPARED_DIR, artifact_path
from pipeline.masks.stage import make_masks
from pipeline.cli import run_stage
from pipeline.config import load_params, section_dict


def main() -> None:
    params = load_params().masks
    summary = make_masks(artifact_path("poses"), artifact_path("images"), artifact_path("masks"),
                         PREPARED_DIR / "masks.summary.json", params.workers,
                         section_dict(params))
    print(f"masks: {summary['images']} images, {summary['torso_valid']} with a valid torso, "
          f"{len(summary['without_torso'])} without")


if __name__ == "__main__":
    run_stage("masks", main)
