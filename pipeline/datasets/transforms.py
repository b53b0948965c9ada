"""Per-item transforms of the pair datasets (NumPy in, NumPy / torch out).

Frames follow :mod:`pipeline.geometry`: keypoints ``(18, 2)`` (y, x) pixels, -1 = missing;
pixel centres at integer coordinates; resizing maps edges to edges, so keypoints scale with
:func:`pipeline.geometry.scale_keypoints` and maps with :func:`resize_nearest`.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from pipeline.geometry import (flip_horizontal, pose_heatmaps, resize_nearest, scale_keypoints,
                               sigma_for)
from pipeline.labels import KEYPOINT_MIRROR, LABEL_MIRROR, PART_MIRROR

#: The mirror tables of pipeline.labels as int64 tensors (for indexing tensors).
_LABEL_MIRROR = torch.tensor(LABEL_MIRROR, dtype=torch.int64)
_KEYPOINT_MIRROR = torch.tensor(KEYPOINT_MIRROR, dtype=torch.int64)
_PART_MIRROR = torch.tensor(PART_MIRROR, dtype=torch.int64)

__all__ = ["flip_pair", "flip_theta", "image_to_tensor", "pose_inputs", "resize_nearest",
           "scale_keypoints"]


def pose_inputs(kp: np.ndarray, height: int, width: int, sigma: float | None = None
                ) -> np.ndarray:
    """The 18 pose heatmaps P of a pose at map resolution: ``(18, height, width)`` float32.

    kp: ``(18, 2)`` (y, x) pixels of the ``height x width`` map, -1 = missing (all-zero
    channel). sigma: pixels; default ``6 * height / 256`` (docs/method.md §1: 6 px at 256 px).
    """
    return pose_heatmaps(kp, height, width, sigma if sigma else sigma_for(height))


def image_to_tensor(image: np.ndarray, hw: tuple[int, int] | None = None) -> torch.Tensor:
    """``(H, W, 3)`` uint8 RGB -> ``(3, h, w)`` float32 in [-1, 1], resized to ``hw`` first
    (cv2 INTER_AREA when shrinking, INTER_LINEAR when enlarging; both map edges to edges)."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8, got {img.shape} {img.dtype}")
    if hw is not None and tuple(img.shape[:2]) != (int(hw[0]), int(hw[1])):
        shrink = hw[0] < img.shape[0] or hw[1] < img.shape[1]
        img = cv2.resize(img, (int(hw[1]), int(hw[0])),
                         interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float()
    return t.div_(127.5).sub_(1.0)


def flip_theta(theta: torch.Tensor) -> torch.Tensor:
    """Part thetas ``(..., 10, 2, 3)`` of the horizontally flipped pair.

    A flip is ``x -> -x`` in normalised coordinates (``S = diag(-1, 1, 1)``, exact in floating
    point), and the person's sides swap, so part j of the flipped pair is
    ``S @ theta[PART_MIRROR[j]] @ S``: the x row and the x column change sign (the x
    translation keeps its sign twice). Applying it twice gives theta back exactly.
    """
    t = theta[..., _PART_MIRROR, :, :].clone()
    t[..., 0, 1] = -t[..., 0, 1]
    t[..., 1, 0] = -t[..., 1, 0]
    t[..., 0, 2] = -t[..., 0, 2]
    return t


def _flip_affines(affines: torch.Tensor, width: int) -> torch.Tensor:
    """Pixel affines ``(..., 10, 2, 3)`` (float64) of the flipped pair: ``F A[mirror] F`` with
    ``F: x -> (width - 1) - x``."""
    a = affines[..., _PART_MIRROR, :, :]
    c = float(width - 1)
    out = a.clone()
    out[..., 0, 1] = -a[..., 0, 1]
    out[..., 1, 0] = -a[..., 1, 0]
    out[..., 0, 2] = c - (a[..., 0, 0] * c + a[..., 0, 2])
    out[..., 1, 2] = a[..., 1, 0] * c + a[..., 1, 2]
    return out


def flip_pair(item: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Horizontal flip of a pair item (source and target together), sides swapped.

    Keys (those of :mod:`pipeline.datasets.pairs`; absent keys are skipped):
    ``*_labels`` (H, W): pixels flipped, labels mirrored (LABEL_MIRROR: leftArm <-> rightArm,
    ...); ``*_heatmaps`` (18, H, W): flipped, channels mirrored (KEYPOINT_MIRROR);
    ``*_keypoints`` (18, 2): :func:`pipeline.geometry.flip_horizontal` in the map's width
    (a missing point stays -1; in float32 ``w-1-(w-1-x)`` may differ from x by one ulp);
    ``*_parts`` (10, H, W): flipped, parts mirrored (PART_MIRROR); ``*_pose_mask``,
    ``*_image``: flipped; ``theta``: :func:`flip_theta`; ``part_valid``: mirrored;
    ``affines``: the flipped pixel affines; ``back_*``: as ``theta`` / ``affines`` /
    ``part_valid``; ``*_index``: unchanged. An unknown key is an error
    (a new field must say how it flips). Returns a new dict.
    """
    width = int(item["src_labels"].shape[-1])
    out: dict[str, torch.Tensor] = {}
    for key, value in item.items():
        kind = key.split("_", 1)[1] if key.startswith(("src_", "tgt_", "back_")) else key
        if kind == "labels":
            out[key] = _LABEL_MIRROR.to(value.device)[value.flip(-1)]
        elif kind == "heatmaps":
            out[key] = value[_KEYPOINT_MIRROR].flip(-1)
        elif kind == "parts":
            out[key] = value[_PART_MIRROR].flip(-1)
        elif kind in ("pose_mask", "image"):
            out[key] = value.flip(-1)
        elif kind == "keypoints":
            kp = flip_horizontal(value.numpy().astype(np.float64), width)
            out[key] = torch.from_numpy(kp.astype(np.float32))
        elif kind == "theta":
            out[key] = flip_theta(value)
        elif kind == "part_valid":
            out[key] = value[_PART_MIRROR]
        elif kind == "affines":
            out[key] = _flip_affines(value, width)
        elif kind == "index":
            out[key] = value
        else:
            raise KeyError(f"flip_pair: no flip rule for item key {key!r}")
    return out
