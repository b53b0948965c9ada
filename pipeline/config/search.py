"""Schema of the `search` section: the affine-warp nearest-pose search of pseudo targets
(stage `search`, docs/method.md §4)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

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
    implementation: Literal["fast", "torch", "reference"] = Field(
        "fast", description="fast: compiled exact kernel (numba); torch: the same costs bit "
                            "for bit in torch, batched over candidates (CPU or CUDA); "
                            "reference: the literal formula.")
    shortlist: int = Field(0, ge=0, le=1_000_000, description=(
        "0: exact over all admissible candidates; M > 0: a first pass (shortlist_method) "
        "keeps the M most promising admissible candidates per source and only those get "
        "the exact cost."))
    shortlist_method: Literal["pose", "lowres"] = Field(
        "lowres", description="First pass of the shortlist: pose = the normalised keypoint "
                              "distance of the admissibility test; lowres = the same exact "
                              "cost at 1/shortlist_factor of the working resolution "
                              "(the default, chosen by measurement: docs/benchmarks.md).")
    shortlist_factor: int = Field(4, ge=2, le=16, description=(
        "lowres: the first pass runs at (height / factor) x (width / factor)."))
    shortlist_recall_sample: int = Field(200, ge=0, le=1_000_000, description=(
        "Sources (a seeded random sample) also searched exactly over every admissible "
        "candidate to measure the shortlist's recall, recorded in pseudo.h5 (0 = not "
        "measured)."))
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="implementation=torch: compute device (auto = CUDA when "
                            "available); results are bit-identical on every device.",
        json_schema_extra=EXECUTION)
    block_size: int = Field(64, ge=1, le=100_000, description="Sources per resumable block.",
                            json_schema_extra=EXECUTION)
    workers: int = Field(2, ge=1, le=4096, description="Parallel blocks (joblib jobs).",
                         json_schema_extra=EXECUTION)
    backend: Literal["loky", "threading", "dask", "ray"] = Field(
        "loky", description="joblib backend; dask/ray for a cluster.",
        json_schema_extra=EXECUTION)
    scheduler: str = Field("", description="dask: scheduler address ('' = a local cluster).",
                           json_schema_extra=EXECUTION)

    @model_validator(mode="after")
    def _first_pass_fits(self) -> "SearchParams":
        low_h, low_w = self.height // self.shortlist_factor, self.width // self.shortlist_factor
        if self.shortlist > 0 and self.shortlist_method == "lowres" and min(low_h, low_w) < 4:
            raise ValueError(f"search.shortlist_factor = {self.shortlist_factor} leaves a "
                             f"{low_h}x{low_w} first pass of the {self.height}x{self.width} "
                             f"search (at least 4x4 needed)")
        return self
