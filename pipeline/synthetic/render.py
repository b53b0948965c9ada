"""Rasterise one person from an identity and a full skeleton: labels, image, keypoints.

Everything is derived from the 2-D skeleton and the identity, so the same call re-creates
an image exactly (the oracle relies on it):

* scale ``s = |neck - midhip| / body.torso_length`` px per body unit; widths = body
  half-widths x s;
* view and facing from :func:`pipeline.synthetic.skeleton.derive_view`; it sets the head
  layout, the hidden keypoints and the drawing order (painter's algorithm):
  front: long hair, legs, lower garment, torso, neck + head, arms;
  back: legs, lower garment, torso, neck + head (all hair), long hair, arms;
  side: far arm, far leg, near leg, lower garment, torso, long hair, neck + head, near arm;
* limbs are tapered capsules (discs at the joints), so every visible keypoint lies on a
  drawn body pixel; head points get small discs too (ears, nose, eyes);
* the background is ``street`` or ``studio`` (pipeline.synthetic.materials.person_background),
  drawn from the identity's seed (and, for the per-photo part, the skeleton's bytes).

Labels (docs/method.md §2): skin of the face, neck and ears = face; long sleeves / short sleeves =
upperclothes over the arm; leg labels cover leg skin and shoes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.labels import (FACE, HAIR, LEFT_ARM, LEFT_LEG, PANTS, RIGHT_ARM, RIGHT_LEG, SKIRT,
                             UPPERCLOTHES)
from pipeline.synthetic.canvas import SegmentCanvas, segment_frame
from pipeline.synthetic.identity import Identity
from pipeline.synthetic.materials import (M_BOTTOM, M_EYE, M_HAIR, M_MOUTH, M_SHOE, M_SKIN, M_TOP,
                                          material_table, paint, person_background)
from pipeline.synthetic.skeleton import (ARM, HEAD_POINTS, LEAR, LEG, LEYE, NOSE, REAR, REYE,
                                         VIEW_BACK, VIEW_FRONT, VIEW_SIDE, View, derive_view,
                                         head_centre, head_template, hidden_points, torso_axes,
                                         visible_keypoints)

ARM_LABEL = {"R": RIGHT_ARM, "L": LEFT_ARM}
LEG_LABEL = {"R": RIGHT_LEG, "L": LEFT_LEG}
#: Largest enlargement of the head outline made to enclose far-off head points of a real
#: pose [choice].
MAX_HEAD_GROWTH = 1.8
#: Head radius (px) below which eyes and mouth are not drawn (they would be blobs) [choice].
FACE_DETAIL_PX = 5.0


@dataclass(frozen=True)
class Rendering:
    """One rendered person. image: (H, W, 3) uint8 RGB; labels: (H, W) uint8 in 0..9;
    keypoints: (18, 2) float32 (y, x) px, -1 = outside the frame or hidden by the view;
    view: 0 front, 1 back, 2 side."""

    image: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray
    view: int


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-9 else fallback


class _Person:
    """Draws one person's parts into a SegmentCanvas (coordinates (x, y) px)."""

    def __init__(self, identity: Identity, xy: np.ndarray, view: View,
                 canvas: SegmentCanvas) -> None:
        self.id = identity
        self.b = identity.body
        self.xy = xy
        self.view = view
        self.cv = canvas
        self.neck, self.a, self.p, torso_px = torso_axes(xy)
        self.s = max(torso_px, 1.0) / self.b.torso_length
        self._torso_layout()

    # -------------------------------------------------------------- helpers
    def to_img(self, pt: float, at: float) -> np.ndarray:
        """Torso-frame coordinates (along p, along a; px from the neck) -> image (x, y)."""
        return self.neck + self.p * pt + self.a * at

    def tf(self, q: np.ndarray) -> tuple[float, float]:
        d = q - self.neck
        return float(d @ self.p), float(d @ self.a)

    def capsule(self, label: int, mat: int, p0: np.ndarray, p1: np.ndarray, r0: float,
                r1: float) -> None:
        along = _unit(p1 - p0, self.a)
        sid = self.cv.new(label, mat, segment_frame(p0, along, self.s),
                          max(r0, r1) / self.s)
        self.cv.capsule(sid, p0, p1, r0, r1)

    def disc(self, label: int, mat: int, c: np.ndarray, r: float) -> None:
        sid = self.cv.new(label, mat, segment_frame(c, self.a, self.s), r / self.s)
        self.cv.circle(sid, c, r)

    # -------------------------------------------------------------- torso layout
    def _torso_layout(self) -> None:
        b, s, xy = self.b, self.s, self.xy
        sh = [self.tf(xy[ARM[k][0]]) for k in ("R", "L")]
        hp = [self.tf(xy[LEG[k][0]]) for k in ("R", "L")]

        def extent(vals: list[float], extra: float, min_half: float) -> tuple[float, float]:
            lo, hi = min(vals) - extra, max(vals) + extra
            if hi - lo < 2 * min_half:
                c = 0.5 * (lo + hi)
                lo, hi = c - min_half, c + min_half
            return lo, hi

        self.top_l, self.top_r = extent([q[0] for q in sh], b.deltoid * s, b.chest_depth * s)
        self.top_a = min(q[1] for q in sh) - 0.7 * b.upper_arm_width * s
        self.hip_l, self.hip_r = extent([q[0] for q in hp],
                                        max(b.hip_extra, 1.05 * b.thigh_width) * s,
                                        b.hip_depth * s)
        self.hip_a = 0.5 * (hp[0][1] + hp[1][1])
        self.waist_a = self.top_a + 0.62 * (self.hip_a - self.top_a)
        half = 0.5 * b.waist_ratio * (0.5 * (self.top_r - self.top_l)
                                      + 0.5 * (self.hip_r - self.hip_l))
        centre = 0.25 * (self.top_l + self.top_r + self.hip_l + self.hip_r)
        self.waist_l, self.waist_r = centre - half, centre + half
        self.torso_half = 0.5 * (self.top_r - self.top_l) / s

    # -------------------------------------------------------------- parts
    def torso(self) -> None:
        s = self.s
        bottom = self.hip_a + max(self.id.upper.length, 0.0) * s
        pts = np.stack([self.to_img(self.top_l, self.top_a), self.to_img(self.top_r, self.top_a),
                        self.to_img(self.waist_r, self.waist_a),
                        self.to_img(self.hip_r, self.hip_a), self.to_img(self.hip_r, bottom),
                        self.to_img(self.hip_l, bottom), self.to_img(self.hip_l, self.hip_a),
                        self.to_img(self.waist_l, self.waist_a)])
        sid = self.cv.new(UPPERCLOTHES, M_TOP, segment_frame(self.neck, self.a, s),
                          self.torso_half)
        self.cv.polygon(sid, pts)

    def lower(self) -> None:
        """Pelvis of pants/shorts, or the skirt (drawn over the legs)."""
        s, low = self.s, self.id.lower
        waist = self.hip_a - 0.06 * s
        frame = segment_frame(self.neck, self.a, s)
        half = 0.5 * (self.hip_r - self.hip_l) / s
        if low.kind != "skirt":
            pts = np.stack([self.to_img(self.hip_l, waist), self.to_img(self.hip_r, waist),
                            self.to_img(self.hip_r, self.hip_a + 0.07 * s),
                            self.to_img(self.hip_l, self.hip_a + 0.07 * s)])
            self.cv.polygon(self.cv.new(PANTS, M_BOTTOM, frame, half), pts)
            return
        length = low.length * s
        hem = [self.tf(self._along_leg(k, length)) for k in ("R", "L")]
        spread = (self.b.thigh_width + low.flare * low.length) * s
        wl, wr = self.hip_l - 0.006 * s, self.hip_r + 0.006 * s
        hem_a = max(q[1] for q in hem)
        hl = min(min(q[0] for q in hem) - spread, wl)
        hr = max(max(q[0] for q in hem) + spread, wr)
        pts = np.stack([self.to_img(wl, waist), self.to_img(wr, waist), self.to_img(hr, hem_a),
                        self.to_img(hl, hem_a)])
        self.cv.polygon(self.cv.new(SKIRT, M_BOTTOM, frame, 0.5 * (hr - hl) / s), pts)

    def _along_leg(self, side: str, dist: float) -> np.ndarray:
        hip, kne, ank = (self.xy[i] for i in LEG[side])
        l1 = float(np.hypot(*(kne - hip)))
        if dist <= l1 or l1 < 1e-9:
            return hip + _unit(kne - hip, self.a) * dist
        return kne + _unit(ank - kne, _unit(kne - hip, self.a)) * (dist - l1)

    def leg(self, side: str) -> None:
        b, s, low = self.b, self.s, self.id.lower
        hip, kne, ank = (self.xy[i] for i in LEG[side])
        lab = LEG_LABEL[side]
        tw, sw = b.thigh_width * s, b.shin_width * s
        self.capsule(lab, M_SKIN, hip, kne, tw, 0.72 * tw)
        self.capsule(lab, M_SKIN, kne, ank, max(sw, 0.72 * tw), 0.62 * sw)
        if low.kind == "pants":
            self.capsule(PANTS, M_BOTTOM, hip, kne, 1.12 * tw, 0.85 * tw)
            self.capsule(PANTS, M_BOTTOM, kne, kne + 0.94 * (ank - kne), 0.85 * tw, 0.95 * sw)
        elif low.kind == "shorts":
            f = low.length
            self.capsule(PANTS, M_BOTTOM, hip, hip + f * (kne - hip), 1.14 * tw,
                         1.2 * (1.0 - 0.28 * f) * tw)
        fw = b.foot_width * s
        if self.view.view == VIEW_SIDE:
            fwd = self.p * self.view.facing
            toe = ank + fwd * b.foot * 0.78 * s + self.a * 0.02 * s
            heel = ank - fwd * 0.025 * s + self.a * 0.01 * s
            self.capsule(lab, M_SHOE, heel, toe, 1.05 * fw, 0.75 * fw)
        else:
            self.capsule(lab, M_SHOE, ank - self.a * 0.01 * s, ank + self.a * b.foot * 0.32 * s,
                         fw, 1.05 * fw)

    def arm(self, side: str) -> None:
        b, s, up = self.b, self.s, self.id.upper
        sho, elb, wri = (self.xy[i] for i in ARM[side])
        lab = ARM_LABEL[side]
        uw, fw, hw = b.upper_arm_width * s, b.forearm_width * s, b.hand_width * s
        self.capsule(lab, M_SKIN, sho, elb, uw, 0.85 * uw)
        self.capsule(lab, M_SKIN, elb, wri, max(fw, 0.8 * uw), 0.8 * fw)
        hand_dir = _unit(wri - elb, _unit(wri - sho, self.a))
        self.capsule(lab, M_SKIN, wri, wri + hand_dir * b.hand * 0.75 * s, 0.8 * hw, 0.9 * hw)
        if up.sleeves == "long":
            self.capsule(UPPERCLOTHES, M_TOP, sho, elb, 1.2 * uw, 1.05 * uw)
            self.capsule(UPPERCLOTHES, M_TOP, elb, wri, 1.05 * uw, fw)
        elif up.sleeves == "short":
            f = up.sleeve_fraction
            self.capsule(UPPERCLOTHES, M_TOP, sho, sho + f * (elb - sho), 1.22 * uw,
                         1.3 * (1.0 - 0.15 * f) * uw)

    # -------------------------------------------------------------- head
    def head_geometry(self) -> None:
        b, s, view = self.b, self.s, self.view
        r = b.head_radius * s
        width = b.head_depth if view.view == VIEW_SIDE else b.head_width
        tpl = head_template(view, width, b.head_depth)
        c = head_centre(self.xy, tpl, r, -self.a, self.p)
        hu = _unit(c - self.neck, -self.a)           # head up
        hr = np.array([-hu[1], hu[0]])                # head right (image)
        rx, ry = width * r, r
        d = self.xy[list(HEAD_POINTS)] - c
        m = float(np.max(np.hypot(d @ hr / rx, d @ hu / ry)))
        if m > 1.0:
            g = min(m, MAX_HEAD_GROWTH)
            rx, ry = rx * g, ry * g
        self.hc, self.hu, self.hr, self.rx, self.ry, self.r = c, hu, hr, rx, ry, r
        self.h_angle = float(np.degrees(np.arctan2(hu[0], -hu[1])))

    def neck_and_head(self) -> None:
        b, s, view = self.b, self.s, self.view
        c, hu, hr, rx, ry = self.hc, self.hu, self.hr, self.rx, self.ry
        vol = self.id.hair.volume
        nw = b.neck_width * s
        self.capsule(FACE, M_SKIN, self.neck, c, nw, 0.95 * nw)
        hidden = set(hidden_points(view))
        frame = segment_frame(c, -hu, s)

        def ell(label: int, mat: int, centre: np.ndarray, ax: float, ay: float,
                start: float = 0.0, end: float = 360.0) -> None:
            sid = self.cv.new(label, mat, frame, ax / s)
            self.cv.ellipse(sid, centre, ax, ay, self.h_angle, start, end)

        ear_r, nose_r = 0.2 * self.r, 0.15 * self.r
        if view.view == VIEW_BACK:
            for i in (LEAR, REAR):
                self.disc(FACE, M_SKIN, self.xy[i], ear_r)
            ell(HAIR, M_HAIR, c, rx * vol * 1.04, ry * vol * 1.02)
            return
        fvec = hr * view.facing if view.view == VIEW_SIDE else np.zeros(2)
        back = 0.12 * rx if view.view == VIEW_SIDE else 0.0
        ell(HAIR, M_HAIR, c + hu * 0.05 * ry - fvec * back, rx * vol * 1.04, ry * vol)
        for i in (LEAR, REAR):
            if i not in hidden:
                self.disc(FACE, M_SKIN, self.xy[i], ear_r)
        if view.view == VIEW_SIDE:
            ell(FACE, M_SKIN, c + fvec * 0.22 * rx - hu * 0.1 * ry, 0.78 * rx, 0.9 * ry)
        else:
            ell(FACE, M_SKIN, c - hu * 0.08 * ry, 0.94 * rx, 0.93 * ry)
        ell(HAIR, M_HAIR, c + hu * 0.3 * ry - fvec * back, rx * vol * 1.04, 0.82 * ry * vol,
            180.0, 360.0)
        self.disc(FACE, M_SKIN, self.xy[NOSE], nose_r)
        if self.r >= FACE_DETAIL_PX:
            for i in (LEYE, REYE):
                if i not in hidden:
                    self.disc(FACE, M_EYE, self.xy[i], max(0.09 * self.r, 0.6))
            if view.view == VIEW_FRONT:
                ell(FACE, M_MOUTH, c - hu * 0.55 * ry, 0.25 * rx, 0.07 * ry)
            elif view.view == VIEW_SIDE:
                ell(FACE, M_MOUTH, c - hu * 0.55 * ry + fvec * 0.72 * rx, 0.12 * rx, 0.06 * ry)
        else:
            for i in (LEYE, REYE):
                if i not in hidden:
                    self.disc(FACE, M_SKIN, self.xy[i], 0.09 * self.r)

    def long_hair(self) -> None:
        hair = self.id.hair
        if hair.style != "long":
            return
        s, c, view = self.s, self.hc, self.view
        if view.view == VIEW_SIDE:
            fvec = self.hr * view.facing
            top = c - fvec * 0.45 * self.rx
            w0, w1 = 0.5 * self.rx, 0.45 * self.rx
        else:
            top = c
            w0, w1 = self.rx * hair.volume, 1.25 * self.rx * hair.volume
        bottom = top + self.a * hair.length * s
        sid = self.cv.new(HAIR, M_HAIR, segment_frame(top, self.a, s), w1 / s)
        self.cv.polygon(sid, np.stack([top - self.p * w0, top + self.p * w0,
                                       bottom + self.p * w1, bottom - self.p * w1]))
        self.cv.ellipse(sid, bottom, w1, 0.3 * w1, float(np.degrees(np.arctan2(-self.a[0],
                                                                              self.a[1]))))


