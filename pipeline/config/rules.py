"""Rules across sections of params.yaml (a value of one section that another one rules out).

Each rule names the sections it reads; the full validation
(:class:`pipeline.config.params.Params`) checks every rule, a partial load
(:func:`pipeline.config.loader.load_sections`) the rules whose sections it loaded. Imports no
section module: a rule reads its sections by attribute.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any


def _pose_backend_needs_its_source(params: Any) -> None:
    """pose.backend = synthetic reads the synthetic ground truth; annotations reads
    data.annotations."""
    if params.pose.backend == "synthetic" and params.data.source != "synthetic":
        raise ValueError(f"pose.backend = 'synthetic' needs data.source = 'synthetic' "
                         f"(got {params.data.source!r}); use annotations, mediapipe or auto")
    if params.pose.backend == "annotations" and not params.data.annotations:
        raise ValueError("pose.backend = 'annotations' needs at least one file in "
                         "data.annotations (or use mediapipe / auto)")


def _parse_backend_needs_its_source(params: Any) -> None:
    """parse.backend = synthetic reads the synthetic ground truth."""
    if params.parse.backend == "synthetic" and params.data.source != "synthetic":
        raise ValueError(f"parse.backend = 'synthetic' needs data.source = 'synthetic' "
                         f"(got {params.data.source!r}); use labels or coarse")


#: (sections a rule reads, the rule), checked in this order; a rule raises ValueError.
RULES: tuple[tuple[frozenset[str], Callable[[Any], None]], ...] = (
    (frozenset({"data", "pose"}), _pose_backend_needs_its_source),
    (frozenset({"data", "parse"}), _parse_backend_needs_its_source),
)


def check_across_sections(params: Any, loaded: Collection[str]) -> None:
    """Check every rule of :data:`RULES` whose sections are all in ``loaded`` (section
    names) on ``params`` (sections as attributes); ValueError from the first that fails."""
    for needs, rule in RULES:
        if needs <= set(loaded):
            rule(params)
