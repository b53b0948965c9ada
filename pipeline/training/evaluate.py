"""What the semantic network's maps are worth, measured (issue 8, "Measured, not assumed").

- :func:`evaluate_test_pairs`: on images.h5 ``/pairs/test`` against the target image's true
  parsing, the pixel accuracy and IoU (:class:`pipeline.metrics.parsing.ParsingScores`) of
  argmax S~_Pt and of two references that need no learning: the unchanged source map S_Ps
  (``source_map``) and the source map warped part by part into the target pose, f(S_Ps)
  (``part_warp``, :func:`pipeline.torch_utils.warp.warp_labels_by_parts`).
- :func:`evaluate_oracle`: on synthetic data, on training sources, the IoU of the prediction
  in the pseudo target's pose P*_t against the oracle's true map of the source person in that
  pose, beside the IoU of the pseudo target S*_Pt itself (the search's own error). Everything
  is compared at the network's map resolution (true maps resized by nearest neighbour).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from pipeline.metrics.parsing import ParsingScores
from pipeline.torch_utils.warp import warp_labels_by_parts

#: Training sources scored against the oracle at most (the first ones, in row order) [choice:
#: rendering costs ~10 ms per image at 256 px].
ORACLE_SOURCES = 512

Predict = Callable[[dict[str, torch.Tensor]], torch.Tensor]


def part_warp(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """f(S_Ps): (B, H, W) int64 source labels warped part by part into the target pose (exact
    nearest sampling from the pixel affines, as the search and its pictures warp them)."""
    return warp_labels_by_parts(batch["src_labels"], batch["theta"], batch["src_parts"],
                                batch["part_valid"], affines=batch.get("affines"))


def _loader(ds: Dataset, batch_size: int) -> DataLoader:
    return DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0)


def evaluate_test_pairs(predict: Predict, dataset: Dataset, batch_size: int = 16) -> dict:
    """{"model", "source_map", "part_warp"}: ParsingScores results on every test pair."""
    scores = {k: ParsingScores() for k in ("model", "source_map", "part_warp")}
    for batch in _loader(dataset, batch_size):
        true = batch["tgt_labels"]
        scores["model"].update(predict(batch).argmax(1).cpu(), true)
        scores["source_map"].update(batch["src_labels"], true)
        scores["part_warp"].update(part_warp(batch), true)
    out = {k: s.result() for k, s in scores.items()}
    out["pairs"] = len(dataset)  # type: ignore[arg-type]
    return out


def evaluate_oracle(predict: Predict, dataset: Dataset, truth_maps: Callable[
        [Sequence[int], Sequence[int]], np.ndarray], batch_size: int = 16,
        limit: int = ORACLE_SOURCES) -> dict:
    """{"model", "pseudo_target"}: ParsingScores of S~_Pt and S*_Pt against the oracle's
    truth on the first ``limit`` training pairs of ``dataset`` (no flips).

    truth_maps(src_rows, tgt_rows) -> (B, H, W) labels at map resolution: the source person of
    each images.h5 row rendered in the pose of the chosen candidate's row.
    """
    n = min(limit, len(dataset))  # type: ignore[arg-type]
    scores = {k: ParsingScores() for k in ("model", "pseudo_target")}
    for batch in _loader(Subset(dataset, range(n)), batch_size):
        true = truth_maps(batch["src_index"].tolist(), batch["tgt_index"].tolist())
        scores["model"].update(predict(batch).argmax(1).cpu(), true)
        scores["pseudo_target"].update(batch["tgt_labels"], true)
    out = {k: s.result() for k, s in scores.items()}
    out["sources"] = n
    return out


def oracle_truth_fn(data_root: Path, names: Sequence[str], map_hw: tuple[int, int]
                    ) -> Callable[[Sequence[int], Sequence[int]], np.ndarray]:
    """truth_maps for :func:`evaluate_oracle` from a synthetic dataset folder: the oracle
    renders the identity of images.h5 row ``s`` in the stored full skeleton of row ``c``
    (as the search report does), resized to ``map_hw`` by nearest neighbour."""
    from pipeline.datasets.transforms import resize_nearest
    from pipeline.synthetic.oracle import PoseSwap

    swap = PoseSwap.from_dir(data_root, list(names))

    def truth_maps(src_rows: Sequence[int], tgt_rows: Sequence[int]) -> np.ndarray:
        return np.stack([resize_nearest(swap.labels(s, c), map_hw)
                         for s, c in zip(src_rows, tgt_rows)])

    return truth_maps
