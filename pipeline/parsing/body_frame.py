"""Step 2 of the coarse parser: the body frame of a pose evaluated at the person's pixels, and
the face ellipse (docs/coarse-parser.md, step 2). Distances are in px; ``st`` is the torso
size (:func:`pipeline.geometry.torso_size`); pixels are (N, 2) (y, x)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.geometry import HEAD, LIMB_ENDPOINTS, torso_size, visible
from pipeline.geometry.keypoints import (
    LEAR, LEYE, LHIP, LSHO, NECK, NOSE, REAR, REYE, RHIP, RSHO)

# Face ellipse. Semi-axes in st: a head is about 0.2 st tall per half and a face ~0.16 st wide
# per half (adult proportions, ~7.5 heads) [choice].
FACE_HALF_WIDTH_ST: float = 0.16
FACE_HALF_HEIGHT_ST: float = 0.21
# The face centre lies below the mean of eyes and nose (they sit in its upper half) [choice].
FACE_CENTRE_DOWN_ST: float = 0.03
# The face's keypoints (nose, eyes) and the whole head's (with the ears).
FACE_KEYPOINTS: tuple[int, ...] = (NOSE, LEYE, REYE)
HEAD_KEYPOINTS: tuple[int, ...] = (NOSE, LEYE, REYE, LEAR, REAR)


@dataclass(frozen=True)
class BodyFrame:
    """Body frame of one pose, evaluated at N pixels (1-D arrays of length N).

    st: torso size (px); below_shoulder, below_hip: signed distance (px) below the shoulder
    / hip line along the torso's down axis; lateral: distance (px) from the body's axis (the
    line through the shoulder midpoint along the down axis); above_head: signed distance (px)
    above the head centre along the axis (-inf without head points); limb_ok: (8,) bool;
    limb_dist, limb_t, in_rect: (8, N) distance to the bone (px), position along it, inside
    its mask rectangle (inf / 0 / False for a missing limb); head_dist, neck_dist: (N,) distance
    to the head centre / to the segment head centre -> neck (px), inf without head points;
    in_head_box: (N,) bool.
    """

    st: float
    below_shoulder: np.ndarray
    below_hip: np.ndarray
    lateral: np.ndarray
    above_head: np.ndarray
    limb_ok: np.ndarray
    limb_dist: np.ndarray
    limb_t: np.ndarray
    in_rect: np.ndarray
    head_dist: np.ndarray
    neck_dist: np.ndarray
    in_head_box: np.ndarray


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-9 else fallback


def _line_normal(p: np.ndarray, q: np.ndarray, down: np.ndarray, st: float) -> np.ndarray:
    """Unit normal of the line p-q pointing along ``down``; ``down`` itself when p and q are
    closer than 0.2 st (side view: the line is undefined) [choice]."""
    d = q - p
    if np.hypot(d[0], d[1]) < 0.2 * st:
        return down
    n = _unit(np.array([d[1], -d[0]]), down)
    return n if n @ down >= 0 else -n


def _segment_geometry(p0: np.ndarray, p1: np.ndarray, pix: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Distance of pixels ``(N, 2)`` (y, x) to segment p0-p1 and their position t (unclipped)."""
    v = p1 - p0
    vv = float(v @ v)
    rel = pix - p0
    t = rel @ v / vv if vv > 0 else np.zeros(len(pix))
    closest = np.clip(t, 0.0, 1.0)[:, None] * v
    return np.hypot(*(rel - closest).T), t


def body_frame(kp: np.ndarray, st: float, pix: np.ndarray, masks: np.ndarray) -> BodyFrame:
    """Evaluate the body frame at pixels ``pix`` (N, 2) int (y, x); masks from part_masks."""
    vis = visible(kp)
    sho = 0.5 * (kp[RSHO] + kp[LSHO])
    hip = 0.5 * (kp[RHIP] + kp[LHIP])
    down = _unit(hip - sho, np.array([1.0, 0.0]))
    pf = pix.astype(np.float64)
    below_shoulder = (pf - sho) @ _line_normal(kp[RSHO], kp[LSHO], down, st)
    below_hip = (pf - hip) @ _line_normal(kp[RHIP], kp[LHIP], down, st)
    n = len(pix)
    limb_ok = np.zeros(8, dtype=bool)
    limb_dist = np.full((8, n), np.inf)
    limb_t = np.zeros((8, n))
    for k, (a, b) in enumerate(LIMB_ENDPOINTS):
        if vis[a] and vis[b]:
            limb_ok[k] = True
            limb_dist[k], limb_t[k] = _segment_geometry(kp[a], kp[b], pf)
    in_rect = masks[2:, pix[:, 0], pix[:, 1]]
    heads = [i for i in HEAD_KEYPOINTS if vis[i]]
    neck = kp[NECK] if vis[NECK] else sho
    if heads:
        centre = kp[heads].mean(axis=0)
        head_dist = np.hypot(*(pf - centre).T)
        above_head = (centre - pf) @ down
        neck_dist = _segment_geometry(centre, neck, pf)[0]
    else:
        head_dist = np.full(n, np.inf)
        above_head = np.full(n, -np.inf)
        neck_dist = np.full(n, np.inf)
    lateral = np.abs((pf - sho) @ np.array([down[1], -down[0]]))
    return BodyFrame(st, below_shoulder, below_hip, lateral, above_head, limb_ok, limb_dist,
                  limb_t, in_rect, head_dist, neck_dist, masks[HEAD, pix[:, 0], pix[:, 1]])



def face_ellipse(keypoints: np.ndarray, pix: np.ndarray, scale: float = 1.0
                 ) -> np.ndarray | None:
    """Which pixels ``pix`` (N, 2) (y, x) lie inside the face ellipse, (N,) bool.

    Centre: mean of the visible nose and eyes, moved :data:`FACE_CENTRE_DOWN_ST` st towards
    the neck; long axis along head-up (neck -> centre; image vertical without a neck);
    semi-axes :data:`FACE_HALF_WIDTH_ST` x :data:`FACE_HALF_HEIGHT_ST` st times ``scale``.
    None without a torso or without any of nose / eyes (back view).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    vis = visible(kp)
    st = torso_size(kp)
    pts = [i for i in FACE_KEYPOINTS if vis[i]]
    if not pts or not np.isfinite(st):
        return None
    centre = kp[pts].mean(axis=0)
    neck = 0.5 * (kp[RSHO] + kp[LSHO])
    up = _unit(centre - neck, np.array([-1.0, 0.0]))        # (y, x), points to the crown
    centre = centre - up * FACE_CENTRE_DOWN_ST * st
    rel = pix.astype(np.float64) - centre
    along = rel @ up
    across = rel @ np.array([up[1], -up[0]])
    a = FACE_HALF_HEIGHT_ST * st * scale
    b = FACE_HALF_WIDTH_ST * st * scale
    return (along / a) ** 2 + (across / b) ** 2 <= 1.0
