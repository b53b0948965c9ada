"""Metrics, one file per metric plus one registry line each (stylegan2-ada style).

- :mod:`.parsing`: pixel accuracy and IoU per label / mIoU of label maps, accumulated over batches.
"""
from __future__ import annotations

from pipeline.metrics.parsing import ParsingScores

#: name -> accumulator class (``update(pred, true)``, ``result() -> dict``).
METRICS = {"parsing": ParsingScores}
