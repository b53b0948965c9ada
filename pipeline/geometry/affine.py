"""Affine transforms of the 10 body parts between two poses (docs/method.md §3).

Conventions (see :mod:`pipeline.geometry`): an affine is a ``(2, 3)`` float64 matrix ``A``
acting on homogeneous ``(x, y, 1)`` column vectors, OpenCV style, and maps TARGET-frame pixel
coordinates to SOURCE-frame coordinates (an inverse warp: output pixel ``(x, y)`` samples the
source at ``A @ (x, y, 1)``). Point arrays passed to this module are ``(y, x)`` like keypoints.

Fitting method: ordinary least squares (OLS) [choice, docs/method.md §3]. Deformable GAN called
``skimage.transform.estimate_transform('affine', ...)``, which solves a homogeneous
(total-least-squares style) system on normalised points and so does NOT minimise the sum of
squared residuals when the points do not fit an affine map exactly: on real DeepFashion poses
93 % of torso and head fits differ from OLS, by fractions of a pixel up to many pixels (limb
rectangles map exactly and agree to 1e-13) [docs/method.md §3]. OLS has the smaller residual by definition, a
closed form, and vectorises over millions of pose pairs (:func:`part_affines_batch`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.geometry.keypoints import HEAD_POINTS, LSHO, RSHO, TORSO_POINTS, torso_size, visible
from pipeline.geometry.parts import (FIRST_LIMB, HEAD, LIMB_ENDPOINTS, LIMB_MIRROR_ENDPOINTS,
                                     NUM_PARTS, TORSO, TRANSFORM_INC_TO, limb_rectangle)

# The "no-point" transform: a translation by -1e6 px in x and y, so every target pixel samples
# far outside the source frame and the part contributes nothing [choice; Deformable GAN used a
# +1000 px translation, too small for frames above 1000 px].
NO_POINT_OFFSET: float = 1.0e6
NO_POINT: np.ndarray = np.array([[1.0, 0.0, -NO_POINT_OFFSET], [0.0, 1.0, -NO_POINT_OFFSET]])
NO_POINT.setflags(write=False)

# A fit is singular when the target points are (nearly) collinear or coincide: the centred 2x2
# scatter matrix C of the target points has det(C) <= DEGENERATE_RATIO * trace(C)^2, i.e. its
# eigenvalue ratio is below ~1e-4: the points' thinnest spread is under ~1 % of their widest
# (a torso 1 px thick over 100 px), where the fit is annotation noise and numerically unstable
# [choice; Deformable GAN only rejected exactly singular matrices; 2 of 330 DeepFashion sample
# torsos fall below]. Fewer than 3 points (rank < 3 design matrix) is always singular.
DEGENERATE_RATIO: float = 1.0e-4
# ... or when the fitted linear part is (nearly) singular: |det A| < MIN_ABS_DET, i.e. the
# source points are collinear while the target points are not [choice].
MIN_ABS_DET: float = 1.0e-6
MIN_POINTS: int = 3  # an affine map has 6 unknowns: 3 non-collinear points [math]
# When the target points are (nearly) collinear but not coincident (a torso seen from the side:
# shoulders on top of each other, hips too), the affine map is undetermined across the line;
# the fit falls back to the least-squares SIMILARITY transform (rotation, uniform scale,
# translation: 4 unknowns, determined by 2 distinct points) [choice, not in Deformable GAN].
# Without it every side view would lose its torso (a no-point transform), and cost(s, s) would
# not be 0 for such poses. Coincident points (scatter trace below MIN_SIMILARITY_TRACE px^2)
# stay singular.
MIN_SIMILARITY_TRACE: float = 1.0e-6
# Points per part in the padded batch layout: head = 5 head points + 2 shoulders [code].
_SLOTS: int = len(HEAD_POINTS) + 2
_HEAD_SLOTS: list[int] = list(HEAD_POINTS) + [LSHO, RSHO]
# Targets per vectorised chunk in part_affines_batch: ~0.3 MB per (chunk, 10, 7) float64 array
# keeps the ~20 passes of the closed form in cache [choice, measured fastest of 128..8192].
BATCH_CHUNK: int = 512


def _scatter_ok(det: np.ndarray, trace: np.ndarray) -> np.ndarray:
    """The shared non-degeneracy test of the target points (NaN -> False)."""
    return det > DEGENERATE_RATIO * trace * trace


def fit_affine(dst_pts: np.ndarray, src_pts: np.ndarray) -> np.ndarray | None:
    """OLS affine map from ``dst_pts`` (target frame) to ``src_pts`` (source frame).

    dst_pts, src_pts: ``(K, 2)`` corresponding points, (y, x) pixels.
    Returns the ``(2, 3)`` float64 ``A`` minimising ``sum_k |A (x_k, y_k, 1) - src_k|^2``
    (solved with ``numpy.linalg.lstsq`` on the design matrix ``[x y 1]``), or None when the fit
    is singular: K < 3, target points (nearly) collinear or coincident (see
    :data:`DEGENERATE_RATIO`), a fitted linear part with ``|det| <`` :data:`MIN_ABS_DET`, or
    non-finite input.
    """
    dst = np.asarray(dst_pts, dtype=np.float64)[:, ::-1]  # (K, 2) as (x, y)
    src = np.asarray(src_pts, dtype=np.float64)[:, ::-1]
    if dst.shape != src.shape or dst.ndim != 2 or dst.shape[1] != 2:
        raise ValueError(f"point arrays must both be (K, 2), got {dst.shape} and {src.shape}")
    if len(dst) < MIN_POINTS or not (np.all(np.isfinite(dst)) and np.all(np.isfinite(src))):
        return None
    dc = dst - dst.mean(axis=0)
    cov = dc.T @ dc
    det = cov[0, 0] * cov[1, 1] - cov[0, 1] * cov[1, 0]
    if not _scatter_ok(det, cov[0, 0] + cov[1, 1]):
        return fit_similarity(dst_pts, src_pts)
    design = np.concatenate([dst, np.ones((len(dst), 1))], axis=1)  # (K, 3)
    sol = np.linalg.lstsq(design, src, rcond=None)[0]                # (3, 2)
    affine = np.ascontiguousarray(sol.T)
    det_a = affine[0, 0] * affine[1, 1] - affine[0, 1] * affine[1, 0]
    if not (np.all(np.isfinite(affine)) and abs(det_a) >= MIN_ABS_DET):
        return None
    return affine


def fit_similarity(dst_pts: np.ndarray, src_pts: np.ndarray) -> np.ndarray | None:
    """Least-squares similarity map (rotation, uniform scale, translation) dst -> src.

    dst_pts, src_pts: ``(K, 2)`` (y, x). The fallback of :func:`fit_affine` for (nearly)
    collinear target points (see :data:`MIN_SIMILARITY_TRACE`). With centred points
    ``d, s`` (x, y): ``a = sum(d . s) / sum|d|^2``, ``b = sum(d x s) / sum|d|^2``,
    ``A = [[a, -b], [b, a]]``, ``t = m_s - A m_d``. None when fewer than 2 points, the
    points coincide, or ``|det A| <`` :data:`MIN_ABS_DET`.
    """
    dst = np.asarray(dst_pts, dtype=np.float64)[:, ::-1]
    src = np.asarray(src_pts, dtype=np.float64)[:, ::-1]
    if len(dst) < 2 or not (np.all(np.isfinite(dst))
                                                 and np.all(np.isfinite(src))):
        return None
    md, ms = dst.mean(axis=0), src.mean(axis=0)
    d, c = dst - md, src - ms
    norm = float((d * d).sum())
    if not norm > MIN_SIMILARITY_TRACE:
        return None
    a = float((d[:, 0] * c[:, 0] + d[:, 1] * c[:, 1]).sum()) / norm
    b = float((d[:, 0] * c[:, 1] - d[:, 1] * c[:, 0]).sum()) / norm
    if not a * a + b * b >= MIN_ABS_DET:
        return None
    lin = np.array([[a, -b], [b, a]])
    return np.concatenate([lin, (ms - lin @ md)[:, None]], axis=1)


def _fit_xy(dx: np.ndarray, dy: np.ndarray, sx: np.ndarray, sy: np.ndarray, w: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Core of :func:`fit_affine_batch` on separate coordinate arrays ``(..., K)``.

    Unused points (w == 0) must hold finite values (0). Returns ``(affines, ok)``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        total = w.sum(axis=-1)
        mdx = np.einsum("...k,...k->...", w, dx) / total
        mdy = np.einsum("...k,...k->...", w, dy) / total
        msx = np.einsum("...k,...k->...", w, sx) / total
        msy = np.einsum("...k,...k->...", w, sy) / total
        cdx = dx - mdx[..., None]
        cdy = dy - mdy[..., None]
        csx = sx - msx[..., None]
        csy = sy - msy[..., None]
        wcdx = w * cdx
        wcdy = w * cdy
        a = np.einsum("...k,...k->...", wcdx, cdx)
        b = np.einsum("...k,...k->...", wcdx, cdy)
        c = np.einsum("...k,...k->...", wcdy, cdy)
        p = np.einsum("...k,...k->...", wcdx, csx)
        q = np.einsum("...k,...k->...", wcdy, csx)
        r = np.einsum("...k,...k->...", wcdx, csy)
        u = np.einsum("...k,...k->...", wcdy, csy)
        det = a * c - b * b
        out = np.empty(det.shape + (2, 3))
        a00 = out[..., 0, 0] = (p * c - q * b) / det
        a01 = out[..., 0, 1] = (q * a - p * b) / det
        a10 = out[..., 1, 0] = (r * c - u * b) / det
        a11 = out[..., 1, 1] = (u * a - r * b) / det
        out[..., 0, 2] = msx - (a00 * mdx + a01 * mdy)
        out[..., 1, 2] = msy - (a10 * mdx + a11 * mdy)
        det_a = a00 * a11 - a01 * a10
        count = np.count_nonzero(w, axis=-1)
        ok = ((count >= MIN_POINTS) & _scatter_ok(det, a + c)
              & (np.abs(det_a) >= MIN_ABS_DET) & np.isfinite(out).all(axis=(-2, -1)))
        # similarity fallback for (nearly) collinear, non-coincident target points
        norm = a + c
        sa = (p + u) / norm
        sb = (r - q) / norm
        sim = (~ok & ~_scatter_ok(det, a + c) & (count >= MIN_POINTS)
               & (norm > MIN_SIMILARITY_TRACE) & (sa * sa + sb * sb >= MIN_ABS_DET)
               & np.isfinite(sa) & np.isfinite(sb))
        if sim.any():
            out[sim, 0, 0] = sa[sim]
            out[sim, 0, 1] = -sb[sim]
            out[sim, 1, 0] = sb[sim]
            out[sim, 1, 1] = sa[sim]
            out[sim, 0, 2] = msx[sim] - (sa[sim] * mdx[sim] - sb[sim] * mdy[sim])
            out[sim, 1, 2] = msy[sim] - (sb[sim] * mdx[sim] + sa[sim] * mdy[sim])
            ok = ok | sim
    out[~ok] = NO_POINT
    return out, ok


def fit_affine_batch(dst_pts: np.ndarray, src_pts: np.ndarray,
                     weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised (weighted) OLS fits, closed form on centred coordinates.

    dst_pts, src_pts: ``(..., K, 2)`` (y, x) pixels (broadcastable); weights: ``(..., K)``
    (0/1 selects the points of each fit; default all 1). Points with weight 0 are ignored even
    if NaN. Returns ``(affines (..., 2, 3) float64, ok (...) bool)``; a fit that
    :func:`fit_affine` would reject (same tests; "K" = number of non-zero weights) gets
    :data:`NO_POINT` and ok=False. With 0/1 weights the result equals :func:`fit_affine` on the
    selected points up to rounding.

    Closed form: with weighted means ``m_d, m_s`` and centred points, ``C = sum w d d^T``,
    ``S = sum w s d^T`` (2x2, in (x, y)), ``A = S C^-1`` and ``t = m_s - A m_d``.
    """
    dst = np.asarray(dst_pts, dtype=np.float64)
    src = np.asarray(src_pts, dtype=np.float64)
    shape = np.broadcast_shapes(dst.shape, src.shape)[:-1]
    w = (np.ones(shape) if weights is None
         else np.broadcast_to(np.asarray(weights, dtype=np.float64), shape))
    use = w > 0
    dx, dy = (np.where(use, dst[..., i], 0.0) for i in (1, 0))
    sx, sy = (np.where(use, src[..., i], 0.0) for i in (1, 0))
    return _fit_xy(dx, dy, sx, sy, np.where(use, w, 0.0))


