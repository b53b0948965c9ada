"""Step 1 of the coarse parser: the person mask (docs/coarse-parser.md, step 1).

MediaPipe's person segmentation where it covers the pose's skeleton; otherwise a geometric
silhouette drawn from the pose (limb rectangles, head box, padded torso), refined by one
GrabCut pass. Masks are (H, W) bool; keypoints (18, 2) (y, x) px, -1 = missing.
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.geometry import part_masks, pose_mask, torso_size
from pipeline.geometry.keypoints import LHIP, LSHO, RHIP, RSHO
from pipeline.parsing.virtual_torso import virtual_torso

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
