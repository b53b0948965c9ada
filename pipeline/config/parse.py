"""Schema of the `parse` section: the 10-label semantic map per image (stage `parse`,
docs/method.md §2)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from pipeline.config.base import EXECUTION, _Section, relative_inside


class ParseParams(_Section):
    """Stage `parse`: a 10-label semantic map per image -> parsing.h5."""

    SECTION: ClassVar[str] = "parse"

    backend: Literal["synthetic", "labels", "coarse"] = Field(
        "synthetic", description="synthetic: ground truth; labels: maps of an external parser; "
                                 "coarse: weight-free geometric parser (not a trained parser).")
    labels_dir: str = Field("parsing", description="labels: folder of label maps (PNG or NPY "
                                                   "named like the images) inside data.root.")
    label_set: Literal["lip", "cihp", "atr", "spt10"] = Field(
        "spt10", description="labels: label set of the maps.")
    mapping: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per label set: source label name -> one of the 10 "
                                          "labels (or nearest_arm / nearest_leg).")
    workers: int = Field(2, ge=1, le=256, description="Parallel workers (joblib).",
                         json_schema_extra=EXECUTION)

    @field_validator("labels_dir")
    @classmethod
    def _inside_root(cls, value: str) -> str:
        return relative_inside(value, "data.root")

    @field_validator("mapping")
    @classmethod
    def _known_labels(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from pipeline.parser_labels import DEFAULT_MAPPINGS, validate_mapping

        for label_set, mapping in value.items():
            if label_set not in DEFAULT_MAPPINGS or label_set == "spt10":
                raise ValueError(f"unknown label set {label_set!r} (lip, cihp or atr)")
            merged = dict(DEFAULT_MAPPINGS[label_set])
            merged.update(mapping)
            validate_mapping(label_set, merged)
        return value
