"""Schema of the `search` section: the affine-warp nearest-pose search of pseudo targets
(stage `search`, docs/method.md §4)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from pipeline.config.base import EXECUTION, _Section


class SearchParams(_Section):
    """Stage `search`: the affine-warp nearest-pose search -> pseudo.h5 (docs/method.md §4)."""

    SECTION: ClassVar[str] = "search"

    height: int = Field(64, ge=8, le=1024, description="Working resolution (px).")
    width: int = Field(64, ge=8, le=1024, description="Working resolution (px).")
    top_k: int = Field(5, ge=1, le=1000, description="Candidates kept per source.")
    min_pose_distance: float = Field(0.2, ge=0.0, description=(
        "Exclude candidates whose mean keypoint distance to the source, over points visible "
        "in both, is below this many source torso sizes."))
    same_identity: Literal["allow", "exclude"] = Field(
        "allow", description="allow: identity labels unused (unsupervised); exclude: never "
                             "take a pseudo target from the same person.")
    mismatch_cost: float = Field(2.0, ge=0.0, description=(
        "Cost of a pixel where the two maps hold different person labels (2 = squared "
        "distance of one-hot vectors; 1 = a label mismatch costs like a missing pixel)."))
    implementation: Literal["fast", "reference"] = Field(
        "fast", description="fast: compiled exact kernel; reference: the literal formula.")
    block_size: int = Field(64, ge=1, le=100_000, description="Sources per resumable block.",
                            json_schema_extra=EXECUTION)
    workers: int = Field(2, ge=1, le=4096, description="Parallel blocks (joblib jobs).",
                         json_schema_extra=EXECUTION)
    backend: Literal["loky", "threading", "dask", "ray"] = Field(
        "loky", description="joblib backend; dask/ray for a cluster.",
        json_schema_extra=EXECUTION)
    scheduler: str = Field("", description="dask: scheduler address ('' = a local cluster).",
                           json_schema_extra=EXECUTION)