def render_person(identity: Identity, skeleton: np.ndarray, height: int, width: int,
                  background: str = "street") -> Rendering:
    """Render `identity` in `skeleton`: (18, 2) (y, x) px, full (no missing points; points may
    lie outside the frame). Returns a Rendering at height x width (module docstring).
    background: ``street`` (every photo its own) or ``studio`` (the identity's studio;
    pipeline.synthetic.materials.person_background); the default keeps the older callers'
    images."""
    sk = np.asarray(skeleton, dtype=np.float32)
    if sk.shape != (18, 2):
        raise ValueError(f"skeleton must be (18, 2) (y, x), got {sk.shape}")
    if not np.all(np.isfinite(sk)):
        raise ValueError("skeleton holds NaN/inf; complete missing points first "
                         "(Oracle.complete / realpose.complete_skeleton)")
    view = derive_view(sk)
    canvas = SegmentCanvas(height, width)
    person = _Person(identity, sk[:, ::-1].astype(np.float64), view, canvas)
    person.head_geometry()
    if view.view == VIEW_SIDE:
        near = view.near
        far = "L" if near == "R" else "R"
        person.arm(far)
        person.leg(far)
        person.leg(near)
        person.lower()
        person.torso()
        person.long_hair()
        person.neck_and_head()
        person.arm(near)
    elif view.view == VIEW_BACK:
        person.leg("R")
        person.leg("L")
        person.lower()
        person.torso()
        person.neck_and_head()
        person.long_hair()
        person.arm("R")
        person.arm("L")
    else:
        person.long_hair()
        person.leg("R")
        person.leg("L")
        person.lower()
        person.torso()
        person.neck_and_head()
        person.arm("R")
        person.arm("L")
    bg = person_background(background, identity, sk, height, width)
    image, labels = paint(canvas, material_table(identity), bg)
    return Rendering(image, labels, visible_keypoints(sk, view, height, width), view.view)
