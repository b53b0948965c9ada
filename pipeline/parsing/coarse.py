"""A weight-free coarse human parser: (image, 18 keypoints) -> SPEC 2's 10 labels.

NOT a trained parser. It exists for users who have only photographs (no human-parsing weights
ship in any package, SPEC 7) and combines three weak cues: a person mask, the body geometry of
the pose (:mod:`pipeline.geometry`) and colour models fitted on the image itself. Its accuracy
is measured against the exact ground truth of the synthetic dataset by
``bench/coarse_parser.py``; read those numbers before trusting a map it made.

Method (everything per pixel is vectorised over the person's pixels):

1. Person mask (:func:`person_mask`): MediaPipe's person segmentation > ``person_threshold``.
   When the detector finds nobody, or its mask covers less than :data:`MIN_POSE_OVERLAP` of
   the pose's skeleton (:func:`pipeline.geometry.pose_mask`: it segmented someone or
   something else), the mask falls back to a geometric silhouette
   (:func:`geometric_silhouette`: union of the limb rectangles, the head box and the padded
   torso quadrilateral, slightly dilated), refined by one GrabCut pass seeded with it
   (:func:`refine_silhouette`). :func:`coarse_parse` takes the mask explicitly and needs no
   MediaPipe.
2. Body frame: torso size ``st``; the shoulder line and the hip line (each through its two
   joints, oriented along the torso's downward axis); per limb, each pixel's distance to the
   bone and its position ``t`` along it (0 at the first joint, 1 at the second); distances to
   the head centre and to the neck (head centre -> neck point).
3. Skin model: a face ellipse around the eyes and nose (semi-axes from ``st``). The pixels of
   its inner part that pass a generic skin rule (all of them when too few pass) give a robust
   mean and covariance in CIE Lab (:class:`SkinModel`); a pixel is skin when its squared
   Mahalanobis distance is below :data:`SKIN_MAHALANOBIS2`. Without a visible face (back
   view, head out of frame) the hands (just past the wrists) seed the model; without those,
   the generic rule is the model: the YCrCb box of Chai & Ngan (1999).
4. Skin pixels go to the nearest skin part: face (head centre or neck), the four arm bones,
   the four leg bones; distance = to the bone minus the part's typical radius, plus a
   penalty outside the part's SPEC 3 rectangle / head box. Face includes the neck (as LIP's
   face and the synthetic data do); arms and legs take the person's own side. A skin pixel
   far from every part (bare midriff) -> upperclothes. In a back view the head down to just
   below its centre is hair whatever its colour.
5. Non-skin pixels choose among four classes, hair / upper garment / lower garment / shoe,
   by score = colour log-likelihood + geometric log-prior. Colour: a Lab histogram per class
   seeded from pixels whose class the geometry makes nearly certain (hair: the head zone well
   above the shoulders; upper: the chest; lower: well below the hips; shoes: past the
   ankles), likelihood ratios clamped to :data:`COLOUR_CLAMP` so colour only decides where
   the geometry is unsure. Geometry: hair in the head zone (head box above the shoulder
   line, nearer the head than any arm), at a penalty on the back (long hair); upper/lower
   split by a soft step :data:`GARMENT_LINE_ST` below the hip line (sleeves, i.e. pixels on an
   arm bone, stay upper); shoes by a soft step at :data:`SHOE_T` along knee -> ankle. Shoes
   take the nearer leg's label (as LIP's shoes map to legs, SPEC 2). The lower garment is a
   skirt when more than :data:`SKIRT_SHARE` of its pixels lie outside the leg rectangles (a
   wide garment; needs both thighs), pants otherwise. Dark holes of the face (eyes, mouth)
   are closed back into it.
6. Everything outside the person mask -> background.

Virtual torso (:func:`virtual_torso`). Portraits and upper-body photos miss the hips. When
both shoulders are present (a missing shoulder is first mirrored through the neck, which
OpenPose puts at the shoulders' midpoint) but a hip is missing, the parser builds virtual
hips and runs the method above on them: a missing hip is placed ``st`` below its own
shoulder along the body's down axis (the normal of the shoulder line pointing away from the
head points; image-down without head points), with ``st`` = :data:`VIRTUAL_ST_PER_SHOULDER`
x shoulder width (or, when one hip is present, the other hip is its shoulder plus the present
side's shoulder -> hip vector). Face, hair, arms and upperclothes then come out as usual; the
lower garment only where the person reaches below the virtual hip line. The virtual points
are used only for parsing (and for the geometric fallback silhouette of :func:`person_mask`);
the caller's keypoints are not changed; :class:`ParseInfo` records ``virtual_torso``. The
virtual ``st`` is underestimated in side views (foreshortened shoulders). Without any
shoulder (or with one and no neck) there is no body frame: every person pixel ->
upperclothes (such a pose cannot serve in the search anyway, SPEC 3); no face or hair is
labelled then, because nothing gives the head's scale reliably [choice].

Every constant below carries a [choice] comment; "tuned" ones were set while looking at the
synthetic benchmark (checked on a second seed). The synthetic people are flat-shaded
cartoons: on photographs, shading, prints and skin-coloured clothes hurt the colour models
more than the benchmark shows.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipeline.geometry import HEAD, LIMB_ENDPOINTS, part_masks, pose_mask, torso_size, visible
from pipeline.geometry.keypoints import (
    LEAR, LEYE, LHIP, LSHO, NECK, NOSE, REAR, REYE, RHIP, RSHO)
from pipeline.labels import (
    FACE, HAIR, LEFT_ARM, LEFT_LEG, PANTS, RIGHT_ARM, RIGHT_LEG, SKIRT, UPPERCLOTHES)

# ------------------------------------------------------------------------------ constants
# Person mask.
# Share of the pose's skeleton pixels (PG2 pose mask) the segmentation must cover to be
# trusted [choice: below half, the detector segmented another person or nothing useful].
MIN_POSE_OVERLAP: float = 0.5
# Dilation of the geometric silhouette, in units of st [choice: a few px at 256 px; the limb
# rectangles are already wider than real limbs].
SILHOUETTE_DILATE_ST: float = 0.05
# The torso quadrilateral (Rsho, Lsho, Lhip, Rhip) is widened by this much on each side, in
# st, because the body outline extends past the joints (deltoids, hips) [choice, by eye].
TORSO_PAD_ST: float = 0.12
# GrabCut refinement of the geometric silhouette: iterations, width of the "probably
# background" band around the silhouette in st, and the least share of the silhouette the
# result must keep [choice, measured on the synthetic set: 1 iteration and a 0.3 st band
# raise the silhouette's IoU from 0.58 to 0.94 at ~40 ms per 256 px image; 3 iterations
# gain < 0.01 for 70 ms].
GRABCUT_ITERATIONS: int = 1
GRABCUT_BAND_ST: float = 0.3
GRABCUT_MIN_KEEP: float = 0.3
# GrabCut initialises its colour models with k-means on OpenCV's global RNG: it is reseeded
# with this value before every call so that maps are reproducible [choice].
GRABCUT_SEED: int = 0

# Virtual torso: st / shoulder width [choice, measured: median over the 330 rows of
# data/annotations/fasion-annotation-sample.csv (DeepFashion) that have all four torso
# points: 1.72 (quartiles 1.59 / 2.71; front views 1.65, back views 1.60; side views, whose
# shoulders are foreshortened, 5.1 -- the median is robust to them, and a frontal portrait is
# the case this serves)].
VIRTUAL_ST_PER_SHOULDER: float = 1.72
# Shortest shoulder width (px) a virtual torso is built from [choice: below it the shoulder
# line has no direction].
VIRTUAL_MIN_SHOULDER_PX: float = 2.0

# Face ellipse. Semi-axes in st: a head is about 0.2 st tall per half and a face ~0.16 st wide
# per half (adult proportions, ~7.5 heads) [choice].
FACE_HALF_WIDTH_ST: float = 0.16
FACE_HALF_HEIGHT_ST: float = 0.21
# The face centre lies below the mean of eyes and nose (they sit in its upper half) [choice].
FACE_CENTRE_DOWN_ST: float = 0.03
# Inner part of the ellipse whose pixels seed the skin model (less hair at its rim) [choice].
FACE_SEED_SCALE: float = 0.7
# Fewest seed pixels for a face skin model; fewer -> generic rule [choice: ~ a 5x5 patch].
MIN_SEED_PIXELS: int = 25

# Skin model.
# Robust statistics: keep this share of the seed pixels nearest their median [choice].
SKIN_SEED_KEEP: float = 0.6
# Standard-deviation floors of the Lab model (OpenCV 8-bit Lab: L in 0..255, a/b offset 128):
# shading changes L much more than chroma [choice, tuned].
SKIN_SIGMA_FLOOR: tuple[float, float, float] = (10.0, 3.0, 3.0)
# Squared Mahalanobis threshold: chi-square, 3 degrees of freedom, 0.99 quantile [choice].
SKIN_MAHALANOBIS2: float = 11.34
# Hands seed the skin model when no face is visible: forearm-rectangle pixels between these
# positions along elbow -> wrist (1 = wrist) [choice: the hand, just past the wrist].
HAND_T: tuple[float, float] = (1.0, 1.4)
# In a back view (no nose or eye visible) the head zone is hair down to this far below the
# head centre, in st; only the neck below may be skin [choice].
BACK_NECK_ST: float = 0.1
# Generic skin rule in YCrCb [Chai & Ngan 1999, "Face segmentation using skin-color map"]:
# 133 <= Cr <= 173 and 77 <= Cb <= 127 (OpenCV 8-bit YCrCb).
GENERIC_CR: tuple[int, int] = (133, 173)
GENERIC_CB: tuple[int, int] = (77, 127)
# Seed pixels must pass the generic rule when at least this share of the inner ellipse does
# (it removes hair and glasses from the statistics) [choice].
GENERIC_SEED_SHARE: float = 0.3

# Part assignment. A pixel's distance to a part = distance to its bone (head: to the face /
# head centre) minus the part's typical radius, in st [choice, adult proportions].
ARM_RADIUS_ST: float = 0.10
NECK_RADIUS_ST: float = 0.10
LEG_RADIUS_ST: float = 0.15
HEAD_RADIUS_ST: float = 0.25
# Added to a part's distance outside its rectangle (head: outside its box), in st [choice:
# the rectangles of SPEC 3 are the primary evidence, the bones break ties].
OUTSIDE_PENALTY_ST: float = 0.5
# A skin pixel whose best part distance exceeds this (st) is not a limb or face: bare torso
# skin -> upperclothes [choice].
MAX_SKIN_DISTANCE_ST: float = 0.6

# Head zone: hair may reach this far below the shoulder line, in st (negative = above it)
# [choice: the shoulder line].
HAIR_LIMIT_ST: float = 0.0
# Long hair: outside the head zone, hair is possible within this lateral distance of the body
# axis and down to this far below the shoulder line, in st, at a log-prior penalty (nats)
# [choice: hair falls on the back and over the shoulders, not the arms].
LONG_HAIR_HALF_WIDTH_ST: float = 0.35
LONG_HAIR_REACH_ST: float = 1.0
HAIR_OUTSIDE_PENALTY: float = 2.0
# Garments in the head zone (collars, hoods) pay this log-prior penalty (nats) [choice].
HEAD_GARMENT_PENALTY: float = 2.0
# Shoes: prior for the shoe class, a logistic step in the position along knee -> ankle
# (1 = ankle) centred at SHOE_T with scale SHOE_SOFT, inside the shin rectangles [choice,
# tuned: synthetic trousers end just above the ankle]; colour seeds of the lower garment and
# of the shoes lie SHOE_SEED_MARGIN before / after SHOE_T.
SHOE_T: float = 0.9
SHOE_SOFT: float = 0.05
SHOE_SEED_MARGIN: float = 0.1
# Upper/lower garment boundary prior: a logistic step centred this far below the hip line,
# with this scale, both in st [choice, tuned: tops end a little below the hip joints; the
# colour models decide within ~COLOUR_CLAMP scales of the line].
GARMENT_LINE_ST: float = 0.15
GARMENT_SOFT_ST: float = 0.12
# Non-skin pixels nearest an arm bone are sleeves: the lower garment pays this log-prior
# penalty there (nats) [choice].
ARM_LOWER_PENALTY: float = 2.0
# A non-skin pixel belongs to an arm (sleeve) within this margin beyond the arm radius, in st
# [choice: loose sleeves].
SLEEVE_MARGIN_ST: float = 0.05
# Colour seeds, in st: hair = head zone pixels at least HAIR_SEED_ST above the shoulder
# line; upper garment = between UPPER_SEED_ST below the shoulder line and UPPER_SEED_ST above
# the hip line; lower garment = more than LOWER_SEED_ST below the hip line [choice: away from
# the boundaries the colour models must find].
HAIR_SEED_ST: float = 0.15
UPPER_SEED_ST: float = 0.25
LOWER_SEED_ST: float = 0.5
# Colour histograms: bits dropped per Lab channel (L, a, b) -> 8 x 16 x 16 bins [choice:
# coarse in lightness, which shading changes most].
COLOUR_SHIFT: tuple[int, int, int] = (5, 4, 4)
COLOUR_BINS: int = int(np.prod(256 >> np.array(COLOUR_SHIFT)))
# Share of a uniform density mixed into every histogram (unseen colours stay possible)
# [choice].
COLOUR_UNIFORM_SHARE: float = 0.05
# Largest colour log-likelihood ratio between two classes, in nats: colour can overturn a
# geometric prior only this strong [choice, tuned].
COLOUR_CLAMP: float = 3.0
# Skirt when this share of the lower-garment pixels lies outside the leg rectangles; needs
# both thighs, else pants [choice, tuned: synthetic pants <= 0.08, skirts >= 0.24].
SKIRT_SHARE: float = 0.15
# Face holes (eyes, mouth, glasses) are closed with a disc of this diameter, in st [choice].
FACE_CLOSE_ST: float = 0.08

# Limb indices among pipeline.geometry.LIMB_ENDPOINTS (part index - 2).
_ARM_LIMBS: tuple[int, ...] = (4, 5, 6, 7)     # R upper arm, L upper arm, R forearm, L forearm
_LEG_LIMBS: tuple[int, ...] = (0, 1, 2, 3)     # R thigh, L thigh, R shin, L shin
_SHIN_LIMBS: tuple[int, ...] = (2, 3)
_FOREARM_LIMBS: tuple[int, ...] = (6, 7)
# Classes of the non-skin pixels (step 5).
HAIR_CLASS, UPPER_CLASS, LOWER_CLASS, SHOE_CLASS = 0, 1, 2, 3
# Label of each limb (person's own side), in LIMB_ENDPOINTS order.
_LIMB_LABEL: tuple[int, ...] = (RIGHT_LEG, LEFT_LEG, RIGHT_LEG, LEFT_LEG,
                                RIGHT_ARM, LEFT_ARM, RIGHT_ARM, LEFT_ARM)
_FACE_POINTS: tuple[int, ...] = (NOSE, LEYE, REYE)
_ALL_HEAD_POINTS: tuple[int, ...] = (NOSE, LEYE, REYE, LEAR, REAR)


# ------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class ParseInfo:
    """How one map was made. mask_source: 'segmentation' | 'grabcut' | 'geometry' | 'given'
    (see :func:`person_mask`; 'given' = passed by the caller); skin_model: 'face' | 'hands' |
    'generic' | 'none' (see :func:`skin_pixels`; 'none' = no body frame or empty mask);
    lower: 'pants' | 'skirt' | 'none' (no lower-garment pixel); virtual_torso: the pose
    missed a torso point and the map was made with virtual ones (:func:`virtual_torso`)."""

    mask_source: str
    skin_model: str
    lower: str
    virtual_torso: bool = False


# ------------------------------------------------------------------------------ virtual torso
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
    heads = [i for i in _ALL_HEAD_POINTS if vis[i]]
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


# ------------------------------------------------------------------------------ person mask
def _torso_quad(kp: np.ndarray, st: float) -> np.ndarray:
    """Torso quadrilateral ``(4, 2)`` (y, x): Rsho, Lsho, Lhip, Rhip pushed outwards from
    their centroid by :data:`TORSO_PAD_ST` st."""
    quad = kp[[RSHO, LSHO, LHIP, RHIP]].astype(np.float64)
    centre = quad.mean(axis=0)
    d = quad - centre
    norm = np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
    return quad + d / norm * TORSO_PAD_ST * st


def geometric_silhouette(keypoints: np.ndarray, height: int, width: int) -> np.ndarray:
    """A person mask from the pose alone: ``(18, 2) -> (H, W)`` bool.

    Union of the 8 limb rectangles and the head box (:func:`pipeline.geometry.part_masks`)
    and the padded torso quadrilateral, dilated by :data:`SILHOUETTE_DILATE_ST` st. All False
    without the four torso points.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    st = torso_size(kp)
    if not np.isfinite(st):
        return np.zeros((height, width), dtype=bool)
    masks = part_masks(kp, height, width)
    out = masks[1:].any(axis=0).astype(np.uint8)
    quad = _torso_quad(kp, st)[:, ::-1]                       # (x, y) for OpenCV
    cv2.fillPoly(out, [np.round(quad * 256).astype(np.int32)], 1, shift=8)
    r = int(round(SILHOUETTE_DILATE_ST * st))
    if r > 0:
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    return out.astype(bool)


