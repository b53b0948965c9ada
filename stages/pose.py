"""DVC stage `pose`: images.h5 (+ annotations / ground truth / detector) -> poses.h5."""
from __future__ import annotations

from pipeline.artifacts import PREPARED_DIR, artifact_path
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.pose.stage import estimate_poses


def main() -> None:
    params = load_params()
    s = estimate_poses(params.pose, params.data, artifact_path("images"), artifact_path("poses"),
                       PREPARED_DIR / "poses.summary.json")
    print(f"pose ({s['backend']}): {s['images']} images, {s['torso_valid']} with a full torso, "
          f"{len(s['all_missing'])} with no keypoint")


if __name__ == "__main__":
    run_stage("pose", main)
