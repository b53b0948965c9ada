"""The compiled exact cost kernel of the search (numba, no fastmath: bit-exact samples).

For one source and a list of candidates it evaluates docs/method.md §4's cost with the same sample
positions as :func:`pipeline.geometry.sample_coords` (the same float64 expressions, in the
same order, round half up), but visits only the pixels that can cost anything: for part j,
row by row, the span of the candidate's person pixels inside B^j_{P_c} and the span of
output pixels whose sample can land on the source's person pixels inside B^j_{P_s} (the
source box's preimage under f_j, cut along the row: :func:`_row_span`). Every other pixel
has no person label on either side and costs 0, so the result is exact.

Pixel cost: 0 when both sides agree (both empty or the same label), 1 when exactly one side
holds a person label, ``mismatch_cost`` when they hold two different person labels.
"""
from __future__ import annotations

import math

import numba
import numpy as np

#: Below this |det| (or :data:`_DET_REL` times the map's scale and terms) the preimage's
#: rows are not bounded and every row is visited.
_DET_EPS = 1e-12

#: Relative |det| threshold of the row bound: about 4,500 times the float64 epsilon.
_DET_REL = 1e-12

#: Slack (source pixels) on each side of the source box when cutting its preimage along a
#: row, plus :data:`_ULPS` times the size of the sample's terms: the sample and the span
#: group the same terms differently, so they differ by a few ulps of the largest term; no
#: pixel whose sample lands in the box is left out, and a pixel let in needlessly costs 0.
_SAMPLE_SLACK = 1e-9

#: Relative rounding allowance of a sample coordinate (about 9 float64 ulps).
_ULPS = 2e-15

#: Slack (output pixels) on each side of a span before rounding it to whole pixels.
_SPAN_SLACK = 1e-9

#: Slopes at most this small count as zero in the row spans (1 / slope would overflow).
_FLAT = 1e-300


@numba.njit(cache=True, nogil=True)
def _preimage_rows(a: np.ndarray, sy0: int, sy1: int, sx0: int, sx1: int, h: int
                   ) -> tuple[int, int]:
    """Rows of output pixels whose nearest sample can fall in source box [sy0..sy1] x
    [sx0..sx1] (the rows of the box's preimage under a, clipped to the frame; every row
    when a is near singular; (1, 0) when none)."""
    det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    # the corners' numerators cancel to within ~eps * scale * terms; below this |det| their
    # quotient may be off by a row, so every row is visited (the row spans stay exact)
    scale = max(abs(a[0, 0]), abs(a[0, 1]), abs(a[1, 0]), abs(a[1, 1]))
    terms = abs(a[0, 2]) + abs(a[1, 2]) + 2.0 * (h + (sx1 + 1.0))
    if abs(det) < max(_DET_EPS, _DET_REL * scale * terms):
        return 0, h - 1
    lo_y = 1e300
    hi_y = -1e300
    for cy in (sy0 - 0.5, sy1 + 0.5):
        for cx in (sx0 - 0.5, sx1 + 0.5):
            y = (-a[1, 0] * (cx - a[0, 2]) + a[0, 0] * (cy - a[1, 2])) / det
            lo_y = min(lo_y, y)
            hi_y = max(hi_y, y)
    y0 = max(0.0, math.floor(lo_y) - 1.0)
    y1 = min(h - 1.0, math.ceil(hi_y) + 1.0)
    if y0 > y1:
        return 1, 0
    return int(y0), int(y1)


@numba.njit(cache=True, nogil=True)
def _axis_span(inv_slope: float, base: float, lo: float, hi: float, x_lo: float, x_hi: float,
               slack: float) -> tuple[float, float]:
    """The x in [x_lo, x_hi] where slope * x + base can lie in [lo, hi] (inv_slope =
    1 / slope, or 0 for a flat one), with the sample widened by ``slack`` and x by
    :data:`_SPAN_SLACK`; (1, 0) when none."""
    if inv_slope == 0.0:
        if base < lo - slack or base > hi + slack:
            return 1.0, 0.0
        return x_lo, x_hi
    u = (lo - slack - base) * inv_slope
    v = (hi + slack - base) * inv_slope
    if u > v:
        u, v = v, u
    return max(x_lo, u - _SPAN_SLACK), min(x_hi, v + _SPAN_SLACK)


