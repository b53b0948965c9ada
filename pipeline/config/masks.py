"""Schema of the `masks` section: the body-part masks and the pose mask per image (stage
`masks`, docs/method.md §3)."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from pipeline.config.base import EXECUTION, _Section


class MasksParams(_Section):
    """Stage `masks`: 10 body-part masks and the PG2 pose mask per image -> masks.h5."""

    SECTION: ClassVar[str] = "masks"

    workers: int = Field(2, ge=1, le=256, description="Parallel workers (joblib).",
                         json_schema_extra=EXECUTION)
