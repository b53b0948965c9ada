"""The shortlist's low-resolution first pass, compiled: affine fits and costs in one loop.

``search.shortlist_method: lowres`` scores every admissible candidate by the cost of
docs/method.md §4 on maps and poses downsampled to 1/``shortlist_factor`` of the working
resolution. At that size the cost kernel (:func:`pipeline.search.kernel.pair_cost_kernel`)
is cheap and the vectorised numpy affine fit (:func:`pipeline.geometry.part_affines_batch`,
~6 us per pair measured on this machine's core) would dominate; here the same closed-form
weighted least-squares fit (centred scatter, similarity fallback for collinear targets, the
"no-point" transform otherwise; :func:`pipeline.geometry.affine._fit_xy`) is written as a
numba loop per pair. The fit equals numpy's up to summation order (a few ulps), so a score
may differ from the numpy-fitted low-resolution cost by a flipped sample: this is a ranking
heuristic, and what the shortlist misses is measured (:mod:`pipeline.search.recall`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from pipeline.geometry import NUM_PARTS, resize_nearest
from pipeline.geometry.affine import (DEGENERATE_RATIO, MIN_ABS_DET, MIN_POINTS,
                                      MIN_SIMILARITY_TRACE, NO_POINT_OFFSET, TargetLayout,
                                      _source_slots, prepare_targets)
from pipeline.geometry.keypoints import HEAD_POINTS
from pipeline.geometry.parts import HEAD
from pipeline.labels import NUM_LABELS
from pipeline.search.inputs import SearchInputs, build_inputs
from pipeline.search.kernel import pair_cost_kernel

#: Share of a block's pixels that must be person for the block to count as person in the
#: first pass's label maps (:func:`block_labels`) [choice: on 200 random sources of the
#: N = 38,000 benchmark people with M = 4,000, a quarter kept the exact argmin for 0.995 of
#: them, the nearest pixel of the working map (the earlier rule) for 0.985 and the plain
#: majority label for 0.975; docs/benchmarks.md].
PERSON_SHARE = 0.25

#: Head slots that are head points (the last two of the 7 are the shoulders) [affine layout].
_NUM_HEAD_POINTS = len(HEAD_POINTS)


@dataclass
class LowRes:
    """The first pass's data: every image at low resolution and its target slot layout.

    inputs: :class:`SearchInputs` at (h // factor, w // factor); layout: the
    :class:`pipeline.geometry.affine.TargetLayout` of its poses ((N, 10, 7) float64 each).
    """

    inputs: SearchInputs
    layout: TargetLayout


def block_labels(labels: np.ndarray, factor: int, chunk: int = 4096) -> np.ndarray:
    """Label maps reduced by ``factor`` by a vote in each factor x factor block.

    labels: (N, h, w) uint8 (0 = background). A block is person when at least
    :data:`PERSON_SHARE` of its pixels are; its label is then the most frequent person label
    among them (ties: the lower label), else background. Where h or w is not a multiple of
    ``factor`` the maps are first resampled by nearest neighbour to the next lower multiple.
    Processed ``chunk`` maps at a time (memory linear in N). Returns (N, h // factor,
    w // factor) uint8.
    """
    labels = np.asarray(labels, np.uint8)
    n, h, w = labels.shape
    lh, lw = h // factor, w // factor
    labels = resize_nearest(labels, (lh * factor, lw * factor))
    need = int(np.ceil(PERSON_SHARE * factor * factor))
    out = np.zeros((n, lh, lw), np.uint8)
    for lo in range(0, n, chunk):
        blocks = labels[lo:lo + chunk].reshape(-1, lh, factor, lw, factor)
        best = np.zeros((len(blocks), lh, lw), np.uint8)
        best_count = np.zeros((len(blocks), lh, lw), np.int32)
        person = np.zeros((len(blocks), lh, lw), np.int32)
        for label in range(1, NUM_LABELS):
            count = (blocks == label).sum(axis=(2, 4), dtype=np.int32)
            person += count
            better = count > best_count
            best[better], best_count[better] = label, count[better]
        out[lo:lo + chunk] = np.where(person >= need, best, 0)
    return out


def lowres(inputs: SearchInputs, factor: int) -> LowRes:
    """``inputs`` at (h // factor, w // factor): keypoints rescaled edge to edge, label maps
    reduced by a vote per block (:func:`block_labels`), part masks redrawn
    (:func:`build_inputs`)."""
    h, w = inputs.shape
    low = (h // factor, w // factor)
    if min(low) < 4:
        raise ValueError(f"search.shortlist_factor = {factor} leaves a {low[0]}x{low[1]} "
                         f"first pass of the {h}x{w} search (at least 4x4 needed)")
    small = build_inputs(inputs.keypoints, inputs.labels, (h, w), low,
                         work_labels=block_labels(inputs.labels, factor))
    return LowRes(small, prepare_targets(small.keypoints))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fit(dx: np.ndarray, dy: np.ndarray, sx: np.ndarray, sy: np.ndarray, w: np.ndarray,
         out: np.ndarray) -> None:
    """One weighted OLS fit of 7 slots (numpy's ``_fit_xy`` for one part) into out (2, 3)."""
    count = 0
    total = 0.0
    for k in range(w.shape[0]):
        if w[k] != 0.0:
            count += 1
            total += w[k]
    if count < MIN_POINTS:
        out[0, 0], out[0, 1], out[0, 2] = 1.0, 0.0, -NO_POINT_OFFSET
        out[1, 0], out[1, 1], out[1, 2] = 0.0, 1.0, -NO_POINT_OFFSET
        return
    mdx = mdy = msx = msy = 0.0
    for k in range(w.shape[0]):
        mdx += w[k] * dx[k]
        mdy += w[k] * dy[k]
        msx += w[k] * sx[k]
        msy += w[k] * sy[k]
    mdx /= total
    mdy /= total
    msx /= total
    msy /= total
    a = b = c = p = q = r = u = 0.0
    for k in range(w.shape[0]):
        cdx = dx[k] - mdx
        cdy = dy[k] - mdy
        csx = sx[k] - msx
        csy = sy[k] - msy
        wcdx = w[k] * cdx
        wcdy = w[k] * cdy
        a += wcdx * cdx
        b += wcdx * cdy
        c += wcdy * cdy
        p += wcdx * csx
        q += wcdy * csx
        r += wcdx * csy
        u += wcdy * csy
    det = a * c - b * b
    norm = a + c
    scatter_ok = det > DEGENERATE_RATIO * norm * norm
    a00 = (p * c - q * b) / det
    a01 = (q * a - p * b) / det
    a10 = (r * c - u * b) / det
    a11 = (u * a - r * b) / det
    a02 = msx - (a00 * mdx + a01 * mdy)
    a12 = msy - (a10 * mdx + a11 * mdy)
    finite = (np.isfinite(a00) and np.isfinite(a01) and np.isfinite(a10) and np.isfinite(a11)
              and np.isfinite(a02) and np.isfinite(a12))
    if scatter_ok and abs(a00 * a11 - a01 * a10) >= MIN_ABS_DET and finite:
        out[0, 0], out[0, 1], out[0, 2] = a00, a01, a02
        out[1, 0], out[1, 1], out[1, 2] = a10, a11, a12
        return
    sa = (p + u) / norm
    sb = (r - q) / norm
    if (not scatter_ok and norm > MIN_SIMILARITY_TRACE and sa * sa + sb * sb >= MIN_ABS_DET
            and np.isfinite(sa) and np.isfinite(sb)):
        out[0, 0], out[0, 1], out[0, 2] = sa, -sb, msx - (sa * mdx - sb * mdy)
        out[1, 0], out[1, 1], out[1, 2] = sb, sa, msy - (sb * mdx + sa * mdy)
        return
    out[0, 0], out[0, 1], out[0, 2] = 1.0, 0.0, -NO_POINT_OFFSET
    out[1, 0], out[1, 1], out[1, 2] = 0.0, 1.0, -NO_POINT_OFFSET


@numba.njit(cache=True, nogil=True)
def _fit_pair(src_pts: np.ndarray, src_w: np.ndarray, tdx: np.ndarray, tdy: np.ndarray,
              tw: np.ndarray, out: np.ndarray) -> None:
    """The 10 part affines of one pair into out (10, 2, 3); slots as in part_affines_batch
    (weights = both poses have the slot; head points count only with a head point and both
    shoulders present in both poses)."""
    n_slots = src_w.shape[1]
    w = np.empty(n_slots)
    for j in range(NUM_PARTS):
        for k in range(n_slots):
            w[k] = tw[j, k] * src_w[j, k]
        if j == HEAD:
            head_max = 0.0
            for k in range(_NUM_HEAD_POINTS):
                head_max = max(head_max, w[k])
            gate = head_max * w[_NUM_HEAD_POINTS] * w[_NUM_HEAD_POINTS + 1]
            for k in range(n_slots):
                w[k] *= gate
        _fit(tdx[j], tdy[j], src_pts[j, :, 1], src_pts[j, :, 0], w, out[j])


@numba.njit(cache=True, nogil=True)
def _worse(cost_a: float, idx_a: int, cost_b: float, idx_b: int) -> bool:
    """(cost, index) order: a ranks after b."""
    return cost_a > cost_b or (cost_a == cost_b and idx_a > idx_b)


@numba.njit(cache=True, nogil=True)
def _sift_down(h_cost: np.ndarray, h_idx: np.ndarray, n: int, pos: int) -> None:
    """Restore the max-heap (worst on top) below ``pos``."""
    while True:
        child = 2 * pos + 1
        if child >= n:
            return
        if child + 1 < n and _worse(h_cost[child + 1], h_idx[child + 1], h_cost[child],
                                    h_idx[child]):
            child += 1
        if not _worse(h_cost[child], h_idx[child], h_cost[pos], h_idx[pos]):
            return
        h_cost[pos], h_cost[child] = h_cost[child], h_cost[pos]
        h_idx[pos], h_idx[child] = h_idx[child], h_idx[pos]
        pos = child


@numba.njit(cache=True, nogil=True)
def _best(src_pts: np.ndarray, src_w: np.ndarray, tdx: np.ndarray, tdy: np.ndarray,
          tw: np.ndarray, src_lab: np.ndarray, src_bits: np.ndarray, src_bbox: np.ndarray,
          labels: np.ndarray, parts: np.ndarray, bbox: np.ndarray, cands: np.ndarray,
          mismatch_cost: float, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The m best candidates by (low-res cost, index), unordered, with their costs.

    A max-heap holds the best m so far; once full, a candidate is abandoned as soon as its
    partial cost exceeds the heap's worst (its full cost can only be larger; ties are
    computed in full and broken by the index), as in :func:`pipeline.search.kernel.source_top_k`.
    With limit = inf (heap not full) the kernel returns the full cost.
    """
    h_cost = np.empty(m)
    h_idx = np.empty(m, np.int64)
    n = 0
    aff = np.empty((NUM_PARTS, 2, 3))
    for k in range(cands.shape[0]):
        c = cands[k]
        limit = h_cost[0] if n == m else np.inf
        _fit_pair(src_pts, src_w, tdx[c], tdy[c], tw[c], aff)
        cost = pair_cost_kernel(src_lab, src_bits, src_bbox, labels[c], parts[c], bbox[c],
                                aff, mismatch_cost, limit)
        if n < m:                                   # sift up into the max-heap
            pos = n
            h_cost[pos], h_idx[pos] = cost, c
            n += 1
            while pos > 0:
                parent = (pos - 1) // 2
                if not _worse(h_cost[pos], h_idx[pos], h_cost[parent], h_idx[parent]):
                    break
                h_cost[pos], h_cost[parent] = h_cost[parent], h_cost[pos]
                h_idx[pos], h_idx[parent] = h_idx[parent], h_idx[pos]
                pos = parent
        elif _worse(h_cost[0], h_idx[0], cost, c):
            h_cost[0], h_idx[0] = cost, c
            _sift_down(h_cost, h_idx, n, 0)
    return h_idx[:n], h_cost[:n]


def _source(source: int, low: LowRes) -> tuple[np.ndarray, np.ndarray]:
    pts, w = _source_slots(np.asarray(low.inputs.keypoints[source], np.float64))
    return np.ascontiguousarray(pts), np.ascontiguousarray(w)


def best(source: int, low: LowRes, cands: np.ndarray, m: int, mismatch_cost: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` best of candidates (K,) int64 rows by (low-resolution cost, index), best
    first, with early exit: ((min(m, K),) int64 rows, their (min(m, K),) float64 costs).
    Equal to ranking :func:`scores` of every candidate (tested)."""
    li = low.inputs
    pts, w = _source(source, low)
    cands = np.ascontiguousarray(cands, np.int64)
    if cands.size == 0 or m <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    idx, cost = _best(pts, w, low.layout.dx, low.layout.dy, low.layout.w, li.labels[source],
                      li.parts[source], li.bbox[source], li.labels, li.parts, li.bbox, cands,
                      float(mismatch_cost), int(m))
    order = np.lexsort((idx, cost))
    return idx[order], cost[order]


def scores(source: int, low: LowRes, cands: np.ndarray, mismatch_cost: float) -> np.ndarray:
    """Low-resolution cost of ``source`` against candidates (K,) int64 rows: (K,) float64
    (every cost in full; :func:`best` is the early-exit ranking the search uses)."""
    li = low.inputs
    pts, w = _source(source, low)
    return _scores(pts, w, low.layout.dx, low.layout.dy, low.layout.w, li.labels[source],
                   li.parts[source], li.bbox[source], li.labels, li.parts, li.bbox,
                   np.ascontiguousarray(cands, np.int64), float(mismatch_cost))


@numba.njit(cache=True, nogil=True)
def _scores(src_pts: np.ndarray, src_w: np.ndarray, tdx: np.ndarray, tdy: np.ndarray,
            tw: np.ndarray, src_lab: np.ndarray, src_bits: np.ndarray, src_bbox: np.ndarray,
            labels: np.ndarray, parts: np.ndarray, bbox: np.ndarray, cands: np.ndarray,
            mismatch_cost: float) -> np.ndarray:
    out = np.empty(cands.shape[0])
    aff = np.empty((NUM_PARTS, 2, 3))
    for k in range(cands.shape[0]):
        c = cands[k]
        _fit_pair(src_pts, src_w, tdx[c], tdy[c], tw[c], aff)
        out[k] = pair_cost_kernel(src_lab, src_bits, src_bbox, labels[c], parts[c], bbox[c],
                                  aff, mismatch_cost)
    return out


def affines(source: int, low: LowRes, cands: np.ndarray) -> np.ndarray:
    """The compiled fits of one source against candidates: (K, 10, 2, 3) float64 (tests)."""
    pts, w = _source(source, low)
    out = np.empty((len(cands), NUM_PARTS, 2, 3))
    for m, c in enumerate(np.asarray(cands, np.int64)):
        _fit_pair(pts, w, low.layout.dx[c], low.layout.dy[c], low.layout.w[c], out[m])
    return out
