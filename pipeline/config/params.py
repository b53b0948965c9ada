"""The whole params.yaml: every section, the rules across them, and the full validation.

Used by the always-run `validate` stage, the tests, the benchmarks, the profiles and the
applications. A stage script loads only its own sections instead
(:func:`pipeline.config.loader.load_sections`), so that its DVC code deps hold only their
schema modules; library code annotates ``params: Params`` under ``if TYPE_CHECKING:``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, model_validator

from pipeline.config import base
from pipeline.config.appearance import AppearanceParams
from pipeline.config.base import DEFAULT_PARAMS, SECTION_NAMES, ParamsError, _Section
from pipeline.config.data import DataParams
from pipeline.config.evaluate import EvaluateParams
from pipeline.config.loader import check_top_level, format_errors, read_params_file
from pipeline.config.loss import LossParams
from pipeline.config.masks import MasksParams
from pipeline.config.parse import ParseParams
from pipeline.config.pose import PoseParams
from pipeline.config.posenet import PosenetParams
from pipeline.config.rules import check_across_sections
from pipeline.config.search import SearchParams
from pipeline.config.semantic import SemanticParams


class Params(_Section):
    """The whole params.yaml."""

    data: DataParams = DataParams()
    pose: PoseParams = PoseParams()
    parse: ParseParams = ParseParams()
    masks: MasksParams = MasksParams()
    search: SearchParams = SearchParams()
    semantic: SemanticParams = SemanticParams()
    posenet: PosenetParams = PosenetParams()
    appearance: AppearanceParams = AppearanceParams()
    loss: LossParams = LossParams()
    evaluate: EvaluateParams = EvaluateParams()

    @model_validator(mode="after")
    def _consistent(self) -> "Params":
        check_across_sections(self, SECTION_NAMES)
        return self

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if value is None:
            return {}
        return value


def validate(raw: dict, path: Path | str = DEFAULT_PARAMS) -> Params:
    """Validate a params mapping; raise :class:`ParamsError` naming every bad key."""
    path = Path(path)
    raw = check_top_level(raw, path)
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ParamsError(format_errors(path, raw, err)) from None


def load_params(path: Path | str = DEFAULT_PARAMS) -> Params:
    """Read and validate params.yaml (missing sections take their defaults)."""
    path = Path(path)
    return validate(read_params_file(path), path)


def execution_keys(model: type[BaseModel] | None = None, prefix: str = "") -> set[str]:
    """Dotted keys of every execution-only field of the schema, e.g. {"search.workers", ...}.

    Computed from the ``EXECUTION`` marks, recursing into sections (default: all of Params).
    """
    return base.execution_keys(Params if model is None else model, prefix)
