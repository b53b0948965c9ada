"""The literal search: docs/method.md §4's formula evaluated pair by pair, written for clarity.

Used by the tests as the ground truth of the fast implementation, and by the benchmark
as its baseline. Per pair: 10 part masks on each pose, 10 affine fits, 10 nearest-
neighbour warps of a masked 9-channel one-hot map, and the squared difference.
"""
from __future__ import annotations

import numpy as np

from pipeline.geometry import NUM_PARTS, part_affines, part_masks, warp_labels
from pipeline.search.admissible import admissible
from pipeline.search.inputs import SearchInputs

#: Person labels 1..9 as one-hot channels; background is dropped [code, SPT data loader].
PERSON_LABELS = np.arange(1, 10)


def one_hot(labels: np.ndarray) -> np.ndarray:
    """(h, w) labels 0..9 -> (9, h, w) float64 one-hot of labels 1..9 (background = zeros)."""
    return (labels[None] == PERSON_LABELS[:, None, None]).astype(np.float64)


def pair_cost(kp_s: np.ndarray, labels_s: np.ndarray, kp_c: np.ndarray, labels_c: np.ndarray,
              mismatch_cost: float) -> float:
    """cost(s, c) of docs/method.md §4 for one pair, literally.

    kp_*: (18, 2) (y, x) pixels of the working frame; labels_*: (h, w) uint8 maps.
    A pixel costs 0 where both sides agree, 1 where exactly one side has a person label and
    ``mismatch_cost`` where they hold different person labels (2 = the squared distance of
    two one-hot vectors).
    """
    h, w = labels_s.shape
    masks_s = part_masks(kp_s, h, w)
    masks_c = part_masks(kp_c, h, w)
    affines, _ = part_affines(kp_s, kp_c, h, w)
    onehot_s, onehot_c = one_hot(labels_s), one_hot(labels_c)
    squared = 0          # sum_j || B^j_Pc (x) S_c - f_j(B^j_Ps (x) S_s) ||^2 (an integer)
    n_mismatch = 0       # pixels where both sides hold different person labels
    for j in range(NUM_PARTS):
        target = onehot_c * masks_c[j]                                    # B^j_Pc (x) S_c
        masked_src = (onehot_s * masks_s[j]).transpose(1, 2, 0)           # B^j_Ps (x) S_s
        warped = warp_labels(masked_src, affines[j], h, w).transpose(2, 0, 1)  # f_j(...)
        squared += int(((target - warped) ** 2).sum())
        n_mismatch += int((target.any(0) & warped.any(0) & (target != warped).any(0)).sum())
    # a mismatched pixel contributes 2 to the squared norm; it costs mismatch_cost instead
    return float(squared - 2 * n_mismatch) + mismatch_cost * float(n_mismatch)


def search_source(source: int, inputs: SearchInputs, pool: np.ndarray, min_pose_distance: float,
                  identity: np.ndarray | None, mismatch_cost: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """All admissible candidates of one source and their costs, pair by pair.

    Returns (candidates (K,) int64 ascending, costs (K,) float64).
    """
    cands = admissible(source, inputs.keypoints, inputs.torso_ok, inputs.torso_size, pool,
                       min_pose_distance, identity)
    return cands, candidate_costs(source, inputs, cands, mismatch_cost)


def candidate_costs(source: int, inputs: SearchInputs, cands: np.ndarray, mismatch_cost: float
                    ) -> np.ndarray:
    """Costs of one source against the given candidates (K,) int rows -> (K,) float64."""
    return np.array([pair_cost(inputs.keypoints[source], inputs.labels[source],
                               inputs.keypoints[c], inputs.labels[c], mismatch_cost)
                     for c in cands], dtype=np.float64)
