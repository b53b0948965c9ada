"""Offline 18-point pose detector built on MediaPipe Pose (docs/method.md §7).

``mediapipe==0.10.21`` is the last release whose wheel bundles its pose model
(``mp.solutions.pose``, model_complexity=1). It returns 33 landmarks plus a person
segmentation mask; this module maps the landmarks to the 18 OpenPose/COCO points of docs/method.md §1
and returns them as (y, x) pixels with -1 for missing points.

Usage::

    with MediaPipeDetector() as det:
        d = det.detect(rgb_uint8)       # Detection
        d.keypoints                     # (18, 2) float32, (y, x) pixels, -1 = missing

The MediaPipe graph is created lazily on the first ``detect`` call and dropped when the object
is pickled, so a detector can be handed to joblib/multiprocessing workers: each worker builds
its own graph on first use.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.labels import NUM_KEYPOINTS  # 18, OpenPose/COCO order (docs/method.md §1)
from pipeline.pose.sides import SideCheck, apply_side_check, check_sides

MISSING = -1.0

# MediaPipe landmark index for each of the 18 OpenPose points (docs/method.md §7). Index 1 (neck) has no
# MediaPipe counterpart: it is the midpoint of landmarks 11 (left shoulder) and 12 (right
# shoulder), present only if both are. MediaPipe's left/right are the person's own sides.
# MediaPipe landmarks: 0 nose, 2 left_eye, 5 right_eye, 7 left_ear, 8 right_ear, 11/12 left/right
# shoulder, 13/14 elbows, 15/16 wrists, 23/24 hips, 25/26 knees, 27/28 ankles (left/right).
# Note on indices 14-17: docs/method.md §1 (after Deformable GAN's pose_utils.LABELS) names them Leye, Reye,
# Lear, Rear (pipeline.labels now names them Reye, Leye, Rear, Lear), but docs/method.md §7's mapping puts MediaPipe's *right* eye/ear at 14/16. The mapping is the
# one that matches the data: in the field's annotation files (OpenPose output, COCO order
# 14 REye, 15 LEye, 16 REar, 17 LEar) point 14 lies on the same image side as Rsho (2) in 100% of
# the frontal rows of ../shared/data/annotations (217 DeepFashion, 203 Market-1501 rows checked),
# i.e. 14/16 are the person's right eye/ear whatever the names say.
MP_INDEX: tuple[int, ...] = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
NECK = 1
MP_LEFT_SHOULDER = 11
MP_RIGHT_SHOULDER = 12

_INSTALL_HINT = ("pose.backend=mediapipe needs mediapipe==0.10.21 installed with --no-deps "
                 "(see setup.sh and docs/real-datasets.md)")


@dataclass
class Detection:
    """One image's detection.

    keypoints: (18, 2) float32, (y, x) in pixels of the input image; -1 in both for a missing point.
    confidence: (18,) float32 in [0, 1], the MediaPipe landmark visibility; 0 where missing.
    segmentation: (H, W) float32 in [0, 1], person probability; all zeros when no person is found.
    found: False when MediaPipe found no person (then every point is missing).
    side: the left/right verdict (pipeline.pose.sides) when the detector checks sides.
    """

    keypoints: np.ndarray
    confidence: np.ndarray
    segmentation: np.ndarray
    found: bool
    side: SideCheck | None = None

    @property
    def num_points(self) -> int:
        """Number of present (non-missing) keypoints."""
        return int(np.sum(self.keypoints[:, 0] >= 0))


def _import_mediapipe() -> Any:
    try:
        import mediapipe as mp  # noqa: PLC0415 - lazy on purpose: heavy, optional
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    if not hasattr(mp, "solutions") or not hasattr(mp.solutions, "pose"):
        raise ImportError(f"{_INSTALL_HINT}; the installed mediapipe has no mp.solutions.pose")
    return mp


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Return a C-contiguous (H, W, 3) uint8 RGB image.

    Accepts (H, W), (H, W, 1) grayscale or (H, W, 3) RGB uint8; grayscale is replicated to 3
    channels. Other shapes or dtypes raise ValueError.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"detect() needs a uint8 image, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"detect() needs an (H, W, 3) RGB or (H, W) grayscale image, "
                         f"got shape {image.shape}")
    return np.ascontiguousarray(image)


def landmarks_to_openpose(xs: np.ndarray, ys: np.ndarray, visibility: np.ndarray,
                          height: int, width: int, min_visibility: float = 0.5
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Map MediaPipe's 33 landmarks to the 18 OpenPose points.

    xs, ys: (33,) landmark coordinates normalised to [0, 1] by width and height.
    visibility: (33,) in [0, 1].
    Returns keypoints (18, 2) float32 (y, x) pixels, -1 missing, and confidence (18,) float32
    (0 where missing). A point is kept if its visibility >= min_visibility and it lies inside
    the frame (0 <= x < width, 0 <= y < height). The neck is the shoulder midpoint, present only if
    both shoulders are kept; its confidence is the smaller shoulder visibility.
    """
    px = np.asarray(xs, dtype=np.float64) * width
    py = np.asarray(ys, dtype=np.float64) * height
    vis = np.clip(np.asarray(visibility, dtype=np.float64), 0.0, 1.0)
    keep = (vis >= min_visibility) & (px >= 0) & (px < width) & (py >= 0) & (py < height)

    keypoints = np.full((NUM_KEYPOINTS, 2), MISSING, dtype=np.float32)
    confidence = np.zeros(NUM_KEYPOINTS, dtype=np.float32)
    for k, m in enumerate(MP_INDEX):
        if k == NECK:
            ls, rs = MP_LEFT_SHOULDER, MP_RIGHT_SHOULDER
            if keep[ls] and keep[rs]:
                keypoints[k] = ((py[ls] + py[rs]) / 2, (px[ls] + px[rs]) / 2)
                confidence[k] = min(vis[ls], vis[rs])
        elif keep[m]:
            keypoints[k] = (py[m], px[m])
            confidence[k] = vis[m]
    return keypoints, confidence


