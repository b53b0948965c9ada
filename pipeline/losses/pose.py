"""Pose loss of the appearance network (docs/method.md §5) [code, SPT: weight 700 per generated image]:

    L_pose = MSE( H(I~), P )

H = the frozen pose detector (stage ``train_posenet``, :mod:`pipeline.models.posenet`), I~ a
generated image, P the heatmaps of the pose it should show (18 Gaussians, docs/method.md §1). The caller
freezes the detector (``requires_grad_(False)``, eval mode); gradients flow into the images.

When the images' size differs from the size the detector was trained at, the images are resized
to it (bilinear, antialiased when shrinking [choice: like the area-resized training images]) and
the wanted heatmaps too (area averaging), so the loss compares the detector at its own scale.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.labels import NUM_KEYPOINTS
from pipeline.torch_utils.misc import assert_shape


def trained_size(posenet: nn.Module) -> tuple[int, int] | None:
    """(height, width) the detector was trained at: its ``arch.height`` / ``arch.width``
    (pipeline.models.posenet records its architecture as ``arch``), or None when unknown."""
    arch = getattr(posenet, "arch", None)
    h, w = getattr(arch, "height", None), getattr(arch, "width", None)
    return (int(h), int(w)) if isinstance(h, int) and isinstance(w, int) else None


def pose_loss(posenet: nn.Module, images: torch.Tensor, heatmaps: torch.Tensor,
              size: tuple[int, int] | None = None) -> torch.Tensor:
    """MSE between the detector's heatmaps of ``images`` and the wanted ``heatmaps``.

    posenet: frozen detector, (B, 3, h, w) in [-1, 1] -> (B, 18, h, w). images: (B, 3, H, W)
    float in [-1, 1]. heatmaps: (B, 18, H, W) float in [0, 1] (a missing joint: all zero).
    size: the detector's input (h, w); default :func:`trained_size`, else the images' own size.
    Returns a float32 scalar (mean over batch, joints and pixels).
    """
    b, _, hgt, wid = images.shape
    assert_shape(images, (b, 3, hgt, wid), "images")
    assert_shape(heatmaps, (b, NUM_KEYPOINTS, hgt, wid), "heatmaps")
    size = size or trained_size(posenet) or (hgt, wid)
    if tuple(size) != (hgt, wid):
        images = F.interpolate(images, size=tuple(size), mode="bilinear", align_corners=False,
                               antialias=True)
        heatmaps = F.adaptive_avg_pool2d(heatmaps.float(), tuple(size))
    pred = posenet(images)
    assert_shape(pred, (b, NUM_KEYPOINTS, size[0], size[1]), "posenet output")
    return F.mse_loss(pred.float(), heatmaps.float())
