"""Real poses as pose sources: read a field-format annotation file, rescale, complete.

Rescaling from the annotated frame (Hr x Wr) to the output frame (H x W) is by the height
ratio, centred horizontally: ``y' = y * H / Hr``, ``x' = (x - Wr / 2) * H / Hr + W / 2``
[choice: both DeepFashion and Market-1501 frame a full person by height, so the body keeps
its relative height and its proportions; points pushed out of the frame become invisible].

A row can serve as a pose source only if its four torso points (both shoulders and hips)
are present and its torso is at least MIN_TORSO_PX long in the output frame; other rows are
skipped and counted. Missing points are completed from the identity's proportions
(:func:`complete_skeleton`) so that every image has a full skeleton.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.annotations import read_keypoint_file
from pipeline.labels import NUM_KEYPOINTS
from pipeline.synthetic.identity import Body
from pipeline.synthetic.skeleton import (
    ARM, HEAD_POINTS, LEAR, LEG, LEYE, NECK, NOSE, REAR, REYE, RHIP, LHIP, RSHO, LSHO,
    SIDE_RATIO, TORSO_POINTS, View, VIEW_BACK, VIEW_FRONT, VIEW_SIDE, head_centre,
    head_template, torso_axes)

#: Shortest usable torso (neck -> mid-hip) in the output frame, px [choice: below this the
#: body is a few pixels tall and its scale meaningless].
MIN_TORSO_PX = 4.0
#: Default limb directions when completing: arms hang 8 degrees out from the torso axis,
#: legs straight along it [choice].
ARM_OUT_DEG = 8.0


@dataclass
class RealPosePool:
    """Usable real poses.

    keypoints: (M, 18, 2) float32 (y, x) in the OUTPUT frame, NaN = missing (a present point
    may have a negative coordinate: outside the frame); names: their image names; rows: rows
    in the file; skipped: names of rows without a usable torso; path: the file ('' = none).
    """

    path: str
    names: list[str]
    keypoints: np.ndarray
    rows: int = 0
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def report(self) -> dict:
        """JSON summary: file, rows, usable, skipped (count)."""
        return {"file": self.path, "rows": self.rows, "usable": len(self.names),
                "skipped_no_torso": len(self.skipped)}


def rescale_keypoints(kp: np.ndarray, src_h: int, src_w: int, height: int, width: int
                      ) -> np.ndarray:
    """Map ``(..., 18, 2)`` (y, x) keypoints from an Hr x Wr frame to H x W (module
    docstring). Missing points (a negative coordinate in the field format) become NaN, since
    a present point may now lie left of or above the frame. Returns float32."""
    kp = np.asarray(kp, dtype=np.float64)
    s = height / src_h
    out = np.empty_like(kp)
    out[..., 0] = kp[..., 0] * s
    out[..., 1] = (kp[..., 1] - src_w / 2.0) * s + width / 2.0
    missing = (kp < 0).any(axis=-1)
    out[missing] = np.nan
    return out.astype(np.float32)


def empty_pool(path: str = "") -> RealPosePool:
    """A pool without poses (no file, or real poses switched off)."""
    return RealPosePool(path, [], np.zeros((0, NUM_KEYPOINTS, 2), np.float32))


def load_real_poses(path: str | Path, src_h: int, src_w: int, height: int, width: int
                    ) -> RealPosePool:
    """Read an annotation file and keep the rows usable as pose sources (module docstring)."""
    ann = read_keypoint_file(path, key="data.synthetic.real_poses")
    kp = rescale_keypoints(ann.keypoints, src_h, src_w, height, width)
    keep, skipped = [], []
    for i, name in enumerate(ann.names):
        k = kp[i]
        ok = bool(np.all(np.isfinite(k[list(TORSO_POINTS)])))
        if ok:
            neck = k[NECK] if np.all(np.isfinite(k[NECK])) else 0.5 * (k[RSHO] + k[LSHO])
            ok = float(np.hypot(*(0.5 * (k[RHIP] + k[LHIP]) - neck))) >= MIN_TORSO_PX
        (keep if ok else skipped).append(i)
    names = [ann.names[i] for i in keep]
    return RealPosePool(str(path), names, kp[keep] if keep else kp[:0], len(ann.names),
                        [ann.names[i] for i in skipped])


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-6 else fallback


def _rot(v: np.ndarray, deg: float) -> np.ndarray:
    t = np.radians(deg)
    c, s = np.cos(t), np.sin(t)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _guess_view(xy: np.ndarray, have: np.ndarray, torso_px: float,
                rng: np.random.Generator) -> View:
    """View of a partial pose by derive_view's rule; the facing of a side view from the
    present nose/eyes against the ears (or the neck), else drawn from rng."""
    gap = xy[LSHO, 0] - xy[RSHO, 0]
    if abs(gap) >= SIDE_RATIO * max(torso_px, 1e-6):
        return View(VIEW_FRONT if gap > 0 else VIEW_BACK, 1, None)
    front = [i for i in (NOSE, LEYE, REYE) if have[i]]
    back = [i for i in (LEAR, REAR) if have[i]]
    if front:
        ref = np.mean(xy[back, 0]) if back else xy[NECK, 0]
        facing = 1 if np.mean(xy[front, 0]) >= ref else -1
    else:
        facing = 1 if rng.uniform() < 0.5 else -1
    return View(VIEW_SIDE, facing, "R" if facing > 0 else "L")


def complete_skeleton(keypoints: np.ndarray, body: Body, rng: np.random.Generator,
                      present: np.ndarray | None = None) -> np.ndarray:
    """Full skeleton from a partial pose: ``(18, 2)`` (y, x) -> ``(18, 2)`` float32 with
    every point placed. Present points are kept exactly. present: (18,) bool; by default a
    point is present when both coordinates are finite and >= 0 (field format, -1 = missing).

    Requires the four torso points (raises ValueError otherwise). The scale is
    ``|neck - midhip| / body.torso_length`` px per body unit; a missing neck is the
    shoulders' midpoint; missing head points follow the view's head template around the
    centre fitted to the present ones (else above the neck); a missing elbow/knee lies on
    the segment to a present wrist/ankle (split by the limb lengths) or hangs along the
    torso axis (arms 8 degrees outwards); a missing wrist/ankle continues the upper segment.
    rng only draws the facing of a side view whose face points are all missing.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if present is None:
        have = np.all(np.isfinite(kp) & (kp >= 0), axis=1)
    else:
        have = np.asarray(present, bool) & np.all(np.isfinite(kp), axis=1)
    if not all(have[list(TORSO_POINTS)]):
        raise ValueError("a pose needs both shoulders and both hips to be completed")
    xy = kp[:, ::-1].copy()
    if not have[NECK]:
        xy[NECK] = 0.5 * (xy[RSHO] + xy[LSHO])
    neck, a, p, torso_px = torso_axes(xy)
    s = max(torso_px, 1.0) / body.torso_length
    view = _guess_view(xy, have, torso_px, rng)

    # head
    r = body.head_radius * s
    width = body.head_depth if view.view == VIEW_SIDE else body.head_width
    tpl = head_template(view, width, body.head_depth)
    up = -a
    c = head_centre(xy, tpl, r, up, p, have)
    if c is None:
        c = neck + up * body.neck_length * s
    for row, i in enumerate(HEAD_POINTS):
        if not have[i]:
            xy[i] = c + r * (tpl[row, 0] * p + tpl[row, 1] * up)

    # limbs: side sign in the image (+1 = image right) from the shoulder/hip layout
    for side, chain, lengths, out_deg in (
            ("R", ARM["R"], (body.upper_arm, body.forearm), ARM_OUT_DEG),
            ("L", ARM["L"], (body.upper_arm, body.forearm), ARM_OUT_DEG),
            ("R", LEG["R"], (body.thigh, body.shin), 0.0),
            ("L", LEG["L"], (body.thigh, body.shin), 0.0)):
        root, mid, end = chain
        other = {"R": "L", "L": "R"}[side]
        other_root = (ARM if root in ARM["R"] + ARM["L"] else LEG)[other][0]
        lateral = float(np.dot(xy[root] - xy[other_root], p))
        sgn = 1.0 if lateral >= 0 else -1.0
        # rotate the down axis outwards: towards +p when this side is on the image right
        hang = _rot(a, -sgn * out_deg)
        l1, l2 = lengths[0] * s, lengths[1] * s
        if not have[mid]:
            if have[end]:
                xy[mid] = xy[root] + (xy[end] - xy[root]) * (l1 / (l1 + l2))
            else:
                xy[mid] = xy[root] + hang * l1
        if not have[end]:
            xy[end] = xy[mid] + _unit(xy[mid] - xy[root], hang) * l2
    return xy[:, ::-1].astype(np.float32)
