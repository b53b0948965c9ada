"""Joint-angle prior: sample a 3-D pose, turn it to a view, project it, frame it.

The body is posed in 3-D in body units (stature ~ 1): X = the person's left, Y = up,
Z = the person's forward, origin at the mid-hip. Joint angles come from a few pose
families (standing, walking, arms raised, hands on hips, arms forward, wide stance) with
per-joint jitter. The whole body is then turned about the vertical axis by a yaw
(0 = facing the camera, 180 = back, +-90 = side) and projected orthographically:
image x = X', image y = -Y'. A yaw of +90 makes the person face the image's right.
Finally the skeleton is scaled and translated into the frame by a size profile chosen from
the frame's aspect ratio (see :func:`frame_skeleton`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.labels import NUM_KEYPOINTS
from pipeline.synthetic.identity import Body
from pipeline.synthetic.skeleton import (
    LANK, LEAR, LELB, LEYE, LHIP, LKNE, LSHO, LWRI, NECK, NOSE, RANK, REAR, RELB, REYE, RHIP,
    RKNE, RSHO, RWRI, VIEW_BACK, VIEW_FRONT, VIEW_SIDE)

#: Pose families and their probabilities [choice: mostly standing/walking, as in DeepFashion
#: and Market-1501].
POSE_FAMILIES: tuple[str, ...] = ("stand", "walk", "arms_raised", "hands_on_hips",
                                  "arms_forward", "wide")
FAMILY_P = (0.33, 0.25, 0.14, 0.10, 0.10, 0.08)
#: View probabilities front / back / side [choice].
VIEW_P = (0.5, 0.2, 0.3)
#: Yaw jitter (degrees) around 0 / 180 (front/back, clipped) and around +-90 (side) [choice:
#: keeps every sampled view on its side of derive_view's threshold].
FRONT_YAW_SD, FRONT_YAW_MAX, SIDE_YAW_MAX = 10.0, 25.0, 12.0
#: Aspect ratio (W/H) below which the frame is a pedestrian crop (Market-1501 128x64 = 0.5)
#: rather than a studio shot (DeepFashion 256x256 = 1.0) [choice].
PEDESTRIAN_ASPECT = 0.75


@dataclass(frozen=True)
class Limb:
    """Joint angles of one limb in degrees: abduction (away from the body in the frontal
    plane), flexion (forward swing), bend (elbow / knee) and bend direction (elbows only:
    0 = forward, 90 = towards the body's midline)."""

    abduction: float
    flexion: float
    bend: float
    bend_dir: float = 0.0


@dataclass(frozen=True)
class PoseAngles:
    """All angles of a prior pose, degrees. arms/legs: {'R': Limb, 'L': Limb}."""

    family: str
    arms: dict
    legs: dict
    lean_forward: float
    lean_side: float
    head_tilt: float
    head_yaw: float
    yaw: float


def _rx(t: float) -> np.ndarray:
    c, s = np.cos(t), np.sin(t)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _ry(t: float) -> np.ndarray:
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])


def _rz(t: float) -> np.ndarray:
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _arm_rest(rng: np.random.Generator) -> Limb:
    return Limb(_u(rng, 4, 18), _u(rng, -10, 10), _u(rng, 0, 20), _u(rng, 0, 30))


def _leg_rest(rng: np.random.Generator) -> Limb:
    return Limb(_u(rng, 0, 7), _u(rng, -6, 6), _u(rng, 0, 8))


