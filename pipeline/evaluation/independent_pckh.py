"""PCKh@0.5 of generated images measured by an independent pose detector: the offline MediaPipe
Pose of :mod:`pipeline.pose.mediapipe_detector` (docs/metrics.md "PCKh and mIoU").

Why: the project's own detector (``models/posenet.safetensors``) is the network that the
appearance network's pose loss optimises against, so its PCKh rewards fooling that detector,
and it moves with the detector's training. MediaPipe has never seen these images or this loss.

How (per image, per scored system):

1. the (H, W, 3) uint8 image is **enlarged** to ``size`` pixels of height (width in
   proportion, rounded) with bicubic interpolation (:data:`INTERPOLATION`): the networks work
   at 64 px, far below the person sizes MediaPipe's models were trained on;
2. MediaPipe finds the 18 keypoints (landmarks of visibility below :data:`MIN_VISIBILITY` are
   missing) in the enlarged frame, and they are **mapped back** to the image's own frame by
   :func:`pipeline.geometry.scale_keypoints` (pixel-centre convention of ``cv2.resize``);
3. they are scored against the wanted pose P_t by the project's PCKh
   (:func:`pipeline.metrics.pckh.pckh`, head-box rule, alpha 0.5). A person MediaPipe does
   not find has every keypoint missing, so every true point of that image counts as wrong
   (never left out); a keypoint it does not return while the truth has one is wrong too.
   The number of such people is reported (``pckh_missed``).

One :class:`~pipeline.pose.mediapipe_detector.MediaPipeDetector` serves the whole stage run
(its graph costs ~0.5 s to build); it runs on the CPU, in this process, one image at a time, in
pair order, so the numbers are deterministic. Where MediaPipe cannot be imported the score is
``{"computed": False, "reason": ...}``, never a 0.

    detector = IndependentDetector(size=256)
    scores = IndependentPckh(detector, ("model", "source"))
    scores.update({"model": fakes, "source": sources}, wanted)   # per batch
    scores.result()["model"]  # {"pckh": 0.36, "pckh_missed": 24, ...}
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from pipeline.evaluation.scoring import Batch, ImageSystems, MapSystems, SystemScores
from pipeline.geometry import scale_keypoints
from pipeline.metrics.images import to_uint8
from pipeline.metrics.pckh import DEFAULT_ALPHA, PckhScores

#: Interpolation of the enlargement [choice: bicubic; on the default test pairs' true target
#: images at 64 px, MediaPipe's PCKh is 0.651 after bicubic enlargement to 256 px, 0.614 after
#: bilinear, 0.615 at 64 px].
INTERPOLATION = cv2.INTER_CUBIC
INTERPOLATION_NAME = "bicubic (cv2.INTER_CUBIC)"
#: MediaPipe landmarks below this visibility are missing [choice: the detector's default,
#: fixed here so that the metric does not depend on the preparation's pose.min_visibility].
MIN_VISIBILITY = 0.5
#: The name of the independent detector in the settings.
DETECTOR = ("MediaPipe Pose (mediapipe 0.10.21 mp.solutions.pose, model_complexity 1, "
            "static_image_mode), pipeline/pose/mediapipe_detector.py")
if TYPE_CHECKING:
    import torch

    from pipeline.inference.pose_detector import PoseDetector

#: The key of the reference row "true target images" in a set's result.
TRUTH_KEY = "pckh_truth"


class _Detection(Protocol):
    keypoints: np.ndarray
    found: bool


class KeypointFinder(Protocol):
    """What :class:`IndependentDetector` needs of a detector (MediaPipeDetector, test stubs):
    ``detect((H, W, 3) uint8) -> Detection`` with ``keypoints`` (18, 2) (y, x) pixels of the
    image given, -1 = missing, and ``found``."""

    def detect(self, image: np.ndarray) -> _Detection: ...


def enlarged_hw(hw: tuple[int, int], size: int) -> tuple[int, int]:
    """(H, W) of an image enlarged to ``size`` pixels of height, width in proportion."""
    h, w = int(hw[0]), int(hw[1])
    return int(size), max(1, int(round(w * size / h)))


def enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, W * size / H, 3) uint8 by :data:`INTERPOLATION` (the image
    itself when it already has that height)."""
    out_h, out_w = enlarged_hw(image.shape[:2], size)
    if (out_h, out_w) == tuple(image.shape[:2]):
        return np.ascontiguousarray(image)
    return cv2.resize(np.ascontiguousarray(image), (out_w, out_h), interpolation=INTERPOLATION)


