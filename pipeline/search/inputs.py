"""Working-resolution inputs of the search: poses, label maps and part masks of every image.

The search runs at ``search.height x search.width`` (e.g. 64x64); keypoints are rescaled
with :func:`pipeline.geometry.scale_keypoints` (edges to edges) and label maps are
resampled by nearest neighbour at the same pixel centres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.geometry import (NUM_PARTS, part_bitfield, resize_nearest, scale_keypoints,
                               torso_size, torso_valid)


@dataclass
class SearchInputs:
    """Everything the search reads, at working resolution ``(h, w)``.

    keypoints: (N, 18, 2) float64 (y, x) working-res pixels, -1 missing.
    labels: (N, h, w) uint8 in the 10 labels of docs/method.md §2 (0 background).
    parts: (N, h, w) uint16 part bitfield (bit j = part j) drawn on each pose at (h, w).
    bbox: (N, 10, 4) int64 [y0, y1, x0, x1] inclusive box of the person pixels (label != 0)
        inside each part mask; y0 > y1 when the part holds none.
    torso_ok: (N,) bool, all four torso points present.
    torso_size: (N,) float64, st in working-res pixels (NaN without a torso).
    """

    keypoints: np.ndarray
    labels: np.ndarray
    parts: np.ndarray
    bbox: np.ndarray
    torso_ok: np.ndarray
    torso_size: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.labels.shape[1]), int(self.labels.shape[2])

    def __len__(self) -> int:
        return len(self.keypoints)


def part_label_bboxes(labels: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """(h, w) labels + (h, w) bitfield -> (10, 4) int64 boxes of person pixels per part."""
    out = np.empty((NUM_PARTS, 4), np.int64)
    person = labels != 0
    for j in range(NUM_PARTS):
        m = person & ((parts >> j) & 1).astype(bool)
        ys = np.flatnonzero(m.any(axis=1))
        if ys.size == 0:
            out[j] = (1, 0, 1, 0)
            continue
        xs = np.flatnonzero(m.any(axis=0))
        out[j] = (ys[0], ys[-1], xs[0], xs[-1])
    return out


def build_inputs(keypoints: np.ndarray, labels: np.ndarray, image_hw: tuple[int, int],
                 work_hw: tuple[int, int], work_labels: np.ndarray | None = None
                 ) -> SearchInputs:
    """Rescale poses and label maps of N images to the working resolution.

    keypoints: (N, 18, 2) (y, x) image pixels, -1 missing; labels: (N, H, W) uint8 at image
    resolution ``image_hw``, resampled by nearest neighbour unless ``work_labels`` (N, h, w)
    uint8 gives them at ``work_hw`` already. Returns :class:`SearchInputs` at ``work_hw``.
    """
    h, w = work_hw
    kp = scale_keypoints(np.asarray(keypoints, np.float64), image_hw, work_hw)
    if work_labels is None:
        lab = np.ascontiguousarray(resize_nearest(np.asarray(labels, np.uint8), (h, w)))
    else:
        lab = np.ascontiguousarray(work_labels, np.uint8)
        if lab.shape != (len(kp), h, w):
            raise ValueError(f"work_labels has shape {lab.shape}, expected {(len(kp), h, w)}")
    ok = np.asarray(torso_valid(kp), dtype=bool).reshape(len(kp))
    parts = np.zeros((len(kp), h, w), np.uint16)
    bbox = np.empty((len(kp), NUM_PARTS, 4), np.int64)
    for i in range(len(kp)):
        if ok[i]:
            parts[i] = part_bitfield(kp[i], h, w)
        bbox[i] = part_label_bboxes(lab[i], parts[i])
    st = np.asarray(torso_size(kp), np.float64).reshape(len(kp))
    return SearchInputs(kp, lab, parts, bbox, ok, st)
