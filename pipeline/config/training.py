"""Base of the training sections (`semantic`, `posenet`, `appearance`): their shared
execution-only keys, and the check that a network's depth fits its resolution."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from pipeline.config.base import EXECUTION, _Section


class _TrainingExecution(_Section):
    """Execution-only keys shared by the training stages: how a run is executed, never what it
    produces (changing them never reruns a stage)."""

    checkpoint_every: int = Field(100, ge=1, description="Steps between checkpoints (resume "
                                                         "gives the same weights: execution).",
                                  json_schema_extra=EXECUTION)
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Compute device.",
                                                   json_schema_extra=EXECUTION)
    amp: Literal["off", "bf16", "fp16"] = Field("off", description="Mixed precision.",
                                                json_schema_extra=EXECUTION)
    channels_last: bool = Field(False, description="channels_last memory layout (CUDA).",
                                json_schema_extra=EXECUTION)
    workers: int = Field(1, ge=0, le=256, description="DataLoader worker processes.",
                         json_schema_extra=EXECUTION)
    threads: int = Field(2, ge=1, le=1024, description="CPU intra-op threads per process "
                                                       "(bit-reproducible per torch build and "
                                                       "thread count).",
                         json_schema_extra=EXECUTION)

    @field_validator("amp", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted `off` as false (DVC's `-S semantic.amp=off` writes it so)
        return "off" if value is False else value


def check_depth(section: str, height: int, width: int, depth: int, key: str = "depth") -> None:
    """ValueError unless ``depth`` halvings of height x width give integer sides >= 2 px;
    key: the name of the depth key in ``section``."""
    f = 2 ** depth
    if height % f or width % f:
        raise ValueError(
            f"{section}.height x {section}.width = {height} x {width} is not divisible by "
            f"2**{section}.{key} = {f}: use multiples of {f} or a smaller {key}")
    if min(height, width) // f < 2:
        raise ValueError(f"{section}.{key} = {depth} leaves less than 2 px at "
                         f"{height} x {width}: lower {section}.{key}")
