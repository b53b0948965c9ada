"""PG2's pose mask M_P (docs/method.md §3), as the SPT authors' ``util/getPoseMask.py`` computes it.

For each of 23 limbs whose two points are present, solid discs of radius 4 px are stamped at
both ends and at ``int(length / radius) - 1`` evenly spaced interior points; the result is
closed (dilation then erosion, 5x5 square). The same mask weights the cross-entropy loss and
defines mask-SSIM.
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.geometry.keypoints import visible

# The 23 limbs of getPoseMask, 0-based keypoint index pairs [code, PG2 / SPT util/getPoseMask.py].
POSE_MASK_LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
    (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (1, 16), (1, 17), (8, 11), (11, 5),
    (8, 2), (16, 17))
POSE_MASK_RADIUS: int = 4  # disc radius in px at the mask's resolution [code]
POSE_MASK_CLOSING: int = 5  # side of the square of the dilation and the erosion [code]


def disc_offsets(radius: int) -> np.ndarray:
    """``(2r+1, 2r+1)`` uint8 kernel of the offsets ``(i, j)`` with ``sqrt(i^2 + j^2) <= r``."""
    i = np.arange(-radius, radius + 1)
    return ((i[:, None] ** 2 + i[None, :] ** 2) <= radius * radius).astype(np.uint8)


def disc_centres(kp: np.ndarray, radius: int = POSE_MASK_RADIUS) -> np.ndarray:
    """Integer disc centres ``(K, 2)`` (row, col) of :func:`pose_mask`, in stamping order.

    For each limb (r0, c0)-(r1, c1) with both points present: the two ends, then for
    ``n = int(dist / radius) > 1`` the points ``p0 + (p1 - p0) * i / n``, ``i = 1..n-1``; every
    centre is truncated with ``int()`` (toward zero) as getPoseMask does [code].
    """
    kp = np.asarray(kp, dtype=np.float64)
    vis = visible(kp)
    centres: list[np.ndarray] = []
    for a, b in POSE_MASK_LIMBS:
        if not (vis[a] and vis[b]):
            continue
        p0, p1 = kp[a], kp[b]
        centres.append(np.stack([p0, p1]))
        n = int(np.sqrt((p0[0] - p1[0]) ** 2 + (p0[1] - p1[1]) ** 2) / radius)
        if n > 1:
            i = np.arange(1, n, dtype=np.float64)[:, None]
            centres.append(p0 + (p1 - p0) * i / n)
    if not centres:
        return np.zeros((0, 2), dtype=np.int64)
    return np.trunc(np.concatenate(centres)).astype(np.int64)


def pose_mask(kp: np.ndarray, height: int, width: int, radius: int = POSE_MASK_RADIUS,
              closing: int = POSE_MASK_CLOSING) -> np.ndarray:
    """PG2 pose mask of one pose: ``(18, 2) -> (height, width)`` bool.

    kp: (y, x) pixels of the ``height x width`` frame; radius: disc radius in pixels AT THIS
    resolution (4 px as in the authors' code; scale the keypoints, not the radius, to draw the
    mask at another size, or pass a scaled radius deliberately). Discs are clipped to the
    frame (a centre outside the frame still contributes its part inside). The closing is
    ``cv2.dilate`` then ``cv2.erode`` with a ``closing x closing`` square and cv2's default
    border (pixels outside the frame are ignored), which equals scikit-image's
    ``dilation``/``erosion`` used by getPoseMask. A pose with no complete limb gives all False.
    """
    centres = disc_centres(kp, radius)
    pad = radius
    canvas = np.zeros((height + 2 * pad, width + 2 * pad), dtype=np.uint8)
    if len(centres):
        rc = centres + pad
        keep = ((rc[:, 0] >= 0) & (rc[:, 0] < height + 2 * pad)
                & (rc[:, 1] >= 0) & (rc[:, 1] < width + 2 * pad))
        rc = rc[keep]
        canvas[rc[:, 0], rc[:, 1]] = 1
        canvas = cv2.dilate(canvas, disc_offsets(radius))
    mask = canvas[pad:pad + height, pad:pad + width]
    square = np.ones((closing, closing), dtype=np.uint8)
    mask = cv2.erode(cv2.dilate(mask, square), square)
    return mask.astype(bool)
