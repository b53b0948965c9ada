"""Scoring of pairs, written once: a learned model beside the references that need no learning
(:mod:`pipeline.evaluation.references`), on the same pairs in the same pass (docs/method.md §6).

Used by the training stages' end-of-training scores and by the `evaluate` stage:

- :class:`MapSystems`: pixel accuracy and IoU (:class:`pipeline.metrics.parsing.ParsingScores`)
  of the predicted target maps (``model``) and of ``source_map`` / ``part_warp`` against the
  target's true parsing (:func:`score_maps`: the semantic network's test pairs);
- :class:`ImageSystems`: the image metrics of the generated images (``model``) and of
  ``source`` / ``part_warp`` against the true target image, mask-SSIM on the target pose mask
  (:func:`score_images`: SSIM, mask-SSIM and L1 of the appearance network's test pairs;
  the `evaluate` stage's :func:`pipeline.evaluation.stage.score_pairs`: with every metric of
  :data:`pipeline.evaluation.metric_set.IMAGE_METRICS` and PCKh of the keypoints the pose
  detector finds in each image against the wanted pose P_t);
- :func:`score_oracle`: on synthetic data, the semantic network's maps on training sources
  against the oracle's true map of the source person in the pseudo target's pose.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from pipeline.evaluation.references import IMAGE_REFERENCES, MAP_REFERENCES
from pipeline.metrics.images import ImageScores, to_uint8
from pipeline.metrics.parsing import ParsingScores
from pipeline.metrics.pckh import PckhScores
from pipeline.metrics.ssim import SSIM_SETTINGS

if TYPE_CHECKING:
    from pipeline.inference.pose_detector import PoseDetector

#: The scored image systems, in report order.
SYSTEMS: tuple[str, ...] = ("model",) + tuple(IMAGE_REFERENCES)
#: Training sources scored against the oracle at most (the first ones, in row order) [choice:
#: rendering costs ~10 ms per image at 256 px].
ORACLE_SOURCES = 512

Batch = dict[str, Any]
#: A model's output for a batch: (B, 10, H, W) map scores or (B, 3, H, W) images in [-1, 1].
Predict = Callable[[Batch], torch.Tensor]


def batches(dataset: Dataset, batch_size: int) -> Iterator[tuple[np.ndarray, Batch]]:
    """(pair indices, collated batch) in dataset order."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    start = 0
    for batch in loader:
        n = len(next(iter(batch.values())))
        yield np.arange(start, start + n), batch
        start += n


# --------------------------------------------------------------------------- maps
class MapSystems:
    """ParsingScores of the predicted maps (``model``) and of the map references."""

    def __init__(self) -> None:
        self.scores = {k: ParsingScores() for k in ("model", *MAP_REFERENCES)}

    def update(self, batch: Batch, predicted: torch.Tensor) -> None:
        """predicted: (B, H, W) int64 labels at the resolution of ``batch["tgt_labels"]``."""
        true = batch["tgt_labels"]
        self.scores["model"].update(predicted, true)
        for name, reference in MAP_REFERENCES.items():
            self.scores[name].update(reference(batch), true)

    def result(self) -> dict[str, dict]:
        return {k: s.result() for k, s in self.scores.items()}


def score_maps(predict: Predict, dataset: Dataset, batch_size: int = 16) -> dict:
    """{"model", "source_map", "part_warp"}: ParsingScores results on every pair of
    ``dataset`` (test pairs at the network's map resolution), and "pairs"."""
    systems = MapSystems()
    for _, batch in batches(dataset, batch_size):
        systems.update(batch, predict(batch).argmax(1).cpu())
    out: dict[str, Any] = systems.result()
    out["pairs"] = len(dataset)  # type: ignore[arg-type]
    return out


def score_oracle(predict: Predict, dataset: Dataset,
                 truth_maps: Callable[[Sequence[int], Sequence[int]], np.ndarray],
                 batch_size: int = 16, limit: int = ORACLE_SOURCES) -> dict:
    """{"model", "pseudo_target"}: ParsingScores of S~_Pt and S*_Pt against the oracle's
    truth on the first ``limit`` training pairs of ``dataset`` (no flips), and "sources".

    truth_maps(src_rows, tgt_rows) -> (B, H, W) labels at map resolution: the source person of
    each images.h5 row rendered in the pose of the chosen candidate's row."""
    n = min(limit, len(dataset))  # type: ignore[arg-type]
    scores = {k: ParsingScores() for k in ("model", "pseudo_target")}
    for _, batch in batches(Subset(dataset, range(n)), batch_size):
        true = truth_maps(batch["src_index"].tolist(), batch["tgt_index"].tolist())
        scores["model"].update(predict(batch).argmax(1).cpu(), true)
        scores["pseudo_target"].update(batch["tgt_labels"], true)
    out: dict[str, Any] = {k: s.result() for k, s in scores.items()}
    out["sources"] = n
    return out


def oracle_truth_fn(data_root: Path, names: Sequence[str], map_hw: tuple[int, int]
                    ) -> Callable[[Sequence[int], Sequence[int]], np.ndarray]:
    """truth_maps for :func:`score_oracle` from a synthetic dataset folder: the oracle renders
    the identity of images.h5 row ``s`` in the stored full skeleton of row ``c`` (as the search
    report does), resized to ``map_hw`` by nearest neighbour."""
    from pipeline.datasets.transforms import resize_nearest
    from pipeline.synthetic.oracle import PoseSwap

    swap = PoseSwap.from_dir(data_root, list(names))

    def truth_maps(src_rows: Sequence[int], tgt_rows: Sequence[int]) -> np.ndarray:
        return np.stack([resize_nearest(swap.labels(s, c), map_hw)
                         for s, c in zip(src_rows, tgt_rows)])

    return truth_maps


