"""Skeleton conventions of the synthetic people: keypoint indices, views, head template.

A *skeleton* is an ``(18, 2)`` float array of ``(y, x)`` pixel positions of all 18 points
(docs/method.md §1 order), including points outside the frame or hidden by the view; it never holds
missing values. Stored *keypoints* are the skeleton with the invisible points set to -1.

How the view is derived from a skeleton (:func:`derive_view`), the only rule the renderer,
the oracle and the stored ``/view`` use:

1. torso length ``t = |neck - midhip|``; horizontal shoulder gap ``g = x(Lsho) - x(Rsho)``.
2. ``|g| < SIDE_RATIO * t`` -> **side**; the person faces the image's right (``facing=+1``)
   when the nose lies right of the ears' midpoint (``x(nose) >= x(ears)``), else left (-1).
   Facing right, the person's RIGHT side is towards the camera (a person turning to their
   left faces the viewer's right), so the left eye and ear are hidden; facing left, the
   right ones are.
3. otherwise **front** when ``g > 0`` (the person's left shoulder on the image's right),
   **back** when ``g < 0``. Back view: nose and both eyes hidden.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Keypoint indices (docs/method.md §1 order): the one definition in pipeline.geometry.keypoints.
from pipeline.geometry.keypoints import (HEAD_POINTS,  # noqa: F401  (re-exported for the renderer)
                                         KP, LANK, LEAR, LELB, LEYE, LHIP, LKNE, LSHO, LWRI, NECK,
                                         NOSE, RANK, REAR, RELB, REYE, RHIP, RKNE, RSHO, RWRI,
                                         TORSO_POINTS)

# (shoulder, elbow, wrist) and (hip, knee, ankle) per side: 'R' / 'L' (the person's sides).
ARM = {"R": (RSHO, RELB, RWRI), "L": (LSHO, LELB, LWRI)}
LEG = {"R": (RHIP, RKNE, RANK), "L": (LHIP, LKNE, LANK)}

VIEW_FRONT, VIEW_BACK, VIEW_SIDE = 0, 1, 2
VIEW_NAMES: tuple[str, ...] = ("front", "back", "side")
#: |shoulder gap| / torso length below which a skeleton is a side view [choice: front views
#: of the prior have >= 0.55, side views <= 0.2, real DeepFashion side views ~0.25].
SIDE_RATIO = 0.35

#: Points hidden by each view (the far eye/ear of a side view depends on the facing).
HIDDEN_BACK = (NOSE, LEYE, REYE)
HIDDEN_SIDE = {+1: (LEYE, LEAR), -1: (REYE, REAR)}


@dataclass(frozen=True)
class View:
    """view: VIEW_FRONT/BACK/SIDE; facing: +1 faces the image's right, -1 its left (side
    views; +1 for front and back); near: the person's side towards the camera in a side view
    ('R' or 'L'; None otherwise)."""

    view: int
    facing: int
    near: str | None

    @property
    def name(self) -> str:
        return VIEW_NAMES[self.view]


def torso_axes(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Torso frame of an ``(18, 2)`` (x, y) skeleton: (neck, down a, right p, length px).

    a: unit vector neck -> mid-hip; p: a rotated to point to the image's right when a
    points down. Degenerate torsos fall back to a = (0, 1).
    """
    neck = xy[NECK]
    mid = 0.5 * (xy[RHIP] + xy[LHIP])
    d = mid - neck
    length = float(np.hypot(d[0], d[1]))
    a = d / length if length > 1e-6 else np.array([0.0, 1.0])
    p = np.array([a[1], -a[0]])
    return neck, a, p, length


def derive_view(skeleton: np.ndarray) -> View:
    """View of a full ``(18, 2)`` (y, x) skeleton, by the rule in the module docstring."""
    sk = np.asarray(skeleton, dtype=np.float64)
    xy = sk[:, ::-1]
    _, _, _, t = torso_axes(xy)
    gap = xy[LSHO, 0] - xy[RSHO, 0]
    if abs(gap) < SIDE_RATIO * max(t, 1e-6):
        ears_x = 0.5 * (xy[LEAR, 0] + xy[REAR, 0])
        facing = 1 if xy[NOSE, 0] >= ears_x else -1
        return View(VIEW_SIDE, facing, "R" if facing > 0 else "L")
    return View(VIEW_FRONT if gap > 0 else VIEW_BACK, 1, None)


def hidden_points(view: View) -> tuple[int, ...]:
    """Keypoints the view hides (drawn nowhere as visible points)."""
    if view.view == VIEW_BACK:
        return HIDDEN_BACK
    if view.view == VIEW_SIDE:
        return HIDDEN_SIDE[view.facing]
    return ()


def visible_keypoints(skeleton: np.ndarray, view: View, height: int, width: int) -> np.ndarray:
    """Stored keypoints of a skeleton: ``(18, 2)`` float32 (y, x), -1 where the point is
    outside the frame (its rounded pixel is not in the image) or hidden by the view."""
    sk = np.asarray(skeleton, dtype=np.float32)
    y, x = sk[:, 0], sk[:, 1]
    inside = (y >= 0) & (x >= 0) & (y <= height - 1) & (x <= width - 1)
    inside[list(hidden_points(view))] = False
    out = np.where(inside[:, None], sk, np.float32(-1.0)).astype(np.float32)
    return out


def head_template(view: View, head_width: float, head_depth: float) -> np.ndarray:
    """2-D offsets of the 5 head points from the head centre, in head radii, as
    ``(5, 2)`` (right, up) in HEAD_POINTS order, for an upright head.

    Front: person's left on the image's right; back: mirrored; side: eyes and nose ahead in
    the facing direction, ears just behind the centre [choice: simple skull proportions]."""
    w, d = head_width, head_depth
    nose_up, eye_up = -0.15, 0.08
    if view.view == VIEW_SIDE:
        f = view.facing
        return np.array([[f * d, nose_up], [f * 0.85 * d, eye_up], [f * 0.85 * d, eye_up],
                         [-f * 0.05 * d, 0.0], [-f * 0.05 * d, 0.0]])
    s = 1.0 if view.view == VIEW_FRONT else -1.0   # image-x sign of the person's left
    return np.array([[0.0, nose_up], [s * 0.4 * w, eye_up], [-s * 0.4 * w, eye_up],
                     [s * 0.98 * w, 0.0], [-s * 0.98 * w, 0.0]])


def head_centre(xy: np.ndarray, template: np.ndarray, radius_px: float, up: np.ndarray,
                right: np.ndarray, present: np.ndarray | None = None) -> np.ndarray | None:
    """Head centre (x, y) that best fits the present head points to the template.

    xy: (18, 2) (x, y); template: (5, 2) from :func:`head_template`; up/right: unit image
    vectors of the head frame; present: (18,) bool (default all). Least squares with a
    translation only = mean of (point - template offset). None if no head point is present.
    """
    idx = [i for i in HEAD_POINTS if present is None or present[i]]
    if not idx:
        return None
    rows = [HEAD_POINTS.index(i) for i in idx]
    off = radius_px * (template[rows, 0:1] * right[None] + template[rows, 1:2] * up[None])
    return np.mean(xy[idx] - off, axis=0)
