"""Shared command-line plumbing of the stage scripts: clean errors instead of tracebacks."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from pipeline.annotations import AnnotationError
from pipeline.artifacts.reader import ArtifactError
from pipeline.config.base import ParamsError

#: Errors caused by the user's inputs: printed as one clear message, exit status 1.
USER_ERRORS: tuple[type[BaseException], ...] = (ParamsError, AnnotationError, ArtifactError,
                                                FileNotFoundError)


def run_stage(name: str, main: Callable[[], None],
              extra_errors: tuple[type[BaseException], ...] = ()) -> None:
    """Run a stage's main(); report input errors as ``<stage>: error: <message>`` and exit 1.

    Set SPT_TRACEBACK=1 to see the full traceback instead.
    """
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    try:
        main()
    except USER_ERRORS + extra_errors as err:
        if os.environ.get("SPT_TRACEBACK"):
            raise
        print(f"{name}: error: {err}", file=sys.stderr)
        sys.exit(1)


def capped_lines(items: Sequence[str], limit: int, indent: str = "  ") -> list[str]:
    """Console lines naming ``items``: the first ``limit``, indented, then "... and N more"."""
    lines = [f"{indent}{item}" for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"{indent}... and {len(items) - limit} more")
    return lines