def sample_angles(rng: np.random.Generator, view: int) -> PoseAngles:
    """Joint angles of one prior pose for the wanted view (VIEW_FRONT/BACK/SIDE)."""
    family = POSE_FAMILIES[int(rng.choice(len(POSE_FAMILIES), p=FAMILY_P))]
    arms = {"R": _arm_rest(rng), "L": _arm_rest(rng)}
    legs = {"R": _leg_rest(rng), "L": _leg_rest(rng)}
    which = ("R", "L") if rng.uniform() < 0.5 else (("R",) if rng.uniform() < 0.5 else ("L",))
    if family == "walk":
        a_leg, a_arm = _u(rng, 12, 28), _u(rng, 8, 30)
        sgn = 1.0 if rng.uniform() < 0.5 else -1.0
        for side, s in (("R", sgn), ("L", -sgn)):
            front = s > 0
            legs[side] = Limb(_u(rng, 0, 5), s * a_leg,
                              _u(rng, 0, 10) if front else _u(rng, 10, 35))
            arms[side] = Limb(_u(rng, 3, 12), -s * a_arm, _u(rng, 5, 35), _u(rng, 0, 20))
    elif family == "arms_raised":
        for side in which:
            arms[side] = Limb(_u(rng, 95, 170), _u(rng, -10, 25), _u(rng, 0, 60),
                              _u(rng, 45, 90))
    elif family == "hands_on_hips":
        for side in which:
            arms[side] = Limb(_u(rng, 30, 50), _u(rng, -25, -5), _u(rng, 95, 125),
                              _u(rng, 70, 100))
    elif family == "arms_forward":
        for side in which:
            arms[side] = Limb(_u(rng, 0, 20), _u(rng, 20, 70), _u(rng, 20, 90),
                              _u(rng, 0, 40))
    elif family == "wide":
        for side in ("R", "L"):
            legs[side] = Limb(_u(rng, 10, 20), _u(rng, -5, 5), _u(rng, 0, 10))
            arms[side] = Limb(_u(rng, 15, 45), _u(rng, -10, 10), _u(rng, 0, 30),
                              _u(rng, 0, 40))
    if view == VIEW_SIDE:
        yaw = (90.0 if rng.uniform() < 0.5 else -90.0) + _u(rng, -SIDE_YAW_MAX, SIDE_YAW_MAX)
    else:
        jitter = float(np.clip(rng.normal(0.0, FRONT_YAW_SD), -FRONT_YAW_MAX, FRONT_YAW_MAX))
        yaw = jitter + (180.0 if view == VIEW_BACK else 0.0)
    return PoseAngles(family=family, arms=arms, legs=legs,
                      lean_forward=_u(rng, -4, 6), lean_side=_u(rng, -4, 4),
                      head_tilt=_u(rng, -8, 8), head_yaw=_u(rng, -8, 8), yaw=yaw)


def _limb_dir(limb: Limb, side: float) -> np.ndarray:
    """Unit direction of a limb's first segment; side = +1 for the left, -1 the right."""
    ab, fl = np.radians(limb.abduction), np.radians(limb.flexion)
    return np.array([side * np.cos(fl) * np.sin(ab), -np.cos(fl) * np.cos(ab), np.sin(fl)])


