"""The semantic stage's learning-curve scorer (:mod:`pipeline.training.curves`): mIoU of
G_S's predicted test maps and of the map references (the source map unchanged, the part warp
f(S_Ps)) against the true target maps, on fixed test pairs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import Dataset

from pipeline.evaluation.references import MAP_REFERENCES
from pipeline.evaluation.scoring import Batch, Predict
from pipeline.metrics.parsing import ParsingScores
from pipeline.training.curves import FixedBatches, Scores


class MapCurveScorer:
    """mIoU of G_S's predicted test maps and of the map references against the true target
    maps ``tgt_labels`` (B, H, W). predict(batch) -> (B, 10, H, W) label scores (the scheme's,
    eval mode, no gradients); dataset: test pairs at the network's map resolution. The
    references are scored on the first call and kept."""

    def __init__(self, predict: Predict, dataset: Dataset, batch_size: int = 16) -> None:
        self.predict = predict
        self.pairs = FixedBatches(dataset, batch_size)
        self._references: Scores | None = None

    def _score(self, labels: Callable[[Batch], torch.Tensor]) -> dict[str, float]:
        scores = ParsingScores()
        for batch in self.pairs.get():
            scores.update(labels(batch), batch["tgt_labels"])
        return {"miou": float(scores.result()["miou"])}

    def __call__(self) -> Scores:
        if self._references is None:
            self._references = {name: self._score(ref) for name, ref in MAP_REFERENCES.items()}
        return {"model": self._score(lambda b: self.predict(b).argmax(1).cpu()),
                **self._references}

    def settings(self) -> dict[str, Any]:
        return {"pairs": len(self.pairs),
                "miou": "mean IoU of the 10 labels against the true target maps "
                        "(pipeline/metrics/parsing.py)"}
