"""Steps 2 to 5 of the coarse parser on the person's pixels: skin pixels go to the nearest body
part, the others to hair, upper garment, lower garment or shoe by colour and body geometry
(docs/coarse-parser.md, steps 4 and 5). Lengths are in units of the torso size ``st``
unless named px."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.labels import (
    FACE, HAIR, LEFT_ARM, LEFT_LEG, PANTS, RIGHT_ARM, RIGHT_LEG, SKIRT, UPPERCLOTHES)
from pipeline.parsing.body_frame import BodyFrame, body_frame, face_ellipse
from pipeline.parsing.colour_models import (COLOUR_CLAMP, MIN_SEED_PIXELS, colour_codes,
                                            colour_loglik, skin_pixels)

# Seeds of the skin model (face, hands) and the head of a back view.
# Inner part of the ellipse whose pixels seed the skin model (less hair at its rim) [choice].
FACE_SEED_SCALE: float = 0.7
# Hands seed the skin model when no face is visible: forearm-rectangle pixels between these
# positions along elbow -> wrist (1 = wrist) [choice: the hand, just past the wrist].
HAND_T: tuple[float, float] = (1.0, 1.4)
# In a back view (no nose or eye visible) the head zone is hair down to this far below the
# head centre, in st; only the neck below may be skin [choice].
BACK_NECK_ST: float = 0.1

# Part assignment. A pixel's distance to a part = distance to its bone (head: to the face /
# head centre) minus the part's typical radius, in st [choice, adult proportions].
ARM_RADIUS_ST: float = 0.10
NECK_RADIUS_ST: float = 0.10
LEG_RADIUS_ST: float = 0.15
HEAD_RADIUS_ST: float = 0.25
# Added to a part's distance outside its rectangle (head: outside its box), in st [choice:
# the part rectangles (docs/method.md §3) are the primary evidence, the bones break ties].
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


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _skin_labels(frame: BodyFrame, in_face: np.ndarray) -> np.ndarray:
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


def _nearest_arm(frame: BodyFrame) -> tuple[np.ndarray, np.ndarray]:
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


def _shoe_position(frame: BodyFrame) -> np.ndarray:
    """Largest position along knee -> ankle among the shin rectangles holding each pixel
    (1 = ankle; -inf outside every shin rectangle), (N,)."""
    shins = list(_SHIN_LIMBS)
    return np.where(frame.in_rect[shins], frame.limb_t[shins], -np.inf).max(axis=0)


def _garment_classes(frame: BodyFrame, codes: np.ndarray, nonskin: np.ndarray,
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


def _lower_garment(frame: BodyFrame, lower: np.ndarray) -> str:
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


def label_pixels(kp: np.ndarray, st: float, pix: np.ndarray, local: np.ndarray,
                  shape: tuple[int, int], lab: np.ndarray, ycrcb: np.ndarray,
                  masks: np.ndarray) -> tuple[np.ndarray, str, str]:
    """Steps 2-5 on the person pixels ``pix`` (N, 2) (``local``: the same in crop
    coordinates of a crop of size ``shape``): (labels (N,) uint8, skin model, lower kind)."""
    frame = body_frame(kp, st, pix, masks)
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
