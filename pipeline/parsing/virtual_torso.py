"""Virtual torso points for poses without hips (portraits, upper-body photos): the first step
of the coarse parser (docs/coarse-parser.md, "Virtual torso")."""
from __future__ import annotations

import numpy as np

from pipeline.geometry import torso_size, visible
from pipeline.geometry.keypoints import LHIP, LSHO, NECK, RHIP, RSHO
from pipeline.parsing.body_frame import HEAD_KEYPOINTS

# Virtual torso: st / shoulder width [choice, measured: median over the 330 rows of
# data/annotations/fasion-annotation-sample.csv (DeepFashion) that have all four torso
# points: 1.72 (quartiles 1.59 / 2.71; front views 1.65, back views 1.60; side views, whose
# shoulders are foreshortened, 5.1 -- the median is robust to them, and a frontal portrait is
# the case this serves)].
VIRTUAL_ST_PER_SHOULDER: float = 1.72
# Shortest shoulder width (px) a virtual torso is built from [choice: below it the shoulder
# line has no direction].
VIRTUAL_MIN_SHOULDER_PX: float = 2.0


def virtual_torso(keypoints: np.ndarray) -> tuple[np.ndarray, bool]:
    """Keypoints with virtual torso points for parsing: ``(copy (18, 2) float64, used)``.

    Unchanged (``used`` False) when the four torso points exist or no virtual torso can be
    built. Otherwise: a missing shoulder is mirrored through the neck (other shoulder and
    neck present); with both shoulders at least :data:`VIRTUAL_MIN_SHOULDER_PX` apart, the
    down axis is the normal of the shoulder line pointing away from the mean of the visible
    head points (image-down without any); a missing hip = its shoulder + the present side's
    shoulder -> hip vector when the other hip exists, else its shoulder +
    :data:`VIRTUAL_ST_PER_SHOULDER` x shoulder width x down. The caller's array is not
    modified.
    """
    kp = np.array(keypoints, dtype=np.float64, copy=True)
    vis = visible(kp)
    if vis[[RSHO, LSHO, RHIP, LHIP]].all() or not (vis[RSHO] or vis[LSHO]):
        return kp, False
    if not (vis[RSHO] and vis[LSHO]):
        if not vis[NECK]:
            return kp, False
        have, miss = (RSHO, LSHO) if vis[RSHO] else (LSHO, RSHO)
        kp[miss] = 2.0 * kp[NECK] - kp[have]
    d = kp[LSHO] - kp[RSHO]
    width = float(np.hypot(d[0], d[1]))
    if width < VIRTUAL_MIN_SHOULDER_PX:
        return np.array(keypoints, dtype=np.float64, copy=True), False
    sho = 0.5 * (kp[RSHO] + kp[LSHO])
    down = np.array([d[1], -d[0]]) / width                   # (y, x), normal to the line
    heads = [i for i in HEAD_KEYPOINTS if vis[i]]
    ref = (sho - kp[heads].mean(axis=0)) if heads else np.array([1.0, 0.0])
    if down @ ref < 0:
        down = -down
    if vis[RHIP] != vis[LHIP]:                                # one hip: copy its side's vector
        have_s, have_h, miss_s, miss_h = ((RSHO, RHIP, LSHO, LHIP) if vis[RHIP]
                                          else (LSHO, LHIP, RSHO, RHIP))
        kp[miss_h] = kp[miss_s] + kp[have_h] - kp[have_s]
    elif not vis[RHIP]:
        st = VIRTUAL_ST_PER_SHOULDER * width
        kp[RHIP] = kp[RSHO] + st * down
        kp[LHIP] = kp[LSHO] + st * down
    if not np.isfinite(torso_size(kp)) or torso_size(kp) <= 0:
        return np.array(keypoints, dtype=np.float64, copy=True), False
    return kp, True
