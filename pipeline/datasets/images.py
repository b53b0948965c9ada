"""Single images with their keypoints: the pose detector's dataset (stage `train_posenet`).

Rows of images.h5 of one split (``/split``: :data:`pipeline.artifacts.codes.SPLIT_TRAIN` /
:data:`~pipeline.artifacts.codes.SPLIT_TEST`, written by the ingest stage) whose pose (poses.h5
``/keypoints``) has at least one present point; rows with every point missing are left out and
counted (:attr:`PoseImageDataset.left_out`). An item (h, w = ``hw``)::

    image      (3, h, w) f32    in [-1, 1] (resized from the stored frame, cv2 INTER_AREA)
    heatmaps   (18, h, w) f32   pose heatmaps of the keypoints (sigma 6 px at 256 px)
    keypoints  (18, 2) f32      (y, x) pixels of the h x w frame, -1 = missing
    index      () int64         row of images.h5
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.artifacts.codes import SPLIT_NAMES, SPLIT_TEST, SPLIT_TRAIN
from pipeline.artifacts.paths import artifact_path
from pipeline.artifacts.reader import Artifact
from pipeline.datasets.pairs import FLIP_PROBABILITY, DatasetError
from pipeline.datasets.transforms import image_to_tensor, pose_inputs, scale_keypoints
from pipeline.geometry import flip_horizontal

#: Split names accepted by :class:`PoseImageDataset` -> /split codes of images.h5.
SPLITS = {"train": SPLIT_TRAIN, "test": SPLIT_TEST}


class PoseImageDataset(Dataset):
    """Images of one split with their keypoints and heatmaps (see the module docstring).

    prepared: folder of images.h5 and poses.h5. hw: the network's input size ``(h, w)``.
    split: ``"train"`` or ``"test"``. flip: horizontal flip with probability 0.5 (keypoints
    mirrored: the person's right becomes the left, :data:`pipeline.labels.KEYPOINT_MIRROR`),
    decided by ``(seed, epoch, index)`` so an item is a pure function of its index and epoch;
    the epoch is :meth:`set_epoch`'s, or comes with the key when the sampler yields
    ``(index, epoch)`` pairs (``ResumableSampler(with_epoch=True)``). sigma: heatmap
    Gaussian sigma in px of ``hw`` (0 = 6 px x height / 256).

    Attributes: ``rows`` (n,) int64 images.h5 rows of the items; ``left_out``: rows of the split
    without a single keypoint; ``frame_hw``: the stored image size; ``keypoints``
    (N, 18, 2) float32 of every row at the stored frame.
    """

    def __init__(self, prepared: Path | str, hw: tuple[int, int], split: str = "train",
                 flip: bool = False, seed: int = 0, sigma: float = 0.0) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        h, w = (int(v) for v in hw)
        if h < 1 or w < 1:
            raise ValueError(f"hw must be two positive sizes, got {hw}")
        self.prepared, self.hw, self.split = Path(prepared), (h, w), split
        self.sigma = float(sigma)
        self.images = Artifact(artifact_path("images", self.prepared))
        poses = Artifact(artifact_path("poses", self.prepared))
        poses.check_aligned(self.images)
        self.frame_hw: tuple[int, int] = tuple(self.images["images"].shape[1:3])
        self.keypoints = poses["keypoints"][:].astype(np.float32)
        poses.close()
        codes = self.images["split"][:]
        in_split = codes == SPLITS[split]
        has_point = (self.keypoints >= 0).all(-1).any(-1)
        self.rows = np.flatnonzero(in_split & has_point).astype(np.int64)
        self.left_out = int((in_split & ~has_point).sum())
        if len(self.rows) == 0:
            raise DatasetError(
                f"{self.images.path}: no {SPLIT_NAMES[SPLITS[split]]}-split image with "
                f"keypoints ({int(in_split.sum())} in the split, {self.left_out} without a "
                f"single keypoint); check data.split_by and the pose stage (poses.h5)")
        self.flip, self.seed, self.epoch = bool(flip), int(seed), 0

    def __len__(self) -> int:
        return len(self.rows)

    def set_epoch(self, epoch: int) -> None:
        """Epoch of the flip decisions for plain integer keys."""
        self.epoch = int(epoch)

    def flipped(self, index: int, epoch: int) -> bool:
        """Whether item ``index`` is flipped in ``epoch`` (always False without ``flip``)."""
        if not self.flip:
            return False
        rng = np.random.default_rng([self.seed, int(epoch), int(index)])
        return bool(rng.random() < FLIP_PROBABILITY)

    def frame_keypoints(self, index: int) -> np.ndarray:
        """(18, 2) float32 keypoints of item ``index`` at the stored frame (never flipped)."""
        return self.keypoints[int(self.rows[index])]

    def __getitem__(self, key: int | tuple[int, Any]) -> dict[str, torch.Tensor]:
        index, epoch = key if isinstance(key, (tuple, list)) else (key, self.epoch)
        index = int(index)
        if not 0 <= index < len(self.rows):
            raise IndexError(f"item {index} out of range 0..{len(self.rows) - 1}")
        row = int(self.rows[index])
        h, w = self.hw
        image = image_to_tensor(self.images["images"][row], self.hw)
        kp = scale_keypoints(self.keypoints[row], self.frame_hw, self.hw)
        if self.flipped(index, epoch):
            image = image.flip(-1)
            kp = flip_horizontal(kp.astype(np.float64), w).astype(np.float32)
        return {"image": image, "heatmaps": torch.from_numpy(pose_inputs(kp, h, w, self.sigma)),
                "keypoints": torch.from_numpy(np.ascontiguousarray(kp, np.float32)),
                "index": torch.tensor(row, dtype=torch.int64)}
