"""Unpaired truth: test identities rendered by the synthetic oracle in poses they never had
(poses of other persons' images).

The published benchmarks score only test pairs whose target photograph exists (the same person
photographed twice). On the synthetic data the oracle (:mod:`pipeline.synthetic.oracle`) renders
any identity in any skeleton, so a source person can be scored in the pose of ANOTHER test
identity, the case a user of pose transfer cares about, against the image that person would
really make in that pose.

Items have the keys of :class:`pipeline.datasets.pairs.TestPairDataset` (``cycle=False``); the
target side comes from the oracle's rendering of the source identity in the pose row's full
skeleton: its keypoints (P_t), its true parsing (``tgt_labels``), the pose mask of those
keypoints (M_Pt) and its image (``tgt_image``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.artifacts.codes import SPLIT_TEST
from pipeline.datasets.pairs import DatasetError, PersonArrays, TestPairDataset
from pipeline.geometry import pose_mask
from pipeline.synthetic.oracle import PoseSwap
from pipeline.synthetic.truth import read_truth


def draw_unpaired(person_id: np.ndarray, split: np.ndarray, count: int, seed: int
                  ) -> np.ndarray:
    """``count`` (source row, pose row) pairs, drawn without repeating a pair (as many as exist
    when fewer do): (n, 2) int64, sorted. Sources are test rows; poses are rows of any split
    whose person differs from the source's, so the identity never had that pose.

    person_id: (N,) identity of each row; split: (N,) split codes (test = SPLIT_TEST).
    """
    pid = np.asarray(person_id)
    test = np.flatnonzero(np.asarray(split) == SPLIT_TEST)
    rows = np.arange(len(pid))
    candidates = np.array([(s, p) for s in test for p in rows if pid[p] != pid[s]],
                          np.int64).reshape(-1, 2)
    if len(candidates) == 0:
        return candidates
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(candidates), size=min(int(count), len(candidates)), replace=False)
    return candidates[np.sort(pick)]


class UnpairedDataset(TestPairDataset):
    """(source row, pose row) pairs rendered by the oracle (module docstring).

    prepared: data/prepared; raw_root: the synthetic dataset folder (its truth.h5); pairs:
    (n, 2) rows of images.h5 (:func:`draw_unpaired`); map_hw / image_hw as for
    :class:`TestPairDataset`. The oracle renders at the dataset's frame size; maps and images
    are resized like the prepared ones.
    """

    __test__ = False

    def __init__(self, prepared: Path | str, raw_root: Path | str, pairs: np.ndarray,
                 map_hw: tuple[int, int], image_hw: tuple[int, int] | None = None,
                 sigma: float = 0.0) -> None:
        super().__init__(prepared, map_hw, image_hw, cycle=False, sigma=sigma)
        self.pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in self.arts["images"]["names"][:]]
        try:
            self.swap = PoseSwap(read_truth(raw_root), names)
        except (OSError, KeyError, ValueError) as err:
            raise DatasetError(f"{raw_root}: cannot read the synthetic truth for unpaired "
                               f"scoring ({err}); unpaired truth exists only for "
                               f"data.source = synthetic") from None

    def __getitem__(self, key: int | tuple[int, Any]) -> dict[str, torch.Tensor]:
        index = int(key[0] if isinstance(key, (tuple, list)) else key)
        if not 0 <= index < len(self.pairs):
            raise IndexError(f"item {index} out of range 0..{len(self.pairs) - 1}")
        src, pose_row = (int(v) for v in self.pairs[index])
        truth = self.swap.render(src, pose_row)
        if tuple(truth.image.shape[:2]) != tuple(self.frame_hw):
            raise DatasetError(f"oracle renders {truth.image.shape[:2]} but images.h5 holds "
                               f"{self.frame_hw} frames")
        kp = np.asarray(truth.keypoints, np.float32)
        target = PersonArrays(kp, pose_mask(kp, *self.frame_hw), truth.labels,
                              image=truth.image if self.image_hw is not None else None)
        return self._pair(src, pose_row, target)
