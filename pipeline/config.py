"""params.yaml: the pipeline's single configuration source, validated on load.

Each stage reads only its own section(s). Every key is typed and range-checked; an
unknown key, a wrong type or an out-of-range value raises :class:`ParamsError`
naming the file, the key, the value and what is allowed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

DEFAULT_PARAMS = Path("params.yaml")


class ParamsError(ValueError):
    """A params.yaml that does not validate; the message names every bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# --------------------------------------------------------------------------- data
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


class DataParams(_Section):
    """Which dataset the pipeline runs on (stages `synthesize`, `ingest`).

    Every input lives under one dataset folder ``root`` (the `ingest` stage's DVC
    dependency); ``images``, ``annotations`` and ``pairs`` are relative to it.
    """

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
        "pairs", description="pairs: identities in the test pairs are test; folders: images "
                             "under a folder whose name contains 'test' are test (Pose-Transfer "
                             "and Market-1501 layouts); fraction: `test_fraction` of identities.")
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0,
                                 description="split_by=fraction: share of identities in test.")
    height: int = Field(256, ge=16, le=4096, description="Stored image height (px).")
    width: int = Field(256, ge=16, le=4096, description="Stored image width (px).")
    resize: bool = Field(False, description="Resize images of another size instead of "
                                            "leaving them out.")
    workers: int = Field(2, ge=1, le=256, description="Parallel image decoders (joblib).")
    synthetic: SyntheticParams = SyntheticParams()

    @field_validator("annotations", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value] if value else []
        return value


# --------------------------------------------------------------------------- top level
class Params(_Section):
    """The whole params.yaml."""

    data: DataParams = DataParams()

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if value is None:
            return {}
        return value


def _format_errors(path: Path, raw: dict, err: ValidationError) -> str:
    lines = [f"{path}: invalid parameters:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key (not a parameter of this pipeline; "
                         f"check the spelling against the README)")
            continue
        value: Any = raw
        for p in e["loc"]:
            value = value.get(p) if isinstance(value, dict) else None
        lines.append(f"  {key} = {value!r}: {e['msg']}")
    return "\n".join(lines)


def validate(raw: dict, path: Path | str = DEFAULT_PARAMS) -> Params:
    """Validate a params mapping; raise :class:`ParamsError` naming every bad key."""
    path = Path(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: the top level must be a mapping of sections, "
                          f"got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ParamsError(_format_errors(path, raw, err)) from None


def load_params(path: Path | str = DEFAULT_PARAMS) -> Params:
    """Read and validate params.yaml (missing sections take their defaults)."""
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: parameters file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    return validate(raw, path)


def section_dict(section: BaseModel) -> dict:
    """Plain-dict form of a params section (for HDF5 provenance attributes)."""
    return section.model_dump(mode="json")
