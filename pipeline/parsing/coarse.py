"""The weight-free coarse human parser: (image, 18 keypoints) -> the 10 labels of
docs/method.md §2. NOT a trained parser; what it does, its limits and its accuracy:
docs/coarse-parser.md.

The entry points live here: :class:`CoarseParser` (with MediaPipe's person segmentation),
:func:`coarse_parse` / :func:`coarse_parse_with_info` (with a given person mask). The steps
live in :mod:`pipeline.parsing.virtual_torso`, :mod:`pipeline.parsing.person_mask` (step 1),
:mod:`pipeline.parsing.body_frame` (step 2), :mod:`pipeline.parsing.colour_models` (step 3
and the colour part of step 5) and :mod:`pipeline.parsing.label_assignment` (steps 4-5); their
public functions are re-exported here.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipeline.geometry import part_masks, torso_size
from pipeline.labels import UPPERCLOTHES
from pipeline.parsing.body_frame import face_ellipse
from pipeline.parsing.colour_models import (SkinModel, colour_codes, colour_loglik, generic_skin,
                                            skin_pixels)
from pipeline.parsing.label_assignment import label_pixels
from pipeline.parsing.person_mask import (geometric_silhouette, person_mask, pose_overlap,
                                          refine_silhouette)
from pipeline.parsing.virtual_torso import virtual_torso


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
    labels, model, kind = label_pixels(kp, st, pix, local, (y1 - y0, x1 - x0), lab, ycrcb,
                                        masks)
    out[ys, xs] = labels
    return out, model, kind, virtual


def coarse_parse(image: np.ndarray, keypoints: np.ndarray, person_mask: np.ndarray
                 ) -> np.ndarray:
    """The coarse parse of one image with an explicit person mask (no MediaPipe).

    image: (H, W, 3) uint8 RGB; keypoints: (18, 2) (y, x) px, -1 = missing; person_mask:
    (H, W) bool. Returns (H, W) uint8 labels in 0..9 (docs/method.md §2); background
    exactly outside the mask. The method: docs/coarse-parser.md.
    """
    return _parse(image, keypoints, person_mask)[0]


def coarse_parse_with_info(image: np.ndarray, keypoints: np.ndarray, person_mask: np.ndarray
                           ) -> tuple[np.ndarray, ParseInfo]:
    """:func:`coarse_parse` plus how the map was made (``mask_source`` 'given')."""
    labels, model, kind, virtual = _parse(image, keypoints, person_mask)
    return labels, ParseInfo("given", model, kind, virtual)


# ------------------------------------------------------------------------------ the parser
class CoarseParser:
    """The coarse parser with MediaPipe's person segmentation (step 1 of docs/coarse-parser.md).

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
