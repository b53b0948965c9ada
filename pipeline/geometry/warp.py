"""Warping label maps and images by part affines (inverse warps, docs/method.md §3-4).

An affine ``A`` (2, 3) maps an OUTPUT (target-frame) pixel ``(x, y)`` to the SOURCE position
``A @ (x, y, 1)`` that it samples; pixel centres are at integer coordinates.
"""
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

# Sample positions are clipped to +-2^31 before the integer conversion, which keeps the cast
# defined for absurd affines without changing which samples fall inside a frame [choice].
COORD_CLIP: float = 2.0 ** 31


def resize_nearest(maps: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of ``(..., H, W)`` label maps, masks or bit fields.

    Output pixel (i, j) takes input pixel ``(floor((i + 0.5) H / h), floor((j + 0.5) W / w))``:
    the input pixel whose area holds the output pixel's centre (edges to edges, the convention
    of :func:`pipeline.geometry.scale_keypoints`; the search's working-resolution labels and the
    networks' maps both use it). Same dtype; the
    input itself when the size already matches.
    """
    arr = np.asarray(maps)
    src_h, src_w = arr.shape[-2:]
    h, w = int(hw[0]), int(hw[1])
    if (src_h, src_w) == (h, w):
        return arr
    rows = np.minimum(((np.arange(h) + 0.5) * src_h / h).astype(np.int64), src_h - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * src_w / w).astype(np.int64), src_w - 1)
    return arr[..., rows[:, None], cols[None, :]]


def sample_coords(affine: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour source indices of every output pixel, bit-exact and documented.

    For output pixel (row ``y``, column ``x``), with ``a = affine`` as float64 and ``x``, ``y``
    as float64, evaluated in exactly this order (no fused multiply-add)::

        sx = (a[0,0] * x + a[0,1] * y) + a[0,2]
        sy = (a[1,0] * x + a[1,1] * y) + a[1,2]
        ix = int64(floor(clip(sx + 0.5, -2^31, 2^31)))
        iy = int64(floor(clip(sy + 0.5, -2^31, 2^31)))

    i.e. round half up. Returns ``(iy, ix)``, each ``(out_h, out_w)`` int64; a sample with
    ``iy`` outside ``[0, H_src)`` or ``ix`` outside ``[0, W_src)`` is outside the source frame.
    A compiled kernel (numba, ``fastmath=False``) reproduces these indices exactly when it
    writes the same expressions.
    """
    a = np.asarray(affine, dtype=np.float64)
    if a.shape != (2, 3):
        raise ValueError(f"affine must be (2, 3), got {a.shape}")
    x = np.arange(out_w, dtype=np.float64)[None, :]
    y = np.arange(out_h, dtype=np.float64)[:, None]
    sx = a[0, 0] * x + a[0, 1] * y + a[0, 2]
    sy = a[1, 0] * x + a[1, 1] * y + a[1, 2]
    ix = np.floor(np.clip(sx + 0.5, -COORD_CLIP, COORD_CLIP)).astype(np.int64)
    iy = np.floor(np.clip(sy + 0.5, -COORD_CLIP, COORD_CLIP)).astype(np.int64)
    return iy, ix


def warp_labels(labels: np.ndarray, affine: np.ndarray, out_h: int | None = None,
                out_w: int | None = None) -> np.ndarray:
    """Nearest-neighbour inverse warp of a label map (or any ``(H, W, ...)`` array).

    labels: ``(H, W)`` int labels, or ``(H, W, C...)`` (e.g. one-hot). Output ``(out_h, out_w,
    ...)`` of the same dtype (default size: the input's): pixel ``(y, x)`` takes
    ``labels[iy, ix]`` with the indices of :func:`sample_coords`; a sample outside the source
    frame gives 0 (empty / background).
    """
    lab = np.asarray(labels)
    h, w = lab.shape[:2]
    out_h = h if out_h is None else out_h
    out_w = w if out_w is None else out_w
    iy, ix = sample_coords(affine, out_h, out_w)
    inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    out = np.zeros((out_h, out_w) + lab.shape[2:], dtype=lab.dtype)
    if inside.any():
        out[inside] = lab[iy[inside], ix[inside]]
    return out


def _outside(affine: np.ndarray, src_h: int, src_w: int, out_h: int, out_w: int) -> bool:
    """True when the output frame maps entirely out of the source by more than one pixel."""
    corners = np.array([[0, 0, 1], [out_w - 1, 0, 1], [0, out_h - 1, 1],
                        [out_w - 1, out_h - 1, 1]], dtype=np.float64)
    m = corners @ np.asarray(affine, dtype=np.float64).T          # (4, 2) as (x, y)
    return bool(np.all(m[:, 0] < -1) or np.all(m[:, 0] > src_w) or np.all(m[:, 1] < -1)
                or np.all(m[:, 1] > src_h))


def warp_image(img: np.ndarray, affine: np.ndarray, out_h: int | None = None,
               out_w: int | None = None) -> np.ndarray:
    """Bilinear inverse warp of an image ``(H, W)`` or ``(H, W, C)`` (uint8 or float).

    ``cv2.warpAffine(..., INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT, 0)``: output pixel
    ``(x, y)`` interpolates the source at ``affine @ (x, y, 1)`` (cv2 uses 1/32 px fixed-point
    weights); outside the source is 0. Same dtype as the input (bool is returned as float32).
    Any number of channels. A warp that leaves the frame entirely (e.g. :data:`NO_POINT`)
    returns zeros without calling cv2.
    """
    im = np.asarray(img)
    if im.dtype == bool:
        im = im.astype(np.float32)
    h, w = im.shape[:2]
    out_h = h if out_h is None else out_h
    out_w = w if out_w is None else out_w
    a = np.asarray(affine, dtype=np.float64)
    if _outside(a, h, w, out_h, out_w):
        return np.zeros((out_h, out_w) + im.shape[2:], dtype=im.dtype)
    out = cv2.warpAffine(np.ascontiguousarray(im), a, (out_w, out_h),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.reshape((out_h, out_w) + im.shape[2:])


def warp_parts(data: np.ndarray, affines: np.ndarray, part_masks_src: np.ndarray,
               mode: Literal["nearest", "bilinear"] = "nearest", out_h: int | None = None,
               out_w: int | None = None) -> np.ndarray:
    """``f_j(B^j (x) data)`` for every part j (docs/method.md §4): mask in the source, then warp.

    data: ``(H, W)`` label map or ``(H, W, C)`` map/image in the source frame.
    affines: ``(P, 2, 3)`` (P = 10 parts) target->source. part_masks_src: ``(P, H, W)`` bool
    part masks drawn on the SOURCE pose. mode: 'nearest' (:func:`warp_labels`, for labels and
    one-hot maps; masked-out pixels become 0) or 'bilinear' (:func:`warp_image`, masked-out
    pixels are 0 before interpolation).
    Returns ``(P, out_h, out_w, ...)``; a :data:`NO_POINT` part is all zeros.
    """
    arr = np.asarray(data)
    masks = np.asarray(part_masks_src, dtype=bool)
    aff = np.asarray(affines, dtype=np.float64)
    if masks.shape[1:] != arr.shape[:2] or len(masks) != len(aff):
        raise ValueError(f"masks {masks.shape} / affines {aff.shape} do not fit data {arr.shape}")
    h, w = arr.shape[:2]
    out_h = h if out_h is None else out_h
    out_w = w if out_w is None else out_w
    extra = (None,) * (arr.ndim - 2)
    parts = []
    for j in range(len(aff)):
        mask = masks[(j, slice(None), slice(None)) + extra]
        masked = np.where(mask, arr, np.zeros((), dtype=arr.dtype))
        if mode == "nearest":
            parts.append(warp_labels(masked, aff[j], out_h, out_w))
        elif mode == "bilinear":
            parts.append(warp_image(masked, aff[j], out_h, out_w))
        else:
            raise ValueError(f"mode must be 'nearest' or 'bilinear', got {mode!r}")
    return np.stack(parts)


def max_aggregate(warped_parts: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Pixel-wise max over parts of ``(P, H, W, ...)`` warped parts (Deformable GAN's 'max').

    valid: optional ``(P,)`` bool; invalid parts are left out (all parts invalid -> zeros).
    Masked-out and out-of-frame pixels of a part are 0, so this is a union for non-negative
    data (uint8 images, [0, 1] floats, ReLU features).
    """
    wp = np.asarray(warped_parts)
    if valid is not None:
        wp = wp[np.asarray(valid, dtype=bool)]
        if len(wp) == 0:
            return np.zeros(np.asarray(warped_parts).shape[1:], dtype=np.asarray(
                warped_parts).dtype)
    return wp.max(axis=0)


def warp_image_by_parts(img: np.ndarray, affines: np.ndarray, part_masks_src: np.ndarray,
                        valid: np.ndarray | None = None, out_h: int | None = None,
                        out_w: int | None = None) -> np.ndarray:
    """Bilinear part-wise warp of an image, max-aggregated: ``max_j f_j(B^j (x) img)``.

    img: ``(H, W)`` or ``(H, W, C)``, non-negative; the other arguments as in
    :func:`warp_parts` / :func:`max_aggregate`. Returns ``(out_h, out_w[, C])``.
    """
    parts = warp_parts(img, affines, part_masks_src, "bilinear", out_h, out_w)
    return max_aggregate(parts, valid)
