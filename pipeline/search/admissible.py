"""Which candidates a source may take its pseudo target from (docs/method.md §4, [paper] + [choice]).

A candidate is admissible for source s when it is another training image with a complete
torso, its pose is not too similar to the source's, and (optionally) it shows another
person. Pose similarity [choice]: the mean distance between the keypoints visible in both
poses, divided by the source's torso size st; candidates with no common visible point
are not similar. Excluded when ``distance < min_pose_distance``.
"""
from __future__ import annotations

import numpy as np


def pose_distance(kp_src: np.ndarray, kp_cands: np.ndarray, st_src: float) -> np.ndarray:
    """Mean normalised keypoint distance of one pose to M poses.

    kp_src (18, 2), kp_cands (M, 18, 2), (y, x) pixels, -1 missing; st_src in the same pixels.
    Returns (M,) float64; +inf where the poses share no visible point.
    """
    vis_s = (kp_src >= 0).all(axis=-1)
    vis_c = (kp_cands >= 0).all(axis=-1)
    common = vis_c & vis_s[None, :]
    d = np.linalg.norm(kp_cands - kp_src[None], axis=-1)
    n = common.sum(axis=1)
    total = np.where(common, d, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / n / st_src
    return np.where(n > 0, out, np.inf)


def admissible_with_distance(source: int, keypoints: np.ndarray, torso_ok: np.ndarray,
                             torso_size: np.ndarray, pool: np.ndarray,
                             min_pose_distance: float, identity: np.ndarray | None = None
                             ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`admissible` and the pose distance of each kept candidate to the source.

    Returns (indices (K,) int, ascending; distances (K,) float64, as :func:`pose_distance`).
    The search orders its candidates by these distances, so handing them on saves computing
    them twice.
    """
    cands = pool[(pool != source) & torso_ok[pool]]
    if cands.size == 0:
        return cands, np.zeros(0, np.float64)
    d = pose_distance(keypoints[source], keypoints[cands], float(torso_size[source]))
    keep = d >= min_pose_distance
    if identity is not None:
        keep &= identity[cands] != identity[source]
    return cands[keep], d[keep]


def admissible(source: int, keypoints: np.ndarray, torso_ok: np.ndarray, torso_size: np.ndarray,
               pool: np.ndarray, min_pose_distance: float,
               identity: np.ndarray | None = None) -> np.ndarray:
    """Indices (into the image arrays) of the admissible candidates of ``source``, ascending.

    pool: (M,) int indices of the candidate pool (training images); identity: (N,) person ids
    (any comparable values) to exclude the source's own person, or None to ignore identity.
    """
    return admissible_with_distance(source, keypoints, torso_ok, torso_size, pool,
                                    min_pose_distance, identity)[0]