# --------------------------------------------------------------------------- images
@dataclass
class SystemScores:
    """Every image metric of one system on one pair set: SSIM, mask-SSIM and L1 always, the
    registry's ``metrics`` and PCKh when given (``update`` per batch, ``result``)."""

    metrics: dict[str, Any] = field(default_factory=dict)
    images: ImageScores = field(default_factory=ImageScores)
    pckh: PckhScores | None = None

    def update(self, pred: np.ndarray, true: np.ndarray, masks: np.ndarray) -> None:
        """pred, true: (B, H, W, 3) uint8; masks: (B, H, W) target pose masks."""
        self.images.update(pred, true, masks)
        for m in self.metrics.values():
            m.update(pred, true, masks)

    def update_pose(self, keypoints: np.ndarray, wanted: np.ndarray) -> None:
        """keypoints: (B, 18, 2) detected in the images; wanted: (B, 18, 2) P_t, same frame."""
        assert self.pckh is not None
        self.pckh.update(keypoints, wanted)

    def result(self) -> dict[str, Any]:
        """ImageScores' result; with PCKh or registry metrics also ``pckh`` and their values
        and ``settings`` (a value whose key is taken is prefixed by its metric's name)."""
        out: dict[str, Any] = dict(self.images.result())
        if self.pckh is None and not self.metrics:
            return out
        if self.pckh is not None:
            out["pckh"] = (round(float(self.pckh.result()["pckh"]), 4) if len(self.pckh)
                           else None)
        settings: dict[str, Any] = {}
        for name, m in self.metrics.items():
            r = m.result()
            settings[name] = r.pop("settings", {})
            for key, value in r.items():
                out[key if key not in out else f"{name}_{key}"] = value
        out["settings"] = settings
        return out

    def per_pair(self) -> dict[str, list[float]]:
        """Per-pair values in pair order: ssim, mask_ssim, l1 (and lpips)."""
        s = self.images
        out = {"ssim": list(s.ssim_values), "mask_ssim": list(s.mask_ssim_values),
               "l1": list(s.l1_values)}
        lp = self.metrics.get("lpips")
        if lp is not None and hasattr(lp, "values"):
            out["lpips"] = [float(v) for v in lp.values]
        return out


class ImageSystems:
    """:class:`SystemScores` of the generated images (``model``) and of the image references
    on one pair set; with ``maps`` also the model's predicted maps (:class:`MapSystems`).

    make: builds one system's scores; detector: finds keypoints for PCKh (None: no PCKh)."""

    def __init__(self, make: Callable[[], SystemScores] = SystemScores,
                 detector: PoseDetector | None = None, maps: MapSystems | None = None) -> None:
        self.systems = {k: make() for k in SYSTEMS}
        self.detector, self.maps, self.pairs = detector, maps, 0

    def update(self, batch: Batch, generated: torch.Tensor) -> dict[str, np.ndarray]:
        """Score a batch; returns each system's (B, H, W, 3) uint8 images. generated: I~_Pt
        (B, 3, H, W) in [-1, 1]; the batch's maps and masks at the image resolution."""
        true = batch["tgt_image"]
        masks = batch["tgt_pose_mask"][:, 0]
        if tuple(masks.shape[-2:]) != tuple(true.shape[-2:]):
            raise ValueError(f"tgt_pose_mask is {tuple(masks.shape[-2:])} but tgt_image is "
                             f"{tuple(true.shape[-2:])}: build the dataset with "
                             f"map_hw = image_hw")
        true8, masks = to_uint8(true), masks.numpy() > 0.5
        images = {"model": to_uint8(generated)}
        images.update({k: to_uint8(ref(batch)) for k, ref in IMAGE_REFERENCES.items()})
        for name, pred in images.items():
            self.systems[name].update(pred, true8, masks)
            if self.detector is not None:
                self.systems[name].update_pose(self.detector.keypoints(pred),
                                               batch["tgt_keypoints"].numpy())
        self.pairs += len(true8)
        return images

    def result(self) -> dict[str, Any]:
        """Each system's result; with maps also ``maps`` (mIoU and pixel accuracy); and
        ``pairs``."""
        out: dict[str, Any] = {k: s.result() for k, s in self.systems.items()}
        if self.maps is not None:
            out["maps"] = {k: _parsing_summary(r) for k, r in self.maps.result().items()}
        out["pairs"] = self.pairs
        return out

    def per_pair(self, system: str = "model") -> dict[str, list[float]]:
        """Per-pair values of ``system`` in pair order: ssim, mask_ssim, l1 (and lpips)."""
        return self.systems[system].per_pair()


def score_images(generate: Predict, dataset: Dataset, batch_size: int = 16) -> dict:
    """{"model", "source", "part_warp"} (each {"ssim", "mask_ssim", "l1", "pairs"}), "pairs"
    and "settings" (:data:`pipeline.metrics.ssim.SSIM_SETTINGS`) on every pair of ``dataset``
    (a ``TestPairDataset(prepared, map_hw=image_hw, image_hw=image_hw)``); generate(batch) ->
    (B, 3, H, W) in [-1, 1] on any device, run under ``torch.no_grad``."""
    systems = ImageSystems()
    with torch.no_grad():
        for _, batch in batches(dataset, batch_size):
            systems.update(batch, generate(batch).cpu())
    return dict(systems.result(), settings=dict(SSIM_SETTINGS))


def _parsing_summary(r: dict[str, Any]) -> dict[str, Any]:
    keep = ("miou", "pixel_accuracy", "accuracy")
    return {k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
            for k, v in r.items() if k in keep}
