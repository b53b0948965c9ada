"""Schema of the `pose` section: the 18 OpenPose keypoints per image (stage `pose`,
docs/method.md §1)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from pipeline.config.base import EXECUTION, _Section


class PoseParams(_Section):
    """Stage `pose`: 18 OpenPose keypoints per image -> poses.h5."""

    SECTION: ClassVar[str] = "pose"

    backend: Literal["synthetic", "annotations", "mediapipe", "auto"] = Field(
        "synthetic", description="synthetic: ground truth of the synthetic data; annotations: "
                                 "data.annotations; mediapipe: the offline detector; auto: "
                                 "annotations where a row exists, the detector otherwise.")
    min_visibility: float = Field(0.5, ge=0.0, le=1.0,
                                  description="mediapipe: drop landmarks less visible than this.")
    workers: int = Field(2, ge=1, le=256, description="Parallel workers (joblib).",
                         json_schema_extra=EXECUTION)
