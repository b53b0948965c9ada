"""Scoring in the native frame of padded images (``data.fit: pad``; docs/real-datasets.md).

When ingest padded the images into the stored frame (images.h5 ``/frame``: the box
``(y0, x0, h, w)`` of each native image), the `evaluate` stage crops the generated and the
target images (and the target pose masks of mask-SSIM) back to the native box, scaled to the
model's resolution, before SSIM, mask-SSIM, L1 and the registry's metrics (LPIPS, FID, IS,
peer SSIM): the padding is not the person's, and a white margin that every system reproduces
would raise every score alike. The field scores DeepFashion at 256x176; its 256-wide scores
(peer SSIM, ``evaluate.peer_ssim_pad: 256``) pad the native crop again themselves. PCKh is
scored in the full frame (keypoints are in it).

Data without ``/frame``, or whose test targets fill the whole stored frame, are scored as
before (no crop, no ``frame`` setting).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.artifacts.reader import Artifact
from pipeline.evaluation.scoring import SystemScores
from pipeline.ingest.frame import FRAME_DATASET, Box, stored_frames


def scale_box(box: Box, from_hw: tuple[int, int], to_hw: tuple[int, int]) -> Box:
    """A box of the ``from_hw`` frame in the resized ``to_hw`` frame: both edges of each axis
    scaled and rounded half up (edges map to edges)."""
    y0, x0, h, w = (int(v) for v in box)
    sy, sx = to_hw[0] / from_hw[0], to_hw[1] / from_hw[1]
    top, left = int(y0 * sy + 0.5), int(x0 * sx + 0.5)           # halves round up
    bottom, right = int((y0 + h) * sy + 0.5), int((x0 + w) * sx + 0.5)
    return (top, left, max(1, bottom - top), max(1, right - left))


def crop(images: np.ndarray, box: Box | None) -> np.ndarray:
    """``images`` (B, H, W, ...) cut to the box (rows y0..y0+h, columns x0..x0+w); None:
    unchanged."""
    if box is None:
        return images
    y0, x0, h, w = box
    return np.ascontiguousarray(np.asarray(images)[:, y0:y0 + h, x0:x0 + w])


@dataclass(frozen=True)
class NativeFrame:
    """How the evaluate stage frames its image scores: ``box`` at the model's resolution
    (None: not cropped) and ``label`` for eval/metrics.json's settings."""

    box: Box | None
    label: str


def native_frame(images: Artifact, targets: np.ndarray, image_hw: tuple[int, int]
                 ) -> NativeFrame | None:
    """The native frame of the test targets (rows ``targets`` of images.h5) at the model's
    ``image_hw``; None when images.h5 has no ``/frame`` or every target fills the stored frame.

    The targets must share one box to be cropped (a DeepFashion-like set); otherwise the
    scores stay in the stored frame and the label says why."""
    if FRAME_DATASET not in images:
        return None
    stored_hw = tuple(int(v) for v in images["images"].shape[1:3])
    boxes = np.unique(stored_frames(images)[np.asarray(targets, np.int64)], axis=0)
    full = np.array([0, 0, *stored_hw])
    if len(boxes) == 0 or (boxes == full).all():
        return None
    if len(boxes) > 1:
        return NativeFrame(None, f"stored {stored_hw[0]}x{stored_hw[1]}: the test targets' "
                                 f"native frames differ ({len(boxes)} boxes in images.h5 "
                                 f"/frame), so the padded frame is scored")
    stored_box = tuple(int(v) for v in boxes[0])
    box = scale_box(stored_box, stored_hw, image_hw)
    y0, x0, h, w = stored_box
    return NativeFrame(box, f"native {h}x{w}: generated and target images (and the masks of "
                            f"mask-SSIM) cropped to rows {box[0]}..{box[0] + box[2] - 1}, "
                            f"columns {box[1]}..{box[1] + box[3] - 1} of the "
                            f"{image_hw[0]}x{image_hw[1]} model images (box y0,x0,h,w = "
                            f"{y0},{x0},{h},{w} of the stored {stored_hw[0]}x{stored_hw[1]} "
                            f"frame, images.h5 /frame) before SSIM, mask-SSIM, L1 and the "
                            f"registry metrics (LPIPS, FID, IS, peer SSIM); PCKh in the full "
                            f"frame")


@dataclass
class CroppedScores(SystemScores):
    """:class:`SystemScores` whose image metrics see only the ``box`` of every image (PCKh,
    :meth:`update_pose`, is untouched)."""

    box: Box | None = None

    def update(self, pred: np.ndarray, true: np.ndarray, masks: np.ndarray) -> None:
        super().update(crop(pred, self.box), crop(true, self.box), crop(masks, self.box))
