"""Left and right of a MediaPipe detection: a check for back views that MediaPipe read as front
views, and a flag for detections whose sides stay uncertain (docs/real-datasets.md, "MediaPipe's
left and right").

MediaPipe reads every person in 3-D: its landmarks carry a depth ``z`` (smaller = nearer the
camera). When it takes a back view for a front view it mirrors the whole body consistently (the
nose comes out in front of the shoulders, the person's left shoulder on the image's right), so
its own outputs cannot reveal the error. The image can: seen from the back, the head is hair
where MediaPipe puts the face, the colour of the top of the head and unlike the skin of the
hands; seen from the front, the face differs from the hair above it and matches the hands. The
check compares these colours (:func:`head_colours`), together with how far apart MediaPipe puts
the ears (a head seen from behind gets its ears drawn close together).

Pure numpy and OpenCV (no torch); every threshold was chosen on synthetic people of one seed and
measured on another (``bench/pose_views.py``).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.labels import KEYPOINT_MIRROR

# MediaPipe Pose landmark indices (the model card's 33-point topology).
MP_NOSE, MP_LEFT_EYE, MP_RIGHT_EYE, MP_LEFT_EAR, MP_RIGHT_EAR = 0, 2, 5, 7, 8
MP_LEFT_SHOULDER, MP_RIGHT_SHOULDER, MP_LEFT_HIP, MP_RIGHT_HIP = 11, 12, 23, 24
#: (wrist, index finger) of the left and the right hand: the skin patch lies between them.
MP_HANDS = ((15, 19), (16, 20))

#: Colour difference (OpenCV 8-bit Lab, Euclidean) between the face patch and the top of the
#: head below which the head reads as hair all over, i.e. seen from behind [choice: on
#: synthetic people at 256 px, seed 1, 90 % of back views lie below 19, the median front view
#: at 80; the largest value that flipped no front view together with the two cues below;
#: bench/pose_views.py].
BACK_CONTRAST = 30.0
#: Colour difference between the face patch and the nearer hand above which the face patch is
#: not skin [choice: seed 1 medians 1 for front views, 64 for back views; see BACK_CONTRAST].
BACK_SKIN_DISTANCE = 10.0
#: Ear spacing over shoulder spacing below which MediaPipe's head looks turned away [choice:
#: seed 1 medians 0.39 for front views, 0.26 for the back views it mirrored].
BACK_EAR_RATIO = 0.3
#: Horizontal shoulder gap over torso length below which the view is a side view, where
#: MediaPipe confuses the near and the far limbs [the synthetic generator's own rule,
#: pipeline/synthetic/skeleton.py SIDE_RATIO].
SIDE_GAP_RATIO = 0.35
#: Factor applied to the confidence of every left/right point of a detection whose sides stay
#: uncertain [choice: halves it; the points stay (dropping them would take 16 points from
#: every side view), marked for whoever reads poses.h5 /confidence].
UNCERTAIN_FACTOR = 0.5
#: The 16 points that have a side (all but nose and neck), in the 18-point order.
SIDED_POINTS = np.flatnonzero(KEYPOINT_MIRROR != np.arange(len(KEYPOINT_MIRROR)))


@dataclass(frozen=True)
class SideCheck:
    """The verdict on one detection.

    flip: the detection is a back view that MediaPipe mirrored: swap every left/right pair.
    uncertain: the sides may still be wrong (a side view, or two of the three back-view cues
    fired): lower those points' confidence.
    reason: a short word for reports ('front', 'back', 'mirrored back', 'side', 'weak cue').
    contrast, skin: the face patch's colour difference from the top of the head and from the
    hands (Lab units; nan when not measured).
    """

    flip: bool
    uncertain: bool
    reason: str
    contrast: float = float("nan")
    skin: float = float("nan")


def _patch_median(lab: np.ndarray, cy: float, cx: float, r: float) -> np.ndarray | None:
    """Median Lab colour of the square of half-size r around (cy, cx); None if off the image."""
    h, w = lab.shape[:2]
    y0, y1 = int(max(0, np.floor(cy - r))), int(min(h, np.ceil(cy + r) + 1))
    x0, x1 = int(max(0, np.floor(cx - r))), int(min(w, np.ceil(cx + r) + 1))
    if y1 <= y0 or x1 <= x0:
        return None
    return np.median(lab[y0:y1, x0:x1].reshape(-1, 3), axis=0)


def head_colours(image: np.ndarray, px: np.ndarray, py: np.ndarray) -> tuple[float, float]:
    """Colour differences of the face patch: from the top of the head, and from the hands.

    image: (H, W, 3) uint8 RGB. px, py: (33,) MediaPipe landmarks in pixels.
    The head's half-size s is half the larger of the ear spacing and half the shoulder
    spacing (at least 3 px). Face patch: centred between the nose and the eyes' midpoint, half-
    size 0.3 s; top patch: 0.9 s above the ears' midpoint, half-size 0.3 s; hand patches:
    between each wrist and its index finger, half-size 0.15 s. Colours are patch medians in
    OpenCV's 8-bit Lab; differences are Euclidean. Returns (face vs top, face vs the nearer
    hand), each nan when a patch lies off the image.
    """
    ear_x, ear_y = (px[MP_LEFT_EAR] + px[MP_RIGHT_EAR]) / 2, (py[MP_LEFT_EAR] + py[MP_RIGHT_EAR]) / 2
    ears = np.hypot(px[MP_LEFT_EAR] - px[MP_RIGHT_EAR], py[MP_LEFT_EAR] - py[MP_RIGHT_EAR])
    shoulders = np.hypot(px[MP_LEFT_SHOULDER] - px[MP_RIGHT_SHOULDER],
                         py[MP_LEFT_SHOULDER] - py[MP_RIGHT_SHOULDER])
    s = max(3.0, 0.5 * max(ears, 0.5 * shoulders))
    eye_x = (px[MP_LEFT_EYE] + px[MP_RIGHT_EYE]) / 2
    eye_y = (py[MP_LEFT_EYE] + py[MP_RIGHT_EYE]) / 2
    lab = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2LAB).astype(np.float32)
    face = _patch_median(lab, (py[MP_NOSE] + eye_y) / 2, (px[MP_NOSE] + eye_x) / 2, 0.3 * s)
    if face is None:
        return float("nan"), float("nan")
    top = _patch_median(lab, ear_y - 0.9 * s, ear_x, 0.3 * s)
    hands = [_patch_median(lab, (py[a] + py[b]) / 2, (px[a] + px[b]) / 2, 0.15 * s)
             for a, b in MP_HANDS]
    to_top = float(np.linalg.norm(face - top)) if top is not None else float("nan")
    to_hand = min((float(np.linalg.norm(face - h)) for h in hands if h is not None),
                  default=float("nan"))
    return to_top, to_hand


def check_sides(landmarks: np.ndarray, image: np.ndarray) -> SideCheck:
    """Decide whether a MediaPipe detection has its left and right swapped.

    landmarks: (33, 4) float: x, y normalised to [0, 1] by width and height, MediaPipe's
    depth z (smaller = nearer) and visibility. image: (H, W, 3) uint8 RGB, the detector's input.

    Rule: MediaPipe reads a front view when its left shoulder lies on the image's right and its
    nose in front of the shoulders (z). Such a detection is a mirrored back view when all three
    back-view cues hold: the face patch is the colour of the top of the head (difference below
    :data:`BACK_CONTRAST`), unlike the hands (above :data:`BACK_SKIN_DISTANCE`), and the ears
    are closer than :data:`BACK_EAR_RATIO` shoulder spacings. When some but not all hold, the
    sides are uncertain. A side view (shoulder gap under :data:`SIDE_GAP_RATIO` torso lengths) is
    always uncertain. A detection MediaPipe reads as a back view is kept: on the synthetic
    people it never mirrored a front view into a back view.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    h, w = image.shape[:2]
    px, py, z = lm[:, 0] * w, lm[:, 1] * h, lm[:, 2]
    gap = px[MP_LEFT_SHOULDER] - px[MP_RIGHT_SHOULDER]
    torso = np.hypot((px[MP_LEFT_SHOULDER] + px[MP_RIGHT_SHOULDER]
                      - px[MP_LEFT_HIP] - px[MP_RIGHT_HIP]) / 2,
                     (py[MP_LEFT_SHOULDER] + py[MP_RIGHT_SHOULDER]
                      - py[MP_LEFT_HIP] - py[MP_RIGHT_HIP]) / 2)
    if abs(gap) < SIDE_GAP_RATIO * max(torso, 1e-6):
        return SideCheck(False, True, "side")
    nose_ahead = z[MP_NOSE] < (z[MP_LEFT_SHOULDER] + z[MP_RIGHT_SHOULDER]) / 2
    if not (gap > 0 and nose_ahead):
        return SideCheck(False, False, "back")
    contrast, skin = head_colours(image, px, py)
    ear_ratio = abs(px[MP_LEFT_EAR] - px[MP_RIGHT_EAR]) / max(abs(gap), 1e-6)
    cues = (contrast < BACK_CONTRAST, skin > BACK_SKIN_DISTANCE, ear_ratio < BACK_EAR_RATIO)
    if all(cues):                                        # a nan colour never fires
        return SideCheck(True, False, "mirrored back", contrast, skin)
    if sum(cues) == 2:
        return SideCheck(False, True, "weak cue", contrast, skin)
    return SideCheck(False, False, "front", contrast, skin)


def apply_side_check(keypoints: np.ndarray, confidence: np.ndarray, check: SideCheck
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The 18-point detection after the verdict: left/right pairs swapped when ``check.flip``,
    the confidence of the 16 sided points times :data:`UNCERTAIN_FACTOR` when
    ``check.uncertain``. keypoints (18, 2), confidence (18,); returns new arrays."""
    kp, conf = np.array(keypoints, copy=True), np.array(confidence, copy=True)
    if check.flip:
        kp, conf = kp[KEYPOINT_MIRROR], conf[KEYPOINT_MIRROR]
    if check.uncertain:
        conf[SIDED_POINTS] *= UNCERTAIN_FACTOR
    return kp, conf