# One graph per worker process for detectors that arrived by pickling (joblib/loky pickles the
# detector with every task; building a graph costs ~0.4 s against ~20-40 ms per image). Keyed by
# process id so that a forked child never reuses its parent's graph (its threads do not survive
# a fork).
_WORKER_POSES: dict[int, Any] = {}


def _landmark_array(result: Any) -> np.ndarray | None:
    """MediaPipe's 33 landmarks of one ``Pose.process`` result as (33, 4) float64 (x, y, z,
    visibility), or None when it found no person."""
    if result.pose_landmarks is None:
        return None
    return np.array([(lm.x, lm.y, lm.z, lm.visibility)
                     for lm in result.pose_landmarks.landmark], dtype=np.float64)


def _new_pose() -> Any:
    mp = _import_mediapipe()
    return mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1,
                                  enable_segmentation=True)


class MediaPipeDetector:
    """18-point pose detector and person segmenter on MediaPipe Pose (docs/method.md §7).

    Holds one ``mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1,
    enable_segmentation=True)`` created on first use. Picklable (the graph is dropped and
    rebuilt in the receiving process). Use as a context manager or call ``close()``.
    Unpickled copies in a process share one graph (built on first use, kept for the life of the
    process), so sending the detector with every joblib task costs one graph per worker, not one
    per task. Not thread-safe: use one detector per thread, or processes.

    min_visibility: landmarks with a lower MediaPipe visibility are reported missing.
    side_check: correct back views that MediaPipe mirrored and lower the confidence of points
    whose side stays uncertain (:mod:`pipeline.pose.sides`).
    """

    def __init__(self, min_visibility: float = 0.5, side_check: bool = False) -> None:
        if not 0.0 <= min_visibility <= 1.0:
            raise ValueError(f"min_visibility must lie in [0, 1], got {min_visibility}")
        self.min_visibility = float(min_visibility)
        self.side_check = bool(side_check)
        self._pose: Any = None
        self._shared = False  # True for unpickled copies: they use the process's shared graph

    # -- lifecycle -------------------------------------------------------------------------
    def _get_pose(self) -> Any:
        if self._pose is None:
            if self._shared:
                pid = os.getpid()
                if pid not in _WORKER_POSES:
                    _WORKER_POSES[pid] = _new_pose()
                self._pose = _WORKER_POSES[pid]
            else:
                self._pose = _new_pose()
        return self._pose

    def close(self) -> None:
        """Release the MediaPipe graph (a later ``detect`` builds or fetches one again).

        An unpickled copy only drops its reference to the process's shared graph.
        """
        if self._pose is not None:
            if not self._shared:
                self._pose.close()
            self._pose = None

    def __enter__(self) -> "MediaPipeDetector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_pose"] = None  # MediaPipe graphs cannot be pickled; rebuilt lazily
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._shared = True

    # -- detection -------------------------------------------------------------------------
    def landmarks(self, image: np.ndarray) -> np.ndarray | None:
        """MediaPipe's 33 raw landmarks of ``image`` as (33, 4) float64 (x, y normalised to
        [0, 1] by width and height, depth z, visibility), or None when it finds no person.
        image: as for :meth:`detect`."""
        return _landmark_array(self._get_pose().process(to_rgb_uint8(image)))

    def detect(self, image: np.ndarray) -> Detection:
        """Detect one person's 18 keypoints and segmentation in ``image``.

        image: (H, W, 3) uint8 RGB, or (H, W) / (H, W, 1) uint8 grayscale.
        Returns a Detection; with no person found, every point is -1, every confidence 0, the
        segmentation all zeros and ``found`` False. With ``side_check`` the left/right verdict
        of :func:`pipeline.pose.sides.check_sides` is applied and kept in ``Detection.side``.
        """
        rgb = to_rgb_uint8(image)
        h, w = rgb.shape[:2]
        result = self._get_pose().process(rgb)
        lms = _landmark_array(result)
        if lms is None:
            return Detection(keypoints=np.full((NUM_KEYPOINTS, 2), MISSING, dtype=np.float32),
                             confidence=np.zeros(NUM_KEYPOINTS, dtype=np.float32),
                             segmentation=np.zeros((h, w), dtype=np.float32), found=False)
        keypoints, confidence = landmarks_to_openpose(lms[:, 0], lms[:, 1], lms[:, 3], h, w,
                                                      self.min_visibility)
        side = None
        if self.side_check:
            side = check_sides(lms, rgb)
            keypoints, confidence = apply_side_check(keypoints, confidence, side)
        if result.segmentation_mask is not None:
            seg = np.clip(np.asarray(result.segmentation_mask, dtype=np.float32), 0.0, 1.0)
            if seg.shape != (h, w):  # MediaPipe returns it at input size; guard anyway
                import cv2  # noqa: PLC0415
                seg = cv2.resize(seg, (w, h), interpolation=cv2.INTER_LINEAR)
        else:
            seg = np.zeros((h, w), dtype=np.float32)
        return Detection(keypoints=keypoints, confidence=confidence, segmentation=seg, found=True,
                         side=side)