def apply_affine(affine: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Map ``(..., K, 2)`` (y, x) points by ``(..., 2, 3)`` affines; returns (y, x) float64."""
    a = np.asarray(affine, dtype=np.float64)
    p = np.asarray(pts, dtype=np.float64)
    x, y = p[..., 1], p[..., 0]
    ox = a[..., 0, 0, None] * x + a[..., 0, 1, None] * y + a[..., 0, 2, None]
    oy = a[..., 1, 0, None] * x + a[..., 1, 1, None] * y + a[..., 1, 2, None]
    return np.stack([oy, ox], axis=-1)


def invert_affine(affine: np.ndarray) -> np.ndarray:
    """Inverse of ``(..., 2, 3)`` affines (raises numpy.linalg.LinAlgError when singular)."""
    a = np.asarray(affine, dtype=np.float64)
    lin = np.linalg.inv(a[..., :2, :2])
    t = -np.einsum("...ij,...j->...i", lin, a[..., :, 2])
    return np.concatenate([lin, t[..., None]], axis=-1)


def rescale_affine(affine: np.ndarray, from_hw: tuple[int, int], to_hw: tuple[int, int]
                   ) -> np.ndarray:
    """Express ``(..., 2, 3)`` affines fitted in a ``from_hw`` frame in a resized ``to_hw`` frame.

    Source and target frames are both resized; coordinates map like ``scale_keypoints``
    (``p' = (p + 0.5) s - 0.5``, pixel centres at integers, edges to edges) [choice], so a
    feature map of another resolution (e.g. a network's skip at 64x64) is warped consistently.
    :data:`NO_POINT` entries stay exactly :data:`NO_POINT`.
    """
    a = np.asarray(affine, dtype=np.float64)
    sy, sx = to_hw[0] / from_hw[0], to_hw[1] / from_hw[1]
    cx, cy = sx / 2 - 0.5, sy / 2 - 0.5
    # D = [[sx, 0, cx], [0, sy, cy], [0, 0, 1]];  A' = D A D^-1
    out = np.empty_like(a)
    out[..., 0, 0] = a[..., 0, 0]
    out[..., 0, 1] = a[..., 0, 1] * sx / sy
    out[..., 1, 0] = a[..., 1, 0] * sy / sx
    out[..., 1, 1] = a[..., 1, 1]
    # translation: D (A (D^-1 p)) at p' = 0: D^-1 0 = (-cx/sx, -cy/sy)
    x0, y0 = -cx / sx, -cy / sy
    out[..., 0, 2] = sx * (a[..., 0, 0] * x0 + a[..., 0, 1] * y0 + a[..., 0, 2]) + cx
    out[..., 1, 2] = sy * (a[..., 1, 0] * x0 + a[..., 1, 1] * y0 + a[..., 1, 2]) + cy
    is_np = np.all(a == NO_POINT, axis=(-2, -1))
    return np.where(is_np[..., None, None], NO_POINT, out)


def _source_limb(vis_src: np.ndarray, k: int) -> tuple[int, int] | None:
    """Endpoints used on the source side for limb k: its own, else its mirror, else None."""
    a, b = LIMB_ENDPOINTS[k]
    if vis_src[a] and vis_src[b]:
        return a, b
    ma, mb = LIMB_MIRROR_ENDPOINTS[k]
    if vis_src[ma] and vis_src[mb]:
        return ma, mb
    return None


def _check_frame(height: int | None, width: int | None) -> None:
    if height is not None and width is not None and max(height, width) >= NO_POINT_OFFSET / 2:
        raise ValueError(f"frame {height}x{width} too large for the no-point transform")


def part_affines(kp_src: np.ndarray, kp_tgt: np.ndarray, height: int | None = None,
                 width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 10 part transforms from a source pose to a target pose (docs/method.md §3), one pair.

    kp_src, kp_tgt: ``(18, 2)`` (y, x) pixels of one frame. Returns ``(affines (10, 2, 3)
    float64, valid (10,) bool)``; ``affines[j]`` maps target pixels to source pixels. The
    rules are those of :func:`part_affines_lstsq`; the numbers come from the closed form of
    :func:`part_affines_batch`, so one pair gives bit for bit the row the batch gives (the
    search's reference and fast implementations then sample the same pixels; a 1e-14
    difference can flip a nearest-neighbour sample that sits on a half pixel).
    """
    tgt = np.asarray(kp_tgt, dtype=np.float64)
    if tgt.shape != (18, 2):
        raise ValueError(f"poses must be (18, 2), got {np.shape(kp_src)} and {tgt.shape}")
    affines, valid = part_affines_batch(kp_src, tgt[None], height, width)
    return affines[0], valid[0]


def part_affines_lstsq(kp_src: np.ndarray, kp_tgt: np.ndarray, height: int | None = None,
                       width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 10 part transforms of one pair, fitted part by part with :func:`fit_affine`.

    The straightforward definition, kept as an independent check of the closed form
    (equal to :func:`part_affines` to ~1e-10 px).

    kp_src, kp_tgt: ``(18, 2)`` (y, x) pixels, both in the same frame (``height x width``,
    optional, only checked against the no-point offset). Returns ``(affines (10, 2, 3)
    float64, valid (10,) bool)``; ``affines[j]`` maps target pixels to source pixels.

    - torso: OLS on [Rhip, Lhip, Lsho, Rsho]; needs all four in both poses.
    - head: OLS on the head points (nose, eyes, ears) present in both poses plus both
      shoulders (needed in both poses) [code, Deformable GAN].
    - limb: OLS between the four :func:`limb_rectangle` corners (``TRANSFORM_INC_TO``, each
      pose's own torso size, so both torsos must be complete) of the target limb and the source
      limb; a limb missing in the source uses its mirror (L<->R) when that is present [code].
    - a part missing in the target, no common head point, or a singular fit (see
      :func:`fit_affine`) -> :data:`NO_POINT`, valid False.
    """
    _check_frame(height, width)
    src = np.asarray(kp_src, dtype=np.float64)
    tgt = np.asarray(kp_tgt, dtype=np.float64)
    if src.shape != (18, 2) or tgt.shape != (18, 2):
        raise ValueError(f"poses must be (18, 2), got {src.shape} and {tgt.shape}")
    vis_s, vis_t = visible(src), visible(tgt)
    fits: list[np.ndarray | None] = [None] * NUM_PARTS
    torso = list(TORSO_POINTS)
    if vis_s[torso].all() and vis_t[torso].all():
        fits[TORSO] = fit_affine(tgt[torso], src[torso])
    common = [h for h in HEAD_POINTS if vis_s[h] and vis_t[h]]
    shoulders = [LSHO, RSHO]
    if common and vis_s[shoulders].all() and vis_t[shoulders].all():
        pts = common + shoulders
        fits[HEAD] = fit_affine(tgt[pts], src[pts])
    st_s, st_t = torso_size(src), torso_size(tgt)
    if np.isfinite(st_s) and np.isfinite(st_t):
        for k, (a, b) in enumerate(LIMB_ENDPOINTS):
            if not (vis_t[a] and vis_t[b]):
                continue
            src_limb = _source_limb(vis_s, k)
            if src_limb is None:
                continue
            rect_t = limb_rectangle(tgt[a], tgt[b], st_t, TRANSFORM_INC_TO[k])
            rect_s = limb_rectangle(src[src_limb[0]], src[src_limb[1]], st_s, TRANSFORM_INC_TO[k])
            fits[FIRST_LIMB + k] = fit_affine(rect_t, rect_s)
    valid = np.array([f is not None for f in fits])
    affines = np.stack([NO_POINT if f is None else f for f in fits]).astype(np.float64)
    return affines, valid


@dataclass(frozen=True)
class TargetLayout:
    """Target poses pre-arranged for :func:`part_affines_batch` (source-independent work).

    The search fits one source against the same pool of targets again and again; preparing
    the pool once (:func:`prepare_targets`) skips the target rectangles on every call.
    dx, dy: ``(M, 10, 7)`` float64 target slot coordinates (x and y pixels, 0 where unused);
    w: ``(M, 10, 7)`` float64, 1 where the target has the slot's point (torso: all four torso
    points; head: nose, eyes, ears, Lsho, Rsho individually; limbs: the 4 corners when both
    endpoints and the torso are present).
    """

    dx: np.ndarray
    dy: np.ndarray
    w: np.ndarray

    def __len__(self) -> int:
        return len(self.w)

    def __getitem__(self, index: slice) -> "TargetLayout":
        return TargetLayout(self.dx[index], self.dy[index], self.w[index])


def prepare_targets(kp_tgts: np.ndarray) -> TargetLayout:
    """Lay out ``(M, 18, 2)`` target poses ((y, x) pixels) for :func:`part_affines_batch`."""
    tgt = np.asarray(kp_tgts, dtype=np.float64)
    if tgt.ndim != 3 or tgt.shape[1:] != (18, 2):
        raise ValueError(f"kp_tgts must be (M, 18, 2), got {tgt.shape}")
    m = len(tgt)
    vis = visible(tgt)
    pts = np.zeros((m, NUM_PARTS, _SLOTS, 2))
    w = np.zeros((m, NUM_PARTS, _SLOTS))
    torso = list(TORSO_POINTS)
    pts[:, TORSO, :4] = tgt[:, torso]
    w[:, TORSO, :4] = vis[:, torso].all(axis=1)[:, None]
    pts[:, HEAD] = tgt[:, _HEAD_SLOTS]
    w[:, HEAD] = vis[:, _HEAD_SLOTS]
    st = torso_size(tgt)                                                      # (M,)
    ends = np.array(LIMB_ENDPOINTS)                                           # (8, 2)
    pts[:, FIRST_LIMB:, :4] = limb_rectangle(tgt[:, ends[:, 0]], tgt[:, ends[:, 1]],
                                             st[:, None], np.array(TRANSFORM_INC_TO))
    w[:, FIRST_LIMB:, :4] = (vis[:, ends[:, 0]] & vis[:, ends[:, 1]]
                             & np.isfinite(st)[:, None])[:, :, None]
    use = w > 0
    return TargetLayout(np.where(use, pts[..., 1], 0.0), np.where(use, pts[..., 0], 0.0), w)


def _source_slots(src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source side of the batch layout: points ``(10, 7, 2)`` (y, x), 0 where unused, and
    weights ``(10, 7)``: torso all-or-nothing, head points individually, limb k's corners
    when its own or its mirrored limb is present and the torso is complete."""
    vis = visible(src)
    pts = np.zeros((NUM_PARTS, _SLOTS, 2))
    w = np.zeros((NUM_PARTS, _SLOTS))
    torso = list(TORSO_POINTS)
    pts[TORSO, :4] = src[torso]
    w[TORSO, :4] = vis[torso].all()
    pts[HEAD] = src[_HEAD_SLOTS]
    w[HEAD] = vis[_HEAD_SLOTS]
    st = torso_size(src)
    for k in range(len(LIMB_ENDPOINTS)):             # the 8 limbs of the one source pose
        limb = _source_limb(vis, k)
        if limb is not None and np.isfinite(st):
            w[FIRST_LIMB + k, :4] = 1.0
            pts[FIRST_LIMB + k, :4] = limb_rectangle(src[limb[0]], src[limb[1]], st,
                                                     TRANSFORM_INC_TO[k])
    pts = np.where((w > 0)[..., None], pts, 0.0)
    return pts, w


def part_affines_batch(kp_src: np.ndarray, kp_tgts: np.ndarray | TargetLayout,
                       height: int | None = None, width: int | None = None,
                       chunk: int = BATCH_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """:func:`part_affines` of one source against M targets, vectorised (no loop over M).

    kp_src: ``(18, 2)``; kp_tgts: ``(M, 18, 2)`` or a :class:`TargetLayout` from
    :func:`prepare_targets` (faster when the same targets serve many sources); (y, x) pixels
    of one frame. Returns ``(affines (M, 10, 2, 3) float64, valid (M, 10) bool)``, equal to
    :func:`part_affines` pair by pair up to rounding (the validity flags use the same tests).
    Every part is laid out as 7 weighted point slots (torso: 4 points; head: nose, eyes, ears,
    then Lsho, Rsho; limbs: 4 rectangle corners) and fitted in closed form (see
    :func:`fit_affine_batch`), ``chunk`` targets at a time to stay in cache.
    """
    _check_frame(height, width)
    src = np.asarray(kp_src, dtype=np.float64)
    if src.shape != (18, 2):
        raise ValueError(f"kp_src must be (18, 2), got {src.shape}")
    prepared = isinstance(kp_tgts, TargetLayout)
    layout = kp_tgts if prepared else np.asarray(kp_tgts, dtype=np.float64)
    if not prepared and (layout.ndim != 3 or layout.shape[1:] != (18, 2)):
        raise ValueError(f"kp_tgts must be (M, 18, 2), got {layout.shape}")
    src_pts, src_w = _source_slots(src)
    sx, sy = src_pts[..., 1], src_pts[..., 0]
    nh = len(HEAD_POINTS)
    m = len(layout)
    affines = np.empty((m, NUM_PARTS, 2, 3))
    valid = np.empty((m, NUM_PARTS), dtype=bool)
    for lo in range(0, m, chunk):                     # chunks of targets, vectorised inside
        part = layout[lo:lo + chunk] if prepared else prepare_targets(layout[lo:lo + chunk])
        w = part.w * src_w                            # (c, 10, 7): slot present in both poses
        head = w[:, HEAD]                             # view: head points, then Lsho, Rsho
        use_head = (head[:, :nh].max(axis=1) * head[:, nh] * head[:, nh + 1])
        head *= use_head[:, None]
        affines[lo:lo + len(part)], valid[lo:lo + len(part)] = _fit_xy(part.dx, part.dy,
                                                                       sx, sy, w)
    return affines, valid