class IndependentDetector:
    """MediaPipe (or any :class:`KeypointFinder`) on images enlarged to ``size`` px height,
    keypoints mapped back to the images' frame.

    finder: None = a MediaPipeDetector built here (its graph is built on the first image);
    :attr:`reason` is set, and :meth:`keypoints` returns None, once MediaPipe turned out to
    be missing."""

    def __init__(self, size: int = 256, finder: KeypointFinder | None = None) -> None:
        if size < 1:
            raise ValueError(f"independent PCKh: size must be >= 1 px, got {size}")
        self.size = int(size)
        self.reason: str | None = None
        if finder is None:
            from pipeline.pose.mediapipe_detector import MediaPipeDetector
            finder = MediaPipeDetector(MIN_VISIBILITY)
        self.finder = finder

    @property
    def available(self) -> bool:
        return self.reason is None

    def keypoints(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """images: (B, H, W, 3) uint8 -> ((B, 18, 2) float32 (y, x) pixels of the images'
        frame, -1 = missing; (B,) bool: a person was found), or None when MediaPipe is
        missing (:attr:`reason` says why)."""
        if self.reason is not None:
            return None
        images = np.asarray(images)
        hw = tuple(images.shape[1:3])
        big_hw = enlarged_hw(hw, self.size)
        kps, found = [], []
        try:
            for image in images:
                d = self.finder.detect(enlarge(image, self.size))
                kps.append(np.asarray(d.keypoints, np.float32))
                found.append(bool(d.found))
        except ImportError as err:
            self.reason = str(err).splitlines()[0]
            return None
        if not kps:
            return np.zeros((0, 18, 2), np.float32), np.zeros(0, bool)
        kp = scale_keypoints(np.stack(kps), big_hw, hw)
        return kp.astype(np.float32), np.asarray(found, bool)

    def close(self) -> None:
        close = getattr(self.finder, "close", None)
        if close is not None:
            close()

    def settings(self) -> dict[str, Any]:
        """How the scores were computed (eval/metrics.json ``settings.pckh``)."""
        out: dict[str, Any] = {
            "alpha": DEFAULT_ALPHA,
            "detector": DETECTOR if self.finder.__class__.__name__ == "MediaPipeDetector"
            else type(self.finder).__name__,
            "min_visibility": MIN_VISIBILITY,
            "enlarged_to_height": self.size,
            "interpolation": INTERPOLATION_NAME,
            "keypoints": "found in the enlarged image, scaled back to the image frame "
                         "(p' = (p + 0.5) * small / big - 0.5)",
            "misses": "a person the detector does not find counts with every true point "
                      "wrong (pckh_missed counts them); a point it does not return is wrong",
            "against": "the wanted pose P_t (true keypoints of the target)",
        }
        if self.reason is not None:
            out.update(computed=False, reason=self.reason)
        return out


class IndependentPckh:
    """PCKh of :class:`IndependentDetector`'s keypoints per named system (``update`` per
    batch, ``result``); counts are pooled over batches as over images."""

    def __init__(self, detector: IndependentDetector, systems: Iterable[str]) -> None:
        self.detector = detector
        self.scores = {s: PckhScores(DEFAULT_ALPHA) for s in systems}
        self.missed = dict.fromkeys(self.scores, 0)
        self.images = dict.fromkeys(self.scores, 0)

    def update(self, images: Mapping[str, np.ndarray], wanted: np.ndarray) -> None:
        """images: system -> (B, H, W, 3) uint8 (systems not given at construction are
        ignored); wanted: (B, 18, 2) P_t in the images' frame, -1 = missing."""
        for name, batch in images.items():
            if name not in self.scores:
                continue
            found = self.detector.keypoints(batch)
            if found is None:
                return
            kp, person = found
            self.scores[name].update(kp, wanted)
            self.missed[name] += int((~person).sum())
            self.images[name] += len(person)

    def result(self) -> dict[str, dict[str, Any]]:
        """system -> {"pckh": float | None (nothing counted), "pckh_missed": int (people not
        found), "pckh_images": int}, or {"pckh": {"computed": False, "reason": ...}} when
        MediaPipe is missing."""
        if not self.detector.available:
            off = {"computed": False, "reason": self.detector.reason}
            return {s: {"pckh": dict(off)} for s in self.scores}
        out = {}
        for name, s in self.scores.items():
            value = s.result()["pckh"] if len(s) else None
            out[name] = {"pckh": None if value is None else round(float(value), 4),
                         "pckh_missed": self.missed[name], "pckh_images": self.images[name]}
        return out


def merge_system(result: dict[str, Any], independent: Mapping[str, Any]) -> dict[str, Any]:
    """One system's result with the independent PCKh as ``pckh`` (and ``pckh_missed``,
    ``pckh_images``) and the trained detector's former ``pckh`` renamed ``pckh_posenet``, in
    the place where ``pckh`` was (at the end when there was none)."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        if key == "pckh":
            out.update(independent)
            out["pckh_posenet"] = value
        else:
            out[key] = value
    if "pckh" not in out:
        out.update(independent)
    return out


class PckhImageSystems(ImageSystems):
    """:class:`~pipeline.evaluation.scoring.ImageSystems` whose ``pckh`` is the independent
    detector's (:func:`merge_system`; the trained detector's becomes ``pckh_posenet``), with
    the same detector on the true target images as the set's :data:`TRUTH_KEY` (what that
    detector reads in the true images of the set). ``independent`` None: exactly ImageSystems."""

    def __init__(self, make: Callable[[], SystemScores] = SystemScores,
                 detector: PoseDetector | None = None, maps: MapSystems | None = None,
                 independent: IndependentDetector | None = None) -> None:
        super().__init__(make, detector, maps)
        self.independent = (IndependentPckh(independent, (*self.systems, "truth"))
                            if independent is not None else None)

    def update(self, batch: Batch, generated: torch.Tensor) -> dict[str, np.ndarray]:
        images = super().update(batch, generated)
        if self.independent is not None:
            self.independent.update({**images, "truth": to_uint8(batch["tgt_image"])},
                                    batch["tgt_keypoints"].numpy())
        return images

    def result(self) -> dict[str, Any]:
        out = super().result()
        if self.independent is None:
            return out
        ind = self.independent.result()
        for name in self.systems:
            out[name] = merge_system(out[name], ind[name])
        out[TRUTH_KEY] = ind["truth"]
        return out
