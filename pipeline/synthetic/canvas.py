"""A segment canvas: shapes rasterised with OpenCV into an index map plus a table per shape.

Every drawn shape gets a *segment id* (1..255) painted into ``seg`` (painter's order: a
later shape covers an earlier one). Each segment records its semantic label, its material
and a 2x3 affine that maps image pixels (x, y, 1) to the garment's own coordinates (u, v)
in body units, plus the half-width (body units) used for shading across a limb. The colour
pass (materials.py) then evaluates every pixel from these tables with vectorised NumPy.

Coordinates are sub-pixel: OpenCV's fixed-point ``shift`` of SHIFT bits, no anti-aliasing
(LINE_8) since an index map cannot be blended.
"""
from __future__ import annotations

import cv2
import numpy as np

SHIFT = 4                   # fixed-point fraction bits of OpenCV drawing calls [choice]
_ONE = float(1 << SHIFT)
#: Smallest radius / half-width drawn, px, so that thin limbs at 32 px frames still cover
#: the pixel of their keypoints [choice].
MIN_RADIUS_PX = 1.2
#: Coordinates are clipped to +-COORD_LIMIT px before fixed-point conversion (int32 safety).
COORD_LIMIT = 1.0e5


def _pt(p: np.ndarray) -> tuple[int, int]:
    q = np.clip(np.asarray(p, dtype=np.float64), -COORD_LIMIT, COORD_LIMIT)
    return int(round(q[0] * _ONE)), int(round(q[1] * _ONE))


def _pts(ps: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(ps, dtype=np.float64), -COORD_LIMIT, COORD_LIMIT)
    return np.round(q * _ONE).astype(np.int32).reshape(-1, 2)


def _rad(r: float) -> int:
    return int(round(max(float(r), MIN_RADIUS_PX) * _ONE))


def segment_frame(origin: np.ndarray, along: np.ndarray, scale: float) -> np.ndarray:
    """2x3 affine image (x, y, 1) -> (u, v) body units: u along `along` (unit), v across
    (along rotated +90 degrees in image coordinates), origin at `origin`; scale px/unit."""
    d = np.asarray(along, dtype=np.float64)
    n = np.array([-d[1], d[0]])
    o = np.asarray(origin, dtype=np.float64)
    m = np.array([[d[0], d[1], -float(o @ d)], [n[0], n[1], -float(o @ n)]])
    return m / scale


class SegmentCanvas:
    """Index map ``seg`` (H, W) uint8 plus per-segment tables (index 0 = background)."""

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.seg = np.zeros((height, width), np.uint8)
        self.label: list[int] = [0]
        self.material: list[int] = [0]
        self.frame: list[np.ndarray] = [np.zeros((2, 3))]
        self.halfwidth: list[float] = [1.0]

    def new(self, label: int, material: int, frame: np.ndarray, halfwidth: float) -> int:
        """Register a segment and return its id."""
        sid = len(self.label)
        if sid > 255:
            raise RuntimeError("more than 255 segments in one image")
        self.label.append(int(label))
        self.material.append(int(material))
        self.frame.append(np.asarray(frame, dtype=np.float64))
        self.halfwidth.append(max(float(halfwidth), 1e-6))
        return sid

    # ------------------------------------------------------------------ primitives
    def circle(self, sid: int, centre: np.ndarray, radius: float) -> None:
        cv2.circle(self.seg, _pt(centre), _rad(radius), sid, -1, cv2.LINE_8, SHIFT)

    def polygon(self, sid: int, pts: np.ndarray) -> None:
        cv2.fillPoly(self.seg, [_pts(pts)], sid, cv2.LINE_8, SHIFT)

    def ellipse(self, sid: int, centre: np.ndarray, rx: float, ry: float, angle_deg: float,
                start: float = 0.0, end: float = 360.0) -> None:
        """Filled ellipse (or pie slice start..end degrees, OpenCV convention: 270 = up
        before rotation); angle rotates the x axis clockwise on screen."""
        cv2.ellipse(self.seg, _pt(centre), (_rad(rx), _rad(ry)), float(angle_deg),
                    float(start), float(end), sid, -1, cv2.LINE_8, SHIFT)

    def capsule(self, sid: int, p0: np.ndarray, p1: np.ndarray, r0: float, r1: float) -> None:
        """Tapered capsule: discs of radius r0 at p0 and r1 at p1 joined by a quad."""
        p0 = np.asarray(p0, dtype=np.float64)
        p1 = np.asarray(p1, dtype=np.float64)
        r0, r1 = max(r0, MIN_RADIUS_PX), max(r1, MIN_RADIUS_PX)
        d = p1 - p0
        length = float(np.hypot(d[0], d[1]))
        if length > 1e-6:
            n = np.array([-d[1], d[0]]) / length
            quad = np.stack([p0 + n * r0, p1 + n * r1, p1 - n * r1, p0 - n * r0])
            cv2.fillConvexPoly(self.seg, _pts(quad), sid, cv2.LINE_8, SHIFT)
            self.circle(sid, p1, r1)
        self.circle(sid, p0, r0)
