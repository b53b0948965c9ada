"""Schema of the `data` section: which dataset the pipeline runs on, and the embedded
synthetic set (stages `synthesize`, `ingest`; read by most stages)."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from pipeline.config.base import EXECUTION, _Section, inside_repository, relative_inside


class SyntheticParams(_Section):
    """The embedded synthetic people dataset (stage `synthesize`)."""

    seed: int = Field(0, ge=0, description="Seed of everything the generator draws.")
    identities: int = Field(60, ge=2, le=100_000, description="Number of people.")
    poses_per_identity: int = Field(6, ge=2, le=1000, description="Images per person.")
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0,
                                 description="Share of identities held out for the test split.")
    real_pose_fraction: float = Field(0.5, ge=0.0, le=1.0,
                                      description="Share of poses taken from `real_poses` "
                                                  "rather than sampled from the joint-angle prior.")
    real_poses: str = Field("data/annotations/fasion-annotation-sample.csv",
                            description="Annotation file (field format) of real poses; '' = none.")
    real_poses_height: int = Field(256, ge=16, description="Frame height of `real_poses` (px).")
    real_poses_width: int = Field(256, ge=16, description="Frame width of `real_poses` (px).")
    pairs_per_identity: int = Field(4, ge=1, le=10_000,
                                    description="Test pairs drawn per test identity.")
    background: Literal["studio", "street"] = Field(
        "studio", description="studio: all photos of a person share one light, low-saturation "
                              "backdrop (gradient, vignette; per photo only a small exposure "
                              "jitter and pixel noise), as DeepFashion's in-shop photos; "
                              "street: every photo its own background, as Market-1501.")

    @field_validator("real_poses")
    @classmethod
    def _inside_repository(cls, value: str) -> str:
        """A repo path (DVC lists it as a dependency of synthesize): inside the repository,
        symlinks resolved; relative paths are relative to the repository root."""
        return inside_repository(value)


class DataParams(_Section):
    """Which dataset the pipeline runs on (stages `synthesize`, `ingest`).

    Every input lives under one dataset folder ``root`` (the `ingest` stage's DVC
    dependency); ``images``, ``annotations`` and ``pairs`` are relative to it.
    """

    SECTION: ClassVar[str] = "data"

    source: Literal["synthetic", "deepfashion", "market", "folder"] = "synthetic"
    root: str = Field("data/raw/synthetic", description="Dataset folder (the synthesize stage "
                                                        "writes the default one).")
    images: str = Field("images", description="Image folder inside root, searched recursively "
                                              "('.' = root itself).")
    annotations: list[str] = Field(["annotations.csv"],
                                   description="Field-format keypoint files inside root "
                                               "(`name:keypoints_y:keypoints_x`); [] = none.")
    pairs: str = Field("pairs-test.csv", description="Test pairs `from,to` inside root ('' = none).")
    train_pairs: str = Field("", description="Training pairs `from,to` inside root ('' = none).")
    split_by: Literal["pairs", "folders", "fraction"] = Field(
        "pairs", validate_default=True,
        description="pairs: identities in the test pairs are test; folders: images "
                    "under a folder whose name contains 'test' are test (Pose-Transfer "
                    "and Market-1501 layouts); fraction: `test_fraction` of identities.")
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0,
                                 description="split_by=fraction: share of identities in test.")
    height: int = Field(256, ge=16, le=4096, description="Stored image height (px).")
    width: int = Field(256, ge=16, le=4096, description="Stored image width (px).")
    resize: bool = Field(False, description="Resize images of another size instead of "
                                            "leaving them out (the older spelling of "
                                            "fit=stretch).")
    fit: Literal["exact", "stretch", "pad"] = Field(
        "exact", description="Images of another size: exact = left out (unless resize); "
                             "stretch = resized to height x width; pad = scaled uniformly to "
                             "fit inside and centred on pad_value (no stretch), keypoints and "
                             "label maps placed alike, the box recorded in images.h5 /frame.")
    pad_value: int = Field(255, ge=0, le=255,
                           description="fit=pad: grey level of the padding (255 = white, as "
                                       "the field pads DeepFashion).")
    workers: int = Field(2, ge=1, le=256, description="Parallel image decoders (joblib).",
                         json_schema_extra=EXECUTION)
    synthetic: SyntheticParams = SyntheticParams()

    @field_validator("annotations", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value] if value else []
        return value

    @field_validator("images", "pairs", "train_pairs")
    @classmethod
    def _inside_root(cls, value: str) -> str:
        return relative_inside(value, "data.root")

    @field_validator("annotations")
    @classmethod
    def _all_inside_root(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item:
                raise ValueError("holds an empty path (use [] for no annotation file)")
            try:
                relative_inside(item, "data.root")
            except ValueError as err:
                raise ValueError(f"{item!r} {err}") from None
        return value

    @field_validator("fit")
    @classmethod
    def _resize_is_stretch(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("resize") and value == "pad":
            raise ValueError("pad contradicts data.resize=true (the older spelling of "
                             "data.fit=stretch): set data.resize=false")
        return value

    @field_validator("split_by")
    @classmethod
    def _pairs_for_split(cls, value: str, info: ValidationInfo) -> str:
        if value == "pairs" and info.data.get("pairs") == "":
            raise ValueError("needs a test pairs file in data.pairs (got ''); use "
                             "data.split_by=fraction or folders")
        return value