def pose_overlap(mask: np.ndarray, keypoints: np.ndarray) -> float:
    """Share of the pose's skeleton pixels (PG2 pose mask) inside ``mask`` (H, W) bool;
    NaN when the pose draws no skeleton (fewer than two connected points)."""
    core = pose_mask(np.asarray(keypoints, dtype=np.float64), *mask.shape)
    n = int(core.sum())
    return float(np.count_nonzero(mask & core)) / n if n else float("nan")


def refine_silhouette(image: np.ndarray, keypoints: np.ndarray, silhouette: np.ndarray
                      ) -> np.ndarray:
    """Refine a geometric silhouette with GrabCut (colour models of person and background).

    image: (H, W, 3) uint8 RGB; keypoints: (18, 2); silhouette: (H, W) bool from
    :func:`geometric_silhouette`. GrabCut (:data:`GRABCUT_ITERATIONS` iterations, on the
    bounding box of the band) starts from: the pose skeleton inside the silhouette = person,
    the silhouette = probably person, a band :data:`GRABCUT_BAND_ST` st wide around it =
    probably background, everything else = background. OpenCV's RNG is reseeded
    (:data:`GRABCUT_SEED`) first, so the result is reproducible. Returns (H, W) bool; the
    silhouette itself when the result keeps less than :data:`GRABCUT_MIN_KEEP` of it
    (GrabCut lost the person) or the pose has no torso.
    """
    sil = np.asarray(silhouette, dtype=bool)
    kp = np.asarray(keypoints, dtype=np.float64)
    st = torso_size(kp)
    if not sil.any() or not np.isfinite(st):
        return sil
    h, w = sil.shape
    r = max(1, int(round(GRABCUT_BAND_ST * st)))
    band = cv2.dilate(sil.astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)) > 0
    ys, xs = np.nonzero(band)
    y0, y1 = max(int(ys.min()) - 2, 0), min(int(ys.max()) + 3, h)
    x0, x1 = max(int(xs.min()) - 2, 0), min(int(xs.max()) + 3, w)
    seeds = np.full((h, w), cv2.GC_BGD, np.uint8)
    seeds[band] = cv2.GC_PR_BGD
    seeds[sil] = cv2.GC_PR_FGD
    seeds[sil & pose_mask(kp, h, w)] = cv2.GC_FGD
    crop = np.ascontiguousarray(seeds[y0:y1, x0:x1])
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(GRABCUT_SEED)         # GrabCut's k-means init draws from OpenCV's RNG
    try:
        cv2.grabCut(np.ascontiguousarray(image[y0:y1, x0:x1]), crop, None, bgd, fgd,
                    GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:                    # e.g. a single-colour crop: no GMM can be fitted
        return sil
    out = np.zeros((h, w), dtype=bool)
    out[y0:y1, x0:x1] = (crop == cv2.GC_FGD) | (crop == cv2.GC_PR_FGD)
    if np.count_nonzero(out & sil) < GRABCUT_MIN_KEEP * np.count_nonzero(sil):
        return sil
    return out


def person_mask(segmentation: np.ndarray | None, keypoints: np.ndarray, height: int,
                width: int, threshold: float = 0.5, image: np.ndarray | None = None
                ) -> tuple[np.ndarray, str]:
    """The person mask of step 1: ``(mask (H, W) bool, source)``.

    segmentation: (H, W) float person probability, or None when no person was found.
    source is 'segmentation' when the thresholded segmentation covers at least
    :data:`MIN_POSE_OVERLAP` of the pose's skeleton (or the pose draws no skeleton at all);
    otherwise the :func:`geometric_silhouette`, refined by :func:`refine_silhouette` when
    ``image`` ((H, W, 3) uint8 RGB) is given ('grabcut') or not ('geometry'). The fallback
    silhouette is drawn on the pose with its :func:`virtual_torso` (the skeleton check uses
    the pose as given).
    """
    seg = None if segmentation is None else np.asarray(segmentation) > threshold
    if seg is not None and seg.any():
        overlap = pose_overlap(seg, keypoints)
        if np.isnan(overlap) or overlap >= MIN_POSE_OVERLAP:
            return seg, "segmentation"
    kp = virtual_torso(keypoints)[0]
    sil = geometric_silhouette(kp, height, width)
    if image is None:
        return sil, "geometry"
    return refine_silhouette(image, kp, sil), "grabcut"


# ------------------------------------------------------------------------------ body frame
@dataclass(frozen=True)
class _Frame:
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


def _body_frame(kp: np.ndarray, st: float, pix: np.ndarray, masks: np.ndarray) -> _Frame:
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
    heads = [i for i in _ALL_HEAD_POINTS if vis[i]]
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
    return _Frame(st, below_shoulder, below_hip, lateral, above_head, limb_ok, limb_dist,
                  limb_t, in_rect, head_dist, neck_dist, masks[HEAD, pix[:, 0], pix[:, 1]])


# ------------------------------------------------------------------------------ face & skin
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
    pts = [i for i in _FACE_POINTS if vis[i]]
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


def generic_skin(ycrcb: np.ndarray) -> np.ndarray:
    """The generic skin rule on ``(N, 3)`` OpenCV YCrCb pixels -> (N,) bool."""
    cr, cb = ycrcb[:, 1], ycrcb[:, 2]
    return ((cr >= GENERIC_CR[0]) & (cr <= GENERIC_CR[1])
            & (cb >= GENERIC_CB[0]) & (cb <= GENERIC_CB[1]))


@dataclass(frozen=True)
class SkinModel:
    """A Gaussian skin colour model in OpenCV 8-bit Lab: mean (3,), inverse covariance (3, 3)."""

    mean: np.ndarray
    inv_cov: np.ndarray

    @classmethod
    def fit(cls, lab: np.ndarray) -> "SkinModel":
        """Robust fit on ``(M, 3)`` Lab seed pixels (M >= 2): the :data:`SKIN_SEED_KEEP`
        share nearest the median, covariance with :data:`SKIN_SIGMA_FLOOR` floors."""
        x = np.asarray(lab, dtype=np.float64)
        med = np.median(x, axis=0)
        d = np.sum(((x - med) / np.asarray(SKIN_SIGMA_FLOOR)) ** 2, axis=1)
        keep = x[d <= np.quantile(d, SKIN_SEED_KEEP)]
        mean = keep.mean(axis=0)
        cov = np.cov(keep, rowvar=False) if len(keep) > 1 else np.zeros((3, 3))
        cov = cov + np.diag(np.square(SKIN_SIGMA_FLOOR))
        return cls(mean, np.linalg.inv(cov))

    def mahalanobis2(self, lab: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of ``(N, 3)`` Lab pixels, (N,) float64."""
        d = np.asarray(lab, dtype=np.float64) - self.mean
        return np.einsum("ni,ij,nj->n", d, self.inv_cov, d)

    def __call__(self, lab: np.ndarray) -> np.ndarray:
        """Skin test: ``(N, 3)`` Lab -> (N,) bool."""
        return self.mahalanobis2(lab) <= SKIN_MAHALANOBIS2


def skin_pixels(lab: np.ndarray, ycrcb: np.ndarray, face_seed: np.ndarray | None,
                hand_seed: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Step 3: which person pixels are skin, ``(N,) bool``, and the model used.

    lab, ycrcb: (N, 3) colours of the person pixels; face_seed: (N,) bool, pixels of the inner
    face ellipse (None without a face); hand_seed: (N,) bool, pixels around the wrists (None
    without one). The seed pixels that pass the generic rule (all seed pixels when too few
    do) fit a :class:`SkinModel`: 'face' when the face seed has at least
    :data:`MIN_SEED_PIXELS` pixels, else 'hands' when the generic pixels of the hand seed do,
    else the generic rule itself ('generic').
    """
    generic = generic_skin(ycrcb)
    if face_seed is not None and int(face_seed.sum()) >= MIN_SEED_PIXELS:
        seed = face_seed & generic
        if seed.sum() < max(MIN_SEED_PIXELS, GENERIC_SEED_SHARE * face_seed.sum()):
            seed = face_seed
        return SkinModel.fit(lab[seed])(lab), "face"
    if hand_seed is not None and int((hand_seed & generic).sum()) >= MIN_SEED_PIXELS:
        return SkinModel.fit(lab[hand_seed & generic])(lab), "hands"
    return generic, "generic"


# ------------------------------------------------------------------------------ colour
def colour_codes(lab: np.ndarray) -> np.ndarray:
    """Histogram bin of ``(N, 3)`` OpenCV Lab pixels: (N,) int, :data:`COLOUR_BINS` bins."""
    q = np.asarray(lab).astype(np.int64) >> np.array(COLOUR_SHIFT)
    nb = 256 >> np.array(COLOUR_SHIFT)
    return (q[:, 0] * nb[1] + q[:, 1]) * nb[2] + q[:, 2]


def _blur_bins(hist: np.ndarray) -> np.ndarray:
    """[1, 2, 1] / 4 blur of a colour histogram along each Lab axis (mass kept inside)."""
    nb = tuple(int(n) for n in (256 >> np.array(COLOUR_SHIFT)))
    h = hist.reshape(nb)
    for axis in range(3):
        pad = [(0, 0)] * 3
        pad[axis] = (1, 1)
        hp = np.pad(h, pad, mode="edge")
        sl = [slice(None)] * 3
        parts = []
        for k in range(3):
            sl[axis] = slice(k, k + nb[axis])
            parts.append(hp[tuple(sl)])
        h = 0.25 * parts[0] + 0.5 * parts[1] + 0.25 * parts[2]
    return h.ravel()


def colour_loglik(codes: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Log-likelihood (N,) of every pixel's colour under the histogram of the seed pixels.

    codes: (N,) from :func:`colour_codes`; seed: (N,) bool. The histogram is blurred by one
    bin and mixed with a uniform share :data:`COLOUR_UNIFORM_SHARE`; a seed smaller than
    :data:`MIN_SEED_PIXELS` gives the uniform density (no colour evidence).
    """
    bins = COLOUR_BINS
    n = int(seed.sum())
    if n < MIN_SEED_PIXELS:
        return np.full(len(codes), -np.log(bins))
    hist = _blur_bins(np.bincount(codes[seed], minlength=bins).astype(np.float64)) / n
    dens = (1.0 - COLOUR_UNIFORM_SHARE) * hist + COLOUR_UNIFORM_SHARE / bins
    return np.log(dens)[codes]


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


# ------------------------------------------------------------------------------ labelling
def _skin_labels(frame: _Frame, in_face: np.ndarray) -> np.ndarray:
    """Step 4: the label of every pixel if it were skin, (N,) uint8."""
    st = frame.st
    penalty = OUTSIDE_PENALTY_ST * st
    radius = np.array([LEG_RADIUS_ST] * 4 + [ARM_RADIUS_ST] * 4)[:, None] * st
    limb = frame.limb_dist - radius + np.where(frame.in_rect, 0.0, penalty)
    head = (frame.head_dist - HEAD_RADIUS_ST * st
            + np.where(frame.in_head_box | in_face, 0.0, penalty))
    head = np.minimum(head, frame.neck_dist - NECK_RADIUS_ST * st)
    dist = np.concatenate([head[None], limb])                  # (9, N)
    best = np.argmin(dist, axis=0)
    labels = np.array((FACE,) + _LIMB_LABEL, dtype=np.uint8)[best]
    far = dist[best, np.arange(len(best))] > MAX_SKIN_DISTANCE_ST * st
    return np.where(far, np.uint8(UPPERCLOTHES), labels)


def _nearest_arm(frame: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """Distance (px) to the nearest arm bone whose rectangle holds the pixel, minus the arm
    radius (inf outside every arm rectangle), and whether the pixel belongs to the arm: within
    :data:`SLEEVE_MARGIN_ST` of the arm's radius and nearer the arm than any leg the same
    way; both (N,)."""
    st = frame.st
    arms, legs = list(_ARM_LIMBS), list(_LEG_LIMBS)
    arm = np.where(frame.in_rect[arms], frame.limb_dist[arms], np.inf).min(axis=0)
    arm = arm - ARM_RADIUS_ST * st
    leg = np.where(frame.in_rect[legs], frame.limb_dist[legs], np.inf).min(axis=0)
    leg = leg - LEG_RADIUS_ST * st
    return arm, (arm <= SLEEVE_MARGIN_ST * st) & (arm < leg)


def _shoe_position(frame: _Frame) -> np.ndarray:
    """Largest position along knee -> ankle among the shin rectangles holding each pixel
    (1 = ankle; -inf outside every shin rectangle), (N,)."""
    shins = list(_SHIN_LIMBS)
    return np.where(frame.in_rect[shins], frame.limb_t[shins], -np.inf).max(axis=0)


def _garment_classes(frame: _Frame, codes: np.ndarray, nonskin: np.ndarray,
                     head_zone: np.ndarray, in_face: np.ndarray, arm_wins: np.ndarray
                     ) -> np.ndarray:
    """Step 5: class of every pixel as if it were not skin, (N,) int: :data:`HAIR_CLASS`,
    :data:`UPPER_CLASS`, :data:`LOWER_CLASS` or :data:`SHOE_CLASS`.

    score = colour log-likelihood (histograms of seed pixels of each class, differences
    clamped to :data:`COLOUR_CLAMP`) + geometric log-prior.
    """
    st = frame.st
    shoe_t = _shoe_position(frame)
    hair_seed = nonskin & head_zone & ~in_face & (frame.below_shoulder < -HAIR_SEED_ST * st)
    long_hair = ((frame.lateral < LONG_HAIR_HALF_WIDTH_ST * st)
                 & (frame.below_shoulder < LONG_HAIR_REACH_ST * st))
    upper_seed = (nonskin & ~head_zone & (frame.below_shoulder > UPPER_SEED_ST * st)
                  & (frame.below_hip < -UPPER_SEED_ST * st))
    if hair_seed.sum() >= MIN_SEED_PIXELS and (upper_seed & ~long_hair).sum() >= MIN_SEED_PIXELS:
        upper_seed = upper_seed & ~long_hair   # long hair on the back must not seed the top
    lower_seed = (nonskin & ~arm_wins & (shoe_t < SHOE_T - SHOE_SEED_MARGIN)
                  & (frame.below_hip > LOWER_SEED_ST * st))
    shoe_seed = nonskin & (shoe_t >= SHOE_T + SHOE_SEED_MARGIN)
    ll = np.stack([colour_loglik(codes, s)
                   for s in (hair_seed, upper_seed, lower_seed, shoe_seed)])
    ll = np.maximum(ll, ll.max(axis=0) - COLOUR_CLAMP)

    hair = np.where(head_zone, 0.0, np.where(long_hair, -HAIR_OUTSIDE_PENALTY, -np.inf))
    x = (frame.below_hip - GARMENT_LINE_ST * st) / (GARMENT_SOFT_ST * st)
    upper = np.where(arm_wins, 0.0, _log_sigmoid(-x)) - np.where(head_zone,
                                                                  HEAD_GARMENT_PENALTY, 0.0)
    lower = _log_sigmoid(x) - np.where(arm_wins, ARM_LOWER_PENALTY, 0.0)
    lower = np.where(head_zone, -np.inf, lower)
    shoe = np.where(head_zone, -np.inf, _log_sigmoid((shoe_t - SHOE_T) / SHOE_SOFT))
    return np.argmax(ll + np.stack([hair, upper, lower, shoe]), axis=0)


def _lower_garment(frame: _Frame, lower: np.ndarray) -> str:
    """'skirt', 'pants' or 'none' from the lower-garment pixels (N,) bool (step 5)."""
    n = int(lower.sum())
    if n == 0:
        return "none"
    legs = list(_LEG_LIMBS)
    if not frame.limb_ok[[0, 1]].all():        # a thigh is missing: cannot tell, pants
        return "pants"
    outside = ~(frame.in_rect[legs] & frame.limb_ok[legs, None]).any(axis=0)
    share = float(np.count_nonzero(lower & outside)) / n
    return "skirt" if share > SKIRT_SHARE else "pants"


def _close_face(face: np.ndarray, pix: np.ndarray, shape: tuple[int, int], st: float
                ) -> np.ndarray:
    """Morphological closing of the face pixels (N,) bool on the crop grid ``shape``
    (pix in crop coordinates): fills eyes, mouth and glasses; (N,) bool."""
    img = np.zeros(shape, np.uint8)
    img[pix[:, 0], pix[:, 1]] = face
    k = max(3, int(round(FACE_CLOSE_ST * st)) | 1)
    img = cv2.morphologyEx(img, cv2.MORPH_CLOSE,
                           cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return img[pix[:, 0], pix[:, 1]].astype(bool)


def _label_pixels(kp: np.ndarray, st: float, pix: np.ndarray, local: np.ndarray,
                  shape: tuple[int, int], lab: np.ndarray, ycrcb: np.ndarray,
                  masks: np.ndarray) -> tuple[np.ndarray, str, str]:
    """Steps 2-5 on the person pixels ``pix`` (N, 2) (``local``: the same in crop
    coordinates of a crop of size ``shape``): (labels (N,) uint8, skin model, lower kind)."""
    frame = _body_frame(kp, st, pix, masks)
    in_face = face_ellipse(kp, pix)
    seed = face_ellipse(kp, pix, FACE_SEED_SCALE)
    fore = list(_FOREARM_LIMBS)
    hands = (frame.in_rect[fore] & (frame.limb_t[fore] >= HAND_T[0])
             & (frame.limb_t[fore] <= HAND_T[1])).any(axis=0)
    skin, model = skin_pixels(lab, ycrcb, seed, hands)
    back_view = in_face is None
    in_face = np.zeros(len(pix), dtype=bool) if in_face is None else in_face

    arm_dist, arm_wins = _nearest_arm(frame)
    head_zone = ((frame.in_head_box | in_face) & (frame.below_shoulder <= HAIR_LIMIT_ST * st)
                 & (frame.head_dist - HEAD_RADIUS_ST * st <= arm_dist))
    if back_view:                      # from behind, the upper head is hair whatever its colour
        skin = skin & ~(head_zone & (frame.above_head > -BACK_NECK_ST * st))
    labels = np.full(len(pix), UPPERCLOTHES, dtype=np.uint8)
    labels[skin] = _skin_labels(frame, in_face)[skin]
    nonskin = ~skin
    cls = _garment_classes(frame, colour_codes(lab), nonskin, head_zone, in_face, arm_wins)
    lower = nonskin & (cls == LOWER_CLASS)
    kind = _lower_garment(frame, lower)
    labels[nonskin & (cls == HAIR_CLASS)] = HAIR
    labels[lower] = SKIRT if kind == "skirt" else PANTS
    shoe = nonskin & (cls == SHOE_CLASS)
    shoe_side = np.where(frame.limb_dist[2] <= frame.limb_dist[3], RIGHT_LEG, LEFT_LEG)
    labels[shoe] = shoe_side[shoe]
    face = _close_face(labels == FACE, local, shape, st)
    labels[face & in_face & nonskin] = FACE
    return labels, model, kind


def _parse(image: np.ndarray, keypoints: np.ndarray, mask: np.ndarray
           ) -> tuple[np.ndarray, str, str, bool]:
    """:func:`coarse_parse` plus the skin model, the lower-garment kind and whether a virtual
    torso was used."""
    img = np.ascontiguousarray(np.asarray(image))
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {img.shape} {img.dtype}")
    h, w = img.shape[:2]
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (h, w):
        raise ValueError(f"person mask is {mask.shape}, the image is {(h, w)}")
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.shape != (18, 2):
        raise ValueError(f"keypoints must be (18, 2), got {kp.shape}")
    out = np.zeros((h, w), dtype=np.uint8)
    kp, virtual = virtual_torso(kp)
    st = torso_size(kp)
    if not mask.any():
        return out, "none", "none", virtual
    if not np.isfinite(st) or st <= 0:
        out[mask] = UPPERCLOTHES
        return out, "none", "none", virtual
    ys, xs = np.nonzero(mask)
    pix = np.stack([ys, xs], axis=1)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = img[y0:y1, x0:x1]
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2Lab)[ys - y0, xs - x0].astype(np.float64)
    ycrcb = cv2.cvtColor(crop, cv2.COLOR_RGB2YCrCb)[ys - y0, xs - x0]
    masks = part_masks(kp, h, w)
    local = pix - np.array([y0, x0])
    labels, model, kind = _label_pixels(kp, st, pix, local, (y1 - y0, x1 - x0), lab, ycrcb,
                                        masks)
    out[ys, xs] = labels
    return out, model, kind, virtual


def coarse_parse(image: np.ndarray, keypoints: np.ndarray, person_mask: np.ndarray
                 ) -> np.ndarray:
    """The coarse parse of one image with an explicit person mask (no MediaPipe).

    image: (H, W, 3) uint8 RGB; keypoints: (18, 2) (y, x) px, -1 = missing; person_mask:
    (H, W) bool. Returns (H, W) uint8 labels in 0..9 (SPEC 2); background exactly outside
    the mask. See the module docstring for the method.
    """
    return _parse(image, keypoints, person_mask)[0]


def coarse_parse_with_info(image: np.ndarray, keypoints: np.ndarray, person_mask: np.ndarray
                           ) -> tuple[np.ndarray, ParseInfo]:
    """:func:`coarse_parse` plus how the map was made (``mask_source`` 'given')."""
    labels, model, kind, virtual = _parse(image, keypoints, person_mask)
    return labels, ParseInfo("given", model, kind, virtual)


# ------------------------------------------------------------------------------ the parser
class CoarseParser:
    """The coarse parser with MediaPipe's person segmentation (step 1 of the module doc).

    person_threshold: segmentation probability above which a pixel is person.
    grabcut: refine the geometric fallback silhouette with GrabCut (:func:`refine_silhouette`).
    The MediaPipe detector is built on the first :meth:`parse`; picklable (joblib workers
    rebuild it); use as a context manager or call :meth:`close`. When mediapipe is not
    installed the fallback silhouette is used for every image (with one warning).
    """

    def __init__(self, person_threshold: float = 0.5, grabcut: bool = True,
                 detector: Any = None) -> None:
        if not 0.0 <= person_threshold < 1.0:
            raise ValueError(f"person_threshold must lie in [0, 1), got {person_threshold}")
        self.person_threshold = float(person_threshold)
        self.grabcut = bool(grabcut)
        # a MediaPipeDetector given here travels with the parser to joblib workers, where its
        # unpickled copies share one graph per process; None = build one on first use
        self._detector: Any = detector
        self._no_detector = False

    def _segmentation(self, image: np.ndarray) -> np.ndarray | None:
        """MediaPipe's person probability (H, W), or None (no person / no mediapipe)."""
        if self._no_detector:
            return None
        if self._detector is None:
            from pipeline.pose.mediapipe_detector import MediaPipeDetector  # noqa: PLC0415
            self._detector = MediaPipeDetector()
        try:
            det = self._detector.detect(image)
        except ImportError as err:
            warnings.warn(f"coarse parser: {err}; using the geometric silhouette",
                          stacklevel=3)
            self._no_detector = True
            self._detector = None
            return None
        return det.segmentation if det.found else None

    def parse_with_info(self, image: np.ndarray, keypoints: np.ndarray
                        ) -> tuple[np.ndarray, ParseInfo]:
        """:meth:`parse` plus how the map was made (:class:`ParseInfo`)."""
        img = np.asarray(image)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {img.shape} {img.dtype}")
        h, w = img.shape[:2]
        mask, source = person_mask(self._segmentation(img), keypoints, h, w,
                                   self.person_threshold, image=img if self.grabcut else None)
        labels, model, kind, virtual = _parse(img, keypoints, mask)
        return labels, ParseInfo(source, model, kind, virtual)

    def parse(self, image: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        """image (H, W, 3) uint8 RGB, keypoints (18, 2) (y, x) px -> (H, W) uint8 labels."""
        return self.parse_with_info(image, keypoints)[0]

    def close(self) -> None:
        """Release the detector (a later :meth:`parse` builds it again)."""
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __enter__(self) -> "CoarseParser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CoarseParser", "ParseInfo", "SkinModel", "coarse_parse", "coarse_parse_with_info",
           "colour_codes", "colour_loglik", "face_ellipse", "generic_skin",
           "geometric_silhouette", "person_mask", "pose_overlap", "refine_silhouette",
           "skin_pixels", "virtual_torso"]