@numba.njit(cache=True, nogil=True)
def _row_span(a: np.ndarray, inv_x: float, inv_y: float, y: float, sy0: int, sy1: int,
              sx0: int, sx1: int, w: int) -> tuple[int, int]:
    """Pixels [x0..x1] of output row y whose nearest sample can fall in source box
    [sy0..sy1] x [sx0..sx1]: both coordinates of the sample are linear in x along the row,
    so each keeps x in one interval (inv_x, inv_y: 1 / a[0, 0], 1 / a[1, 0], 0 where
    flat); (1, 0) when none."""
    # the sample's own rounding grows with its terms: a few ulps of the largest of them
    slack_x = _SAMPLE_SLACK + _ULPS * (abs(a[0, 0]) * w + abs(a[0, 1] * y) + abs(a[0, 2]))
    slack_y = _SAMPLE_SLACK + _ULPS * (abs(a[1, 0]) * w + abs(a[1, 1] * y) + abs(a[1, 2]))
    x_lo, x_hi = _axis_span(inv_x, a[0, 1] * y + a[0, 2], sx0 - 0.5, sx1 + 0.5, 0.0, w - 1.0,
                            slack_x)
    if x_lo > x_hi:
        return 1, 0
    x_lo, x_hi = _axis_span(inv_y, a[1, 1] * y + a[1, 2], sy0 - 0.5, sy1 + 0.5, x_lo, x_hi,
                            slack_y)
    if x_lo > x_hi:
        return 1, 0
    return int(math.ceil(x_lo)), int(math.floor(x_hi))


@numba.njit(cache=True, nogil=True)
def pair_cost_kernel(src_lab: np.ndarray, src_bits: np.ndarray, src_bbox: np.ndarray,
                     c_lab: np.ndarray, c_bits: np.ndarray, c_bbox: np.ndarray,
                     affines: np.ndarray, mismatch_cost: float, limit: float = np.inf
                     ) -> float:
    """cost(s, c) of one pair. Arrays as in :func:`source_costs` (one candidate's slices).

    Costs are sums of non-negative pixel terms, so the partial sum after any row of any part
    is a lower bound: once it exceeds ``limit`` the pair cannot beat it and the partial sum
    (> limit) is returned without the remaining pixels. The torso (part 0, the largest term)
    comes first.
    """
    h, w = src_lab.shape
    # integer pixel counts, combined as n_single + mismatch_cost * n_mismatch (exactly the
    # reference's expression, so both give the same float whatever mismatch_cost is)
    n_single = 0
    n_mismatch = 0
    for j in range(affines.shape[0]):
        if n_mismatch > 0 or n_single > 0:
            partial = float(n_single) + mismatch_cost * float(n_mismatch)
            if partial > limit:
                return partial
        a = affines[j]
        cy0, cy1, cx0, cx1 = c_bbox[j, 0], c_bbox[j, 1], c_bbox[j, 2], c_bbox[j, 3]
        sy0, sy1, sx0, sx1 = src_bbox[j, 0], src_bbox[j, 1], src_bbox[j, 2], src_bbox[j, 3]
        py0, py1 = 1, 0
        if sy0 <= sy1:
            py0, py1 = _preimage_rows(a, sy0, sy1, sx0, sx1, h)
        if cy0 > cy1:
            ry0, ry1 = py0, py1
        elif py0 > py1:
            ry0, ry1 = cy0, cy1
        else:
            ry0, ry1 = min(cy0, py0), max(cy1, py1)
        # a slope below _FLAT (its inverse would overflow) moves a sample by < 1e-297 px
        # across the frame: the span test treats it as flat, far inside the slack
        inv_x = 1.0 / a[0, 0] if abs(a[0, 0]) > _FLAT else 0.0
        inv_y = 1.0 / a[1, 0] if abs(a[1, 0]) > _FLAT else 0.0
        a00, a01, a02 = a[0, 0], a[0, 1], a[0, 2]
        a10, a11, a12 = a[1, 0], a[1, 1], a[1, 2]
        for y in range(ry0, ry1 + 1):
            yf = float(y)
            # this row's pixels: the candidate's box span, the preimage's span, or both
            c0, c1 = (cx0, cx1) if cy0 <= y <= cy1 else (1, 0)
            p0, p1 = 1, 0
            if py0 <= y <= py1:
                p0, p1 = _row_span(a, inv_x, inv_y, yf, sy0, sy1, sx0, sx1, w)
            if c0 > c1:
                c0, c1, p0, p1 = p0, p1, 1, 0
            elif p0 <= p1 and p0 <= c1 + 1 and c0 <= p1 + 1:   # overlapping spans: one
                c0, c1, p0, p1 = min(c0, p0), max(c1, p1), 1, 0
            for span in range(2):
                x0, x1 = (c0, c1) if span == 0 else (p0, p1)
                for x in range(x0, x1 + 1):
                    # branch-free: which pixels differ is data, and mispredicted branches
                    # cost more than the arithmetic
                    la = np.int64(c_lab[y, x]) * np.int64((c_bits[y, x] >> j) & 1)
                    xf = float(x)
                    sx = (a00 * xf + a01 * yf) + a02
                    sy = (a10 * xf + a11 * yf) + a12
                    fx = math.floor(sx + 0.5)
                    fy = math.floor(sy + 0.5)
                    inside = np.int64((fx >= 0) & (fx < w) & (fy >= 0) & (fy < h))
                    ix = min(max(fx, 0), w - 1)
                    iy = min(max(fy, 0), h - 1)
                    lb = (np.int64(src_lab[iy, ix]) * np.int64((src_bits[iy, ix] >> j) & 1)
                          * inside)
                    diff = np.int64(la != lb)
                    both = np.int64((la != 0) & (lb != 0))
                    n_mismatch += diff & both
                    n_single += diff & (1 - both)
            # the bound, row by row as well: most candidates of a top-k search exceed it
            # partway through the torso
            partial = float(n_single) + mismatch_cost * float(n_mismatch)
            if partial > limit:
                return partial
    return float(n_single) + mismatch_cost * float(n_mismatch)


