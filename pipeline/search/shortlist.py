"""The shortlist's first pass: keep the M most promising admissible candidates of a source.

With ``search.shortlist: M > 0`` the exact cost of docs/method.md §4 ranks only the M
candidates a cheap first pass likes best (``search.shortlist_method``):

- ``lowres``: the same cost on maps and poses downsampled to 1/``shortlist_factor`` of the
  working resolution (:mod:`pipeline.search.first_pass`), cheapest first;
- ``pose``: the normalised keypoint distance of :func:`pipeline.search.admissible.pose_distance`
  (the one the admissibility test computes), smallest first.

Ties are broken by the lower index, so the shortlist is deterministic. What it misses is
measured, not assumed: :mod:`pipeline.search.recall` and bench/search.py (where ``lowres``
was chosen: at N = 4,000 its recall of the exact argmin is 0.99 with M = 800 where ``pose``
keeps it for 0.47 of the sources; docs/search.md).
"""
from __future__ import annotations

import numpy as np

from pipeline.search import first_pass
from pipeline.search.admissible import pose_distance
from pipeline.search.first_pass import LowRes
from pipeline.search.inputs import SearchInputs


def select(cands: np.ndarray, score: np.ndarray, m: int) -> np.ndarray:
    """The ``m`` best candidates by (score, index), in that order: (min(m, K),) int64."""
    order = np.lexsort((cands, score))[:m]
    return np.asarray(cands, np.int64)[order]


def scores(source: int, inputs: SearchInputs, low: LowRes | None, cands: np.ndarray,
           method: str, mismatch_cost: float, distance: np.ndarray | None = None
           ) -> np.ndarray:
    """First-pass score of every candidate (K,) int64 (lower = more promising): (K,) float64.

    low: :func:`pipeline.search.first_pass.lowres` of ``inputs`` (``lowres`` only);
    distance: the candidates' pose distances when already computed (``pose`` only).
    """
    if method == "pose":
        if distance is not None:
            return np.asarray(distance, np.float64)
        return pose_distance(inputs.keypoints[source], inputs.keypoints[cands],
                             float(inputs.torso_size[source]))
    if method == "lowres":
        return first_pass.scores(source, _need(low), cands, mismatch_cost)
    raise ValueError(f"unknown search.shortlist_method {method!r} (pose | lowres)")


def shortlist(source: int, inputs: SearchInputs, low: LowRes | None, cands: np.ndarray,
              method: str, m: int, mismatch_cost: float, distance: np.ndarray | None = None
              ) -> np.ndarray:
    """The shortlist of one source: admissible ``cands`` (K,) int64 -> the ``m`` best by
    the first pass, best first ((min(m, K),) int64; all of them, unscored, when K <= m).

    distance: (K,) pose distances of ``cands``
    (:func:`pipeline.search.admissible.admissible_with_distance`; ``pose`` only). With
    ``lowres`` the first pass visits the candidates as given (the admissibility test's
    index order), which reads every image's maps and slots in memory order: at N = 38,000
    the shortlist search is 1.2x to 1.3x faster than visiting the nearest in pose first,
    whose tighter early exit does not make up for the scattered reads [measured;
    docs/benchmarks.md]. The shortlist
    is the same in any visiting order (ties go to the lower index; tested).
    """
    cands = np.asarray(cands, np.int64)
    if cands.size <= m:
        return cands
    if method == "lowres":                        # early exit: same ranking as select()
        return first_pass.best(source, _need(low), cands, m, mismatch_cost)[0]
    return select(cands, scores(source, inputs, low, cands, method, mismatch_cost, distance), m)


def _need(low: LowRes | None) -> LowRes:
    if low is None:
        raise ValueError("search.shortlist_method=lowres needs the low-resolution inputs "
                         "(pipeline.search.first_pass.lowres)")
    return low
