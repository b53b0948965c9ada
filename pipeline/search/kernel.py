"""The compiled exact cost kernel of the search (numba, no fastmath: bit-exact samples).

For one source and a list of candidates it evaluates docs/method.md §4's cost with the same sample
positions as :func:`pipeline.geometry.sample_coords` (the same float64 expressions, in the
same order, round half up), but visits only the pixels that can cost anything: for part j,
the box of the candidate's person pixels inside B^j_{P_c}, united with the box of output
pixels whose sample can land on the source's person pixels inside B^j_{P_s} (the source
box's preimage under f_j, widened by one pixel). Every other pixel has no person label on
either side and costs 0, so the result is exact.

Pixel cost: 0 when both sides agree (both empty or the same label), 1 when exactly one side
holds a person label, ``mismatch_cost`` when they hold two different person labels.
"""
from __future__ import annotations

import math

import numba
import numpy as np

#: Below this |det| the preimage box is not computed and the whole frame is visited.
_DET_EPS = 1e-12


@numba.njit(cache=True, nogil=True)
def _preimage_box(a: np.ndarray, sy0: int, sy1: int, sx0: int, sx1: int, h: int, w: int
                  ) -> tuple[int, int, int, int]:
    """Output pixels whose nearest sample can fall in source box [sy0..sy1] x [sx0..sx1]."""
    det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    if abs(det) < _DET_EPS:
        return 0, h - 1, 0, w - 1
    lo_x = 1e300
    hi_x = -1e300
    lo_y = 1e300
    hi_y = -1e300
    for cy in (sy0 - 0.5, sy1 + 0.5):
        for cx in (sx0 - 0.5, sx1 + 0.5):
            u = cx - a[0, 2]
            v = cy - a[1, 2]
            x = (a[1, 1] * u - a[0, 1] * v) / det
            y = (-a[1, 0] * u + a[0, 0] * v) / det
            lo_x = min(lo_x, x)
            hi_x = max(hi_x, x)
            lo_y = min(lo_y, y)
            hi_y = max(hi_y, y)
    if hi_x < -1.0 or lo_x > w or hi_y < -1.0 or lo_y > h:
        return 1, 0, 1, 0
    y0 = max(0, int(math.floor(lo_y)) - 1)
    y1 = min(h - 1, int(math.ceil(hi_y)) + 1)
    x0 = max(0, int(math.floor(lo_x)) - 1)
    x1 = min(w - 1, int(math.ceil(hi_x)) + 1)
    return y0, y1, x0, x1


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
        ry0, ry1, rx0, rx1 = c_bbox[j, 0], c_bbox[j, 1], c_bbox[j, 2], c_bbox[j, 3]
        if src_bbox[j, 0] <= src_bbox[j, 1]:
            py0, py1, px0, px1 = _preimage_box(a, src_bbox[j, 0], src_bbox[j, 1],
                                               src_bbox[j, 2], src_bbox[j, 3], h, w)
            if py0 <= py1 and px0 <= px1:
                if ry0 > ry1:
                    ry0, ry1, rx0, rx1 = py0, py1, px0, px1
                else:
                    ry0, ry1 = min(ry0, py0), max(ry1, py1)
                    rx0, rx1 = min(rx0, px0), max(rx1, px1)
        if ry0 > ry1 or rx0 > rx1:
            continue
        bit = np.uint16(1 << j)
        a00, a01, a02 = a[0, 0], a[0, 1], a[0, 2]
        a10, a11, a12 = a[1, 0], a[1, 1], a[1, 2]
        for y in range(ry0, ry1 + 1):
            yf = float(y)
            for x in range(rx0, rx1 + 1):
                la = 0
                if c_bits[y, x] & bit:
                    la = c_lab[y, x]
                xf = float(x)
                sx = (a00 * xf + a01 * yf) + a02
                sy = (a10 * xf + a11 * yf) + a12
                fx = math.floor(sx + 0.5)
                fy = math.floor(sy + 0.5)
                lb = 0
                if fx >= 0.0 and fx < w and fy >= 0.0 and fy < h:
                    ix = int(fx)
                    iy = int(fy)
                    if src_bits[iy, ix] & bit:
                        lb = src_lab[iy, ix]
                if la != lb:
                    if la != 0 and lb != 0:
                        n_mismatch += 1
                    else:
                        n_single += 1
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
