"""The 10 rigid body parts of Deformable GAN: limb rectangles, part masks, part bitfields.

Parts, in docs/method.md §3 order (index = position in :data:`PART_NAMES`)::

    0 torso  1 head  2 right_thigh  3 left_thigh  4 right_shin  5 left_shin
    6 right_upper_arm  7 left_upper_arm  8 right_forearm  9 left_forearm

Keypoints are ``(18, 2)`` (y, x) pixels of the frame the masks are drawn in, -1 = missing.
A part's mask needs the torso size ``st`` (all four torso points present); without it every
mask of the pose is empty and every part is invalid (such a pose cannot serve in the search,
docs/method.md §3).
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.geometry.keypoints import (HEAD_POINTS, LANK, LELB, LHIP, LKNE, LSHO, LWRI, MIRROR,
                                         RANK, RELB, RHIP, RKNE, RSHO, RWRI, torso_size, visible)
from pipeline.labels import PART_MIRROR, PART_NAMES

# Part names in docs/method.md §3 order and their mirror table (PART_MIRROR[j] = the same part on the
# person's other side; torso, head -> themselves) live in pipeline.labels [code, Deformable GAN
# `pose_masks` / `affine_transforms`].
NUM_PARTS: int = len(PART_NAMES)  # 10 [code]
TORSO, HEAD = 0, 1  # part indices [code]
FIRST_LIMB: int = 2  # parts 2..9 are limbs [code]

# Limb endpoints (start, end) as keypoint indices, for parts 2..9 [code, Deformable GAN].
LIMB_ENDPOINTS: tuple[tuple[int, int], ...] = (
    (RHIP, RKNE), (LHIP, LKNE), (RKNE, RANK), (LKNE, LANK),
    (RSHO, RELB), (LSHO, LELB), (RELB, RWRI), (LELB, LWRI))

# Rectangle geometry [code, Deformable GAN `estimate_polygon(fr, to, st, inc_to, 0.1, 0.2, 0.2)`]:
LIMB_INC_FROM: float = 0.1     # start pushed back by 10 % of the segment [code]
LIMB_HALF_WIDTH: float = 0.2   # half-width in units of st, both ends [code]
ZERO_LENGTH_HALF_BOX: float = 1.0  # +-1 px box for a zero-length segment [code; box shape: choice]
# inc_to per limb (parts 2..9) for MASKS: thighs/upper arms 0.1, shins/forearms 0.5 [code].
MASK_INC_TO: tuple[float, ...] = (0.1, 0.1, 0.5, 0.5, 0.1, 0.1, 0.5, 0.5)
# inc_to per limb (parts 2..9) for TRANSFORMS: thighs/upper arms 0.1, shins/forearms 0.3 [code].
TRANSFORM_INC_TO: tuple[float, ...] = (0.1, 0.1, 0.3, 0.3, 0.1, 0.1, 0.3, 0.3)
# Head box half-size in units of st [code, Deformable GAN `pose_masks`: 0.40 * st2].
HEAD_HALF_SIZE: float = 0.40
# Sub-pixel precision of cv2.fillPoly: vertices are passed as fixed point with 8 fractional
# bits (1/256 px), so the rasterised rectangle does not depend on rounding the corners [choice].
FILL_SHIFT: int = 8


def limb_rectangle(p0: np.ndarray, p1: np.ndarray, st: np.ndarray | float,
                   inc_to: np.ndarray | float) -> np.ndarray:
    """Corners of a limb's rectangle [code, Deformable GAN `estimate_polygon`].

    p0, p1: ``(..., 2)`` start and end points, (y, x) pixels. st: torso size (px), broadcastable
    to ``(...)``. inc_to: end extension factor (see :data:`MASK_INC_TO`, :data:`TRANSFORM_INC_TO`).

    Steps, in (y, x) (the same as Deformable GAN's, which works in (x, y)):
    ``a = p0 + 0.1 (p0 - p1)``; ``b = p1 + inc_to (p1 - a)`` (the end extension uses the
    already-extended segment); ``n`` = unit normal, i.e. ``(a - b)`` in (x, y) rotated by
    +90 deg: ``n_xy = (-(a-b)_y, (a-b)_x) / |a-b|``; corners
    ``[a + w n, a - w n, b - w n, b + w n]`` with ``w = 0.2 st``.

    A zero-length segment (``a == b``) gives the +-1 px box around the point, with corners in the
    order the formula gives for a limb pointing down (+y): (y, x) =
    ``[(y-1, x+1), (y-1, x-1), (y+1, x-1), (y+1, x+1)]`` [choice: Deformable GAN's literal
    fallback ``[a+1, a-1, b-1, b+1]`` is a degenerate line, not a box].

    Returns ``(..., 4, 2)`` float64 corners, (y, x). NaN ``st`` gives NaN corners.
    """
    p0 = np.asarray(p0, dtype=np.float64)
    p1 = np.asarray(p1, dtype=np.float64)
    st = np.asarray(st, dtype=np.float64)
    inc_to = np.asarray(inc_to, dtype=np.float64)
    a = p0 + (p0 - p1) * LIMB_INC_FROM
    b = p1 + (p1 - a) * inc_to[..., None]
    v = a - b                                                     # (..., 2) as (y, x)
    n = np.stack([v[..., 1], -v[..., 0]], axis=-1)                # (y, x) of (-v_y, v_x)_xy
    norm = np.sqrt(n[..., 0] ** 2 + n[..., 1] ** 2)
    zero = norm == 0
    n = n / np.where(zero, 1.0, norm)[..., None]
    w = (st * LIMB_HALF_WIDTH)[..., None]
    corners = np.stack([a + w * n, a - w * n, b - w * n, b + w * n], axis=-2)
    if np.any(zero):
        h = ZERO_LENGTH_HALF_BOX
        box = a[..., None, :] + np.array([[-h, h], [-h, -h], [h, -h], [h, h]])
        corners = np.where(zero[..., None, None], box, corners)
    return corners


def part_valid(kp: np.ndarray) -> np.ndarray:
    """Which part masks can be drawn: ``(18, 2) -> (10,)`` bool, ``(N, 18, 2) -> (N, 10)``.

    torso: the four torso points present. head: torso valid and at least one head point
    (nose, eyes, ears). limb: torso valid and both endpoints present. Decided from the
    keypoints alone: a valid part lying wholly outside the frame still draws an empty mask.
    """
    kp = np.asarray(kp)
    vis = visible(kp)
    torso = np.isfinite(np.asarray(torso_size(kp), dtype=np.float64))
    head = torso & np.any(vis[..., list(HEAD_POINTS)], axis=-1)
    ends = np.array(LIMB_ENDPOINTS)
    limbs = torso[..., None] & vis[..., ends[:, 0]] & vis[..., ends[:, 1]]
    return np.concatenate([torso[..., None], head[..., None], limbs], axis=-1)


def head_box(kp: np.ndarray, height: int, width: int) -> tuple[int, int, int, int] | None:
    """The head box ``(y0, y1, x0, x1)`` (half-open pixel ranges) or None.

    [code, Deformable GAN `pose_masks` + `mask_from_kp_array`]: the centre is the mean of the
    present head points truncated to integers, the half-size is ``r = int(0.40 st)``, the box
    covers rows ``[cy - r, cy + r)`` and columns ``[cx - r, cx + r)``, clipped to the frame.
    None when the torso or every head point is missing.
    """
    kp = np.asarray(kp)
    vis = visible(kp)
    st = torso_size(kp)
    heads = [h for h in HEAD_POINTS if vis[h]]
    if not np.isfinite(st) or not heads:
        return None
    centre = np.mean(kp[heads].astype(np.float64), axis=0).astype(int)
    r = int(HEAD_HALF_SIZE * st)
    y0, x0 = max(int(centre[0]) - r, 0), max(int(centre[1]) - r, 0)
    y1 = min(max(int(centre[0]) + r, 0), height)
    x1 = min(max(int(centre[1]) + r, 0), width)
    return y0, y1, x0, x1


def _limb_region(corners_yx: np.ndarray, height: int, width: int
                 ) -> tuple[int, int, int, int, np.ndarray] | None:
    """Rasterise a limb polygon inside its bounding box.

    corners_yx: ``(4, 2)`` (y, x) pixels. Returns ``(y0, y1, x0, x1, mask)`` with ``mask``
    ``(y1 - y0, x1 - x0)`` uint8 (1 inside) for the frame window ``[y0, y1) x [x0, x1)``, or
    None when the polygon misses the frame. ``cv2.fillPoly`` with 8 fractional bits; the
    polygon is moved by the integer window origin first, which leaves the raster unchanged.
    """
    lo = np.floor(corners_yx.min(axis=0)).astype(int) - 1
    hi = np.ceil(corners_yx.max(axis=0)).astype(int) + 2
    y0, x0 = max(lo[0], 0), max(lo[1], 0)
    y1, x1 = min(hi[0], height), min(hi[1], width)
    if y0 >= y1 or x0 >= x1:
        return None
    local = (corners_yx - np.array([y0, x0], dtype=np.float64))[:, ::-1]   # (x, y)
    pts = np.round(local * (1 << FILL_SHIFT)).astype(np.int32)
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=FILL_SHIFT)
    return y0, y1, x0, x1, mask


def _part_regions(kp: np.ndarray, height: int, width: int
                  ) -> list[tuple[int, int, int, int, int, np.ndarray | None]]:
    """The non-empty parts of one pose as ``(part, y0, y1, x0, x1, mask)`` windows.

    ``mask`` is None for a full rectangle (torso, head box) or a uint8 window mask (limbs).
    """
    kp = np.asarray(kp)
    if kp.shape != (18, 2):
        raise ValueError(f"need one pose (18, 2), got {kp.shape}")
    valid = part_valid(kp)
    if not valid[TORSO]:
        return []
    regions: list[tuple[int, int, int, int, int, np.ndarray | None]] = [
        (TORSO, 0, height, 0, width, None)]
    box = head_box(kp, height, width)
    if box is not None and box[0] < box[1] and box[2] < box[3]:
        regions.append((HEAD,) + box + (None,))
    st = torso_size(kp)
    for k, (a, b) in enumerate(LIMB_ENDPOINTS):
        if valid[FIRST_LIMB + k]:
            region = _limb_region(limb_rectangle(kp[a], kp[b], st, MASK_INC_TO[k]),
                                  height, width)
            if region is not None:
                regions.append((FIRST_LIMB + k,) + region)
    return regions


def part_masks(kp: np.ndarray, height: int, width: int) -> np.ndarray:
    """The 10 part masks of one pose: ``(18, 2) -> (10, height, width)`` bool.

    torso: the whole image when the torso is valid [code]. head: :func:`head_box`. limbs: the
    rectangle of :func:`limb_rectangle` with :data:`MASK_INC_TO`, rasterised with
    ``cv2.fillPoly`` at 1/256 px vertex precision, no dilation [code, Deformable GAN; cv2 in
    place of scikit-image's polygon rasterisation: cv2 also takes the boundary pixels, median
    IoU with ``skimage.draw.polygon`` ~0.96 on real limbs]. A part that :func:`part_valid`
    rejects is all False. kp must be in pixels of the ``height x width`` frame (see
    ``scale_keypoints``).
    """
    out = np.zeros((NUM_PARTS, height, width), dtype=bool)
    for j, y0, y1, x0, x1, mask in _part_regions(kp, height, width):
        out[j, y0:y1, x0:x1] = True if mask is None else mask.view(bool)
    return out


def part_bitfield(kp: np.ndarray, height: int, width: int) -> np.ndarray:
    """The 10 part masks packed into one ``(height, width)`` uint16 map: bit j = part j.

    ``(part_bitfield(kp, h, w) >> j) & 1 == part_masks(kp, h, w)[j]``; 10x smaller to store
    than the bool masks, and faster to draw.
    """
    out = np.zeros((height, width), dtype=np.uint16)
    for j, y0, y1, x0, x1, mask in _part_regions(kp, height, width):
        bit = np.uint16(1 << j)
        if mask is None:
            out[y0:y1, x0:x1] |= bit
        else:
            out[y0:y1, x0:x1] |= mask.astype(np.uint16) * bit
    return out


def bitfield_to_masks(bitfield: np.ndarray, num_parts: int = NUM_PARTS) -> np.ndarray:
    """Inverse of :func:`part_bitfield`: ``(..., H, W)`` uint -> ``(..., num_parts, H, W)`` bool."""
    bf = np.asarray(bitfield)
    bits = np.arange(num_parts, dtype=bf.dtype).reshape((num_parts,) + (1,) * 2)
    return ((bf[..., None, :, :] >> bits) & 1).astype(bool)


# Keypoint indices of each limb's mirror image, derived from MIRROR (used by the affine fits).
LIMB_MIRROR_ENDPOINTS: tuple[tuple[int, int], ...] = tuple(
    (int(MIRROR[a]), int(MIRROR[b])) for a, b in LIMB_ENDPOINTS)
