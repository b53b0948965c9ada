"""A small in-memory pair dataset with the item layout of pipeline.datasets.pairs (no files),
for loop, resume and DDP tests that must not depend on the artifacts."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.config.semantic import SemanticParams
from pipeline.torch_utils.distributed import DistInfo
from pipeline.training.semantic.stage import SemanticStage
from pipeline.training.stage import Training

#: Tiny training setting of the tests: 32x32 maps, width 4, two scales.
TINY_SEMANTIC = dict(height=32, width=32, channels=4, depth=2, max_channels=8, disc_channels=4,
                     disc_layers=2, batch_size=4, iterations=8, log_every=2, sample_every=4,
                     checkpoint_every=3, sample_count=2, device="cpu", threads=1, workers=0)


def tiny_params(**over) -> SemanticParams:
    kw = dict(TINY_SEMANTIC)
    kw.update(over)
    return SemanticParams(**kw)


def semantic_training(sp: SemanticParams, dist: DistInfo, dataset: Dataset) -> Training:
    """The semantic stage's sampler, loader and seeded scheme over ``dataset`` (params: just
    the semantic section)."""
    return SemanticStage().build(SimpleNamespace(semantic=sp), dist, dataset)


class FakePairs(Dataset):
    """``n`` pairs of blob label maps; item ``(index, epoch)`` is a pure function of both."""

    def __init__(self, n: int = 10, hw: tuple[int, int] = (32, 32), seed: int = 0) -> None:
        self.n, self.hw, self.seed = n, hw, seed

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key) -> dict[str, torch.Tensor]:
        index, epoch = key if isinstance(key, (tuple, list)) else (key, 0)
        rng = np.random.default_rng([self.seed, int(index)])
        h, w = self.hw
        yy, xx = np.mgrid[:h, :w]
        item: dict[str, torch.Tensor] = {}
        for side in ("src", "tgt"):
            cy, cx = rng.uniform(8, h - 8), rng.uniform(8, w - 8)
            lab = np.zeros((h, w), np.int64)
            lab[(yy - cy) ** 2 + (xx - cx) ** 2 < 40] = rng.integers(1, 10)
            lab[np.abs(yy - cy) < 2] = rng.integers(1, 10)
            kp = np.stack([rng.uniform(0, h, 18), rng.uniform(0, w, 18)], 1).astype(np.float32)
            heat = np.exp(-((yy[None] - kp[:, :1, None]) ** 2 + (xx[None] - kp[:, 1:, None]) ** 2)
                          / 8.0).astype(np.float32)
            if epoch % 2 == 1:                             # an epoch-dependent augmentation
                lab, heat = lab[:, ::-1].copy(), heat[:, :, ::-1].copy()
            item[f"{side}_labels"] = torch.from_numpy(lab)
            item[f"{side}_heatmaps"] = torch.from_numpy(heat)
            item[f"{side}_pose_mask"] = torch.from_numpy((lab > 0).astype(np.float32))[None]
            item[f"{side}_keypoints"] = torch.from_numpy(kp)
        theta = np.zeros((10, 2, 3), np.float32)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = rng.uniform(-0.2, 0.2, (10, 2))
        parts = np.zeros((10, h, w), np.float32)
        parts[0] = 1.0
        item.update(theta=torch.from_numpy(theta), src_parts=torch.from_numpy(parts),
                    part_valid=torch.ones(10, dtype=torch.bool),
                    src_index=torch.tensor(int(index)), tgt_index=torch.tensor(int(index)))
        return item