@numba.njit(cache=True, nogil=True)
def source_costs(src_lab: np.ndarray, src_bits: np.ndarray, src_bbox: np.ndarray,
                 cand_lab: np.ndarray, cand_bits: np.ndarray, cand_bbox: np.ndarray,
                 cands: np.ndarray, affines: np.ndarray, mismatch_cost: float) -> np.ndarray:
    """Costs of one source against K candidates.

    src_lab (h, w) uint8, src_bits (h, w) uint16 part bitfield, src_bbox (10, 4) int64;
    cand_lab (N, h, w), cand_bits (N, h, w), cand_bbox (N, 10, 4): every image's arrays;
    cands (K,) int64 indices into them; affines (K, 10, 2, 3) float64 f_j of each pair
    (target = candidate frame -> source frame). Returns (K,) float64.
    """
    out = np.empty(cands.shape[0], np.float64)
    for k in range(cands.shape[0]):
        c = cands[k]
        out[k] = pair_cost_kernel(src_lab, src_bits, src_bbox, cand_lab[c], cand_bits[c],
                                  cand_bbox[c], affines[k], mismatch_cost)
    return out


@numba.njit(cache=True, nogil=True)
def source_top_k(src_lab: np.ndarray, src_bits: np.ndarray, src_bbox: np.ndarray,
                 cand_lab: np.ndarray, cand_bits: np.ndarray, cand_bbox: np.ndarray,
                 cands: np.ndarray, affines: np.ndarray, mismatch_cost: float, k: int
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """The k cheapest of K candidates, exactly, with early exit.

    Same arrays as :func:`source_costs`. Keeps the best k so far sorted by (cost, index); a
    candidate whose partial cost already exceeds the current k-th best cost is abandoned
    (its full cost can only be larger, so it cannot enter the top k; ties are kept and
    broken by the lower index). Visiting likely winners first (e.g. by pose distance) makes
    the bound bite early. Returns (indices (k,) int64, -1 padded; costs (k,) float64, inf
    padded; number of candidates that entered the running top k).
    """
    best_idx = np.full(k, -1, np.int64)
    best_cost = np.full(k, np.inf, np.float64)
    full = 0
    for m in range(cands.shape[0]):
        c = cands[m]
        cost = pair_cost_kernel(src_lab, src_bits, src_bbox, cand_lab[c], cand_bits[c],
                                cand_bbox[c], affines[m], mismatch_cost, best_cost[k - 1])
        if cost > best_cost[k - 1]:
            continue
        if cost == best_cost[k - 1] and c > best_idx[k - 1] and best_idx[k - 1] >= 0:
            continue
        full += 1
        pos = k - 1
        while pos > 0 and (best_cost[pos - 1] > cost
                           or (best_cost[pos - 1] == cost and best_idx[pos - 1] > c)):
            best_cost[pos] = best_cost[pos - 1]
            best_idx[pos] = best_idx[pos - 1]
            pos -= 1
        best_cost[pos] = cost
        best_idx[pos] = c
    return best_idx, best_cost, full
