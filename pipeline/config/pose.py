"""Schema of the `pose` section: the 18 OpenPose keypoints per image (stage `pose`,
docs/method.md §1)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from pipeline.config.base import EXECUTION, _Section, relative_inside


class PoseParams(_Section):
    """Stage `pose`: 18 OpenPose keypoints per image -> poses.h5."""

    SECTION: ClassVar[str] = "pose"

    backend: Literal["synthetic", "annotations", "mediapipe", "openpose", "auto"] = Field(
        "synthetic", description="synthetic: ground truth of the synthetic data; annotations: "
                                 "data.annotations; mediapipe: the offline detector; openpose: "
                                 "OpenPose JSON files in openpose_dir; auto: annotations where "
                                 "a row exists, else OpenPose JSON (if openpose_dir is set), "
                                 "else the detector.")
    min_visibility: float = Field(0.5, ge=0.0, le=1.0,
                                  description="mediapipe: drop landmarks less visible than this.")
    side_check: bool = Field(True, description="mediapipe: swap left and right of back views "
                                               "that MediaPipe read as front views, and halve "
                                               "the confidence of points whose side stays "
                                               "uncertain (docs/pose-detector.md).")
    openpose_dir: str = Field("", validate_default=True,
                              description="openpose / auto: folder of OpenPose --write_json "
                                          "files (<image stem>_keypoints.json) inside "
                                          "data.root; '' = none.")
    workers: int = Field(2, ge=1, le=256, description="Parallel workers (joblib).",
                         json_schema_extra=EXECUTION)

    @field_validator("openpose_dir")
    @classmethod
    def _inside_root(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("backend") == "openpose":
            raise ValueError("pose.backend = 'openpose' needs the folder of the OpenPose JSON "
                             "files inside data.root (got '')")
        return relative_inside(value, "data.root") if value else value
