"""The fast exact search of one source: exclusion first, batched affines, compiled costs."""
from __future__ import annotations

import numpy as np

from pipeline.geometry import TargetLayout, part_affines_batch
from pipeline.search.admissible import admissible, pose_distance
from pipeline.search.inputs import SearchInputs
from pipeline.search.kernel import source_costs, source_top_k


def search_source(source: int, inputs: SearchInputs, pool: np.ndarray, min_pose_distance: float,
                  identity: np.ndarray | None, mismatch_cost: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """All admissible candidates of one source and their exact costs.

    Parameters as in params.yaml's ``search`` section (defaults live only in
    :class:`pipeline.config.SearchParams`); identity: (N,) person ids to exclude the source's
    own person, or None. Same contract as :func:`pipeline.search.reference.search_source`:
    returns
    (candidates (K,) int64 ascending, costs (K,) float64).
    """
    cands = admissible(source, inputs.keypoints, inputs.torso_ok, inputs.torso_size, pool,
                       min_pose_distance, identity).astype(np.int64)
    if cands.size == 0:
        return cands, np.zeros(0, np.float64)
    costs = source_costs(inputs.labels[source], inputs.parts[source], inputs.bbox[source],
                         inputs.labels, inputs.parts, inputs.bbox, cands,
                         candidate_affines(source, inputs, cands), float(mismatch_cost))
    return cands, costs


def top_k(cands: np.ndarray, costs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k cheapest candidates, ties broken by the lower index; padded with -1 / NaN.

    Returns (indices (k,) int32, costs (k,) float32).
    """
    order = np.lexsort((cands, costs))[:k]
    idx = np.full(k, -1, np.int32)
    cst = np.full(k, np.nan, np.float32)
    idx[:order.size] = cands[order]
    cst[:order.size] = costs[order]
    return idx, cst


def search_source_top_k(source: int, inputs: SearchInputs, pool: np.ndarray,
                        min_pose_distance: float, identity: np.ndarray | None,
                        mismatch_cost: float, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The k cheapest admissible candidates of one source, exactly, with early exit.

    Equal to ``top_k(*search_source(...), k)`` (tested) but faster: candidates are visited
    in order of pose distance, and a candidate is abandoned as soon as its partial cost
    exceeds the current k-th best (see :func:`pipeline.search.kernel.source_top_k`).
    Returns (indices (k,) int32 -1 padded, costs (k,) float32 NaN padded, number admissible).
    """
    cands = admissible(source, inputs.keypoints, inputs.torso_ok, inputs.torso_size, pool,
                       min_pose_distance, identity).astype(np.int64)
    idx, cst = candidates_top_k(source, inputs, cands, mismatch_cost, k)
    return idx, cst, int(cands.size)


def candidates_top_k(source: int, inputs: SearchInputs, cands: np.ndarray,
                     mismatch_cost: float, k: int, best_first: bool = False,
                     distance: np.ndarray | None = None, layout: TargetLayout | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The k cheapest of the given candidates (K,) int64 of one source, exactly, with early
    exit. Equal to ``top_k(cands, costs, k)`` whatever the visiting order, which only sets how
    soon the bound bites: by pose distance, or as given when ``best_first`` (a shortlist,
    best first by its first pass).

    distance: (K,) float64 pose distances of ``cands`` (:func:`pipeline.search.admissible.
    admissible_with_distance`), computed here when None; layout: every image's target layout
    (:func:`pipeline.geometry.prepare_targets` of ``inputs.keypoints``), prepared here for the
    candidates when None. Either gives the same bits; handing them on saves time.

    Returns (indices (k,) int32 -1 padded, costs (k,) float32 NaN padded).
    """
    idx = np.full(k, -1, np.int32)
    cst = np.full(k, np.nan, np.float32)
    cands = np.asarray(cands, np.int64)
    if cands.size == 0:
        return idx, cst
    if best_first:
        ordered = cands
    else:
        if distance is None:
            distance = pose_distance(inputs.keypoints[source], inputs.keypoints[cands],
                                     float(inputs.torso_size[source]))
        ordered = cands[np.argsort(distance, kind="stable")]
    affines = candidate_affines(source, inputs, ordered, layout)
    best, costs, _ = source_top_k(inputs.labels[source], inputs.parts[source],
                                  inputs.bbox[source], inputs.labels, inputs.parts, inputs.bbox,
                                  ordered, affines, float(mismatch_cost), int(k))
    found = best >= 0
    idx[found] = best[found]
    cst[found] = costs[found]
    return idx, cst


def candidate_affines(source: int, inputs: SearchInputs, cands: np.ndarray,
                      layout: TargetLayout | None = None) -> np.ndarray:
    """The part affines f_j of ``source`` against candidates (K,) int64, target = candidate
    frame: (K, 10, 2, 3) float64, C-contiguous. layout: as in :func:`candidates_top_k`."""
    h, w = inputs.shape
    targets = (TargetLayout(layout.dx[cands], layout.dy[cands], layout.w[cands])
               if layout is not None else inputs.keypoints[cands])
    affines, _ = part_affines_batch(inputs.keypoints[source], targets, h, w)
    return np.ascontiguousarray(affines)
