"""The 18 body keypoints: names, visibility, torso size, mirroring, scaling, heatmaps.

All functions take keypoints as float arrays of shape ``(18, 2)`` or a batch ``(N, 18, 2)``
holding ``(y, x)`` in pixels of the frame they were annotated in (pixel centres at integer
coordinates); a point is *missing* when either of its coordinates is negative (the files
store -1 in both). See :mod:`pipeline.geometry` for the conventions shared by the package.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import numpy as np

# The 18 names in docs/method.md §1 order (Deformable GAN's spelling) and their mirror table live in
# pipeline.labels [code].
from pipeline.labels import KEYPOINT_MIRROR, KEYPOINT_NAMES

NUM_KEYPOINTS: int = len(KEYPOINT_NAMES)  # 18 [code]
MISSING: float = -1.0  # value stored for a missing coordinate [code]

# Index of every keypoint (read-only mapping) and one constant per point [code, docs/method.md §1].
KP: Mapping[str, int] = MappingProxyType({n: i for i, n in enumerate(KEYPOINT_NAMES)})
NOSE, NECK, RSHO, RELB, RWRI, LSHO, LELB, LWRI = 0, 1, 2, 3, 4, 5, 6, 7
RHIP, RKNE, RANK, LHIP, LKNE, LANK, REYE, LEYE, REAR, LEAR = 8, 9, 10, 11, 12, 13, 14, 15, 16, 17
if (NUM_KEYPOINTS, KP["Rsho"], KP["Lwri"], KP["Rhip"], KP["Rear"]) != (18, RSHO, LWRI, RHIP, REAR):
    raise ImportError("pipeline.labels.KEYPOINT_NAMES is not in docs/method.md §1 order")

# Points that define the torso, in the order Deformable GAN fits the torso transform
# [Rhip, Lhip, Lsho, Rsho] [code, Deformable GAN `affine_transforms`].
TORSO_POINTS: tuple[int, ...] = (RHIP, LHIP, LSHO, RSHO)
# Head points (nose, eyes, ears) [code, Deformable GAN `pose_masks`/`affine_transforms`].
HEAD_POINTS: tuple[int, ...] = (NOSE, LEYE, REYE, LEAR, REAR)

# MIRROR[i] = index of the point on the other side of the person (L <-> R); nose and neck map
# to themselves. An involution. One definition: pipeline.labels.KEYPOINT_MIRROR [docs/method.md §1 order].
MIRROR: np.ndarray = KEYPOINT_MIRROR

# Heatmap Gaussian sigma: 6 px at a 256 px high frame [code, Deformable GAN `cords_to_map`].
HEATMAP_SIGMA_256: float = 6.0
HEATMAP_REFERENCE_HEIGHT: int = 256  # the frame height the 6 px refer to [code]


def _as_kp(kp: np.ndarray) -> np.ndarray:
    kp = np.asarray(kp)
    if kp.shape[-2:] != (NUM_KEYPOINTS, 2):
        raise ValueError(f"keypoints must have shape (..., 18, 2), got {kp.shape}")
    return kp


def visible(kp: np.ndarray) -> np.ndarray:
    """Which points are present: ``(..., 18, 2) -> (..., 18) bool``.

    A point is missing when either coordinate is negative (or NaN).
    """
    kp = _as_kp(kp)
    return np.all(kp >= 0, axis=-1)


def torso_size(kp: np.ndarray) -> np.ndarray | float:
    """Torso size ``st = sqrt((|Rhip - Rsho|^2 + |Lhip - Lsho|^2) / 2)`` in pixels.

    [code, Deformable GAN `compute_st_distance`]. ``(18, 2) -> float``, ``(N, 18, 2) -> (N,)``
    float64. NaN where any of the four torso points (Rhip, Lhip, Lsho, Rsho) is missing.
    """
    kp = _as_kp(kp)
    p = kp.astype(np.float64)
    d1 = np.sum((p[..., RHIP, :] - p[..., RSHO, :]) ** 2, axis=-1)
    d2 = np.sum((p[..., LHIP, :] - p[..., LSHO, :]) ** 2, axis=-1)
    st = np.sqrt((d1 + d2) / 2.0)
    ok = np.all(visible(kp)[..., list(TORSO_POINTS)], axis=-1)
    st = np.where(ok, st, np.nan)
    return float(st) if st.ndim == 0 else st


def torso_valid(kp: np.ndarray) -> np.ndarray | bool:
    """True where all four torso points are present: ``(18,2) -> bool``, ``(N,18,2) -> (N,)``."""
    ok = np.all(visible(kp)[..., list(TORSO_POINTS)], axis=-1)
    return bool(ok) if ok.ndim == 0 else ok


def mirror_lr(kp: np.ndarray) -> np.ndarray:
    """Swap the person's sides (Rsho <-> Lsho, ...) without moving any point.

    ``(..., 18, 2) -> (..., 18, 2)``, same dtype; missing points stay missing.
    """
    kp = _as_kp(kp)
    return kp[..., MIRROR, :].copy()


def flip_horizontal(kp: np.ndarray, width: int) -> np.ndarray:
    """Keypoints of the horizontally flipped image (``img[:, ::-1]``) of width ``width`` px.

    Present points move to ``x' = width - 1 - x`` (pixel centres at integers) and the sides are
    swapped (a person's right hand is the mirrored person's left hand). Missing points stay -1;
    a point annotated right of the frame (``x > width - 1``) lands at a negative x and so becomes
    missing.
    ``(..., 18, 2) -> (..., 18, 2)``.
    """
    kp = _as_kp(kp)
    vis = visible(kp)
    out = kp.copy()
    out[..., 1] = np.where(vis, (width - 1) - kp[..., 1], kp[..., 1])
    return mirror_lr(out)


def scale_keypoints(kp: np.ndarray, from_hw: tuple[int, int], to_hw: tuple[int, int]
                    ) -> np.ndarray:
    """Express keypoints annotated in a ``from_hw`` frame in a resized ``to_hw`` frame.

    The image edges map to the image edges with pixel centres at integer coordinates (the
    convention of ``cv2.resize``): ``p' = (p + 0.5) * to / from - 0.5`` per axis [choice].
    A present point that would land in ``[-0.5, 0)`` (within half a pixel of the top/left edge)
    is clipped to 0 so it stays present. Missing points stay -1.
    ``(..., 18, 2)`` float -> same shape, float32 unless the input is float64.
    """
    kp = _as_kp(kp)
    dtype = np.float64 if kp.dtype == np.float64 else np.float32
    vis = visible(kp)
    s = np.array([to_hw[0] / from_hw[0], to_hw[1] / from_hw[1]], dtype=np.float64)
    scaled = np.maximum((kp.astype(np.float64) + 0.5) * s - 0.5, 0.0)
    out = np.where(vis[..., None], scaled, MISSING)
    return out.astype(dtype)


def sigma_for(height: int) -> float:
    """Heatmap sigma in pixels for a frame ``height`` px high: ``6 * height / 256`` [code]."""
    return HEATMAP_SIGMA_256 * height / HEATMAP_REFERENCE_HEIGHT


def pose_heatmaps(kp: np.ndarray, height: int, width: int, sigma: float | None = None
                  ) -> np.ndarray:
    """Gaussian pose heatmaps ``exp(-d^2 / (2 sigma^2))`` [code, Deformable GAN `cords_to_map`].

    kp: ``(18, 2)`` or ``(N, 18, 2)`` (y, x) in pixels of the ``height x width`` frame.
    sigma: pixels; default :func:`sigma_for` ``(height)``.
    Returns float32 ``(18, H, W)`` or ``(N, 18, H, W)``; a missing point gives an all-zero channel.
    Computed separably (the Gaussian of a squared distance factorises in y and x).
    """
    kp = _as_kp(kp)
    if sigma is None:
        sigma = sigma_for(height)
    vis = visible(kp)
    p = kp.astype(np.float64)
    yy = np.arange(height, dtype=np.float64)
    xx = np.arange(width, dtype=np.float64)
    gy = np.exp(-((yy - p[..., 0:1]) ** 2) / (2.0 * sigma ** 2))  # (..., 18, H)
    gx = np.exp(-((xx - p[..., 1:2]) ** 2) / (2.0 * sigma ** 2))  # (..., 18, W)
    gy = np.where(vis[..., None], gy, 0.0)
    return (gy[..., :, None] * gx[..., None, :]).astype(np.float32)
