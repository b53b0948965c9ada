"""Parsing quality of label maps: pixel accuracy, IoU per label and mIoU, over many batches.

Definitions [choice, the field's usual ones; same mIoU as eval/search_report.json]:
- the confusion matrix C[t, p] counts pixels of true label t predicted as p, summed over every
  update (IoU is computed on the pooled counts, not averaged per image);
- IoU_l = C[l, l] / (sum_p C[l, p] + sum_t C[t, l] - C[l, l]); a label absent from both truth
  and prediction has no IoU (left out, not counted as 1 or 0);
- ``miou`` = mean IoU over the 9 person labels (1..9) that have one; ``miou_all`` also counts
  background; ``pixel_accuracy`` = trace(C) / sum(C) over all pixels, background included.
"""
from __future__ import annotations

import numpy as np
import torch

from pipeline.labels import LABEL_NAMES, NUM_LABELS


class ParsingScores:
    """Accumulates a (10, 10) int64 confusion matrix of label maps.

    >>> s = ParsingScores(); s.update(pred, true); s.result()["miou"]
    """

    def __init__(self, num_labels: int = NUM_LABELS) -> None:
        self.num_labels = num_labels
        self.confusion = np.zeros((num_labels, num_labels), np.int64)

    def update(self, pred: torch.Tensor | np.ndarray, true: torch.Tensor | np.ndarray) -> None:
        """Add label maps of equal shape, e.g. (B, H, W) or (H, W), integer values 0..9."""
        p = _numpy(pred).astype(np.int64).ravel()
        t = _numpy(true).astype(np.int64).ravel()
        if p.shape != t.shape:
            raise ValueError(f"prediction {tuple(_numpy(pred).shape)} and truth "
                             f"{tuple(_numpy(true).shape)} differ in shape")
        k = self.num_labels
        if p.size and (p.min() < 0 or p.max() >= k or t.min() < 0 or t.max() >= k):
            raise ValueError(f"labels must lie in 0..{k - 1}")
        self.confusion += np.bincount(t * k + p, minlength=k * k).reshape(k, k)

    def merge(self, other: "ParsingScores") -> None:
        """Add another accumulator's counts (e.g. from another process)."""
        self.confusion += other.confusion

    def iou(self) -> np.ndarray:
        """(10,) float64 IoU per label; NaN where the label is in neither map."""
        c = self.confusion
        inter = np.diag(c).astype(np.float64)
        union = c.sum(0) + c.sum(1) - np.diag(c)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, inter / np.maximum(union, 1), np.nan)

    def result(self, digits: int = 4) -> dict:
        """{"pixel_accuracy", "miou" (person labels), "miou_all", "per_label_iou" {name: IoU}}
        rounded to ``digits``; None where nothing was counted."""
        total = int(self.confusion.sum())
        iou = self.iou()
        person = iou[1:][~np.isnan(iou[1:])]
        every = iou[~np.isnan(iou)]
        r = lambda v: None if v is None else round(float(v), digits)  # noqa: E731
        return {
            "pixel_accuracy": r(np.trace(self.confusion) / total) if total else None,
            "miou": r(person.mean()) if person.size else None,
            "miou_all": r(every.mean()) if every.size else None,
            "per_label_iou": {LABEL_NAMES[l] if self.num_labels == NUM_LABELS else str(l):
                              r(iou[l]) for l in range(self.num_labels) if not np.isnan(iou[l])},
            "pixels": total,
        }


def _numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)