def _bend(d: np.ndarray, toward: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate unit vector d by angle towards the direction `toward` (made perpendicular)."""
    n = toward - np.dot(toward, d) * d
    norm = np.linalg.norm(n)
    if norm < 1e-6:
        n = np.array([0.0, 0.0, 1.0]) - d[2] * d
        norm = np.linalg.norm(n)
        if norm < 1e-6:
            return d
    n = n / norm
    t = np.radians(angle_deg)
    return np.cos(t) * d + np.sin(t) * n


def pose_3d(body: Body, ang: PoseAngles) -> np.ndarray:
    """3-D keypoints ``(18, 3)`` (X left, Y up, Z forward) in body units, before the yaw."""
    p = np.zeros((NUM_KEYPOINTS, 3))
    rt = _rz(np.radians(ang.lean_side)) @ _rx(np.radians(ang.lean_forward))
    p[NECK] = rt @ np.array([0.0, body.torso_length, 0.0])
    for side, s, (sho, elb, wri) in (("R", -1.0, (RSHO, RELB, RWRI)),
                                     ("L", 1.0, (LSHO, LELB, LWRI))):
        p[sho] = p[NECK] + rt @ np.array([s * body.shoulder_half, -0.012, 0.0])
        limb = ang.arms[side]
        d = rt @ _limb_dir(limb, s)
        p[elb] = p[sho] + body.upper_arm * d
        b_dir = np.radians(limb.bend_dir)
        toward = rt @ np.array([-s * np.sin(b_dir), 0.0, np.cos(b_dir)])
        p[wri] = p[elb] + body.forearm * _bend(d, toward, limb.bend)
    for side, s, (hip, kne, ank) in (("R", -1.0, (RHIP, RKNE, RANK)),
                                     ("L", 1.0, (LHIP, LKNE, LANK))):
        p[hip] = np.array([s * body.hip_half, 0.0, 0.0])
        limb = ang.legs[side]
        d = _limb_dir(limb, s)
        p[kne] = p[hip] + body.thigh * d
        p[ank] = p[kne] + body.shin * _bend(d, np.array([0.0, 0.0, -1.0]), limb.bend)
    rh = rt @ _rz(np.radians(ang.head_tilt))
    centre = p[NECK] + rh @ np.array([0.0, body.neck_length, 0.0])
    rh = rh @ _ry(np.radians(ang.head_yaw))
    r, w, dd = body.head_radius, body.head_width, body.head_depth
    offsets = {NOSE: (0.0, -0.15, dd), LEYE: (0.4 * w, 0.08, 0.85 * dd),
               REYE: (-0.4 * w, 0.08, 0.85 * dd), LEAR: (0.98 * w, 0.0, -0.05 * dd),
               REAR: (-0.98 * w, 0.0, -0.05 * dd)}
    for i, off in offsets.items():
        p[i] = centre + r * (rh @ np.array(off))
    return p


def project(points: np.ndarray, yaw_deg: float) -> np.ndarray:
    """Turn ``(18, 3)`` body points by the yaw and project: ``(18, 2)`` (x, y), y down."""
    q = points @ _ry(np.radians(yaw_deg)).T
    return np.stack([q[:, 0], -q[:, 1]], axis=1)


def frame_skeleton(xy: np.ndarray, body: Body, height: int, width: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Scale and translate a unit-scale ``(18, 2)`` (x, y) skeleton into the frame.

    Studio profile (W/H >= PEDESTRIAN_ASPECT, DeepFashion-like): the body fills 72-92 % of
    the height, or (15 %) a close-up at 125-170 % with the head near the top and the legs
    cut by the frame (hips kept inside). Pedestrian profile (Market-1501-like): 80-95 %
    of the height, or (10 %) 95-115 % (head or feet cropped). Horizontal jitter 6-8 % of
    the width [choice]. Returns ``(18, 2)`` (y, x) pixels, float64.
    """
    r = body.head_radius
    head_c = 0.5 * (xy[LEAR] + xy[REAR])
    top = min(head_c[1] - 1.12 * r, float(np.min(xy[[RWRI, LWRI], 1])) - body.hand)
    bottom = float(np.max(xy[[RANK, LANK], 1])) + body.ankle_height
    span = max(bottom - top, 1e-3)
    hip_y = float(np.max(xy[[RHIP, LHIP], 1]))
    centre_x = 0.5 * (xy[NECK, 0] + 0.5 * (xy[RHIP, 0] + xy[LHIP, 0]))
    if width / height < PEDESTRIAN_ASPECT:
        frac = _u(rng, 0.95, 1.15) if rng.uniform() < 0.10 else _u(rng, 0.80, 0.95)
        s = frac * height / span
        jx = _u(rng, -0.08, 0.08) * width
        ty = 0.5 * height + _u(rng, -0.04, 0.04) * height - s * 0.5 * (top + bottom)
    else:
        jx = _u(rng, -0.06, 0.06) * width
        if rng.uniform() < 0.15:
            margin = _u(rng, 0.03, 0.10) * height
            s = _u(rng, 1.25, 1.70) * height / span
            s = min(s, (0.93 * height - margin) / max(hip_y - top, 1e-3))
            ty = margin - s * top
        else:
            s = _u(rng, 0.72, 0.92) * height / span
            ty = 0.5 * height + _u(rng, -0.03, 0.03) * height - s * 0.5 * (top + bottom)
    # keep the torso narrower than 80 % of the frame width (very narrow frames) [choice]
    s = min(s, 0.8 * width / (2.0 * (body.shoulder_half + body.deltoid)))
    tx = 0.5 * width + jx - s * centre_x
    out = np.empty_like(xy)
    out[:, 0] = s * xy[:, 1] + ty
    out[:, 1] = s * xy[:, 0] + tx
    return out


def sample_skeleton(rng: np.random.Generator, body: Body, height: int, width: int
                    ) -> tuple[np.ndarray, PoseAngles]:
    """One prior skeleton: ``(18, 2)`` float32 (y, x) pixels (may leave the frame), and the
    angles it came from. The view is drawn with VIEW_P; the stored view is re-derived from
    the skeleton (skeleton.derive_view), which agrees with the drawn one by construction."""
    view = int(rng.choice(3, p=VIEW_P))
    view = (VIEW_FRONT, VIEW_BACK, VIEW_SIDE)[view]
    ang = sample_angles(rng, view)
    xy = project(pose_3d(body, ang), ang.yaw)
    return frame_skeleton(xy, body, height, width, rng).astype(np.float32), ang
